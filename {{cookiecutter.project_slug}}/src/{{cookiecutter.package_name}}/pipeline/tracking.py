"""MLflow set-up: the embedded local store by default, a server when params.yaml says so."""

from __future__ import annotations

import os
from pathlib import Path

import mlflow

from ..config import MlflowParams
from ..errors import UserError

LOCAL_STORE = "mlflow.db"
LOCAL_ARTIFACTS = "mlartifacts"


class TrackingError(UserError):
    """MLflow tracking is configured for a server that is not given."""


def tracking_uri(params: MlflowParams, root: Path = Path()) -> str:
    if params.tracking == "server":
        uri = os.environ.get("MLFLOW_TRACKING_URI", "")
        if not uri:
            raise TrackingError(
                "mlflow.tracking is 'server' in params.yaml: set MLFLOW_TRACKING_URI "
                "(e.g. https://mlflow.example.com), or set mlflow.tracking to 'local'"
            )
        return uri
    return f"sqlite:///{(root / LOCAL_STORE).resolve()}"


def start_experiment(params: MlflowParams, root: Path = Path()) -> str:
    """Point MLflow at the configured store and experiment; returns the tracking URI."""
    uri = tracking_uri(params, root)
    mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(params.experiment_name) is None:
        artifacts = None
        if params.tracking == "local":
            artifacts = (root / LOCAL_ARTIFACTS).resolve().as_uri()
        mlflow.create_experiment(params.experiment_name, artifact_location=artifacts)
    mlflow.set_experiment(params.experiment_name)
    return uri
