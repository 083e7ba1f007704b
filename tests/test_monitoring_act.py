"""The production watch end to end under act: monitor.yml on schedule and on demand (one drift issue, kept
up to date, none for a clean batch) and retrain.yml (one pull request on retrain/auto, loop guard, the token
it needs), also on a project whose DVC remote is a local folder (which CI does not have).
Slow: generated projects with their pipeline run and committed, then the real jobs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from actkit.act import ActResult, run_workflow, seed_state
from tests.helpers import commit, generate, run

pytestmark = pytest.mark.slow
MONITOR = ".github/workflows/monitor.yml"
RETRAIN = ".github/workflows/retrain.yml"
# A third of the 30 features: the data set drifts at the template's share_threshold (0.3).
SHIFTED = ["mean radius", "mean texture", "mean perimeter", "mean area", "mean smoothness", "mean compactness"]
SHIFTED += ["mean concavity", "mean concave points", "mean symmetry", "mean fractal dimension"]


# RETRAIN_TOKEN: a fine-grained token, i.e. not the run's GITHUB_TOKEN (the PR it opens starts workflows).
PAT = {"RETRAIN_TOKEN": "github_pat_actkitfake"}


def trained(project: Path) -> Path:
    """The project trained on its own table (data/table.csv, tracked in git) and monitoring the CSV
    files in data/current, with dvc.lock, metrics and plots committed."""
    commit(project, "Generated from the template")
    run(project, "make", "install", f"PYTHON={sys.executable}", "EXTRAS=train")
    run(project, ".venv/bin/python", "-m", "my_mlops_project.cli", "data")
    (project / "data" / "sample" / "sample.csv").replace(project / "data" / "table.csv")
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["data"]["path"] = "data/table.csv"
    params["monitor"]["current"] = {"kind": "files", "path": "data/current", "glob": "*.csv", "window_days": None}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(project, "make", "pipeline")
    assert (project / "models" / "reference_profile.npz").is_file()
    commit(project, "Pipeline results on data/table.csv")
    return project


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return trained(generate(tmp_path_factory.mktemp("monitoring")))


@pytest.fixture(scope="module")
def local_remote_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dvc_remote=local: the remote is a folder beside the project on a developer machine; CI has none."""
    return trained(generate(tmp_path_factory.mktemp("monitoring-local"), {"dvc_remote": "local"}))


@pytest.fixture(scope="module")
def state(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The fake GitHub repository and the actions/cache store, shared by the runs in order."""
    return tmp_path_factory.mktemp("github")


def write_batch(project: Path, *, drifted: bool, seed: int) -> pd.DataFrame:
    """A current batch from the project's own data, shifted on a few columns when drifted (not committed:
    the workspace act copies includes untracked files)."""
    table = pd.read_csv(project / "data" / "table.csv")
    batch = table.sample(n=250, replace=True, random_state=seed).reset_index(drop=True)
    if drifted:
        rng = np.random.default_rng(seed)
        for column in SHIFTED:
            batch[column] = batch[column] * 1.6 + batch[column].std() * rng.normal(0.5, 0.1, len(batch))
    (project / "data" / "current").mkdir(exist_ok=True)
    batch.drop(columns="target").to_csv(project / "data" / "current" / "batch.csv", index=False)
    return batch


def monitor(project: Path, state: Path, out: Path, event: str, **inputs: str) -> ActResult:
    return run_workflow(project, MONITOR, event, {}, out, state_dir=state, inputs=inputs or None)


def drift_issues(result: ActResult) -> list[dict]:
    return [issue for issue in result.issues if "model-drift" in issue["labels"]]


def test_clean_batch_passes_and_opens_no_issue(repo: Path, state: Path, tmp_path: Path) -> None:
    write_batch(repo, drifted=False, seed=1)
    result = monitor(repo, state, tmp_path / "clean", "workflow_dispatch")
    assert result.ok, result.tail()
    assert "monitor: ok" in result.output
    assert {"report.html", "summary.json", "summary.md"} <= set(result.artifacts["monitoring-report"])
    assert result.issues == []
    assert not any(call["argv"][:2] == ["workflow", "run"] for call in result.records.get("gh-calls", []))


def test_drift_opens_one_issue_then_updates_it(repo: Path, state: Path, tmp_path: Path) -> None:
    write_batch(repo, drifted=True, seed=2)
    first = monitor(repo, state, tmp_path / "schedule", "schedule")
    [issue] = drift_issues(first)
    assert issue["state"] == "open" and issue["title"] == "Model drift detected by the monitor"
    assert "Status: ALERT" in issue["body"] and "| mean radius |" in issue["body"]
    assert "report.html" in first.artifacts["monitoring-report"]
    # A scheduled alert starts retrain.yml (a workflow_dispatch event, recorded by the gh stand-in).
    assert first.ok, first.tail()
    dispatch = [c["argv"] for c in first.records["gh-calls"] if c["argv"][:2] == ["workflow", "run"]]
    reason = "reason=monitor found drift or decay"
    assert dispatch == [["workflow", "run", "retrain.yml", "--ref", "main", "-f", reason]]
    # The event GitHub records: retrain.yml on the branch the monitor ran on, started with GITHUB_TOKEN.
    [event] = first.github["dispatches"]
    assert event == {
        "workflow": "retrain.yml",
        "ref": "main",
        "inputs": {"reason": "monitor found drift or decay"},
        "token": "github_token",
    }

    write_batch(repo, drifted=True, seed=3)
    second = monitor(repo, state, tmp_path / "dispatch", "workflow_dispatch", retrain="false")
    assert second.ok, second.tail()
    [updated] = drift_issues(second)
    assert updated["number"] == issue["number"] and updated["edits"] == 1
    assert len(updated["comments"]) == 1 and updated["comments"][0]["body"].startswith("Still drifting: ")
    assert not any(c["argv"][:2] == ["workflow", "run"] for c in second.records["gh-calls"])


def test_retrain_opens_one_pull_request(repo: Path, state: Path, tmp_path: Path) -> None:
    labelled = write_batch(repo, drifted=True, seed=4)
    (repo / "data" / "incoming").mkdir(exist_ok=True)
    labelled.to_csv(repo / "data" / "incoming" / "labelled.csv", index=False)
    refresh = "tail -n +2 data/incoming/labelled.csv >> data/table.csv"
    result = run_workflow(
        repo,
        RETRAIN,
        "workflow_dispatch",
        {},
        tmp_path / "retrain",
        state_dir=state,
        vars={"RETRAIN_DATA_COMMAND": refresh},
        inputs={"reason": "monitor found drift or decay"},
        secrets=PAT,
    )
    assert result.ok, result.tail()
    [pr] = [p for p in result.prs if p.get("head") == "retrain/auto"]
    assert pr["state"] == "open" and pr["labels"] == ["retraining"]
    assert pr["token"] == "other" and pr["triggers_workflows"] is True  # its checks run
    assert {"dvc.lock", "metrics/metrics.json", "data/table.csv"} <= set(pr["files"])
    assert not any(path.startswith(("models/", "data/processed")) for path in pr["files"])
    assert "Automatic retraining: monitor found drift or decay." in pr["body"]


def test_an_open_retraining_pr_blocks_a_second_run(repo: Path, tmp_path: Path) -> None:
    github = tmp_path / "github"
    ours = {"number": 12, "title": "Retrain the model", "head": "retrain/auto", "base": "main"}
    seed_state(github, prs=[{**ours, "labels": ["retraining"]}], labels=["retraining"])
    result = run_workflow(repo, RETRAIN, "workflow_dispatch", {}, tmp_path / "guarded", state_dir=github, secrets=PAT)
    assert result.ok, result.tail()
    assert "a retraining pull request (branch retrain/auto) is still open" in result.output
    assert [p["number"] for p in result.prs] == [12]
    assert "create-pull-request" not in result.records and "make install" not in result.output


def test_a_fork_pr_from_a_branch_named_retrain_auto_does_not_block(repo: Path, tmp_path: Path) -> None:
    """`gh pr list --head retrain/auto` also lists a fork's PR from a branch of that name: the guard must not
    count it (only the guard job runs: whether retraining would start is its output)."""
    github = tmp_path / "github"
    fork = {"number": 13, "title": "Please merge", "head": "retrain/auto", "base": "main"}
    seed_state(github, prs=[{**fork, "labels": ["retraining"], "head_repo": "stranger/project"}], labels=["retraining"])
    result = run_workflow(repo, RETRAIN, "workflow_dispatch", {}, tmp_path / "fork", state_dir=github, job="guard")
    assert result.ok, result.tail()
    assert "| open retraining pull requests: 0" in result.output  # the step's own output line


def test_retrain_without_a_token_fails_before_the_pipeline(repo: Path, tmp_path: Path) -> None:
    result = run_workflow(repo, RETRAIN, "workflow_dispatch", {}, tmp_path / "no-token", state_dir=tmp_path / "gh")
    assert result.returncode != 0
    [line] = [x for x in result.output.splitlines() if "::error title=Retraining token::" in x]
    for name in ("RETRAIN_TOKEN", "RETRAIN_APP_CLIENT_ID", "RETRAIN_APP_PRIVATE_KEY"):
        assert name in line
    assert "Allow GitHub Actions to create and approve pull requests" in line
    assert "make install" not in result.output and result.prs == []


def test_monitor_that_cannot_run_annotates_the_whole_reason(repo: Path, tmp_path: Path) -> None:
    result = run_workflow(
        repo,
        MONITOR,
        "workflow_dispatch",
        {},
        tmp_path / "broken",
        state_dir=tmp_path / "gh",
        inputs={"current": "data/nowhere/*.csv", "retrain": "false"},
    )
    assert result.returncode != 0
    [line] = [x for x in result.output.splitlines() if "::error title=Monitor::" in x]
    # every line of the reason is in the one annotation (escaped newlines), not only the first
    assert "The monitor could not run (exit 2):%0A" in line and "nowhere" in line
    assert result.issues == []


def keepalive(project: Path, out: Path) -> ActResult:
    return run_workflow(project, MONITOR, "schedule", {}, out, job="schedule-keepalive")


def test_schedule_keepalive_warns_when_the_default_branch_is_quiet(tmp_path: Path) -> None:
    project = generate(tmp_path / "quiet")
    commit(project, "Generated from the template")
    fresh = keepalive(project, tmp_path / "fresh")
    assert fresh.ok, fresh.tail()
    assert "last commit on the default branch: 0 days ago" in fresh.output and "::warning" not in fresh.output

    old = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(time.time() - 55 * 86400))
    env = {**os.environ, "GIT_COMMITTER_DATE": old, "GIT_AUTHOR_DATE": old}
    amend = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "--amend", "--no-edit"]
    subprocess.run(amend, cwd=project, env=env, check=True)
    quiet = keepalive(project, tmp_path / "quiet-run")
    assert quiet.ok, quiet.tail()
    [warning] = [x for x in quiet.output.splitlines() if "::warning title=Scheduled monitor::" in x]
    assert "no commit for 55 days" in warning and "gh workflow enable monitor.yml" in warning


def test_local_remote_monitor_and_retrain_never_touch_it(local_remote_repo: Path, tmp_path: Path) -> None:
    """dvc_remote=local: the folder is on a developer machine. The monitor reproduces the model instead of
    pulling it, retraining pushes nothing; a job writing beside its workspace would fail the run (the kit)."""
    labelled = write_batch(local_remote_repo, drifted=False, seed=5)
    (local_remote_repo / "data" / "incoming").mkdir(exist_ok=True)
    labelled.to_csv(local_remote_repo / "data" / "incoming" / "labelled.csv", index=False)
    github = tmp_path / "github"
    monitored = monitor(local_remote_repo, github, tmp_path / "monitor", "workflow_dispatch")
    assert monitored.ok, monitored.tail()
    assert "monitor: ok" in monitored.output and "dvc pull" not in monitored.output

    app = {"vars": {"RETRAIN_APP_CLIENT_ID": "Iv1.retrain"}, "secrets": {"RETRAIN_APP_PRIVATE_KEY": "fake-key"}}
    refresh = "tail -n +2 data/incoming/labelled.csv >> data/table.csv"
    retrained = run_workflow(
        local_remote_repo,
        RETRAIN,
        "workflow_dispatch",
        {},
        tmp_path / "retrain",
        state_dir=github,
        vars={**app["vars"], "RETRAIN_DATA_COMMAND": refresh},
        secrets=app["secrets"],
    )
    assert retrained.ok, retrained.tail()
    assert "Push data, models and the run-cache" not in retrained.output  # DVC's own hints say `dvc push`
    assert "Pull data, models and the run-cache" not in retrained.output
    assert "outside-writes" not in retrained.records
    assert [t["client-id"] for t in retrained.records["app-tokens"]] == ["Iv1.retrain"]
    [pr] = [p for p in retrained.prs if p.get("head") == "retrain/auto"]
    assert pr["token"] == "other" and pr["triggers_workflows"] is True


def test_the_alert_waits_for_two_of_the_last_three_scheduled_runs(repo: Path, tmp_path: Path) -> None:
    """monitor.alert 2 of 3: drift, clean, drift -> no alert, no alert, alert; the window lives in the Actions
    cache (a new key per run, restored by its branch prefix) and the issue shows its history."""
    params_file = repo / "params.yaml"
    shipped = params_file.read_text()
    params = yaml.safe_load(shipped)
    params["monitor"]["alert"] = {"mode": "enforce", "window": 3, "min_alerts": 2}
    params_file.write_text(yaml.safe_dump(params, sort_keys=False))
    github = tmp_path / "github"
    results = []
    try:
        for number, drifted in enumerate([True, False, True], start=101):
            write_batch(repo, drifted=drifted, seed=number)
            out = tmp_path / f"run-{number}"
            results.append(
                run_workflow(repo, MONITOR, "schedule", {}, out, state_dir=github, env={"GITHUB_RUN_ID": str(number)})
            )
    finally:
        params_file.write_text(shipped)
    for result in results:
        assert result.ok, result.tail()
    first, second, third = results
    for quiet in (first, second):
        assert drift_issues(quiet) == [] and "Drift alert (enforce): passed: " in quiet.output
        assert not any(c["argv"][:2] == ["workflow", "run"] for c in quiet.records.get("gh-calls", []))
    [issue] = drift_issues(third)
    history = issue["body"].split("### Alert window")[1]
    assert "2 of the last 3 run(s) drifted or decayed (alert at 2 of 3)" in history
    links = [line.split(" | ")[1:] for line in history.splitlines() if "/actions/runs/" in line]
    assert links == [
        ["[run](https://github.com/owner/project/actions/runs/103)", "🔴 drift |"],
        ["[run](https://github.com/owner/project/actions/runs/102)", "🟢 ok |"],
        ["[run](https://github.com/owner/project/actions/runs/101)", "🔴 drift |"],
    ]
    assert [c["argv"][:3] for c in third.records["gh-calls"] if c["argv"][:2] == ["workflow", "run"]] == [
        ["workflow", "run", "retrain.yml"]
    ]
