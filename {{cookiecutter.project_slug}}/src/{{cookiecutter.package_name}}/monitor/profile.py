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
    present = np.sort(values[~missing])
    n_present = int(present.size)
    points, cumulative, exact = ecdf_summary(present, max_exact, sketch_size)
    if n_present:
        positions = np.ceil(np.arange(1, psi_bins) / psi_bins * n_present).astype(np.int64) - 1
        edges = np.unique(present[np.clip(positions, 0, n_present - 1)])
        edges = edges[edges < present[-1]]  # an edge at the max would leave an empty last bin
        if not exact:
            points, cumulative = add_points(points, cumulative, present, edges)
        at_or_below_edges = cumulative[np.searchsorted(points, edges)]
        proportions = bin_counts_from_le(at_or_below_edges, n_present) / n_present
        mean, std = float(present.mean()), float(present.std())
    else:
        edges, proportions, mean, std = np.zeros(0), np.ones(1), None, None
    return NumericProfile(
        name=name,
        n_total=int(values.size),
        n_missing=int(missing.sum()),
        exact=exact,
        x=points,
        cum=cumulative,
        psi_edges=edges,
        psi_ref_props=np.asarray(proportions, dtype=np.float64),
        mean=mean,
        std=std,
    )


def profile_categorical(name: str, series: pd.Series) -> CategoricalProfile:
    categories, counts, n_missing = category_counts(series)
    return CategoricalProfile(
        name=name, n_total=len(series), n_missing=n_missing, categories=categories, counts=counts
    )


def profile_column(name: str, kind: str, series: pd.Series, **numeric_options: Any) -> ColumnProfile:
    if kind == "numeric":
        return profile_numeric(name, numeric_values(series, name), **numeric_options)
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
    numeric_options = dict(max_exact=max_exact, sketch_size=sketch_size, psi_bins=psi_bins)
    columns: dict[str, ColumnProfile] = {}
    for spec in schema.features:
        columns[spec.name] = profile_column(
            spec.name, spec.kind, reference[spec.name], **(numeric_options if spec.kind == "numeric" else {})
        )
    prediction: ColumnProfile | None = None
    if reference_predictions is not None:
        predictions = pd.Series(
            np.asarray(reference_predictions)
            if not isinstance(reference_predictions, pd.Series)
            else reference_predictions.to_numpy()
        )
        kind = "categorical" if schema.problem_type == "classification" else "numeric"
        options = numeric_options if kind == "numeric" else {}
        prediction = profile_column(PREDICTION, kind, predictions, **options)
    return ReferenceProfile(
        schema=schema,
        columns=columns,
        prediction=prediction,
        n_rows=len(reference),
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        params={"max_exact": max_exact, "sketch_size": sketch_size, "psi_bins": psi_bins},
    )


# ----------------------------------------------------------------------------- persistence


def _column_entry(column: ColumnProfile, key: str, arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """The column's JSON entry; its arrays go into `arrays` under `key`."""
    if isinstance(column, NumericProfile):
        arrays[f"{key}.x"] = column.x
        arrays[f"{key}.cum"] = column.cum
        arrays[f"{key}.psi_edges"] = column.psi_edges
        arrays[f"{key}.psi_ref_props"] = column.psi_ref_props
        return {
            "name": column.name,
            "kind": "numeric",
            "key": key,
            "n_total": column.n_total,
            "n_missing": column.n_missing,
            "exact": column.exact,
            "mean": column.mean,
            "std": column.std,
        }
    arrays[f"{key}.counts"] = column.counts
    return {
        "name": column.name,
        "kind": "categorical",
        "key": key,
        "n_total": column.n_total,
        "n_missing": column.n_missing,
        "categories": column.categories,
    }


def _column_from_entry(entry: Mapping[str, Any], arrays: Any) -> ColumnProfile:
    key = entry["key"]
    if entry["kind"] == "numeric":
        return NumericProfile(
            name=entry["name"],
            n_total=int(entry["n_total"]),
            n_missing=int(entry["n_missing"]),
            exact=bool(entry["exact"]),
            x=arrays[f"{key}.x"],
            cum=arrays[f"{key}.cum"],
            psi_edges=arrays[f"{key}.psi_edges"],
            psi_ref_props=arrays[f"{key}.psi_ref_props"],
            mean=entry.get("mean"),
            std=entry.get("std"),
        )
    return CategoricalProfile(
        name=entry["name"],
        n_total=int(entry["n_total"]),
        n_missing=int(entry["n_missing"]),
        categories=list(entry["categories"]),
        counts=arrays[f"{key}.counts"],
    )


def save_profile(profile: ReferenceProfile, path: str | os.PathLike[str]) -> str:
    """Write the profile as one compressed .npz (suffix added by numpy if missing). Returns the path."""
    arrays: dict[str, np.ndarray] = {}
    columns = [_column_entry(column, f"c{i}", arrays) for i, column in enumerate(profile.columns.values())]
    prediction = _column_entry(profile.prediction, "pred", arrays) if profile.prediction is not None else None
    document = {
        "format": FORMAT_NAME,
        "format_version": profile.format_version,
        "created_at": profile.created_at,
        "n_rows": profile.n_rows,
        "params": profile.params,
        "schema": profile.schema.model_dump(mode="json"),
        "columns": columns,
        "prediction": prediction,
    }
    arrays["__meta__"] = np.array(json.dumps(document))
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
        with np.load(path, allow_pickle=False) as archive:
            document = json.loads(str(archive["__meta__"]))
            arrays = {name: archive[name] for name in archive.files if name != "__meta__"}
    except (OSError, ValueError, KeyError) as error:
        raise ProfileFormatError(f"cannot read reference profile {path}: {error}") from error
    if document.get("format") != FORMAT_NAME:
        raise ProfileFormatError(f"{path} is not a {FORMAT_NAME} file")
    if document.get("format_version") != FORMAT_VERSION:
        raise ProfileFormatError(
            f"{path}: unsupported profile format_version {document.get('format_version')!r} "
            f"(expected {FORMAT_VERSION})"
        )
    try:
        schema = FeatureSchema.model_validate(document["schema"])
    except ValidationError as error:
        problems = describe_errors(error, FeatureSchema)
        raise ProfileFormatError(f"{path}: invalid feature schema: {problems}") from None
    columns = {entry["name"]: _column_from_entry(entry, arrays) for entry in document["columns"]}
    prediction = _column_from_entry(document["prediction"], arrays) if document.get("prediction") else None
    return ReferenceProfile(
        schema=schema,
        columns=columns,
        prediction=prediction,
        n_rows=int(document["n_rows"]),
        created_at=document.get("created_at", ""),
        params=document.get("params", {}),
        format_version=int(document["format_version"]),
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
