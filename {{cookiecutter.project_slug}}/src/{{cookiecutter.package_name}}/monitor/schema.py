"""Feature schema (from models/metadata.json) and column coercion helpers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from .errors import IncompatibleDataError, MissingColumnError

Kind = Literal["numeric", "categorical"]
PROBA_PREFIX = "proba:"  # probability columns of the current frame: "proba:<class>"


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    kind: Kind
    dtype: str | None = None
    nullable: bool = False
    categories: tuple[str, ...] | None = None


@dataclass(frozen=True)
class FeatureSchema:
    features: tuple[FeatureSpec, ...]
    target: str | None = None
    problem_type: str = "classification"
    classes: tuple[Any, ...] | None = None

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "problem_type": self.problem_type,
            "classes": list(self.classes) if self.classes is not None else None,
            "features": [
                {
                    "name": f.name,
                    "kind": f.kind,
                    "dtype": f.dtype,
                    "nullable": f.nullable,
                    "categories": list(f.categories) if f.categories is not None else None,
                }
                for f in self.features
            ],
        }


def parse_schema(raw: Mapping[str, Any]) -> FeatureSchema:
    """Parse the ``feature_schema`` object of metadata.json (or the whole metadata)."""
    if "feature_schema" in raw:
        raw = raw["feature_schema"]
    try:
        feats = raw["features"]
    except (KeyError, TypeError) as exc:
        raise IncompatibleDataError("feature schema has no 'features' list") from exc
    specs: list[FeatureSpec] = []
    seen: set[str] = set()
    for f in feats:
        name = f.get("name")
        kind = f.get("kind")
        if not isinstance(name, str) or kind not in ("numeric", "categorical"):
            raise IncompatibleDataError(f"bad feature entry in schema: {f!r}")
        if name in seen:
            raise IncompatibleDataError(f"duplicate feature {name!r} in schema")
        seen.add(name)
        cats = f.get("categories")
        specs.append(
            FeatureSpec(
                name=name,
                kind=kind,
                dtype=f.get("dtype"),
                nullable=bool(f.get("nullable", False)),
                categories=tuple(category_key(c) for c in cats) if cats is not None else None,
            )
        )
    problem_type = raw.get("problem_type", "classification")
    if problem_type not in ("classification", "regression"):
        raise IncompatibleDataError(f"unknown problem_type {problem_type!r}")
    classes = raw.get("classes")
    return FeatureSchema(
        features=tuple(specs),
        target=raw.get("target"),
        problem_type=problem_type,
        classes=tuple(classes) if classes is not None else None,
    )


def category_key(value: Any) -> str:
    """Stable string key for a category value (1, 1.0 and "1" all map to "1")."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isfinite(v) and v.is_integer():
            return str(int(v))
        return repr(v)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return str(value)


def require_columns(df: pd.DataFrame, names: list[str], where: str = "current data") -> None:
    for name in names:
        if name not in df.columns:
            raise MissingColumnError(name, where)


def numeric_values(series: pd.Series, name: str) -> np.ndarray:
    """float64 array with NaN for missing; raises if non-missing values are not numbers."""
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype("float64")
    if pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype="float64", na_value=np.nan)
    coerced = pd.to_numeric(series, errors="coerce")
    bad = int(coerced.isna().sum() - series.isna().sum())
    if bad > 0:
        example = series[coerced.isna() & series.notna()].iloc[0]
        raise IncompatibleDataError(
            f"numeric column {name!r} has {bad} non-numeric value(s), e.g. {example!r}"
        )
    return coerced.to_numpy(dtype="float64", na_value=np.nan)


def category_counts(series: pd.Series) -> tuple[list[str], np.ndarray, int]:
    """(category keys, counts, n_missing) using pandas value_counts (no np.unique on strings)."""
    vc = series.value_counts(dropna=True, sort=False)
    n_missing = int(len(series) - int(vc.sum()))
    if len(vc) == 0:
        return [], np.zeros(0, dtype=np.int64), n_missing
    keys = [category_key(k) for k in vc.index.tolist()]
    counts = vc.to_numpy(dtype=np.int64)
    if len(set(keys)) != len(keys):  # e.g. 1 and "1" in one object column
        merged = pd.Series(counts).groupby(pd.Index(keys), sort=False).sum()
        keys = [str(k) for k in merged.index]
        counts = merged.to_numpy(dtype=np.int64)
    order = np.argsort(-counts, kind="stable")
    return [keys[i] for i in order], counts[order], n_missing
