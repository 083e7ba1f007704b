"""Fast checks of the team's stack (deploy/stack/) and of the registry steps the workflows run per configuration.

No image can be pulled here, so the stack is not started: the compose file is checked against the Compose
specification's schema (check-jsonschema's vendored compose-spec), and the MLflow server's requirements file
is what the real-server tests (test_team_stack.py) install and run.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import generate, tool

VARIABLE = re.compile(r"\$\{(?P<name>[A-Z_][A-Z0-9_]*)(?P<rest>[^}]*)\}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("stack")) / "deploy" / "stack"


def test_compose_file_follows_the_compose_specification(stack: Path) -> None:
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(stack / "compose.yaml")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_mlflow_server_on_postgres_with_artifacts_in_the_object_store(stack: Path) -> None:
    services = yaml.safe_load((stack / "compose.yaml").read_text())["services"]
    assert {"postgres", "mlflow", "objectstore"} <= set(services)
    options = dict(argument.split("=", 1) for argument in services["mlflow"]["command"] if "=" in argument)
    assert options["--backend-store-uri"].startswith("postgresql+psycopg://mlflow:${POSTGRES_PASSWORD}@postgres:")
    assert options["--artifacts-destination"].startswith("s3://")
    assert services["mlflow"]["environment"]["AWS_ENDPOINT_URL"] == "http://objectstore:8333"
    assert services["mlflow"]["build"] == "./mlflow" and (stack / "mlflow" / "Dockerfile").is_file()
    assert services["mlflow"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_every_variable_the_compose_file_reads_is_in_the_example_env(stack: Path) -> None:
    used = {match["name"] for match in VARIABLE.finditer((stack / "compose.yaml").read_text())}
    lines = (stack / ".env.example").read_text().splitlines()
    example = {line.split("=", 1)[0] for line in lines if line and not line.startswith("#")}
    assert used <= example, used - example
    assert used == {
        "POSTGRES_PASSWORD", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY", "MLFLOW_BUCKET", "DVC_BUCKET",
        "MLFLOW_ALLOWED_HOSTS", "MLFLOW_PORT", "S3_PORT",
    }  # fmt: skip


def test_server_requirements_are_pinned_to_the_projects_mlflow(stack: Path) -> None:
    project = stack.parents[1]
    lines = [line for line in (stack / "mlflow" / "requirements.txt").read_text().splitlines() if line[:1].isalpha()]
    pins = dict(line.split("==", 1) for line in lines)
    assert set(pins) == {"mlflow", "psycopg[binary]", "boto3"}, lines
    locked = re.search(r"^mlflow==(\S+)$", (project / "requirements-lock.txt").read_text(), re.MULTILINE)
    assert locked and pins["mlflow"] == locked[1]


def test_server_dockerfile_is_hadolint_clean(stack: Path) -> None:
    result = subprocess.run(
        [tool("hadolint"), "--failure-threshold", "info", "Dockerfile"],
        cwd=stack / "mlflow",
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def steps(workflow: Path, job: str) -> dict[str, dict[str, str]]:
    document = yaml.safe_load(workflow.read_text())
    return {step.get("name", step.get("uses", "")): step for step in document["jobs"][job]["steps"]}


@pytest.mark.parametrize("tracking", ["local", "server"])
def test_registry_steps_follow_the_tracking_choice(tmp_path: Path, tracking: str) -> None:
    project = generate(tmp_path, {"mlflow_tracking": tracking, "package_name": "team_model"})
    workflows = project / ".github" / "workflows"
    experiment = steps(workflows / "experiment.yml", "experiment")
    gate = steps(workflows / "deploy.yml", "gate")
    challenger = "Point @challenger at this PR's model version (MLflow registry)"
    from_registry = (
        "Read the production model's metadata (the MLflow registry's @champion; none yet = first deployment)"
    )
    from_image = "Read the production model's metadata (the image tagged latest)"
    deploy_jobs = yaml.safe_load((workflows / "deploy.yml").read_text())["jobs"]
    if tracking == "local":
        assert challenger not in experiment and from_registry not in gate and "register" not in deploy_jobs
        assert 'docker pull "${IMAGE}:latest"' in gate[from_image]["run"]
        return
    assert experiment[challenger] == {
        "name": challenger,
        "if": "env.TRUSTED == 'true'",  # forks and Dependabot get no server secrets
        "run": ".venv/bin/python -m team_model.cli registry alias challenger",
    }
    names = list(experiment)
    assert names.index("Reproduce the pipeline") < names.index(challenger) < names.index("Regression gate")
    assert from_image not in gate
    read = gate[from_registry]["run"]
    assert ".venv/bin/python -m team_model.cli registry champion-metadata --out production-metadata.json" in read
    assert "docker" not in read  # production is what the registry names, not the image
    register = deploy_jobs["register"]
    assert register["needs"] == ["gate", "card", "production-tag"]  # its card recorded, and `latest` moved
    assert (
        steps(workflows / "deploy.yml", "register")[
            "Point @champion at the shipped model version (the registry names production)"
        ]["run"]
        == '.venv/bin/python -m team_model.cli registry alias champion --image "${IMAGE}:${MODEL_VERSION}" '
        "--card models/model_card.json"
    )
    card = steps(workflows / "deploy.yml", "register")[
        "The release's model card (with the image digest), logged into the champion's run"
    ]
    assert card["with"] == {"name": "model-card", "path": "models"}
