"""Evaluation metrics per problem type (their names and directions: metric_rules.py)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import metrics as skm


def classification_metrics(
    y_true: Any, y_pred: Any, proba: np.ndarray, classes: list[Any]
) -> dict[str, float]:
    binary = len(classes) == 2
    average = "binary" if binary else "macro"
    positive = classes[1] if binary else 1
    result = {
        "accuracy": skm.accuracy_score(y_true, y_pred),
        "balanced_accuracy": skm.balanced_accuracy_score(y_true, y_pred),
        "precision": skm.precision_score(
            y_true, y_pred, average=average, pos_label=positive, zero_division=0
        ),
        "recall": skm.recall_score(y_true, y_pred, average=average, pos_label=positive, zero_division=0),
        "f1": skm.f1_score(y_true, y_pred, average=average, pos_label=positive, zero_division=0),
        "log_loss": skm.log_loss(y_true, proba, labels=classes),
    }
    if len(np.unique(y_true)) == len(classes):
        scores = proba[:, 1] if binary else proba
        result["roc_auc"] = skm.roc_auc_score(y_true, scores, multi_class="ovr", labels=classes)
    return {name: round(float(value), 6) for name, value in result.items()}


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    result = {
        "rmse": skm.root_mean_squared_error(y_true, y_pred),
        "mae": skm.mean_absolute_error(y_true, y_pred),
        "r2": skm.r2_score(y_true, y_pred),
    }
    return {name: round(float(value), 6) for name, value in result.items()}
