"""experiment.yml with an S3 DVC remote under act, against a real S3-compatible store (SeaweedFS on 127.0.0.1):
the job signs in with OIDC (the stand-in maps AWS_ROLE_ARN to the store's identity), pulls the run-cache that a
trusted main pushed, re-trains nothing a PR did not change, and pushes only from a trusted run. Slow."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from actkit.act import AWS_ROLES_ENV, ActResult, run_workflow
from servers.seaweedfs import ACCESS_KEY, REGION, SECRET_KEY, SeaweedS3, seaweed_s3
from tests.helpers import commit, generate, project_env, run

pytestmark = pytest.mark.slow
EXPERIMENT = ".github/workflows/experiment.yml"
BUCKET = "dvc-store"
ROLE = "arn:aws:iam::123456789012:role/dvc-remote"
RAN_TRAIN = "Running stage 'train'"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    with seaweed_s3(tmp_path_factory.mktemp("seaweed"), buckets=(BUCKET,)) as running:
        yield running


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory, store: SeaweedS3) -> Path:
    """An s3 project on `main`: pipeline run, results committed, data, models and run-cache pushed (trusted)."""
    project = generate(tmp_path_factory.mktemp("remote"), {"dvc_remote": "s3", "dvc_remote_url": f"s3://{BUCKET}/p"})
    commit(project, "Generated from the template")
    run(project, "make", "install", f"PYTHON={sys.executable}", "EXTRAS=train")
    run(project, "make", "pipeline")
    commit(project, "Pipeline results")
    pushed = subprocess.run(
        [".venv/bin/dvc", "push", "--run-cache"],
        cwd=project,
        env=project_env(project) | store.env(),
        capture_output=True,
        text=True,
    )
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert any(key.startswith("p/runs/") for key in store.keys(BUCKET))  # the run-cache is in the bucket
    run(project, "git", "update-ref", "refs/remotes/origin/main", "main")
    return project


def pr_payload(branch: str, number: int, head_repo: str) -> dict[str, Any]:
    return {
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"ref": branch, "repo": {"full_name": head_repo}},
            "base": {"ref": "main", "repo": {"full_name": "owner/project"}},
            "user": {"login": head_repo.split("/")[0]},
        },
    }


def pull_request(
    project: Path, store: SeaweedS3, branch: str, out: Path, number: int, head_repo: str = "owner/project"
) -> tuple[ActResult, float]:
    run(project, "git", "checkout", "--quiet", branch)
    started = time.monotonic()
    result = run_workflow(
        project,
        EXPERIMENT,
        "pull_request",
        pr_payload(branch, number, head_repo),
        out,
        state_dir=out.parent / "github",
        vars={"AWS_ROLE_ARN": ROLE, "AWS_REGION": REGION, "AWS_ENDPOINT_URL": store.endpoint_url},
        env={AWS_ROLES_ENV: json.dumps({ROLE: {"access_key_id": ACCESS_KEY, "secret_access_key": SECRET_KEY}})},
    )
    return result, time.monotonic() - started


def branch(project: Path, name: str, change: str) -> None:
    run(project, "git", "checkout", "--quiet", "-B", name, "main")
    if change == "readme":
        with (project / "README.md").open("a") as readme:
            readme.write("\nA line that no stage depends on.\n")
    else:
        params = yaml.safe_load((project / "params.yaml").read_text())
        params["train"]["hyperparameters"]["n_estimators"] = 50
        (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        run(project, "make", "pipeline")  # dvc.lock committed as the PR policy asks; nothing pushed from here
    commit(project, f"PR {name}")


def test_pr_runs_restore_unchanged_stages_and_push_only_when_trusted(
    repo: Path, store: SeaweedS3, tmp_path: Path
) -> None:
    branch(repo, "readme-only", "readme")
    unchanged, unchanged_seconds = pull_request(repo, store, "readme-only", tmp_path / "readme", 11)
    assert unchanged.ok, unchanged.tail()
    [signed_in] = unchanged.records["configure-aws-credentials"][:1]
    assert (signed_in["role"], signed_in["oidc"]) == (ROLE, True)
    assert RAN_TRAIN not in unchanged.output and "Running stage" not in unchanged.output
    assert "Stage 'train' didn't change, skipping" in unchanged.output
    [comment] = unchanged.comments
    assert comment["target"] == "pr/11" and "✅ **Gate passed**" in comment["body"]

    branch(repo, "fewer-trees", "params")
    before = set(store.keys(BUCKET))
    changed, changed_seconds = pull_request(repo, store, "fewer-trees", tmp_path / "params", 12)
    assert changed.ok, changed.tail()
    assert RAN_TRAIN in changed.output
    for stage in ("data", "validate", "split"):
        assert f"Stage '{stage}' didn't change, skipping" in changed.output
    pushed = set(store.keys(BUCKET)) - before
    assert any(key.startswith("p/runs/") for key in pushed), pushed  # the new run-cache entry, for the next run

    # The same change from a fork: no OIDC token, no secrets; every stage runs from the repository, nothing is pushed.
    after = set(store.keys(BUCKET))
    fork, fork_seconds = pull_request(repo, store, "fewer-trees", tmp_path / "fork", 13, head_repo="mallory/project")
    assert fork.ok, fork.tail()
    assert "configure-aws-credentials" not in fork.records
    assert "::notice title=DVC remote::this run gets no credentials" in fork.output
    assert "Running stage 'data'" in fork.output and RAN_TRAIN in fork.output
    assert "dvc push" not in "".join(line for line in fork.output.splitlines() if "⭐ Run Main" in line)
    assert set(store.keys(BUCKET)) == after
    print(
        f"\nPR run times (act, s3 remote on SeaweedFS): re-trains nothing {unchanged_seconds:.0f} s, "
        f"re-trains train+evaluate {changed_seconds:.0f} s, fork (everything, no pull/push) {fork_seconds:.0f} s"
    )
