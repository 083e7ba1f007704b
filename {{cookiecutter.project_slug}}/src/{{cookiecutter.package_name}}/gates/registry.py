"""Register the deployed model in the MLflow model registry and point the `champion` alias at it.

Run by deploy.yml after the image was pushed, when MLflow tracking uses a server (mlflow.tracking: server).
The registered model is named after the MLflow experiment; the version is made from the training run recorded
in models/metadata.json and tagged with the model version and the image it ships in.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import mlflow
from mlflow import MlflowClient

from ..config import Paths, load_params
from ..contracts import ModelMetadata, read_metadata
from ..errors import UserError
from ..pipeline.tracking import start_experiment

CHAMPION = "champion"


def register_champion(metadata: ModelMetadata, model_name: str, image: str) -> str:
    """Register the run's model, tag it, move the champion alias to it; returns the registry version."""
    run_id = metadata.mlflow_run_id
    if not run_id:
        raise UserError("models/metadata.json has no mlflow_run_id: the model was not logged to MLflow")
    version = mlflow.register_model(
        f"runs:/{run_id}/model",
        model_name,
        tags={
            "model_version": metadata.model_version,
            "image": image,
            "git_commit": metadata.git_commit,
        },
    )
    MlflowClient().set_registered_model_alias(model_name, CHAMPION, version.version)
    return str(version.version)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="register", description=__doc__.splitlines()[0])
    parser.add_argument("--metadata", type=Path, default=Paths().metadata, help="default: %(default)s")
    parser.add_argument("--image", required=True, help="the image reference that serves this model")
    args = parser.parse_args(argv)
    params = load_params()
    start_experiment(params.mlflow)
    metadata = read_metadata(args.metadata)
    version = register_champion(metadata, params.mlflow.experiment_name, args.image)
    print(f"registered {params.mlflow.experiment_name} version {version} as @{CHAMPION}")
