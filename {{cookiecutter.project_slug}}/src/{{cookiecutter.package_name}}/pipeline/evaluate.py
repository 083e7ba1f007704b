"""Stage `evaluate`: test-set metrics and plots, and the model's metadata file for serving and monitoring."""

from __future__ import annotations

import json
from dataclasses import dataclass

import joblib
import mlflow
import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from sklearn.pipeline import Pipeline

from ..config import Params, Paths, load_params
from ..contracts import FeatureSchema, ModelMetadata, TrainingRun, read_training_run, write_json_contract
from .lineage import file_sha256
from .metrics import classification_metrics, regression_metrics
from .plots import classification_plot_data, regression_plot_data, write_plots
from .tracking import METADATA_ARTIFACT, server_errors, start_experiment


@dataclass(frozen=True)
class Evaluation:
    metrics: dict[str, float]
    predictions: np.ndarray
    probabilities: np.ndarray | None


def evaluate_model(pipeline: Pipeline, test: pd.DataFrame, schema: FeatureSchema) -> Evaluation:
    features, y_true = test[schema.names()], test[schema.target]
    predictions = pipeline.predict(features)
    if schema.problem_type == "regression":
        return Evaluation(regression_metrics(y_true, predictions), predictions, None)
    probabilities = pipeline.predict_proba(features)
    metrics = classification_metrics(y_true, predictions, probabilities, list(schema.classes or ()))
    return Evaluation(metrics, predictions, probabilities)


def feature_importance(
    pipeline: Pipeline, test: pd.DataFrame, schema: FeatureSchema, repeats: int, random_state: int
) -> pd.DataFrame:
    """Permutation importance on the test set, per original column (model-agnostic)."""
    names = schema.names()
    result = permutation_importance(
        pipeline, test[names], test[schema.target], n_repeats=repeats, random_state=random_state, n_jobs=1
    )
    table = pd.DataFrame({"feature": names, "importance": result.importances_mean})
    return table.sort_values("importance", ascending=False, ignore_index=True)


def plot_data(
    test: pd.DataFrame, schema: FeatureSchema, evaluation: Evaluation, importance: pd.DataFrame
) -> dict[str, pd.DataFrame]:
    y_true = test[schema.target]
    if schema.problem_type == "regression":
        data = regression_plot_data(y_true, evaluation.predictions)
    else:
        assert evaluation.probabilities is not None
        data = classification_plot_data(
            y_true, evaluation.predictions, evaluation.probabilities, list(schema.classes or ())
        )
    return data | {"feature_importance": importance.round(6)}


def build_metadata(training: TrainingRun, metrics: dict[str, float], paths: Paths) -> ModelMetadata:
    """The model's metadata: one file that the service, the image labels and the promotion gate read."""
    return ModelMetadata(
        **dict(training),
        model_file=paths.model.name,
        model_sha256=file_sha256(paths.model),
        metrics=metrics,
    )


def log_to_run(params: Params, paths: Paths, metadata: ModelMetadata) -> None:
    """Test metrics, plots and the metadata file into the training run (the registry's champion reads it)."""
    if metadata.mlflow_run_id is None:
        return
    uri = start_experiment(params.mlflow, paths.root)
    with server_errors(uri, "recording the evaluation"), mlflow.start_run(run_id=metadata.mlflow_run_id):
        mlflow.log_metrics({f"test_{name}": value for name, value in metadata.metrics.items()})
        mlflow.log_artifacts(str(paths.plots / "images"), artifact_path="plots")
        mlflow.log_dict(metadata.model_dump(mode="json"), METADATA_ARTIFACT)


def main() -> None:
    params = load_params()
    paths = Paths()
    training = read_training_run(paths.training_info)
    schema = training.feature_schema
    pipeline = joblib.load(paths.model)
    test = pd.read_parquet(paths.test)
    evaluation = evaluate_model(pipeline, test, schema)
    importance = feature_importance(
        pipeline, test, schema, params.evaluate.importance_repeats, params.train.random_state
    )
    write_plots(paths.plots, schema.problem_type, plot_data(test, schema, evaluation, importance))
    metadata = build_metadata(training, evaluation.metrics, paths)
    log_to_run(params, paths, metadata)
    paths.metrics.parent.mkdir(parents=True, exist_ok=True)
    paths.metrics.write_text(json.dumps(evaluation.metrics, indent=2) + "\n", encoding="utf-8")
    write_json_contract(paths.metadata, metadata)
    print(json.dumps(evaluation.metrics, indent=2))
