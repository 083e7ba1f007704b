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


def category_counts(series: pd.Series) -> tuple[list[str], np.ndarray, int]:
    """(category keys, counts, n_missing) using pandas value_counts (no np.unique on strings)."""
    value_counts = series.value_counts(dropna=True, sort=False)
    n_missing = int(len(series) - int(value_counts.sum()))
    if len(value_counts) == 0:
        return [], np.zeros(0, dtype=np.int64), n_missing
    keys = [category_key(value) for value in value_counts.index.tolist()]
    counts = value_counts.to_numpy(dtype=np.int64)
    if len(set(keys)) != len(keys):  # e.g. 1 and "1" in one object column
        merged = pd.Series(counts).groupby(pd.Index(keys), sort=False).sum()
        keys = [str(key) for key in merged.index]
        counts = merged.to_numpy(dtype=np.int64)
    order = np.argsort(-counts, kind="stable")
    return [keys[i] for i in order], counts[order], n_missing
