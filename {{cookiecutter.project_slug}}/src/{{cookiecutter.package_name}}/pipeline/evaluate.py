"""Stage `evaluate`: test-set metrics and plots, and the model's metadata file for serving and monitoring."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import joblib
import mlflow
import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline

from ..config import Params, Paths, load_params
from .features import feature_names
from .lineage import file_sha256
from .metrics import classification_metrics, regression_metrics
from .plots import classification_plot_data, regression_plot_data, write_plots
from .tracking import start_experiment


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, float]
    predictions: np.ndarray
    probabilities: np.ndarray | None


def evaluate_model(pipeline: Pipeline, test: pd.DataFrame, schema: dict[str, Any]) -> Evaluation:
    features, y_true = test[feature_names(schema)], test[schema["target"]]
    predictions = pipeline.predict(features)
    if schema["problem_type"] == "regression":
        return Evaluation(regression_metrics(y_true, predictions), predictions, None)
    probabilities = pipeline.predict_proba(features)
    metrics = classification_metrics(y_true, predictions, probabilities, schema["classes"])
    return Evaluation(metrics, predictions, probabilities)


def feature_importance(
    pipeline: Pipeline, test: pd.DataFrame, schema: dict[str, Any], repeats: int, random_state: int
) -> pd.DataFrame:
    """Permutation importance on the test set, per original column (model-agnostic)."""
    names = feature_names(schema)
    result = permutation_importance(
        pipeline, test[names], test[schema["target"]], n_repeats=repeats, random_state=random_state, n_jobs=1
    )
    table = pd.DataFrame({"feature": names, "importance": result.importances_mean})
    return table.sort_values("importance", ascending=False, ignore_index=True)


def plot_data(
    test: pd.DataFrame, schema: dict[str, Any], evaluation: Evaluation, importance: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    y_true = test[schema["target"]]
    if schema["problem_type"] == "regression":
        data = regression_plot_data(y_true, evaluation.predictions)
    else:
        assert evaluation.probabilities is not None
        data = classification_plot_data(
            y_true, evaluation.predictions, evaluation.probabilities, schema["classes"]
        )
    return data | {"feature_importance": importance.round(6)}


def build_metadata(training: dict[str, Any], metrics: dict[str, float], paths: Paths) -> dict[str, Any]:
    """The model's metadata: one file that the service, the image labels and the promotion gate read."""
    metadata = {key: value for key, value in training.items() if key != "feature_schema"}
    metadata.update(
        {
            "model_file": paths.model.name,
            "model_sha256": file_sha256(paths.model),
            "metrics": metrics,
            "feature_schema": training["feature_schema"],
        }
    )
    return metadata


def log_to_run(params: Params, paths: Paths, run_id: str | None, metrics: dict[str, float]) -> None:
    if run_id is None:
        return
    start_experiment(params.mlflow, paths.root)
    with mlflow.start_run(run_id=run_id):
        mlflow.log_metrics({f"test_{name}": value for name, value in metrics.items()})
        mlflow.log_artifacts(str(paths.plots / "images"), artifact_path="plots")


def main() -> None:
    params = load_params()
    paths = Paths()
    training = json.loads(paths.training_info.read_text(encoding="utf-8"))
    schema = training["feature_schema"]
    pipeline = joblib.load(paths.model)
    test = pd.read_parquet(paths.test)
    evaluation = evaluate_model(pipeline, test, schema)
    importance = feature_importance(
        pipeline, test, schema, params.evaluate.importance_repeats, params.train.random_state
    )
    write_plots(paths.plots, schema["problem_type"], plot_data(test, schema, evaluation, importance))
    paths.metrics.parent.mkdir(parents=True, exist_ok=True)
    paths.metrics.write_text(json.dumps(evaluation.metrics, indent=2) + "\n", encoding="utf-8")
    metadata = build_metadata(training, evaluation.metrics, paths)
    paths.metadata.write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")
    log_to_run(params, paths, training.get("mlflow_run_id"), evaluation.metrics)
    print(json.dumps(evaluation.metrics, indent=2))
