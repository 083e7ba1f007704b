"""Load and verify the model bundle (models/model.joblib + models/metadata.json)."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd

from ..config import Paths
from ..contracts import ContractError, FeatureSchema, ModelMetadata, read_metadata
from ..pipeline.lineage import file_sha256
from . import fastpath

log = logging.getLogger(__name__)

METADATA_FILE = Paths().metadata.name


class ModelLoadError(RuntimeError):
    """The bundle is missing, corrupt, or inconsistent; the service must not start."""


def load_metadata(model_dir: str | Path) -> ModelMetadata:
    try:
        return read_metadata(Path(model_dir) / METADATA_FILE)
    except ContractError as error:
        raise ModelLoadError(str(error)) from error


def _json_scalar(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def _tune_for_serving(model: Any) -> None:
    """Single-threaded estimators: per-call joblib worker start-up is pure overhead for small requests."""
    try:
        params = model.get_params(deep=True)
    except Exception:  # pragma: no cover - not an sklearn estimator
        return
    jobs = {
        k: 1 for k, v in params.items() if (k == "n_jobs" or k.endswith("__n_jobs")) and v not in (None, 1)
    }
    if jobs:
        try:
            model.set_params(**jobs)
        except Exception as e:  # pragma: no cover
            log.warning("could not set n_jobs=1: %s", e)


@dataclass
class Prediction:
    predictions: list[Any]
    probabilities: list[list[float]] | None  # rows x classes (metadata order)


@dataclass
class ModelBundle:
    model: Any
    metadata: ModelMetadata
    model_dir: Path
    feature_names: list[str]  # schema order (= order of request fields)
    num_names: list[str]
    cat_names: list[str]
    classes: list[Any] | None
    serving_path: str = "sklearn"  # "fast" when the verified numpy fast path is used
    fast_path_reason: str = ""
    _fast: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = field(default=None, repr=False)
    _model_columns: list[str] = field(default_factory=list, repr=False)
    _cat_dtypes: dict[str, str] = field(default_factory=dict, repr=False)
    _argmax_ok: bool = True

    @property
    def schema(self) -> FeatureSchema:
        return self.metadata.feature_schema

    @property
    def is_classification(self) -> bool:
        return self.schema.problem_type == "classification"

    @property
    def model_version(self) -> str:
        return self.metadata.model_version

    # ---- input conversion -------------------------------------------------------------------
    def blocks(self, rows: list[list[Any]]) -> tuple[np.ndarray, np.ndarray]:
        """rows: list of value lists in schema order -> (numeric float64 block, categorical object block)."""
        n = len(rows)
        n_num, n_cat = len(self.num_names), len(self.cat_names)
        if n_cat == 0:
            return np.array(rows, dtype=np.float64).reshape(n, n_num), np.empty((n, 0), dtype=object)
        arr = np.array(rows, dtype=object).reshape(n, n_num + n_cat)
        num = arr[:, self._num_idx].astype(np.float64) if n_num else np.empty((n, 0))
        return num, arr[:, self._cat_idx]

    def frame(self, x_num: np.ndarray, x_cat: np.ndarray) -> Any:
        cols: dict[str, Any] = {}
        num_i = {n: i for i, n in enumerate(self.num_names)}
        cat_i = {n: i for i, n in enumerate(self.cat_names)}
        for name in self._model_columns:
            if name in num_i:
                cols[name] = x_num[:, num_i[name]]
            else:
                col = x_cat[:, cat_i[name]].copy()
                for i, v in enumerate(col):
                    if v is None:
                        col[i] = np.nan  # pandas reads missing values as NaN: match training
                cols[name] = col
        return pd.DataFrame(cols, columns=self._model_columns)

    def __post_init__(self) -> None:
        pos = {n: i for i, n in enumerate(self.feature_names)}
        self._num_idx = np.array([pos[n] for n in self.num_names], dtype=np.intp)
        self._cat_idx = np.array([pos[n] for n in self.cat_names], dtype=np.intp)

    # ---- prediction ---------------------------------------------------------------------------
    # The `type: ignore`s below: classes and the compiled fast path are Optional until start-up has
    # checked them; these methods only run after that check.
    def _predict_sklearn(self, x_num: np.ndarray, x_cat: np.ndarray) -> Prediction:
        df = self.frame(x_num, x_cat)
        if self.is_classification:
            proba = np.asarray(self.model.predict_proba(df), dtype=np.float64)
            if self._argmax_ok:
                preds = [self.classes[i] for i in proba.argmax(axis=1).tolist()]  # type: ignore[index]
            else:
                preds = [_json_scalar(v) for v in np.asarray(self.model.predict(df)).tolist()]
            return Prediction(preds, proba.tolist())
        return Prediction(np.asarray(self.model.predict(df), dtype=np.float64).ravel().tolist(), None)

    def _predict_fast(self, x_num: np.ndarray, x_cat: np.ndarray) -> Prediction:
        out = self._fast(x_num, x_cat)  # type: ignore[misc]
        if self.is_classification:
            proba = np.asarray(out, dtype=np.float64)
            preds = [self.classes[i] for i in proba.argmax(axis=1).tolist()]  # type: ignore[index]
            return Prediction(preds, proba.tolist())
        return Prediction(np.asarray(out, dtype=np.float64).ravel().tolist(), None)

    def predict_blocks(self, x_num: np.ndarray, x_cat: np.ndarray) -> Prediction:
        if self._fast is not None:
            return self._predict_fast(x_num, x_cat)
        return self._predict_sklearn(x_num, x_cat)

    def predict_rows(self, rows: list[list[Any]]) -> Prediction:
        return self.predict_blocks(*self.blocks(rows))

    # ---- fast path set-up ---------------------------------------------------------------------
    def _probe_rows(self, n: int = 64, seed: int = 12345) -> list[list[Any]]:
        rng = np.random.default_rng(seed)
        rows = []
        for i in range(n):
            row: list[Any] = []
            for f in self.schema.features:
                if f.nullable and rng.random() < 0.15:
                    row.append(None)
                elif f.kind == "numeric":
                    row.append(float(rng.normal() * 10 ** rng.uniform(-2, 3)) if i % 7 else 0.0)
                else:
                    cats = f.categories or ["a"]
                    row.append(cats[int(rng.integers(len(cats)))])
            rows.append(row)
        return rows

    def setup_fast_path(self, enabled: bool = True) -> None:
        """Check argmax(predict_proba) == predict, then compile and verify the numpy fast path."""
        probe = self._probe_rows()
        x_num, x_cat = self.blocks(probe)
        df = self.frame(x_num, x_cat)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref_pred = np.asarray(self.model.predict(df))
            ref_proba = np.asarray(self.model.predict_proba(df)) if self.is_classification else None
        if self.is_classification:
            classes_arr = np.asarray(self.classes, dtype=object)
            self._argmax_ok = bool(
                np.array_equal(
                    classes_arr[ref_proba.argmax(axis=1)].tolist(), [_json_scalar(v) for v in ref_pred]
                )  # type: ignore[union-attr]
            )
        if not enabled:
            self.fast_path_reason = "disabled by settings"
            return
        if not self._argmax_ok:
            self.fast_path_reason = "predict() differs from argmax(predict_proba())"
            return
        kinds = {f.name: f.kind for f in self.schema.features}
        try:
            fn = fastpath.compile_pipeline(self.model, self.feature_names, kinds, self.is_classification)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = np.asarray(fn(x_num, x_cat))
        except fastpath.Unsupported as e:
            self.fast_path_reason = f"unsupported: {e}"
            return
        except Exception as e:  # compiled function crashed on probe rows
            self.fast_path_reason = f"fast path failed on probe rows: {type(e).__name__}: {e}"
            return
        if self.is_classification:
            ok = out.shape == ref_proba.shape and np.allclose(out, ref_proba, rtol=1e-9, atol=1e-12)  # type: ignore[union-attr]
        else:
            ok = out.ravel().shape == ref_pred.ravel().shape and np.allclose(
                out.ravel(), ref_pred.astype(np.float64).ravel(), rtol=1e-9, atol=1e-9
            )
        if not ok:
            self.fast_path_reason = "fast path output differs from sklearn on probe rows"
            return
        self._fast = fn
        self.serving_path = "fast"
        self.fast_path_reason = "verified against sklearn on probe rows"


def load_bundle(
    model_dir: str | Path, *, fast_path: bool = True, metadata: ModelMetadata | None = None
) -> ModelBundle:
    """Load metadata + model, verify integrity and consistency; raise ModelLoadError on any problem."""
    model_dir = Path(model_dir)
    meta = metadata or load_metadata(model_dir)
    model_path = model_dir / meta.model_file
    if not model_path.is_file():
        raise ModelLoadError(f"{model_path}: model file not found")
    digest = file_sha256(model_path)
    if digest.lower() != meta.model_sha256.lower():
        raise ModelLoadError(
            f"{model_path}: sha256 mismatch: file has {digest}, metadata.json says {meta.model_sha256} "
            "(model file replaced or corrupted after training?)"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. InconsistentVersionWarning is reported below
            model = joblib.load(model_path)
    except Exception as e:
        raise ModelLoadError(f"{model_path}: cannot unpickle model: {type(e).__name__}: {e}") from e

    schema = meta.feature_schema
    if not callable(getattr(model, "predict", None)):
        raise ModelLoadError(f"{model_path}: loaded object {type(model).__name__} has no predict()")
    if schema.problem_type == "classification" and not callable(getattr(model, "predict_proba", None)):
        raise ModelLoadError(
            f"{model_path}: schema says classification but {type(model).__name__} has no predict_proba()"
        )
    names = [f.name for f in schema.features]
    model_cols = getattr(model, "feature_names_in_", None)
    if model_cols is not None:
        model_cols = [str(c) for c in model_cols]
        if set(model_cols) != set(names) or len(model_cols) != len(names):
            missing = [c for c in model_cols if c not in names]
            extra = [c for c in names if c not in model_cols]
            raise ModelLoadError(
                f"{model_path}: feature names do not match metadata feature_schema: "
                f"model expects but schema lacks {missing[:10]}; schema has but model lacks {extra[:10]}"
            )
    else:
        n_in = getattr(model, "n_features_in_", None)
        if n_in is not None and n_in != len(names):
            raise ModelLoadError(f"{model_path}: model expects {n_in} features, schema lists {len(names)}")
        model_cols = names
    classes = None
    if schema.problem_type == "classification":
        model_classes = [_json_scalar(c) for c in getattr(model, "classes_", [])]
        if model_classes != list(schema.classes or []):
            raise ModelLoadError(
                f"{model_path}: model classes {model_classes} differ from metadata classes {schema.classes}"
            )
        classes = model_classes
    _tune_for_serving(model)
    bundle = ModelBundle(
        model=model,
        metadata=meta,
        model_dir=model_dir,
        feature_names=names,
        num_names=[f.name for f in schema.features if f.kind == "numeric"],
        cat_names=[f.name for f in schema.features if f.kind != "numeric"],
        classes=classes,
        _model_columns=model_cols,
        _cat_dtypes={f.name: f.dtype for f in schema.features if f.kind != "numeric"},
    )
    try:
        bundle.setup_fast_path(enabled=fast_path)
    except Exception as e:
        raise ModelLoadError(
            f"{model_path}: model fails on synthetic rows built from the feature schema: "
            f"{type(e).__name__}: {e}"
        ) from e
    log.info(
        "model %s loaded from %s (serving path: %s; %s)",
        meta.model_version,
        model_path,
        bundle.serving_path,
        bundle.fast_path_reason,
    )
    return bundle
