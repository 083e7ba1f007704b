"""Stage `validate`: the data contract on the raw table, then a typed copy for the later stages.

A violation stops the pipeline with one line per broken rule naming the column, the check and example rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from ..config import DataParams, Paths, ProblemType, load_params
from .data import DataError, read_table

MAX_EXAMPLES = 5


def _not_all_null(series: pd.Series) -> bool:
    return bool(series.notna().any())


def _finite(series: pd.Series) -> pd.Series:
    return pd.Series(
        np.isfinite(series.to_numpy(dtype=float, na_value=np.nan)) | series.isna(), index=series.index
    )


def _supported_kind(series: pd.Series) -> bool:
    return not (
        pd.api.types.is_datetime64_any_dtype(series)
        or pd.api.types.is_timedelta64_dtype(series)
        or pd.api.types.is_complex_dtype(series)
    )


def _is_numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _target_checks(problem_type: ProblemType) -> list[pa.Check]:
    if problem_type == "regression":
        return [pa.Check(_is_numeric, name="numeric target (regression)"), pa.Check(_finite, name="finite")]
    return [
        pa.Check(lambda s: s.nunique() >= 2, name="at least 2 classes (classification)"),
        pa.Check(
            lambda s: s.map(s.value_counts()) >= 2, name="each class has at least 2 rows (stratified split)"
        ),
    ]


def build_contract(df: pd.DataFrame, data: DataParams, problem_type: ProblemType) -> pa.DataFrameSchema:
    """The contract: declared columns and kinds, a usable target, no empty columns, enough rows."""
    columns: dict[str, pa.Column] = {
        data.target: pa.Column(nullable=False, checks=_target_checks(problem_type)),
    }
    for name in df.columns:
        if name == data.target or name in data.drop:
            continue
        checks = [
            pa.Check(_not_all_null, name="not all null"),
            pa.Check(_supported_kind, name="supported type (numeric, boolean or text)"),
        ]
        declared = data.columns.get(name)
        if declared == "numeric":
            checks.append(pa.Check(_is_numeric, name="numeric (declared in data.columns)"))
        if declared == "numeric" or (declared is None and _is_numeric(df[name])):
            checks.append(pa.Check(_finite, name="finite (no inf)"))
        columns[name] = pa.Column(nullable=True, checks=checks)
    return pa.DataFrameSchema(
        columns,
        checks=[
            pa.Check(
                lambda frame: len(frame) >= data.min_rows,
                name=f"at least {data.min_rows} rows (data.min_rows)",
            )
        ],
        unique_column_names=True,
    )


def _describe(errors: SchemaErrors, source: Path) -> str:
    cases = errors.failure_cases
    lines = [f"{source}: data contract violated ({len(cases)} failure case(s)):"]
    for (column, check), group in cases.groupby(["column", "check"], dropna=False, sort=False):
        rows = [int(i) for i in group["index"].dropna().tolist()]
        where = f"column {column!r}" if isinstance(column, str) else "table"
        if rows:
            values = ", ".join(str(v) for v in group["failure_case"].head(MAX_EXAMPLES))
            examples = ", ".join(str(r) for r in rows[:MAX_EXAMPLES])
            lines.append(
                f"  {where}: check {check!r} failed on {len(rows)} row(s), e.g. rows {examples} "
                f"(values: {values})"
            )
        else:
            lines.append(f"  {where}: check {check!r} failed")
    return "\n".join(lines)


def _check_columns_exist(df: pd.DataFrame, data: DataParams, source: Path) -> None:
    available = ", ".join(map(str, df.columns))
    named = {"data.target": [data.target], "data.columns": list(data.columns), "data.drop": data.drop}
    for key, names in named.items():
        missing = [name for name in names if name not in df.columns]
        if missing:
            raise DataError(
                f"{source}: {key} names column(s) {', '.join(map(repr, missing))} that the table "
                f"does not have; available: {available}"
            )


def validate_table(
    df: pd.DataFrame, data: DataParams, problem_type: ProblemType, source: Path = Path("data")
) -> pd.DataFrame:
    """Check the contract and return the typed table: features as float or string, dropped columns removed."""
    _check_columns_exist(df, data, source)
    try:
        build_contract(df, data, problem_type).validate(df, lazy=True)
    except SchemaErrors as errors:
        raise DataError(_describe(errors, source)) from None
    typed = df.drop(columns=data.drop)
    for name in typed.columns:
        if name == data.target:
            continue
        if data.columns.get(name) == "categorical" or not _is_numeric(typed[name]):
            typed[name] = typed[name].astype("string").astype(object).where(typed[name].notna(), None)
        else:
            typed[name] = typed[name].astype("float64")
    return typed


def main() -> None:
    params = load_params()
    paths = Paths()
    source = Path(params.data.path)
    typed = validate_table(read_table(source), params.data, params.problem_type, source)
    paths.validated.parent.mkdir(parents=True, exist_ok=True)
    typed.to_parquet(paths.validated, index=False)
    features = typed.shape[1] - 1
    print(f"{source}: contract satisfied ({len(typed)} rows, {features} features) -> {paths.validated}")
