"""The registry's aliases and the tracking server's errors, on MLflow's embedded store (no server needed).

The same calls against a real MLflow server on PostgreSQL are run by the template's team-stack tests.
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from {{ cookiecutter.package_name }}.config import MlflowParams
from {{ cookiecutter.package_name }}.contracts import ModelMetadata, write_json_contract
from {{ cookiecutter.package_name }}.gates.registry import (
    CHALLENGER,
    CHAMPION,
    RegistryError,
    champion_metadata,
    log_model_card,
    set_alias,
)
from {{ cookiecutter.package_name }}.pipeline.features import infer_feature_schema
from {{ cookiecutter.package_name }}.pipeline.tracking import METADATA_ARTIFACT, TrackingError, start_experiment

import serve_bundles

MODEL = "team-model"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_server_that_does_not_answer_fails_at_once_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
    with pytest.raises(TrackingError) as error:
        start_experiment(MlflowParams(tracking="server", experiment_name="team"))
    message = str(error.value)
    assert message.startswith(f"MLflow tracking server {url} is not reachable (URLError: ")
    assert "that MLFLOW_TRACKING_URI is its address" in message and "\n" not in message


def model_metadata(frame: pd.DataFrame, problem_type: str, run_id: str, version: str | None) -> ModelMetadata:
    return ModelMetadata(
        model_version=f"20260101.000000-{run_id[:8]}",
        mlflow_run_id=run_id,
        registered_model_name=MODEL if version else None,
        registered_model_version=version,
        model_sha256="a" * 64,
        metrics={"score": 0.5},
        feature_schema=infer_feature_schema(frame, "target", problem_type),
    )


def registered_run(frame: pd.DataFrame, problem_type: str, client: MlflowClient) -> ModelMetadata:
    """A run with its metadata.json logged (as `evaluate` does) and a registered version (as `train`)."""
    with mlflow.start_run() as run:
        mlflow.log_text("model", "model/placeholder.txt")
    version = client.create_model_version(MODEL, f"{run.info.artifact_uri}/model", run.info.run_id).version
    metadata = model_metadata(frame, problem_type, run.info.run_id, str(version))
    with mlflow.start_run(run_id=run.info.run_id):
        mlflow.log_dict(metadata.model_dump(mode="json"), METADATA_ARTIFACT)
    return metadata


def test_aliases_name_the_challenger_and_the_champion_whose_metadata_the_gate_reads(
    project: Path, frame: pd.DataFrame, problem_type: str
) -> None:
    start_experiment(MlflowParams(tracking="local", experiment_name="team"), project)
    client = MlflowClient()
    client.create_registered_model(MODEL)
    assert champion_metadata(client, MODEL) is None  # no champion yet: first deployment
    assert champion_metadata(client, "no-such-model") is None
    first, second = (registered_run(frame, problem_type, client) for _ in range(2))

    assert set_alias(client, first, Path("m.json"), CHAMPION, {"image": "ghcr.io/o/p:v1"}) == (MODEL, "1")
    assert set_alias(client, second, Path("m.json"), CHALLENGER, {}) == (MODEL, "2")

    assert champion_metadata(client, MODEL) == first
    assert str(client.get_model_version_by_alias(MODEL, CHALLENGER).version) == "2"
    assert client.get_model_version(MODEL, "1").tags == {"image": "ghcr.io/o/p:v1"}


def test_the_release_card_is_logged_into_the_champions_run(
    project: Path, frame: pd.DataFrame, problem_type: str
) -> None:
    start_experiment(MlflowParams(tracking="local", experiment_name="team"), project)
    client = MlflowClient()
    client.create_registered_model(MODEL)
    shipped = registered_run(frame, problem_type, client)
    models = project / "models"
    models.mkdir()
    write_json_contract(models / "metadata.json", shipped)
    (models / "model.joblib").write_bytes(b"model")
    serve_bundles.add_model_card(models)
    card_json = models / "model_card.json"

    log_model_card(client, shipped, card_json)

    run_id = shipped.mlflow_run_id
    logged = mlflow.artifacts.load_dict(f"runs:/{run_id}/model_card/model_card.json")
    assert logged == json.loads(card_json.read_text())
    markdown = mlflow.artifacts.load_text(f"runs:/{run_id}/model_card/model_card.md")
    assert markdown == (models / "model_card.md").read_text()
    other = shipped.model_copy(update={"model_version": "another-model"})
    expected = r"model_card\.json is the card of model .*; the metadata names another-model"
    with pytest.raises(RegistryError, match=expected):
        log_model_card(client, other, card_json)


def test_a_model_trained_without_the_server_has_no_version_to_alias(
    project: Path, frame: pd.DataFrame, problem_type: str
) -> None:
    unregistered = model_metadata(frame, problem_type, "0123456789abcdef", None)
    expected = r"^models/metadata.json names no registered model version: .*run `make pipeline`"
    with pytest.raises(RegistryError, match=expected):
        set_alias(MlflowClient(), unregistered, Path("models/metadata.json"), CHALLENGER, {})
