"""Stage `train`: fit the preprocessing + estimator pipeline and record the run in MLflow."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import packages_distributions, version
from typing import Any

import joblib
import mlflow
import pandas as pd
from mlflow.models import infer_signature
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from skops.io import dumps as skops_dumps
from skops.io import get_untrusted_types

from ..config import Params, Paths, load_params
from ..contracts import FeatureSchema, TrainingRun, write_json_contract
from ..estimators import make_estimator
from .features import build_preprocessor, infer_feature_schema
from .lineage import file_md5, git_commit, git_dirty
from .tracking import server_errors, start_experiment


def train_pipeline(train: pd.DataFrame, schema: FeatureSchema, estimator: BaseEstimator) -> Pipeline:
    pipeline = Pipeline([("preprocess", build_preprocessor(schema)), ("model", estimator)])
    pipeline.fit(train[schema.names()], train[schema.target])
    return pipeline


def lineage(params: Params, paths: Paths, trained_at: datetime) -> dict[str, Any]:
    commit = git_commit(paths.root)
    return {
        "model_version": f"{trained_at:%Y%m%d.%H%M%S}-{commit[:8]}",
        "git_commit": commit,
        "git_dirty": git_dirty(paths.root),
        "data_hash": file_md5(paths.root / params.data.path),
        "params_hash": file_md5(paths.params),
        "trained_at": trained_at.isoformat(timespec="seconds"),
    }


def lineage_tags(info: dict[str, Any]) -> dict[str, str]:
    """The model's lineage as MLflow tags: on the run and on its registered model version alike."""
    return {
        "git.commit": info["git_commit"],
        "git.dirty": str(info["git_dirty"]).lower(),
        "dvc.data_md5": info["data_hash"],
        "dvc.params_md5": info["params_hash"],
        "model_version": info["model_version"],
    }


def mlflow_params(params: Params) -> dict[str, Any]:
    return {
        "problem_type": params.problem_type,
        "data.path": params.data.path,
        "split.test_size": params.split.test_size,
        "train.estimator": params.train.estimator,
        "train.random_state": params.train.random_state,
        **{f"train.hyperparameters.{k}": v for k, v in params.train.hyperparameters.items()},
    }


def model_requirements(pipeline: Pipeline) -> list[str]:
    """The pinned distributions the logged model loads with: MLflow's defaults for a skops-saved scikit-learn
    model, the distributions of every step's class, and the array and table libraries the model works on.

    Read from this environment; MLflow's own inference re-loads the model in a child process to see what it
    imports, which took 20 of the first pipeline's 60 s."""
    steps = [value for value in pipeline.get_params(deep=True).values() if isinstance(value, BaseEstimator)]
    installed = packages_distributions()
    modules = {type(step).__module__.split(".")[0] for step in [pipeline, *steps]}
    distributions = {name for module in modules for name in installed.get(module, [])}
    pinned = {f"{name}=={version(name)}" for name in distributions | {"numpy", "pandas", "scipy"}}
    return sorted(pinned | set(mlflow.sklearn.get_default_pip_requirements(include_skops=True)))


def log_run(
    pipeline: Pipeline,
    train: pd.DataFrame,
    schema: FeatureSchema,
    params: Params,
    info: dict[str, Any],
    paths: Paths,
) -> tuple[str, str]:
    """One MLflow run with params, the model (signature + input example) and lineage tags.

    Returns the run id and its experiment id.
    """
    features = train[schema.names()]
    example = features.head(5)
    with mlflow.start_run(run_name=info["model_version"]) as run:
        mlflow.log_params(mlflow_params(params))
        mlflow.set_tags({**lineage_tags(info), "problem_type": params.problem_type})
        mlflow.log_dict(schema.model_dump(mode="json"), "feature_schema.json")
        mlflow.sklearn.log_model(
            pipeline,
            name="model",
            signature=infer_signature(example, pipeline.predict(example)),
            input_example=example,
            pip_requirements=model_requirements(pipeline),
            # MLflow saves with skops, which loads only trusted types; this model was trained just now.
            skops_trusted_types=get_untrusted_types(data=skops_dumps(pipeline)),
        )
        return run.info.run_id, run.info.experiment_id


def register_version(run_id: str, model_name: str, info: dict[str, Any]) -> str:
    """A new version of the registered model tagged with its lineage; returns its number."""
    version = mlflow.register_model(f"runs:/{run_id}/model", model_name, tags=lineage_tags(info))
    return str(version.version)


def main() -> None:
    params = load_params()
    paths = Paths()
    uri = start_experiment(params.mlflow, paths.root)  # a server that is down fails here, before any work
    train = pd.read_parquet(paths.train)
    schema = infer_feature_schema(train, params.data.target, params.problem_type)
    estimator = make_estimator(
        params.problem_type, params.train.estimator, params.train.hyperparameters, params.train.random_state
    )
    pipeline = train_pipeline(train, schema, estimator)
    info = lineage(params, paths, datetime.now(UTC))
    with server_errors(uri, "recording the training run"):
        run_id, experiment_id = log_run(pipeline, train, schema, params, info, paths)
        if params.mlflow.tracking == "server":  # the team's registry; the local store keeps runs only
            info |= {
                "registered_model_name": params.mlflow.experiment_name,
                "registered_model_version": register_version(run_id, params.mlflow.experiment_name, info),
            }
    # The outputs are written last: a failure above leaves none of them (dvc repro removed the old ones).
    run = TrainingRun(**info, mlflow_run_id=run_id, mlflow_experiment_id=experiment_id, feature_schema=schema)
    paths.model.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, paths.model)
    write_json_contract(paths.training_info, run)
    print(f"trained {params.train.estimator} on {len(train)} rows; MLflow run {run_id}")
