"""Performance decay: join logged predictions with ground-truth labels, compute the project's own metrics
(metrics.py) on the recent data and compare them with the test-set metrics stored in metadata.json."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..contracts import ModelMetadata
from ..pipeline.metrics import classification_metrics, higher_is_better, regression_metrics
from .columns import PROBA_PREFIX, category_key
from .errors import EmptyDataError, IncompatibleDataError, MissingColumnError
from .profile import PREDICTION
from .thresholds import DriftThresholds

PROBABILITY_METRICS = frozenset({"log_loss", "roc_auc"})


def current_classification_metrics(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    classes: Sequence[Any],
    proba: Mapping[str, np.ndarray] | None,
) -> dict[str, float]:
    """metrics.classification_metrics (the pipeline's own numbers) on logged labels and predictions.

    Values are matched to the model's classes by their key (1, 1.0 and "1" are one class). Without every
    class's probability in the log, only the label metrics are returned (log_loss and roc_auc need them).
    """
    by_key = {category_key(c): c for c in classes}
    keys_true, keys_pred = [category_key(v) for v in y_true], [category_key(v) for v in y_pred]
    unknown = sorted((set(keys_true) | set(keys_pred)) - set(by_key))
    if unknown:
        raise IncompatibleDataError(
            f"labels or predictions contain classes the model does not know: {', '.join(unknown[:5])}"
        )
    complete = proba is not None and all(k in proba for k in by_key)
    if complete:
        matrix = np.column_stack([proba[k] for k in by_key])
    else:  # placeholder one-hot matrix; the metrics that would read it are dropped below
        matrix = (np.asarray(keys_pred, dtype=object)[:, None] == np.array(list(by_key), dtype=object)) * 1.0
    result = classification_metrics(
        [by_key[k] for k in keys_true], [by_key[k] for k in keys_pred], matrix, list(classes)
    )
    return result if complete else {k: v for k, v in result.items() if k not in PROBABILITY_METRICS}


# ----------------------------------------------------------------------------- comparison


@dataclass
class MetricDecay:
    name: str
    current: float
    training: float | None
    higher_is_better: bool
    delta: float | None  # current - training
    tolerance: float | None
    decayed: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "current": self.current,
            "training": self.training,
            "higher_is_better": self.higher_is_better,
            "delta": self.delta,
            "tolerance": self.tolerance,
            "decayed": self.decayed,
        }


@dataclass
class DecayResult:
    status: str  # "decay" | "ok" | "insufficient_data"
    n_labeled: int
    metrics: list[MetricDecay] = field(default_factory=list)
    message: str = ""

    @property
    def decayed(self) -> list[str]:
        return [m.name for m in self.metrics if m.decayed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "n_labeled": self.n_labeled,
            "decayed_metrics": self.decayed,
            "metrics": [m.to_dict() for m in self.metrics],
            "message": self.message,
        }


def compare_metrics(
    current: Mapping[str, float], training: Mapping[str, Any], thr: DriftThresholds
) -> list[MetricDecay]:
    """Decayed when worse than training by more than max(abs_tol, rel_tol * |training|)."""
    out: list[MetricDecay] = []
    for name, value in current.items():
        hib = higher_is_better(name)
        tv = training.get(name)
        if not isinstance(tv, (int, float)) or isinstance(tv, bool) or not math.isfinite(float(tv)):
            out.append(MetricDecay(name, float(value), None, hib, None, None, False))
            continue
        tv = float(tv)
        tol = max(thr.decay_absolute_tolerance, thr.decay_relative_tolerance * abs(tv))
        worse_by = (tv - value) if hib else (value - tv)
        out.append(MetricDecay(name, float(value), tv, hib, float(value - tv), tol, bool(worse_by > tol)))
    return out


def join_labels(predictions: pd.DataFrame, labels: pd.DataFrame, target: str) -> pd.DataFrame:
    """Inner join on (request_id, row); ``row`` defaults to 0 when absent on either side."""
    for col, df, where in (
        ("request_id", predictions, "prediction log"),
        ("request_id", labels, "labels"),
        (target, labels, "labels"),
        (PREDICTION, predictions, "prediction log"),
    ):
        if col not in df.columns:
            raise MissingColumnError(col, where)
    if len(labels) == 0:
        raise EmptyDataError("labels table has no rows")
    p = predictions.copy()
    lab = labels[["request_id", target] + (["row"] if "row" in labels.columns else [])].copy()
    for df in (p, lab):
        if "row" not in df.columns:
            df["row"] = 0
        df["row"] = pd.to_numeric(df["row"], errors="coerce").fillna(0).astype("int64")
        df["request_id"] = df["request_id"].astype(str)
    lab = lab.drop_duplicates(["request_id", "row"], keep="last")
    label_col = "__label__"
    lab = lab.rename(columns={target: label_col})
    return p.merge(lab, on=["request_id", "row"], how="inner")


def evaluate_decay(
    predictions: pd.DataFrame,
    labels: pd.DataFrame,
    metadata: ModelMetadata,
    thresholds: DriftThresholds | None = None,
) -> DecayResult:
    """Metrics on labelled recent predictions vs the test-set ``metadata.metrics``."""
    thr = thresholds or DriftThresholds()
    schema = metadata.feature_schema
    joined = join_labels(predictions, labels, schema.target)
    joined = joined[joined["__label__"].notna() & joined[PREDICTION].notna()]
    n = len(joined)
    if n < thr.min_labeled_rows:
        return DecayResult(
            "insufficient_data",
            n,
            message=f"{n} labelled predictions (< min_labeled_rows={thr.min_labeled_rows})",
        )
    if schema.problem_type == "regression":
        try:
            yt = joined["__label__"].to_numpy(dtype="float64")
            yp = joined[PREDICTION].to_numpy(dtype="float64")
        except (TypeError, ValueError) as exc:
            raise IncompatibleDataError(f"regression labels/predictions are not numeric: {exc}") from exc
        cur = regression_metrics(yt, yp)
    else:
        proba = {
            category_key(c[len(PROBA_PREFIX) :]): joined[c].to_numpy(dtype="float64")
            for c in joined.columns
            if c.startswith(PROBA_PREFIX)
        }
        proba = {k: v for k, v in proba.items() if not np.isnan(v).any()} or None
        cur = current_classification_metrics(
            joined["__label__"].tolist(), joined[PREDICTION].tolist(), list(schema.classes or ()), proba
        )
    metrics = compare_metrics(cur, metadata.metrics, thr)
    status = "decay" if any(m.decayed for m in metrics) else "ok"
    return DecayResult(status, n, metrics)
