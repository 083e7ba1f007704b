"""A team's project against real servers on 127.0.0.1: SeaweedFS (S3: DVC remote and MLflow's artifacts),
PostgreSQL and the MLflow server built from the project's own deploy/stack/mlflow/requirements.txt.

One project (dvc_remote=s3, mlflow_tracking=server), installed and run once; the experiment and deploy
workflows run under act with the servers given as a repository's secrets and variables would. Slow.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from actkit.act import ActResult, run_workflow
from actkit.podman import ensure_python_slim, free_port
from tests.helpers import commit, generate, run
from tests.team_stack import (
    DVC_BUCKET,
    MLFLOW_BUCKET,
    TeamStack,
    logged_card,
    metadata,
    registry,
    team_stack,
    tracked_run,
)

pytestmark = pytest.mark.slow
MODEL = "my-mlops-project"  # the registered model: named after the experiment, the project slug
PRODUCTION = "ghcr.io/your-github-org/my-mlops-project"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = generate(
        tmp_path_factory.mktemp("team"),
        {"dvc_remote": "s3", "mlflow_tracking": "server", "dvc_remote_url": f"s3://{DVC_BUCKET}/store"},
    )
    commit(project, "Generated from the template")
    run(project, "make", "install", f"PYTHON={sys.executable}", "EXTRAS=train,serve,dev")
    return project


@pytest.fixture(scope="module")
def stack(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TeamStack]:
    with team_stack(tmp_path_factory.mktemp("servers"), project) as servers:
        yield servers


@pytest.fixture(scope="module")
def trained(project: Path, stack: TeamStack) -> Path:
    """`make pipeline` against the servers, results committed and pushed to the DVC remote, as a developer would."""
    run(project, "make", "pipeline", env=stack.env())
    commit(project, "Pipeline results")
    run(project, ".venv/bin/dvc", "push", "--run-cache", env=stack.env())
    run(project, "git", "update-ref", "refs/remotes/origin/main", "main")  # what checkout gives the PR job
    return project


def workflow_secrets(stack: TeamStack) -> tuple[dict[str, str], dict[str, str]]:
    """The repository's secrets and variables for the team's servers (docs: deploy/stack/README.md)."""
    store = stack.store.env()
    secrets = {
        "MLFLOW_TRACKING_URI": stack.tracking.url,
        "AWS_ACCESS_KEY_ID": store["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": store["AWS_SECRET_ACCESS_KEY"],
    }
    return secrets, {"AWS_ENDPOINT_URL": store["AWS_ENDPOINT_URL"]}


def test_pipeline_run_is_on_the_server_with_its_model_in_the_bucket_and_a_registered_version(
    trained: Path, stack: TeamStack
) -> None:
    recorded = metadata(trained)
    run_id = recorded["mlflow_run_id"]
    tracked = tracked_run(trained, stack, run_id)
    assert tracked["params"]["train.estimator"] == "random_forest"
    assert tracked["metrics"]["test_f1"] == pytest.approx(recorded["metrics"]["f1"])
    assert tracked["artifact_uri"].startswith("mlflow-artifacts:/")  # proxied: clients hold no bucket keys
    objects = stack.store.keys(MLFLOW_BUCKET)
    run_objects = [key for key in objects if f"/{run_id}/" in key]
    assert any(key.endswith("/metadata.json") for key in run_objects), run_objects
    assert any(key.endswith("/MLmodel") for key in objects) and any(key.endswith("/model.skops") for key in objects)

    assert (recorded["registered_model_name"], recorded["registered_model_version"]) == (MODEL, "1")
    model = registry(trained, stack, MODEL)
    version = model["versions"]["1"]
    assert version["run_id"] == run_id
    head = run(trained, "git", "rev-parse", "HEAD~1").stdout.strip()  # trained on the generated commit
    assert version["tags"] == {
        "git.commit": head,
        "git.dirty": "false",
        "dvc.data_md5": hashlib.md5((trained / "data/sample/sample.csv").read_bytes()).hexdigest(),
        "dvc.params_md5": recorded["params_hash"],
        "model_version": recorded["model_version"],
    }
    assert recorded["data_hash"] == version["tags"]["dvc.data_md5"]
    assert model["aliases"] == {}
    assert stack.store.keys(DVC_BUCKET, "store/"), "dvc push wrote the data and model to the remote"


def experiment(project: Path, stack: TeamStack, out: Path) -> ActResult:
    secrets, variables = workflow_secrets(stack)
    payload = {
        "number": 5,
        "pull_request": {
            "number": 5,
            "head": {"ref": "more-trees", "repo": {"full_name": "owner/project"}},
            "base": {"ref": "main", "repo": {"full_name": "owner/project"}},
            "user": {"login": "owner"},
        },
    }
    return run_workflow(
        project, ".github/workflows/experiment.yml", "pull_request", payload, out, secrets=secrets, vars=variables
    )


def test_experiment_workflow_points_challenger_at_the_prs_version(
    trained: Path, stack: TeamStack, tmp_path: Path
) -> None:
    run(trained, "git", "checkout", "--quiet", "-B", "more-trees", "main")
    params = yaml.safe_load((trained / "params.yaml").read_text())
    params["train"]["hyperparameters"]["n_estimators"] = 250
    (trained / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(trained, "make", "pipeline", env=stack.env())  # the author's run: version 2, not pushed
    commit(trained, "More trees")
    branch_head = run(trained, "git", "rev-parse", "HEAD").stdout.strip()

    result = experiment(trained, stack, tmp_path / "act")

    assert result.ok, result.tail(80)
    # pulled from the remote: the unchanged stages do not run again; train does (this commit's model is not there)
    assert "Running stage 'data'" not in result.output and "Running stage 'split'" not in result.output
    assert "Running stage 'train'" in result.output
    model = registry(trained, stack, MODEL)
    challenger = model["aliases"]["challenger"]
    assert challenger not in {"1", "2"}, "the job trained this commit (its outputs were not pushed)"
    assert model["versions"][challenger]["tags"]["git.commit"] == branch_head
    assert f"{MODEL} version {challenger} (" in result.output and ") is @challenger" in result.output
    assert "champion" not in model["aliases"]


def deploy(project: Path, stack: TeamStack, out: Path) -> ActResult:
    secrets, variables = workflow_secrets(stack)
    repository = {
        "full_name": "your-github-org/my-mlops-project",
        "name": "my-mlops-project",
        "owner": {"login": "your-github-org", "type": "User"},
        "default_branch": "main",
        "private": False,
        "visibility": "public",
    }
    return run_workflow(
        project,
        ".github/workflows/deploy.yml",
        "push",
        {"ref": "refs/heads/main", "repository": repository},
        out,
        repository="your-github-org/my-mlops-project",
        secrets=secrets,
        vars={**variables, "SMOKE_TEST_PORT": str(free_port())},
        podman=True,
    )


def test_deploy_gates_against_the_champion_then_moves_it_to_the_shipped_version(
    trained: Path, stack: TeamStack, tmp_path: Path
) -> None:
    ensure_python_slim("3.11")
    run(trained, "git", "checkout", "--quiet", "main")
    run(trained, ".venv/bin/dvc", "checkout", "--quiet", env=stack.env())
    run(trained, ".venv/bin/python", "-m", "my_mlops_project.cli", "registry", "alias", "champion", env=stack.env())
    previous = metadata(trained)  # version 1 is production, as if deployed before
    run(trained, "git", "merge", "--quiet", "--ff-only", "more-trees")
    result = deploy(trained, stack, tmp_path / "act")

    assert result.ok, result.tail(120)
    assert f"production (@champion): {previous['model_version']}" in result.output
    assert f"production: `{previous['model_version']}`" in result.output  # the gate's summary
    assert "promotion allowed: 3 check(s) passed" in result.output  # two bounds + not worse than the champion
    bundle = json.loads((result.out_dir / "artifacts/model-bundle/metadata.json").read_text())  # what shipped
    # no cluster: production is skipped, the release is production (`latest`), and the champion follows it
    assert f"production ({PRODUCTION}:latest) is now {bundle['model_version']}" in result.output
    model = registry(trained, stack, MODEL)
    champion = model["aliases"]["champion"]
    assert champion == bundle["registered_model_version"] != "1"
    shipped = model["versions"][champion]["tags"]
    assert shipped["model_version"] == bundle["model_version"]
    assert shipped["image"] == f"{PRODUCTION}:{bundle['model_version']}"
    released = json.loads((result.out_dir / "artifacts/model-card/model_card.json").read_text())
    assert released["image"] == {"name": PRODUCTION, "digest": result.builds[-1]["digest"]}
    assert logged_card(trained, stack, model["versions"][champion]["run_id"]) == released  # the registry's card
    assert "image" not in model["versions"]["1"]["tags"]


def test_tracking_server_down_fails_train_with_one_message_and_writes_nothing(trained: Path, stack: TeamStack) -> None:
    run(trained, "git", "checkout", "--quiet", "--force", "main")
    params = yaml.safe_load((trained / "params.yaml").read_text())
    params["train"]["hyperparameters"]["n_estimators"] = 30  # train must run again
    (trained / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    models = trained / "models"
    before = {path.name: path.read_bytes() for path in models.iterdir() if path.is_file()}
    stack.tracking.stop()
    try:
        result = run(trained, "make", "pipeline", check=False, env=stack.env())
    finally:
        stack.tracking.start()
        run(trained, "git", "checkout", "--quiet", "--", "params.yaml")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    [message] = [line for line in output.splitlines() if line.startswith("error: ")]
    assert message.startswith(f"error: MLflow tracking server {stack.tracking.url} is not reachable (")
    assert "check that the server runs and is reachable from here, that MLFLOW_TRACKING_URI is its address" in message
    assert "Traceback" not in output and "ERROR: failed to reproduce 'train'" in output
    after = {path.name: path.read_bytes() for path in models.iterdir() if path.is_file()}
    for name in ("model.joblib", "training.json"):  # dvc removed the old ones; nothing new was written
        assert after.get(name) in (None, before.get(name)), f"models/{name} was written by the failed stage"
    assert after.get("metadata.json") == before.get("metadata.json")
