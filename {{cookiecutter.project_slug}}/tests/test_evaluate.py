from __future__ import annotations

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.metric_rules import higher_is_better
from {{ cookiecutter.package_name }}.pipeline.metrics import classification_metrics, regression_metrics


def test_classification_metrics_binary_and_multiclass() -> None:
    truth = pd.Series([0, 0, 1, 1])
    proba = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8], [0.3, 0.7]])
    result = classification_metrics(truth, proba.argmax(axis=1), proba, [0, 1])
    assert result["accuracy"] == 0.75
    assert result["roc_auc"] == 1.0
    assert round(result["f1"], 4) == 0.8
    multi = np.array([[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.2, 0.7]])
    assert classification_metrics(pd.Series([0, 1, 2]), [0, 1, 2], multi, [0, 1, 2])["f1"] == 1.0


def test_regression_metrics_and_directions() -> None:
    result = regression_metrics([1.0, 2.0, 3.0], np.array([1.0, 2.0, 5.0]))
    assert result == {"rmse": round((4 / 3) ** 0.5, 6), "mae": round(2 / 3, 6), "r2": -1.0}
    assert not higher_is_better("rmse") and higher_is_better("r2") and higher_is_better("roc_auc")
