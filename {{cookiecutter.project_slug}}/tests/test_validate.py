from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.pipeline.data import DataError
from {{ cookiecutter.package_name }}.pipeline.validate import validate_table

from pipeline_params import data_params


def test_valid_table_is_typed(frame: pd.DataFrame, problem_type: str) -> None:
    typed = validate_table(frame, data_params(), problem_type)
    assert typed["size"].dtype == "float64"
    assert typed["colour"].map(type).eq(str).all()
    assert typed["weight"].isna().sum() == 5


def test_declared_categorical_and_dropped_columns(frame: pd.DataFrame, problem_type: str) -> None:
    frame["store_id"] = np.arange(len(frame)) % 4
    frame["row_id"] = np.arange(len(frame))
    typed = validate_table(
        frame, data_params(columns={"store_id": "categorical"}, drop=["row_id"]), problem_type
    )
    assert "row_id" not in typed.columns
    assert set(typed["store_id"]) == {"0", "1", "2", "3"}


def test_missing_target_names_it_and_the_available_columns(frame: pd.DataFrame, problem_type: str) -> None:
    with pytest.raises(DataError, match=r"data.target names column\(s\) 'label'.*available: size, weight"):
        validate_table(frame, data_params(target="label"), problem_type)


def test_violations_name_column_check_and_rows(frame: pd.DataFrame, problem_type: str) -> None:
    frame["empty"] = np.nan
    frame.loc[[7, 9], "size"] = np.inf
    with pytest.raises(DataError) as error:
        validate_table(frame, data_params(), problem_type)
    message = str(error.value)
    assert "column 'empty': check 'not all null' failed" in message
    assert (
        "column 'size': check 'finite (no inf)' failed on 2 row(s), e.g. rows 7, 9 (values: inf, inf)"
        in message
    )


def test_declared_numeric_must_be_numeric(frame: pd.DataFrame, problem_type: str) -> None:
    with pytest.raises(DataError, match=r"column 'colour': check 'numeric \(declared in data.columns\)'"):
        validate_table(frame, data_params(columns={"colour": "numeric"}), problem_type)


def test_too_few_rows_and_null_target(frame: pd.DataFrame, problem_type: str) -> None:
    small = frame.head(20).copy()
    small.loc[3, "target"] = np.nan
    with pytest.raises(DataError) as error:
        validate_table(small, data_params(), problem_type)
    assert "table: check 'at least 50 rows (data.min_rows)' failed" in str(error.value)
    assert "column 'target': check 'not_nullable' failed on 1 row(s), e.g. rows 3" in str(error.value)


def test_unusable_target(frame: pd.DataFrame, problem_type: str) -> None:
    if problem_type == "classification":
        frame["target"] = 1
        expected = "at least 2 classes"
    else:
        frame["target"] = "high"
        expected = "numeric target"
    with pytest.raises(DataError, match=expected):
        validate_table(frame, data_params(), problem_type)
