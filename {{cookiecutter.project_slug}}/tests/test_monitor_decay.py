"""Performance decay: the project's own metrics on labelled predictions vs the test-set metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import DriftThresholds
from {{ cookiecutter.package_name }}.contracts import ModelMetadata
from {{ cookiecutter.package_name }}.monitor.decay import compare_metrics, current_classification_metrics, evaluate_decay
from {{ cookiecutter.package_name }}.monitor.errors import IncompatibleDataError, MissingColumnError
from {{ cookiecutter.package_name }}.pipeline.metrics import classification_metrics

FEATURES = ({"name": "x", "kind": "numeric"},)
METADATA = ModelMetadata.model_validate(
    {
        "model_version": "test-1",
        "model_sha256": "0" * 64,
        "metrics": {"accuracy": 0.9, "f1": 0.9, "roc_auc": 0.95, "log_loss": 0.4},
        "feature_schema": {
            "target": "target",
            "problem_type": "classification",
            "classes": [0, 1],
            "features": FEATURES,
        },
    }
)


def labelled_log(n: int, acc: float, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < acc, y, 1 - y)
    p1 = np.clip(0.5 + (pred - 0.5) * 0.8 + rng.normal(0, 0.05, n), 0, 1)
    preds = pd.DataFrame(
        {
            "request_id": [f"r{i // 2}" for i in range(n)],
            "row": [i % 2 for i in range(n)],
            "prediction": pred,
            "proba:0": 1 - p1,
            "proba:1": p1,
        }
    )
    labels = pd.DataFrame({"request_id": preds["request_id"], "row": preds["row"], "target": y})
    return preds, labels


def test_same_numbers_as_the_pipeline_metrics() -> None:
    y_true, y_pred = [1, 1, 0, 0, 1], ["1", "0", "0", "1", 1.0]  # keys: 1, "1" and 1.0 are one class
    p1 = np.array([0.9, 0.4, 0.2, 0.6, 0.8])
    current = current_classification_metrics(y_true, y_pred, [0, 1], {"0": 1 - p1, "1": p1})
    expected = classification_metrics(y_true, [1, 0, 0, 1, 1], np.column_stack([1 - p1, p1]), [0, 1])
    assert current == expected
    assert current["accuracy"] == pytest.approx(0.6) and current["f1"] == pytest.approx(4 / 6, abs=1e-6)
    label_only = current_classification_metrics(y_true, y_pred, [0, 1], None)
    assert "roc_auc" not in label_only and "log_loss" not in label_only
    assert label_only["accuracy"] == current["accuracy"]
    with pytest.raises(IncompatibleDataError, match="classes the model does not know: 7"):
        current_classification_metrics([7], [1], [0, 1], None)


def test_direction_of_each_metric() -> None:
    thr = DriftThresholds()
    by = {m.name: m for m in compare_metrics({"log_loss": 0.5, "f1": 0.89}, METADATA.metrics, thr)}
    assert not by["log_loss"].higher_is_better and by["log_loss"].decayed  # 0.5 vs 0.4: worse
    assert by["f1"].higher_is_better and not by["f1"].decayed  # within max(0.02, 0.05 * 0.9)


def test_decay_detected_and_not() -> None:
    preds, labels = labelled_log(2000, 0.9)
    res = evaluate_decay(preds, labels.sample(frac=0.5, random_state=1), METADATA)
    assert res.status == "ok" and res.n_labeled == 1000
    assert {m.name for m in res.metrics if m.training is not None} == {
        "accuracy",
        "f1",
        "roc_auc",
        "log_loss",
    }
    preds, labels = labelled_log(2000, 0.7)
    res = evaluate_decay(preds, labels, METADATA)
    assert res.status == "decay" and {"accuracy", "f1"} <= set(res.decayed)


def test_regression_direction() -> None:
    meta = ModelMetadata.model_validate(
        {
            "model_version": "test-1",
            "model_sha256": "0" * 64,
            "metrics": {"rmse": 1.0, "mae": 0.8, "r2": 0.5},
            "feature_schema": {"target": "y", "problem_type": "regression", "features": FEATURES},
        }
    )
    rng = np.random.default_rng(0)
    y = rng.normal(size=500)
    ids = [str(i) for i in range(500)]
    preds = pd.DataFrame({"request_id": ids, "prediction": y + rng.normal(0, 0.5, 500)})
    labels = pd.DataFrame({"request_id": ids, "y": y})
    res = evaluate_decay(preds, labels, meta)  # rmse ~0.5 < 1.0: better, not decay
    assert res.status == "ok"
    by = {m.name: m for m in res.metrics}
    assert not by["rmse"].higher_is_better and by["rmse"].delta < 0
    preds["prediction"] = y + rng.normal(0, 2.0, 500)
    res = evaluate_decay(preds, labels, meta)
    assert {"rmse", "mae"} <= set(res.decayed)


def test_insufficient_labels_and_missing_columns() -> None:
    preds, labels = labelled_log(100, 0.9)
    res = evaluate_decay(preds, labels.iloc[:5], METADATA, DriftThresholds(min_labeled_rows=30))
    assert res.status == "insufficient_data" and res.n_labeled == 5
    with pytest.raises(MissingColumnError, match="target"):
        evaluate_decay(preds, labels.drop(columns=["target"]), METADATA)
