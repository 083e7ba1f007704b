"""Reference profile: everything a monitor run needs, computed once from the training data.

Numeric column: ECDF summary (``x`` sorted distinct values, ``cum`` exact counts <= x) - all
distinct values when there are <= ``max_exact`` of them (lossless: KS equals scipy exactly),
otherwise a quantile sketch of ``sketch_size`` order statistics (KS accurate to ~1/sketch_size);
PSI bin edges (reference deciles) with reference bin proportions; missing count; moments.
Categorical column: category counts (pandas ``value_counts``) and missing count.

Stored as ONE compressed ``.npz``: arrays plus a JSON document under key ``__meta__``
(loadable with ``allow_pickle=False``). ``format`` / ``format_version`` fields are checked on load.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from pydantic import ValidationError

from ..config import Paths, load_params
from ..contracts import FeatureSchema, describe_errors, read_metadata
from .columns import category_counts, numeric_values, require_columns
from .errors import EmptyDataError, ProfileFormatError
from .stats import add_points, bin_counts_from_le, ecdf_summary

FORMAT_NAME = "drift-reference-profile"
FORMAT_VERSION = 1
PREDICTION = "prediction"  # column name of model predictions (prediction log contract)
DEFAULT_MAX_EXACT = 200_000
DEFAULT_SKETCH_SIZE = 10_000
DEFAULT_PSI_BINS = 10


@dataclass
class NumericProfile:
    name: str
    n_total: int
    n_missing: int
    exact: bool
    x: np.ndarray  # sorted distinct points
    cum: np.ndarray  # int64, #reference values <= x[i]
    psi_edges: np.ndarray  # interior right-closed bin edges (subset of x)
    psi_ref_props: np.ndarray  # len(psi_edges) + 1
    mean: float | None = None
    std: float | None = None
    kind: str = "numeric"

    @property
    def n(self) -> int:
        """Non-missing reference count."""
        return self.n_total - self.n_missing


@dataclass
class CategoricalProfile:
    name: str
    n_total: int
    n_missing: int
    categories: list[str]
    counts: np.ndarray  # int64, aligned with categories, descending
    kind: str = "categorical"

    @property
    def n(self) -> int:
        return self.n_total - self.n_missing


ColumnProfile = NumericProfile | CategoricalProfile


@dataclass
class ReferenceProfile:
    schema: FeatureSchema
    columns: dict[str, ColumnProfile]
    prediction: ColumnProfile | None = None
    n_rows: int = 0
    created_at: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION


def profile_numeric(
    name: str,
    values: np.ndarray,
    *,
    max_exact: int = DEFAULT_MAX_EXACT,
    sketch_size: int = DEFAULT_SKETCH_SIZE,
    psi_bins: int = DEFAULT_PSI_BINS,
) -> NumericProfile:
    """Profile one numeric column given float64 values (NaN = missing)."""
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    s = np.sort(values[~missing])
    n = int(s.size)
    x, cum, exact = ecdf_summary(s, max_exact, sketch_size)
    if n:
        pos = np.ceil(np.arange(1, psi_bins) / psi_bins * n).astype(np.int64) - 1
        edges = np.unique(s[np.clip(pos, 0, n - 1)])
        edges = edges[edges < s[-1]]  # an edge at the max would leave an empty last bin
        if not exact:
            x, cum = add_points(x, cum, s, edges)
        le = cum[np.searchsorted(x, edges)]
        props = bin_counts_from_le(le, n) / n
        mean, std = float(s.mean()), float(s.std())
    else:
        edges, props, mean, std = np.zeros(0), np.ones(1), None, None
    return NumericProfile(
        name=name,
        n_total=int(values.size),
        n_missing=int(missing.sum()),
        exact=exact,
        x=x,
        cum=cum,
        psi_edges=edges,
        psi_ref_props=np.asarray(props, dtype=np.float64),
        mean=mean,
        std=std,
    )


def profile_categorical(name: str, series: pd.Series) -> CategoricalProfile:
    cats, counts, n_missing = category_counts(series)
    return CategoricalProfile(
        name=name, n_total=len(series), n_missing=n_missing, categories=cats, counts=counts
    )


def profile_column(name: str, kind: str, series: pd.Series, **kw: Any) -> ColumnProfile:
    if kind == "numeric":
        return profile_numeric(name, numeric_values(series, name), **kw)
    return profile_categorical(name, series)


def build_profile(
    reference: pd.DataFrame,
    schema: FeatureSchema,
    reference_predictions: Sequence[Any] | np.ndarray | pd.Series | None = None,
    *,
    max_exact: int = DEFAULT_MAX_EXACT,
    sketch_size: int = DEFAULT_SKETCH_SIZE,
    psi_bins: int = DEFAULT_PSI_BINS,
) -> ReferenceProfile:
    """Build the reference profile from the training frame (+ optional reference predictions).

    Classification predictions are profiled as categorical, regression ones as numeric.
    """
    if len(reference) == 0:
        raise EmptyDataError("reference data has no rows")
    require_columns(reference, schema.names(), "reference data")
    kw = dict(max_exact=max_exact, sketch_size=sketch_size, psi_bins=psi_bins)
    cols: dict[str, ColumnProfile] = {}
    for spec in schema.features:
        cols[spec.name] = profile_column(
            spec.name, spec.kind, reference[spec.name], **(kw if spec.kind == "numeric" else {})
        )
    pred: ColumnProfile | None = None
    if reference_predictions is not None:
        ps = pd.Series(
            np.asarray(reference_predictions)
            if not isinstance(reference_predictions, pd.Series)
            else reference_predictions.to_numpy()
        )
        kind = "categorical" if schema.problem_type == "classification" else "numeric"
        pred = profile_column(PREDICTION, kind, ps, **(kw if kind == "numeric" else {}))
    return ReferenceProfile(
        schema=schema,
        columns=cols,
        prediction=pred,
        n_rows=len(reference),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        params={"max_exact": max_exact, "sketch_size": sketch_size, "psi_bins": psi_bins},
    )


# ----------------------------------------------------------------------------- persistence


def _col_meta(c: ColumnProfile, key: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    if isinstance(c, NumericProfile):
        arrays[f"{key}.x"] = c.x
        arrays[f"{key}.cum"] = c.cum
        arrays[f"{key}.psi_edges"] = c.psi_edges
        arrays[f"{key}.psi_ref_props"] = c.psi_ref_props
        return {
            "name": c.name,
            "kind": "numeric",
            "key": key,
            "n_total": c.n_total,
            "n_missing": c.n_missing,
            "exact": c.exact,
            "mean": c.mean,
            "std": c.std,
        }
    arrays[f"{key}.counts"] = c.counts
    return {
        "name": c.name,
        "kind": "categorical",
        "key": key,
        "n_total": c.n_total,
        "n_missing": c.n_missing,
        "categories": c.categories,
    }


def _col_from_meta(m: Mapping[str, Any], arrays: Any) -> ColumnProfile:
    k = m["key"]
    if m["kind"] == "numeric":
        return NumericProfile(
            name=m["name"],
            n_total=int(m["n_total"]),
            n_missing=int(m["n_missing"]),
            exact=bool(m["exact"]),
            x=arrays[f"{k}.x"],
            cum=arrays[f"{k}.cum"],
            psi_edges=arrays[f"{k}.psi_edges"],
            psi_ref_props=arrays[f"{k}.psi_ref_props"],
            mean=m.get("mean"),
            std=m.get("std"),
        )
    return CategoricalProfile(
        name=m["name"],
        n_total=int(m["n_total"]),
        n_missing=int(m["n_missing"]),
        categories=list(m["categories"]),
        counts=arrays[f"{k}.counts"],
    )


def save_profile(profile: ReferenceProfile, path: str | os.PathLike[str]) -> str:
    """Write the profile as one compressed .npz (suffix added by numpy if missing). Returns the path."""
    arrays: dict[str, np.ndarray] = {}
    cols = [_col_meta(c, f"c{i}", arrays) for i, c in enumerate(profile.columns.values())]
    pred = _col_meta(profile.prediction, "pred", arrays) if profile.prediction is not None else None
    meta = {
        "format": FORMAT_NAME,
        "format_version": profile.format_version,
        "created_at": profile.created_at,
        "n_rows": profile.n_rows,
        "params": profile.params,
        "schema": profile.schema.model_dump(mode="json"),
        "columns": cols,
        "prediction": pred,
    }
    arrays["__meta__"] = np.array(json.dumps(meta))
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)
    return path


def load_profile(path: str | os.PathLike[str]) -> ReferenceProfile:
    path = os.fspath(path)
    if not Path(path).is_file():
        raise ProfileFormatError(f"reference profile not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["__meta__"]))
            arrays = {k: z[k] for k in z.files if k != "__meta__"}
    except (OSError, ValueError, KeyError) as exc:
        raise ProfileFormatError(f"cannot read reference profile {path}: {exc}") from exc
    if meta.get("format") != FORMAT_NAME:
        raise ProfileFormatError(f"{path} is not a {FORMAT_NAME} file")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ProfileFormatError(
            f"{path}: unsupported profile format_version {meta.get('format_version')!r} "
            f"(expected {FORMAT_VERSION})"
        )
    try:
        schema = FeatureSchema.model_validate(meta["schema"])
    except ValidationError as exc:
        problems = describe_errors(exc, FeatureSchema)
        raise ProfileFormatError(f"{path}: invalid feature schema: {problems}") from None
    cols = {m["name"]: _col_from_meta(m, arrays) for m in meta["columns"]}
    pred = _col_from_meta(meta["prediction"], arrays) if meta.get("prediction") else None
    return ReferenceProfile(
        schema=schema,
        columns=cols,
        prediction=pred,
        n_rows=int(meta["n_rows"]),
        created_at=meta.get("created_at", ""),
        params=meta.get("params", {}),
        format_version=int(meta["format_version"]),
    )


def reference_predictions(model: Any, reference: pd.DataFrame, schema: FeatureSchema) -> np.ndarray:
    """The model's predictions on the reference rows: the baseline of prediction drift."""
    return np.asarray(model.predict(reference[schema.names()]))


def main() -> None:
    params = load_params()
    paths = Paths()
    schema = read_metadata(paths.metadata).feature_schema
    train = pd.read_parquet(paths.train)
    predictions = reference_predictions(joblib.load(paths.model), train, schema)
    profile = build_profile(train, schema, predictions, **params.monitor.profile.model_dump())
    save_profile(profile, paths.reference_profile)
    print(f"wrote {paths.reference_profile} ({profile.n_rows} rows, {len(profile.columns)} features)")
