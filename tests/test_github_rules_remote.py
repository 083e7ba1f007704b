"""The workflows against GitHub's rules for cloud sign-in, the run-cache and where training runs: which jobs
sign in to the DVC remote (OIDC first, static secrets as the fallback), who may push, which runner trains.
Static, every configuration; tests/test_remote_act.py runs the s3 case under act."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.action_pins import PINS
from tests.github_expressions import evaluate
from tests.helpers import generate

CLOUD = ("s3", "gs", "azure")
REMOTE_AUTH = "./.github/actions/remote-auth"
TRAINING_JOBS = {("experiment", "experiment"), ("deploy", "gate"), ("retrain", "retrain")}
# The agreed repository variables (OIDC) and secrets (fallback) each remote's sign-in takes.
AUTH_INPUTS = {
    "s3": {
        "role-arn": "${{ vars.AWS_ROLE_ARN }}",
        "region": "${{ vars.AWS_REGION }}",
        "endpoint-url": "${{ vars.AWS_ENDPOINT_URL }}",
        "access-key-id": "${{ secrets.AWS_ACCESS_KEY_ID }}",
        "secret-access-key": "${{ secrets.AWS_SECRET_ACCESS_KEY }}",
    },
    "gs": {
        "workload-identity-provider": "${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}",
        "service-account": "${{ vars.GCP_SERVICE_ACCOUNT }}",
        "credentials-json": "${{ secrets.GCP_SA_KEY }}",
    },
    "azure": {
        "client-id": "${{ vars.AZURE_CLIENT_ID }}",
        "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
        "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
        "connection-string": "${{ secrets.AZURE_STORAGE_CONNECTION_STRING }}",
    },
}
OIDC_ACTION = {
    "s3": "aws-actions/configure-aws-credentials",
    "gs": "google-github-actions/auth",
    "azure": "azure/login",
}


@pytest.fixture
def generated(tmp_path: Path, configuration: tuple[str, dict[str, str]]) -> tuple[str, Path]:
    answers = configuration[1]
    return answers.get("dvc_remote", "none"), generate(tmp_path, answers)


def workflows(project: Path) -> dict[str, dict[str, Any]]:
    return {path.stem: yaml.safe_load(path.read_text()) for path in (project / ".github/workflows").glob("*.yml")}


def remote_jobs(project: Path) -> list[tuple[str, str, dict[str, Any]]]:
    """Jobs that pull from or push to the DVC remote."""
    return [
        (workflow, name, job)
        for workflow, document in workflows(project).items()
        for name, job in document["jobs"].items()
        if any("dvc pull" in step.get("run", "") or "dvc push" in step.get("run", "") for step in job.get("steps", []))
    ]


def github(event_name: str, ref_name: str = "main", head_repo: str = "owner/project", actor: str = "alice") -> dict:
    event: dict[str, Any] = {"repository": {"default_branch": "main"}}
    if event_name == "pull_request":
        event["pull_request"] = {"user": {"login": actor}, "head": {"repo": {"full_name": head_repo}}}
    return {
        "event_name": event_name,
        "ref_name": ref_name,
        "actor": actor,
        "repository": "owner/project",
        "event": event,
    }


def as_env(value: Any) -> Any:
    """An expression's value as an environment variable holds it: booleans become 'true' / 'false'."""
    return str(value).lower() if isinstance(value, bool) else value


def is_push(step: dict[str, Any]) -> bool:
    return step.get("run", "").startswith(".venv/bin/dvc push")


def step_runs(job: dict[str, Any], step: dict[str, Any], context: dict[str, Any]) -> bool:
    """Whether GitHub runs the step in this context: its `if` with the job's env (TRUSTED) evaluated first."""
    env = {
        name: as_env(evaluate(value, context)) if "${{" in str(value) else value for name, value in job["env"].items()
    }
    condition = step.get("if")
    return True if condition is None else bool(evaluate(condition, {**context, "env": env}))


def test_training_jobs_take_their_runner_from_a_repository_variable(generated: tuple[str, Path]) -> None:
    _, project = generated
    users = set()
    for workflow, document in workflows(project).items():
        for name, job in document["jobs"].items():
            runner = job["runs-on"]
            if "TRAINING_RUNNER" in runner:
                users.add((workflow, name))
                assert evaluate(runner, {"vars": {}}) == "ubuntu-latest"
                assert evaluate(runner, {"vars": {"TRAINING_RUNNER": "gpu-pool"}}) == "gpu-pool"
                # the cost guards: a bounded job, and one run per PR / deployment / retraining at a time
                assert isinstance(job["timeout-minutes"], int) and job["timeout-minutes"] <= 90, (workflow, name)
                assert document["concurrency"]["group"], workflow
            else:
                assert runner == "ubuntu-latest", (workflow, name)
    assert users == TRAINING_JOBS


def test_jobs_that_reach_the_remote_sign_in_before_each_pull_and_push(generated: tuple[str, Path]) -> None:
    remote, project = generated
    jobs = remote_jobs(project)
    if remote not in CLOUD:
        assert not (project / ".github/actions/remote-auth").exists()
        assert all(step.get("uses") != REMOTE_AUTH for _, _, job in jobs for step in job["steps"])
        for workflow, document in workflows(project).items():
            for name, job in document["jobs"].items():
                assert "id-token" not in job["permissions"] or (workflow, name) == ("deploy", "release")
        return
    assert {(workflow, name) for workflow, name, _ in jobs} == {
        ("experiment", "experiment"),
        ("deploy", "gate"),
        ("monitor", "monitor"),
        ("retrain", "retrain"),
        ("score", "score"),
        ("lock-refresh", "refresh"),
    }
    for workflow, name, job in jobs:
        assert job["permissions"]["id-token"] == "write", (workflow, name)
        assert not {"AWS_ACCESS_KEY_ID", "AZURE_STORAGE_CONNECTION_STRING"} & set(job["env"])  # would shadow OIDC
        signed_in = False
        for step in job["steps"]:
            if step.get("uses") == REMOTE_AUTH:
                assert step["with"] == AUTH_INPUTS[remote], (workflow, name)
                signed_in = True
            elif "dvc pull" in step.get("run", "") or "dvc push" in step.get("run", ""):
                assert signed_in, f"{workflow}:{name} reaches the remote before signing in: {step['run']}"
            elif "make pipeline" in step.get("run", ""):
                signed_in = False  # a push after training signs in again: tokens last about an hour


def test_oidc_when_its_variables_are_set_else_the_secrets(generated: tuple[str, Path]) -> None:
    remote, project = generated
    if remote not in CLOUD:
        return
    action = yaml.safe_load((project / ".github/actions/remote-auth/action.yml").read_text())
    [oidc] = [step for step in action["runs"]["steps"] if "uses" in step]
    first_input = next(iter(AUTH_INPUTS[remote]))
    assert oidc["uses"] == f"{OIDC_ACTION[remote]}@{PINS[OIDC_ACTION[remote]][0]}"
    assert oidc["if"] == f"inputs.{first_input} != ''"
    [fallback] = [
        step for step in action["runs"]["steps"] if "::error title=DVC remote credentials::" in step.get("run", "")
    ]
    assert fallback["if"] == f"inputs.{first_input} == ''"
    for name in AUTH_INPUTS[remote].values():
        variable = name.removeprefix("${{ ").removesuffix(" }}").split(".")[1]
        assert variable in fallback["run"] or variable == "AWS_REGION" or variable == "AWS_ENDPOINT_URL", variable
    if remote == "gs":
        assert 'key="$RUNNER_TEMP/gcp-key.json"' in fallback["run"]
        ignored = (project / ".gitignore").read_text().splitlines()
        assert "gha-creds-*.json" in ignored  # google-github-actions/auth writes its file into the workspace


TRUSTED = [
    ("experiment", github("pull_request")),  # a same-repository PR: its author can push to the repository
    ("experiment", github("workflow_dispatch", "feature")),
    ("deploy", github("push")),
    ("deploy", github("workflow_dispatch")),
    ("retrain", github("workflow_dispatch")),
]
UNTRUSTED = [
    ("experiment", github("pull_request", head_repo="mallory/project", actor="mallory")),  # a fork
    ("experiment", github("pull_request", actor="dependabot[bot]")),
    ("deploy", github("workflow_dispatch", "feature")),
    ("retrain", github("workflow_dispatch", "feature")),
]


@pytest.mark.parametrize(("workflow", "context"), TRUSTED + UNTRUSTED)
def test_pushes_come_only_from_trusted_runs(
    generated: tuple[str, Path], workflow: str, context: dict[str, Any]
) -> None:
    remote, project = generated
    if remote not in CLOUD:
        return
    [(job, pushes)] = [
        (job, [step for step in job["steps"] if is_push(step)])
        for name, job in workflows(project)[workflow]["jobs"].items()
        if (workflow, name) in TRAINING_JOBS
    ]
    assert pushes
    expected = (workflow, context) in TRUSTED
    for step in pushes:
        assert step_runs(job, step, {"github": context, "vars": {}}) is expected, (step["name"], context)
    if workflow == "experiment":  # an untrusted PR neither signs in nor pulls: GitHub gives it no token for it
        reaching = [s for s in job["steps"] if s.get("uses") == REMOTE_AUTH or "dvc pull" in s.get("run", "")]
        assert reaching and {step_runs(job, s, {"github": context, "vars": {}}) for s in reaching} == {expected}


def test_docs_say_how_to_sign_in_and_where_training_runs(generated: tuple[str, Path]) -> None:
    remote, project = generated
    docs = (project / "docs/workflows.md").read_text()
    assert "runs-on: ${{ vars.TRAINING_RUNNER || 'ubuntu-latest' }}" in docs
    for topic in ("Actions Runner Controller", "GPU pool", "timeout-minutes", "concurrency", "Larger GitHub-hosted"):
        assert topic in docs, topic
    names = [
        value.removeprefix("${{ ").removesuffix(" }}").split(".")[1] for value in AUTH_INPUTS.get(remote, {}).values()
    ]
    assert all(name in docs for name in names), names
    assert ("dvc pull --run-cache" in docs) == (remote in CLOUD)
