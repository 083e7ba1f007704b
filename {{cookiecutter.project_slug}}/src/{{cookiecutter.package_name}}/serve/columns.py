"""The feature schema's column rules, checked a column at a time (not a model per row).

`ColumnRule.of` is the one definition of what a feature accepts: numbers (finite, not booleans) for numeric
features; for categorical ones the type of the categories seen in training and, unless `unknown_category` is
"ignore", only those categories; null only where training had missing values and `allow_missing` is on. The
/predict request model (schema.py) is built from these rules; `/invocations` (invocations.py) and batch
scoring (batch.py) check whole columns against them with `TableRules.check`:

- values from JSON (lists) are checked as JSON typed them, as the /predict model does;
- columns of a CSV or Parquet table (pandas Series) are first typed the way the pipeline types its training
  table (pipeline/validate.py: numbers as float64, categories as text), then checked by the same rules.

The result holds the numeric and categorical blocks the predictor takes and every problem: column, reason and
the failing rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..contracts import FeatureSchema, FeatureSpec

NoneType = type(None)
NUMBER_TYPES = frozenset({float, int})
Unexpected = Literal["reject", "ignore"]
UnknownCategory = Literal["error", "ignore"]


@dataclass(frozen=True)
class ColumnRule:
    name: str
    numeric: bool
    value_type: type  # float for numeric features; str, int or bool for categorical ones
    categories: tuple[Any, ...] | None  # the only values accepted; None = any value of value_type
    nullable: bool

    @classmethod
    def of(
        cls, feature: FeatureSpec, *, unknown_category: UnknownCategory, allow_missing: bool
    ) -> ColumnRule:
        categories = feature.categories
        numeric = feature.kind == "numeric"
        if numeric:
            value_type: type = float
        elif categories and all(isinstance(category, bool) for category in categories):
            value_type = bool
        elif categories and all(
            isinstance(category, int) and not isinstance(category, bool) for category in categories
        ):
            value_type = int
        else:
            value_type = str
        return cls(
            name=feature.name,
            numeric=numeric,
            value_type=value_type,
            categories=tuple(categories)
            if categories and not numeric and unknown_category == "error"
            else None,
            nullable=bool(feature.nullable and allow_missing),
        )

    @property
    def accepted_types(self) -> set[type]:
        """The types of the values accepted (those of the categories when only they are accepted)."""
        if self.categories is not None:
            return {type(category) for category in self.categories}
        return set(NUMBER_TYPES) if self.numeric else {self.value_type}

    @property
    def type_name(self) -> str:
        return {float: "number", str: "string", int: "integer", bool: "boolean"}[self.value_type]


@dataclass(frozen=True)
class ColumnProblem:
    """A broken rule: the column, the reason and the failing rows (none for a missing or unexpected column)"""

    column: str
    kind: str  # missing_column, unexpected_column, null, type, not_finite, unknown_category
    reason: str
    rows: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.intp))
    example: Any = None


@dataclass(frozen=True)
class CheckedTable:
    """The checked columns as the predictor's blocks (rows in input order) and every problem found."""

    row_count: int
    numeric: np.ndarray  # (rows, numeric features) float64, NaN for missing
    categorical: np.ndarray  # (rows, categorical features) object, None for missing
    problems: list[ColumnProblem]

    def bad_rows(self) -> np.ndarray:
        """Mask of the rows with at least one problem."""
        mask = np.zeros(self.row_count, dtype=bool)
        for problem in self.problems:
            mask[problem.rows] = True
        return mask


@dataclass(frozen=True)
class TableRules:
    rules: tuple[ColumnRule, ...]  # schema order

    @classmethod
    def of(
        cls, schema: FeatureSchema, *, unknown_category: UnknownCategory = "error", allow_missing: bool = True
    ) -> TableRules:
        return cls(
            tuple(
                ColumnRule.of(feature, unknown_category=unknown_category, allow_missing=allow_missing)
                for feature in schema.features
            )
        )

    @property
    def names(self) -> list[str]:
        return [rule.name for rule in self.rules]

    def check(
        self,
        columns: Mapping[str, Sequence[Any] | pd.Series],
        row_count: int,
        *,
        unexpected: Unexpected = "reject",
    ) -> CheckedTable:
        """Check each feature's column of `row_count` values (lists from JSON, pandas Series from a table)."""
        problems: list[ColumnProblem] = []
        if unexpected == "reject":
            known = set(self.names)
            problems += [
                ColumnProblem(
                    str(name), "unexpected_column", "unexpected column (not a feature of the model)"
                )
                for name in columns
                if name not in known
            ]
        numeric_rules = [rule for rule in self.rules if rule.numeric]
        categorical_rules = [rule for rule in self.rules if not rule.numeric]
        numeric = np.full((row_count, len(numeric_rules)), np.nan, dtype=np.float64)
        categorical = np.full((row_count, len(categorical_rules)), None, dtype=object)
        for block, rules in ((numeric, numeric_rules), (categorical, categorical_rules)):
            for index, rule in enumerate(rules):
                if rule.name not in columns:
                    problems.append(ColumnProblem(rule.name, "missing_column", "missing column"))
                    continue
                values, found = check_column(rule, columns[rule.name])
                block[:, index] = values
                problems += found
        return CheckedTable(row_count, numeric, categorical, problems)

    def rows(self, checked: CheckedTable, keep: np.ndarray | None = None) -> list[list[Any]]:
        """The checked rows (those of the `keep` mask) as values in schema order, missing values None: the
        rows the prediction log records."""
        numeric = checked.numeric if keep is None else checked.numeric[keep]
        categorical = checked.categorical if keep is None else checked.categorical[keep]
        positions = {False: 0, True: 0}
        columns = []
        for rule in self.rules:
            block = numeric if rule.numeric else categorical
            column = block[:, positions[rule.numeric]]
            positions[rule.numeric] += 1
            values = column.tolist()
            if rule.numeric and np.isnan(column).any():
                values = _with_none(values, np.isnan(column))
            columns.append(values)
        return [list(row) for row in zip(*columns, strict=True)]


def check_column(
    rule: ColumnRule, column: Sequence[Any] | pd.Series
) -> tuple[np.ndarray, list[ColumnProblem]]:
    """The column's values as a block column (float64 or object) and its problems."""
    if isinstance(column, pd.Series):
        column = typed_like_training(rule, column)
    return check_values(rule, column)


def typed_like_training(rule: ColumnRule, series: pd.Series) -> Sequence[Any]:
    """A table's column typed as pipeline/validate.py types the training table: numbers as floats (text that
    is not a number kept as it is, to be reported), categories as text; missing values as None."""
    missing = series.isna().to_numpy()
    if rule.numeric:
        if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
            array = series.to_numpy(dtype=np.float64, na_value=np.nan)
            if not missing.any():
                return array
            return _with_none(array.tolist(), missing)
        if not pd.api.types.is_bool_dtype(series.dtype):
            coerced = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            values = series.tolist()
            numbers = ~np.isnan(coerced) | missing  # NaN from an unreadable value stays the value
            return [
                None if is_missing else (float(number) if is_number else value)
                for value, number, is_missing, is_number in zip(
                    values, coerced.tolist(), missing, numbers, strict=True
                )
            ]
        return _with_none(series.tolist(), missing)
    if rule.value_type is str:
        return _with_none(series.astype("string").tolist(), missing)
    return _with_none(series.tolist(), missing)


def _with_none(values: list[Any], missing: np.ndarray) -> list[Any]:
    for row in np.flatnonzero(missing).tolist():
        values[row] = None
    return values


def check_values(rule: ColumnRule, values: Sequence[Any]) -> tuple[np.ndarray, list[ColumnProblem]]:
    if rule.numeric:
        return _check_numbers(rule, values)
    return _check_categories(rule, values)


def _check_numbers(rule: ColumnRule, values: Sequence[Any]) -> tuple[np.ndarray, list[ColumnProblem]]:
    if isinstance(values, np.ndarray):  # a float64 table column without missing values
        array = values
        types: set[type] = {float}
    else:
        types = set(map(type, values))
        try:
            array = np.array(values, dtype=np.float64) if types <= NUMBER_TYPES | {NoneType} else None
        except OverflowError:  # an integer beyond float64
            array = None
    problems = []
    if array is None:
        array, wrong = _floats_or_nan(values)
        if wrong:
            problems.append(_problem(rule, "type", "not a number", wrong, values))
    if NoneType in types and not rule.nullable:
        nulls = [row for row, value in enumerate(values) if value is None]
        problems.append(
            _problem(rule, "null", "null not allowed (no missing values in training)", nulls, values)
        )
    finite = np.isfinite(array)
    if not finite.all():
        non_finite = [row for row in np.flatnonzero(~finite).tolist() if _is_number(values[row])]
        if non_finite:
            problems.append(_problem(rule, "not_finite", "not a finite number", non_finite, values))
    return array, problems


def _is_number(value: Any) -> bool:
    return type(value) in NUMBER_TYPES or isinstance(value, np.floating)


def _floats_or_nan(values: Sequence[Any]) -> tuple[np.ndarray, list[int]]:
    """Floats of the number values (inf beyond float64), NaN elsewhere; and the rows that are not numbers."""
    array = np.full(len(values), np.nan, dtype=np.float64)
    wrong = []
    for row, value in enumerate(values):
        if type(value) in NUMBER_TYPES:
            try:
                array[row] = float(value)
            except OverflowError:
                array[row] = math.copysign(math.inf, value)
        elif value is not None:
            wrong.append(row)
    return array, wrong


def _check_categories(rule: ColumnRule, values: Sequence[Any]) -> tuple[np.ndarray, list[ColumnProblem]]:
    array = np.fromiter(values, dtype=object, count=len(values))
    types = set(map(type, values))
    if types <= rule.accepted_types | {NoneType}:
        distinct = set(values)
        known = rule.categories is None or distinct - {None} <= set(rule.categories)
        if known and (rule.nullable or None not in distinct):
            return array, []
    problems = []
    if NoneType in types and not rule.nullable:
        nulls = [row for row, value in enumerate(values) if value is None]
        problems.append(
            _problem(rule, "null", "null not allowed (no missing values in training)", nulls, values)
        )
    if rule.categories is None:
        wrong = [
            row
            for row, value in enumerate(values)
            if value is not None and type(value) is not rule.value_type
        ]
        if wrong:
            problems.append(_problem(rule, "type", f"not a {rule.type_name}", wrong, values))
        return array, problems
    allowed = {(type(category), category) for category in rule.categories}
    unknown = [row for row, value in enumerate(values) if value is not None and not _is_among(value, allowed)]
    if unknown:
        reason = f"not a category seen in training (allowed: {', '.join(map(repr, rule.categories))})"
        problems.append(_problem(rule, "unknown_category", reason, unknown, values))
    return array, problems


def _is_among(value: Any, allowed: set[tuple[type, Any]]) -> bool:
    """`value` is one of `allowed` with its exact type (True is not 1, 1.0 is not 1)."""
    try:
        return (type(value), value) in allowed
    except TypeError:  # a list or an object: unhashable, never a category
        return False


def _problem(
    rule: ColumnRule, kind: str, reason: str, rows: list[int], values: Sequence[Any]
) -> ColumnProblem:
    return ColumnProblem(rule.name, kind, reason, np.asarray(rows, dtype=np.intp), values[rows[0]])
