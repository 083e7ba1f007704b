from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.inspection import permutation_importance

from {{ cookiecutter.package_name }}.estimators import make_estimator
from {{ cookiecutter.package_name }}.metric_rules import higher_is_better
from {{ cookiecutter.package_name }}.pipeline import evaluate
from {{ cookiecutter.package_name }}.pipeline.features import infer_feature_schema
from {{ cookiecutter.package_name }}.pipeline.metrics import classification_metrics, regression_metrics
from {{ cookiecutter.package_name }}.pipeline.train import train_pipeline
from {{ cookiecutter.package_name }}.pipeline.validate import validate_table

from helpers import make_frame
from pipeline_params import data_params


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


@pytest.mark.parametrize("problem_type", ["classification", "regression"])
@pytest.mark.parametrize("batch_rows", [evaluate.PERMUTATION_BATCH_ROWS, 500])
def test_feature_importance_is_scikit_learns_permutation_importance(
    problem_type: str, batch_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same numbers as sklearn.inspection.permutation_importance (same seed), in one batch or several."""
    typed = validate_table(make_frame(problem_type), data_params(), problem_type)
    schema = infer_feature_schema(typed, "target", problem_type)
    estimator = make_estimator(problem_type, "random_forest", {"n_estimators": 10}, 0)
    pipeline = train_pipeline(typed, schema, estimator)
    monkeypatch.setattr(evaluate, "PERMUTATION_BATCH_ROWS", batch_rows)
    table = evaluate.feature_importance(pipeline, typed, schema, repeats=3, random_state=7)
    reference = permutation_importance(
        pipeline, typed[schema.names()], typed["target"], n_repeats=3, random_state=7, n_jobs=1
    )
    expected = dict(zip(schema.names(), reference.importances_mean, strict=True))
    assert list(table["importance"]) == sorted(table["importance"], reverse=True)
    assert dict(zip(table["feature"], table["importance"], strict=True)) == pytest.approx(expected, abs=1e-12)
    assert any(value != 0 for value in expected.values())
