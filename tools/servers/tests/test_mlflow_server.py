"""The kit's tracking server: PostgreSQL keeps the runs and the registry, the bucket keeps the artifacts,
and clients reach the artifacts through the server alone (no bucket credentials on the client)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from servers.mlflow_server import mlflow_server
from servers.postgres import postgres
from servers.seaweedfs import seaweed_s3

pytestmark = pytest.mark.slow
PROJECT_TEMPLATE = Path(__file__).resolve().parents[3] / "{{cookiecutter.project_slug}}"
SERVER_REQUIREMENTS = PROJECT_TEMPLATE / "deploy" / "stack" / "mlflow" / "requirements.txt"
CLIENT = """
import json, mlflow
from mlflow import MlflowClient
mlflow.set_experiment("kit")
with mlflow.start_run() as run:
    mlflow.log_param("alpha", 0.5)
    mlflow.log_metric("rmse", 1.25)
    mlflow.log_dict({"hello": "bucket"}, "notes/hello.json")
client = MlflowClient()
client.create_registered_model("kit-model")
source = f"{run.info.artifact_uri}/notes"
version = client.create_model_version("kit-model", source, run.info.run_id, tags={"git.commit": "abc"})
client.set_registered_model_alias("kit-model", "champion", version.version)
champion = client.get_model_version_by_alias("kit-model", "champion")
print(json.dumps({"run": run.info.run_id, "version": champion.version, "tags": champion.tags,
                  "artifact_uri": run.info.artifact_uri}))
"""


def test_runs_in_postgres_artifacts_in_the_bucket_registry_aliases(tmp_path: Path) -> None:
    with (
        seaweed_s3(tmp_path / "store", buckets=("team-mlflow",)) as store,
        postgres() as database,
        mlflow_server(
            SERVER_REQUIREMENTS, database.url("postgresql+psycopg"), "s3://team-mlflow/artifacts", store.env(),
            tmp_path / "logs",
        ) as server,
    ):  # fmt: skip
        # The client has the tracking URI only: no AWS variables, so artifacts can only go through the server.
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"MLFLOW_TRACKING_URI": server.url, "MLFLOW_DISABLE_TELEMETRY": "true"})
        python = str(server.venv / "bin" / "python")  # the same MLflow as the server
        client = subprocess.run([python, "-c", CLIENT], env=env, capture_output=True, text=True, check=False)
        assert client.returncode == 0, client.stderr[-3000:] + server.log_tail()
        result = json.loads(client.stdout.strip().splitlines()[-1])
        assert result["artifact_uri"].startswith("mlflow-artifacts:/")
        assert (result["version"], result["tags"]) == ("1", {"git.commit": "abc"})
        keys = store.keys("team-mlflow")
        assert any(key.startswith("artifacts/") and key.endswith("/notes/hello.json") for key in keys), keys
        tables = database.query("SELECT name FROM registered_models")
        assert tables == ["kit-model"]
    assert server.process is None and store.process is None
    assert not database.root.exists()
