"""The columns of the data the monitor reads: presence, numeric coercion, category keys and counts."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .errors import IncompatibleDataError, MissingColumnError

PROBA_PREFIX = "proba:"  # probability columns of the current frame: "proba:<class>"


def category_key(value: Any) -> str:
    """Stable string key for a category value (1, 1.0 and "1" all map to "1")."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isfinite(number) and number.is_integer():
            return str(int(number))
        return repr(number)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def require_columns(frame: pd.DataFrame, names: list[str], where: str = "current data") -> None:
    for name in names:
        if name not in frame.columns:
            raise MissingColumnError(name, where)


def numeric_values(series: pd.Series, name: str) -> np.ndarray:
    """float64 array with NaN for missing; raises if non-missing values are not numbers."""
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype("float64")
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype="float64", na_value=np.nan)
    coerced = pd.to_numeric(series, errors="coerce")
    non_numeric = int(coerced.isna().sum() - series.isna().sum())
    if non_numeric > 0:
        example = series[coerced.isna() & series.notna()].iloc[0]
        raise IncompatibleDataError(
            f"numeric column {name!r} has {non_numeric} non-numeric value(s), e.g. {example!r}"
        )
    return coerced.to_numpy(dtype="float64", na_value=np.nan)


def category_tally(series: pd.Series, into: dict[str, int] | None = None) -> tuple[dict[str, int], int]:
    """(count by category key in order of first appearance, n_missing) using pandas value_counts (no np.unique
    on strings); ``into`` adds this series' counts to a running tally (chunks of one column, in order)."""
    tally = {} if into is None else into
    value_counts = series.value_counts(dropna=True, sort=False)
    n_missing = int(len(series) - int(value_counts.sum()))
    for value, count in zip(value_counts.index.tolist(), value_counts.tolist(), strict=True):
        key = category_key(value)  # 1 and "1" in one object column are one category
        tally[key] = tally.get(key, 0) + int(count)
    return tally, n_missing


def sorted_counts(tally: dict[str, int]) -> tuple[list[str], np.ndarray]:
    """(keys, counts) by descending count, ties in order of first appearance."""
    if not tally:
        return [], np.zeros(0, dtype=np.int64)
    keys = list(tally)
    counts = np.fromiter(tally.values(), dtype=np.int64, count=len(keys))
    order = np.argsort(-counts, kind="stable")
    return [keys[i] for i in order], counts[order]


def category_counts(series: pd.Series) -> tuple[list[str], np.ndarray, int]:
    """(category keys, counts, n_missing): keys by descending count."""
    tally, n_missing = category_tally(series)
    keys, counts = sorted_counts(tally)
    return keys, counts, n_missing
