"""The production watch end to end under act: monitor.yml on schedule and on demand (one drift issue, kept
up to date, none for a clean batch) and retrain.yml (one pull request on retrain/auto, loop guard).
Slow: one generated project with its pipeline run and committed, then the real jobs."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.conftest import generate
from tests.kit.act import ActResult, run_workflow, seed_state
from tests.test_generated_project import commit, run

pytestmark = pytest.mark.slow
MONITOR = ".github/workflows/monitor.yml"
RETRAIN = ".github/workflows/retrain.yml"
# A third of the 30 features: the data set drifts at the template's share_threshold (0.3).
SHIFTED = ["mean radius", "mean texture", "mean perimeter", "mean area", "mean smoothness", "mean compactness"]
SHIFTED += ["mean concavity", "mean concave points", "mean symmetry", "mean fractal dimension"]


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default project trained on its own table (data/table.csv, tracked in git) and monitoring the CSV
    files in data/current, with dvc.lock, metrics and plots committed."""
    project = generate(tmp_path_factory.mktemp("monitoring"))
    commit(project, "Generated from the template")
    run(project, "make", "install", f"PYTHON={sys.executable}", "EXTRAS=train")
    run(project, ".venv/bin/python", "-m", "my_mlops_project.data")
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
    )
    assert result.ok, result.tail()
    [pr] = [p for p in result.prs if p.get("head") == "retrain/auto"]
    assert pr["state"] == "open" and pr["labels"] == ["retraining"]
    assert {"dvc.lock", "metrics/metrics.json", "data/table.csv"} <= set(pr["files"])
    assert not any(path.startswith(("models/", "data/processed")) for path in pr["files"])
    assert "Automatic retraining: monitor found drift or decay." in pr["body"]


def test_an_open_retraining_pr_blocks_a_second_run(repo: Path, tmp_path: Path) -> None:
    github = tmp_path / "github"
    seed_state(
        github,
        prs=[{"number": 12, "title": "Retrain the model", "head": "retrain/auto", "base": "main"}],
        labels=["retraining"],
    )
    result = run_workflow(repo, RETRAIN, "workflow_dispatch", {}, tmp_path / "guarded", state_dir=github)
    assert result.ok, result.tail()
    assert "a retraining pull request (branch retrain/auto) is still open" in result.output
    assert [p["number"] for p in result.prs] == [12]
    assert "create-pull-request" not in result.records and "make install" not in result.output
