"""Performance decay: join logged predictions with ground-truth labels, compute the project's own metrics
(metrics.py) on the recent data and compare them with the test-set metrics stored in metadata.json."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..config import DriftThresholds
from ..contracts import FeatureSchema, ModelMetadata
from ..metric_rules import Tolerance, compare_to_reference, higher_is_better
from ..pipeline.metrics import classification_metrics, regression_metrics
from .columns import PROBA_PREFIX, category_key
from .errors import EmptyDataError, IncompatibleDataError, MissingColumnError
from .profile import PREDICTION

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
    by_key = {category_key(label): label for label in classes}
    keys_true = [category_key(value) for value in y_true]
    keys_predicted = [category_key(value) for value in y_pred]
    unknown = sorted((set(keys_true) | set(keys_predicted)) - set(by_key))
    if unknown:
        raise IncompatibleDataError(
            f"labels or predictions contain classes the model does not know: {', '.join(unknown[:5])}"
        )
    complete = proba is not None and all(key in proba for key in by_key)
    if complete:
        matrix = np.column_stack([proba[key] for key in by_key])
    else:  # placeholder one-hot matrix; the metrics that would read it are dropped below
        one_hot = np.asarray(keys_predicted, dtype=object)[:, None] == np.array(list(by_key), dtype=object)
        matrix = one_hot * 1.0
    result = classification_metrics(
        [by_key[key] for key in keys_true], [by_key[key] for key in keys_predicted], matrix, list(classes)
    )
    if complete:
        return result
    return {name: value for name, value in result.items() if name not in PROBABILITY_METRICS}


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
        return [metric.name for metric in self.metrics if metric.decayed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "n_labeled": self.n_labeled,
            "decayed_metrics": self.decayed,
            "metrics": [metric.to_dict() for metric in self.metrics],
            "message": self.message,
        }


def compare_metrics(
    current: Mapping[str, float], training: Mapping[str, Any], thresholds: DriftThresholds
) -> list[MetricDecay]:
    """Decayed when worse than training by more than max(absolute, relative * |training|).

    A metric training did not record (or recorded as a non-number) is listed, never decayed.
    """
    tolerance = Tolerance(thresholds.decay_absolute_tolerance, thresholds.decay_relative_tolerance)
    result: list[MetricDecay] = []
    for name, value in current.items():
        recorded = training.get(name)
        if not _is_number(recorded):
            result.append(MetricDecay(name, float(value), None, higher_is_better(name), None, None, False))
            continue
        comparison = compare_to_reference(name, float(value), float(recorded), tolerance)
        result.append(
            MetricDecay(
                name,
                comparison.value,
                comparison.reference,
                comparison.higher_is_better,
                comparison.delta,
                comparison.allowed,
                comparison.worse,
            )
        )
    return result


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(float(value))


LABEL = "__label__"  # the joined ground truth, named apart from any feature


def join_labels(predictions: pd.DataFrame, labels: pd.DataFrame, target: str) -> pd.DataFrame:
    """Inner join on (request_id, row); ``row`` defaults to 0 when absent on either side."""
    for column, frame, where in (
        ("request_id", predictions, "prediction log"),
        ("request_id", labels, "labels"),
        (target, labels, "labels"),
        (PREDICTION, predictions, "prediction log"),
    ):
        if column not in frame.columns:
            raise MissingColumnError(column, where)
    if len(labels) == 0:
        raise EmptyDataError("labels table has no rows")
    logged = predictions.copy()
    truth = labels[["request_id", target] + (["row"] if "row" in labels.columns else [])].copy()
    for frame in (logged, truth):
        if "row" not in frame.columns:
            frame["row"] = 0
        frame["row"] = pd.to_numeric(frame["row"], errors="coerce").fillna(0).astype("int64")
        frame["request_id"] = frame["request_id"].astype(str)
    truth = truth.drop_duplicates(["request_id", "row"], keep="last").rename(columns={target: LABEL})
    return logged.merge(truth, on=["request_id", "row"], how="inner")


def current_metrics(joined: pd.DataFrame, schema: FeatureSchema) -> dict[str, float]:
    """The pipeline's metrics on the joined labels and logged predictions."""
    if schema.problem_type == "regression":
        try:
            y_true = joined[LABEL].to_numpy(dtype="float64")
            y_pred = joined[PREDICTION].to_numpy(dtype="float64")
        except (TypeError, ValueError) as error:
            raise IncompatibleDataError(f"regression labels/predictions are not numeric: {error}") from error
        return regression_metrics(y_true, y_pred)
    proba = {
        category_key(column[len(PROBA_PREFIX) :]): joined[column].to_numpy(dtype="float64")
        for column in joined.columns
        if column.startswith(PROBA_PREFIX)
    }
    proba = {key: values for key, values in proba.items() if not np.isnan(values).any()} or None
    return current_classification_metrics(
        joined[LABEL].tolist(), joined[PREDICTION].tolist(), list(schema.classes or ()), proba
    )


def evaluate_decay(
    predictions: pd.DataFrame,
    labels: pd.DataFrame,
    metadata: ModelMetadata,
    thresholds: DriftThresholds | None = None,
) -> DecayResult:
    """Metrics on labelled recent predictions vs the test-set ``metadata.metrics``."""
    thresholds = thresholds or DriftThresholds()
    schema = metadata.feature_schema
    joined = join_labels(predictions, labels, schema.target)
    joined = joined[joined[LABEL].notna() & joined[PREDICTION].notna()]
    n_labeled = len(joined)
    if n_labeled < thresholds.min_labeled_rows:
        return DecayResult(
            "insufficient_data",
            n_labeled,
            message=f"{n_labeled} labelled predictions (< min_labeled_rows={thresholds.min_labeled_rows})",
        )
    current = current_metrics(joined, schema)
    metrics = compare_metrics(current, metadata.metrics, thresholds)
    status = "decay" if any(metric.decayed for metric in metrics) else "ok"
    return DecayResult(status, n_labeled, metrics)
