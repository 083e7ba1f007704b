"""Stage `evaluate`: test-set metrics and plots, and the model's metadata file for serving and monitoring."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import joblib
import mlflow
import numpy as np
import pandas as pd
from sklearn.base import is_classifier
from sklearn.metrics import accuracy_score, r2_score
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


# Rows per predict call when scoring permuted copies of the test set (bounds the memory of one batch).
PERMUTATION_BATCH_ROWS = 200_000


def permuted_copies(features: pd.DataFrame, repeats: int, random_state: int) -> Iterator[pd.DataFrame]:
    """The test set with one column shuffled, per column and repeat: the permutations of scikit-learn's
    permutation_importance (the same seed for every column, each repeat shuffling the previous one)."""
    seed = np.random.RandomState(random_state).randint(np.iinfo(np.int32).max + 1)
    for column in features.columns:
        generator = np.random.RandomState(seed)
        order = np.arange(len(features))
        permuted = features.copy()
        for _ in range(repeats):
            generator.shuffle(order)
            permuted[column] = permuted[column].to_numpy()[order]
            yield permuted.copy()


def feature_importance(
    pipeline: Pipeline, test: pd.DataFrame, schema: FeatureSchema, repeats: int, random_state: int
) -> pd.DataFrame:
    """Permutation importance on the test set, per original column (model-agnostic).

    The numbers of scikit-learn's permutation_importance with the estimator's own score, from one predict
    call per batch of permuted copies instead of one per column and repeat (a forest pays its per-call cost
    once, not 150 times)."""
    features, y_true = test[schema.names()], test[schema.target].to_numpy()
    score = accuracy_score if is_classifier(pipeline) else r2_score
    copies = [features, *permuted_copies(features, repeats, random_state)]
    per_batch = max(1, PERMUTATION_BATCH_ROWS // max(1, len(features)))
    starts = range(0, len(copies), per_batch)
    batches = [pd.concat(copies[start : start + per_batch], ignore_index=True) for start in starts]
    predictions = np.concatenate([pipeline.predict(batch) for batch in batches])
    scores = [score(y_true, block) for block in np.split(predictions, len(copies))]
    permuted = np.asarray(scores[1:]).reshape(len(features.columns), repeats)
    table = pd.DataFrame({"feature": schema.names(), "importance": scores[0] - permuted.mean(axis=1)})
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
