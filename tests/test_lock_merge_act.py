"""dvc.lock merges that resolve themselves: two branches that both changed params and re-trained merge without a
conflict (the driver `make merge-drivers` registers), `make check-lock` names what must re-run and `make pipeline`
regenerates the lock; lock-refresh.yml under act merges the base into such a PR branch, reproduces and pushes the
result to the branch, and does nothing for a fork's PR. Slow: one installed project, pipelines and one act run.

The project's `origin` is a bare repository on this machine: act copies the project's .git into the job's
workspace (it skips actions/checkout of the repository under test), so the workflow's `git push origin` lands
there, and what it pushed is read back from it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from actkit.act import run_workflow, seed_state
from tests.helpers import commit, generate, git, run

pytestmark = pytest.mark.slow
WORKFLOW = ".github/workflows/lock-refresh.yml"
PAT = {"RETRAIN_TOKEN": "github_pat_actkitfake"}
# Two train params one line apart in params.yaml, so git merges params.yaml itself (adjacent lines conflict).
TREES, SEED = "    n_estimators: 200\n", "  random_state: 42\n\nevaluate:"


def set_hyperparameter(project: Path, old: str, new: str) -> None:
    params = project / "params.yaml"
    text = params.read_text()
    assert old in text, f"params.yaml has no line {old!r}"
    params.write_text(text.replace(old, new, 1))


def retrain_on_branch(project: Path, branch: str, old: str, new: str) -> None:
    run(project, "git", "checkout", "--quiet", "-B", branch, "main")
    set_hyperparameter(project, old, new)
    run(project, "make", "pipeline")
    commit(project, f"Experiment {branch}")


def train_params(lock_text: str) -> tuple[int, int]:
    """n_estimators and random_state as dvc.lock's train stage recorded them."""
    params = yaml.safe_load(lock_text)["stages"]["train"]["params"]["params.yaml"]
    return params["train.hyperparameters"]["n_estimators"], params["train.random_state"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """main with its pipeline results; `fewer-trees` (n_estimators 50) and `new-seed` (train.random_state 7)
    each re-trained from it; all pushed to a bare `origin`."""
    root = tmp_path_factory.mktemp("lock-merge")
    project = generate(root)
    commit(project, "Generated from the template")
    params = (project / "params.yaml").read_text()
    assert f"{TREES}    min_samples_leaf: 1\n{SEED}" in params
    run(project, "make", "install", f"PYTHON={sys.executable}", "EXTRAS=train")
    run(project, "make", "pipeline")
    commit(project, "Pipeline results")
    retrain_on_branch(project, "fewer-trees", TREES, "    n_estimators: 50\n")
    retrain_on_branch(project, "new-seed", SEED, "  random_state: 7\n\nevaluate:")
    origin = root / "origin.git"
    git(root, "init", "--quiet", "--bare", str(origin))
    run(project, "git", "remote", "add", "origin", str(origin))
    run(project, "git", "push", "--quiet", "origin", "main", "fewer-trees", "new-seed")
    run(project, "make", "merge-drivers")  # the part of `make setup` that registers them (hooks need the network)
    return project


def test_both_branches_retrained_merge_without_conflict_and_the_pipeline_regenerates_the_lock(repo: Path) -> None:
    run(repo, "git", "checkout", "--quiet", "-B", "merged", "fewer-trees")
    merge = run(repo, "git", "merge", "--no-edit", "new-seed", check=False)
    assert merge.returncode == 0, merge.stdout + merge.stderr
    assert "merge-lock: dvc.lock merged; left out, to re-run: train, evaluate, card, profile" in merge.stderr
    assert run(repo, "git", "status", "--porcelain").stdout == ""
    assert "<<<<<<<" not in (repo / "dvc.lock").read_text()

    stale = run(repo, "make", "check-lock", check=False)
    print(f"\nmake check-lock after the merge:\n{stale.stderr}")
    assert stale.returncode != 0
    left_out = "not in dvc.lock (never run, or changed on both sides of a merge): it must re-run"
    assert [line for line in stale.stderr.splitlines() if line.startswith("  ")] == [
        f"  {stage}: {left_out}" for stage in ("train", "evaluate", "card", "profile")
    ]

    run(repo, "make", "pipeline")
    run(repo, "make", "check-lock")
    assert train_params((repo / "dvc.lock").read_text()) == (50, 7)
    metrics = (repo / "metrics" / "metrics.json").read_text()
    sides = {git(repo, "show", f"{side}:metrics/metrics.json") for side in ("fewer-trees", "new-seed")}
    assert metrics not in sides
    run(repo, "git", "checkout", "--quiet", "--force", "main")


def pr_event(head_repo: str) -> dict[str, Any]:
    return {
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": {"ref": "fewer-trees", "repo": {"full_name": head_repo}},
            "base": {"ref": "main", "repo": {"full_name": "owner/project"}},
            "user": {"login": "owner"},
        },
    }


def test_lock_refresh_pushes_the_regenerated_lock_to_a_same_repository_pr_and_skips_forks(
    repo: Path, tmp_path: Path
) -> None:
    """new-seed was merged into main; PR 7 (fewer-trees) now conflicts in dvc.lock with its base."""
    run(repo, "git", "push", "--quiet", "origin", "new-seed:main")
    run(repo, "git", "fetch", "--quiet", "origin")
    run(repo, "git", "checkout", "--quiet", "--force", "fewer-trees")
    before = git(repo, "rev-parse", "refs/remotes/origin/fewer-trees").strip()
    origin = Path(git(repo, "remote", "get-url", "origin").strip())
    state = tmp_path / "github"
    seed_state(state, branches=["main", "fewer-trees"])

    fork = run_workflow(repo, WORKFLOW, "pull_request", pr_event("fork/project"), tmp_path / "fork", state_dir=state)
    assert fork.returncode == 0, fork.tail()
    assert "Does the lock need a refresh?" not in fork.output
    assert git(origin, "rev-parse", "refs/heads/fewer-trees").strip() == before

    result = run_workflow(
        repo, WORKFLOW, "pull_request", pr_event("owner/project"), tmp_path / "same", state_dir=state, secrets=PAT
    )
    assert result.returncode == 0, result.tail()
    pushed = git(origin, "rev-parse", "refs/heads/fewer-trees").strip()
    assert pushed != before
    files = sorted(git(origin, "show", "--name-only", "--format=", pushed).split())
    record = {
        "commit": git(origin, "log", "-1", "--format=%s%n%n%b", pushed).strip(),
        "parents": git(origin, "log", "-1", "--format=%P", pushed).split(),
        "files": files,
    }
    (tmp_path / "pushed.json").write_text(json.dumps(record, indent=2))
    print(f"\npushed to fewer-trees: {json.dumps(record)}")
    assert record["commit"] == "Refresh dvc.lock, metrics and plots after merging main\n\nLock-Refresh: pipeline"
    [merge] = record["parents"]
    main = git(origin, "rev-parse", "refs/heads/main").strip()
    assert git(origin, "log", "-1", "--format=%P", merge).split() == [before, main]
    assert "dvc.lock" in files and "metrics/metrics.json" in files
    assert any(name.startswith("plots/") and name.endswith(".csv") for name in files)
    lock = git(origin, "show", f"{pushed}:dvc.lock")
    assert train_params(lock) == (50, 7)
    assert set(yaml.safe_load(lock)["stages"]) >= {"data", "validate", "split", "train", "evaluate", "card", "profile"}


def test_a_lock_pushed_to_main_starts_a_refresh_for_each_same_repository_pr(repo: Path, tmp_path: Path) -> None:
    run(repo, "git", "checkout", "--quiet", "--force", "main")
    state = tmp_path / "github"
    prs = [
        {"number": 7, "title": "Fewer trees", "head": "fewer-trees", "base": "main"},
        {"number": 8, "title": "A fork's", "head": "new-seed", "base": "main", "head_repo": "fork/project"},
    ]
    seed_state(state, prs=prs, branches=["main", "fewer-trees", "new-seed"])
    result = run_workflow(repo, WORKFLOW, "push", {"ref": "refs/heads/main"}, tmp_path / "push", state_dir=state)
    assert result.returncode == 0, result.tail()
    assert result.github["dispatches"] == [
        {"workflow": "lock-refresh.yml", "ref": "fewer-trees", "inputs": {"base": "main"}, "token": "github_token"}
    ]
