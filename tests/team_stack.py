"""The team's stack on 127.0.0.1 for the template's tests: SeaweedFS (S3), PostgreSQL and an MLflow server whose
virtualenv is built from the generated project's deploy/stack/mlflow/requirements.txt.

Test modules import this module (never each other); the servers come from tools/servers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servers.mlflow_server import MlflowServer, mlflow_server
from servers.postgres import Postgres, postgres
from servers.seaweedfs import SeaweedS3, seaweed_s3
from tests.helpers import in_project_python

DVC_BUCKET = "team-dvc"
MLFLOW_BUCKET = "team-mlflow"
SERVER_REQUIREMENTS = Path("deploy/stack/mlflow/requirements.txt")


@dataclass(frozen=True)
class TeamStack:
    store: SeaweedS3
    database: Postgres
    tracking: MlflowServer

    def env(self) -> dict[str, str]:
        """What a developer (or a workflow, from its secrets and variables) sets: the server and the DVC store."""
        return {"MLFLOW_TRACKING_URI": self.tracking.url, **self.store.env()}


@contextmanager
def team_stack(root: Path, project: Path) -> Iterator[TeamStack]:
    """The three servers, with the DVC and MLflow buckets; each stopped on exit, also when a test failed."""
    with (
        seaweed_s3(root / "store", buckets=(DVC_BUCKET, MLFLOW_BUCKET)) as store,
        postgres() as database,
        mlflow_server(
            project / SERVER_REQUIREMENTS,
            database.url("postgresql+psycopg"),
            f"s3://{MLFLOW_BUCKET}/artifacts",
            store.env(),
            root / "logs",
        ) as tracking,
    ):
        yield TeamStack(store, database, tracking)


REGISTRY_QUERY = """
import json
from mlflow import MlflowClient
client = MlflowClient()
name = {name!r}
model = client.get_registered_model(name)
versions = {{v.version: {{"run_id": v.run_id, "tags": v.tags}}
            for v in client.search_model_versions(f"name = '{{name}}'")}}
print(json.dumps({{"aliases": model.aliases, "versions": versions}}))
"""

RUN_QUERY = """
import json
from mlflow import MlflowClient
run = MlflowClient().get_run({run_id!r})
print(json.dumps({{"params": run.data.params, "metrics": run.data.metrics, "tags": run.data.tags,
                  "artifact_uri": run.info.artifact_uri}}))
"""


def registry(project: Path, stack: TeamStack, name: str) -> dict[str, Any]:
    """The registered model's aliases ({alias: version}) and versions ({version: run_id, tags}), read by the
    project's own MLflow client from the server."""
    return in_project_python(project, REGISTRY_QUERY.format(name=name), env=stack.env())


def tracked_run(project: Path, stack: TeamStack, run_id: str) -> dict[str, Any]:
    return in_project_python(project, RUN_QUERY.format(run_id=run_id), env=stack.env())


CARD_QUERY = """
import json
import mlflow
print(json.dumps(mlflow.artifacts.load_dict({uri!r})))
"""


def logged_card(project: Path, stack: TeamStack, run_id: str) -> dict[str, Any]:
    """The model card the deploy workflow logged into a run (`registry alias champion --card`)."""
    uri = f"runs:/{run_id}/model_card/model_card.json"
    return in_project_python(project, CARD_QUERY.format(uri=uri), env=stack.env())


def metadata(project: Path) -> dict[str, Any]:
    return json.loads((project / "models" / "metadata.json").read_text())
