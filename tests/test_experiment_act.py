"""The PR loop end to end under act: experiment.yml posts one report comment, gates regressions and
enforces the dvc.lock policy; ci.yml runs the project's own lint and tests. Slow (act runs the real jobs)."""

from __future__ import annotations

import csv
import hashlib
import random
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from actkit.act import ActResult, run_workflow
from tests.helpers import commit, generate, run

pytestmark = pytest.mark.slow
EXPERIMENT = ".github/workflows/experiment.yml"


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated project on `main` with its pipeline run and dvc.lock, metrics and plots committed."""
    project = generate(tmp_path_factory.mktemp("experiment"))
    commit(project, "Generated from the template")
    run(project, "make", "install", f"PYTHON={sys.executable}", "EXTRAS=train")
    run(project, "make", "pipeline")
    commit(project, "Pipeline results")
    # What actions/checkout with fetch-depth 0 gives the job: the base branch as a remote-tracking ref.
    run(project, "git", "update-ref", "refs/remotes/origin/main", "main")
    return project


def open_branch(
    project: Path, name: str, change: Callable[[dict[str, Any]], None], *, repro: bool = True, checkout: bool = True
) -> None:
    if checkout:
        run(project, "git", "checkout", "--quiet", "-B", name, "main")
    params = yaml.safe_load((project / "params.yaml").read_text())
    change(params)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    if repro:
        run(project, "make", "pipeline")
    commit(project, f"Experiment {name}")


def pr_payload(branch: str, number: int) -> dict[str, Any]:
    return {
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"ref": branch, "repo": {"full_name": "owner/project"}},
            "base": {"ref": "main", "repo": {"full_name": "owner/project"}},
            "user": {"login": "owner"},
        },
    }


def pull_request(project: Path, branch: str, out: Path, state: Path, number: int) -> ActResult:
    return run_workflow(project, EXPERIMENT, "pull_request", pr_payload(branch, number), out, state_dir=state)


def hyperparameters(**values: Any) -> Callable[[dict[str, Any]], None]:
    return lambda params: params["train"]["hyperparameters"].update(values)


Table = list[dict[str, str]]
SAMPLE = "data/sample/sample.csv"


def open_data_branch(project: Path, name: str, change: Callable[[Table], Table]) -> str:
    """A branch that trains on its own table, `change` applied to the sample's rows, kept in git; its path."""
    run(project, "git", "checkout", "--quiet", "-B", name, "main")
    with (project / SAMPLE).open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    path = f"data/{name}.csv"
    with (project / path).open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(change(rows))
    open_branch(project, name, lambda params: params["data"].update(path=path), checkout=False)
    return path


def shift(column: str, by: float) -> Callable[[Table], Table]:
    return lambda rows: [{**row, column: str(float(row[column]) + by)} for row in rows]


def add_rows_of_the_same_distribution(count: int) -> Callable[[Table], Table]:
    return lambda rows: rows + random.Random(0).choices(rows, k=count)


def data_drift_section(body: str) -> str:
    return body[body.index("### Data drift vs base") : body.index("### Plots")]


def md5_of(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


ARTIFACT_URL = "https://github.com/owner/project/actions/runs/1/artifacts/experiment-report"
LOCAL_IMAGE = re.compile(r"!\[[^\]]*\]\((?![a-z]+://)[^)]*\)")


def test_report_is_one_private_comment_updated_in_place(repo: Path, tmp_path: Path) -> None:
    open_branch(repo, "fewer-trees", hyperparameters(n_estimators=50))
    first = pull_request(repo, "fewer-trees", tmp_path / "run1", tmp_path / "github", 7)
    assert first.ok, first.tail()
    assert first.records["setup-cml"] == [{"version": "v0.20.6", "vega": "false"}]
    [comment] = first.comments
    body = comment["body"]
    assert comment["target"] == "pr/7" and comment["updates"] == 0
    assert body.startswith("## Experiment report: this PR vs `origin/main`")
    assert "✅ **Gate passed**" in body
    assert "| metric | origin/main | this PR | Δ | |" in body
    assert "| f1 | 0.9655 | " in body and "| roc_auc | 0.9932 | " in body
    assert "| `train.hyperparameters.n_estimators` | `200` | `50` |" in body
    assert "- modified: `models/model.joblib`" in body
    assert "### Data drift vs base" not in body  # the same training data: no section
    # Private by default: charts GitHub draws from the text, a table, the PNGs in the run's artifact; nothing
    # uploaded to an image host and no local image link (a broken image in a comment and in the job summary).
    assert (comment["assets"], comment["broken_images"]) == ([], [])
    assert "cml-assets" not in first.records and not LOCAL_IMAGE.search(body)
    assert body.count("\nxychart-beta\n") == body.count("```mermaid\n") == 4  # metric changes, ROC, PR, importance
    assert "| actual ↓ / predicted → | 0 | 1 |" in body  # the confusion matrix as a table
    assert f"]({ARTIFACT_URL})" in body
    # This PR's model card, collapsed, its metrics beside the base's; the template's placeholder is flagged.
    card = body.split("\n<details><summary><b>Model card</b> ", 1)[1].split("\n</details>\n", 1)[0]
    assert "⚠️ intended use placeholder (`docs/model_card_intended_use.md`)</summary>" in card
    assert "| metric | origin/main | this model | Δ | |" in card and "| f1 | 0.9655 | " in card
    assert "| `train.hyperparameters.n_estimators` | `50` |" in card and "| `data/sample/sample.csv` | `" in card
    report = first.out_dir / "artifacts/experiment-report"
    assert {"report.md", "images.md", "gate.json", "roc.png", "roc_base.png"} <= set(
        first.artifacts["experiment-report"]
    )
    assert not LOCAL_IMAGE.search((report / "report.md").read_text())  # what the job summary shows

    # The repository opts in to image hosting: the same comment, now with the PNGs uploaded by CML.
    second = run_workflow(
        repo,
        EXPERIMENT,
        "pull_request",
        pr_payload("fewer-trees", 7),
        tmp_path / "run2",
        state_dir=tmp_path / "github",
        vars={"CML_PUBLISH_IMAGES": "true"},
    )
    assert second.ok, second.tail()
    [updated] = second.comments
    assert (updated["id"], updated["updates"]) == (comment["id"], 1)
    images = {"confusion", "roc", "precision_recall", "feature_importance"}
    assert set(updated["assets"]) == {f"{name}{side}.png" for name in images for side in ("", "_base")}
    assert updated["broken_images"] == [] and "](https://asset.cml.dev/" in updated["body"]
    assert "```mermaid" in updated["body"]
    # The restored DVC cache holds the run-cache: unchanged data stages are not run again. (train re-runs:
    # dvc.lock names the outputs trained on the author's machine, which only a DVC remote can provide.)
    for stage in ("data", "validate", "split"):
        assert f"Stage '{stage}' is cached - skipping run" in second.output


def test_clearly_worse_model_fails_the_gate_saves_the_cache_and_a_manual_run_takes_a_sha(
    repo: Path, tmp_path: Path
) -> None:
    open_branch(repo, "one-stump", hyperparameters(n_estimators=1, max_depth=1))
    result = pull_request(repo, "one-stump", tmp_path / "run", tmp_path / "github", 8)
    assert not result.ok
    assert result.failed_steps == ["Main Regression gate"], result.failed_steps
    [comment] = result.comments
    assert "❌ **Gate failed**: this change makes the model worse" in comment["body"]
    assert "worse than the base by more than the tolerance" in comment["body"]
    assert "::error title=Regression gate::Regression gate (enforce): `f1` 0.9655 → " in result.output
    # The failed job still saved the DVC cache (actions/cache would not: its post step saves on success only).
    [saved] = [entry["key"] for entry in result.records["cache"] if entry["op"] == "save"]

    # A manual run of the same branch against the base's commit SHA (not a branch): it restores that cache.
    main_sha = run(repo, "git", "rev-parse", "main").stdout.strip()
    manual = run_workflow(
        repo,
        EXPERIMENT,
        "workflow_dispatch",
        {},
        tmp_path / "manual",
        state_dir=tmp_path / "github",
        inputs={"base": main_sha},
    )
    assert [(e["op"], e["matched"]) for e in manual.records["cache"]] == [("restore", saved)]
    assert manual.failed_steps == ["Main Regression gate"], manual.tail()
    report = (manual.out_dir / "artifacts/experiment-report/report.md").read_text()
    assert report.startswith(f"## Experiment report: this PR vs `{main_sha}`")
    assert "| f1 | 0.9655 | " in report
    assert manual.comments == [comment]  # a manual run posts no comment


def test_gate_in_warn_mode_reports_the_regression_and_stays_green(repo: Path, tmp_path: Path) -> None:
    def stump_with_a_warning_gate(params: dict[str, Any]) -> None:
        params["train"]["hyperparameters"].update(n_estimators=1, max_depth=1)
        params["gate"]["mode"] = "warn"

    open_branch(repo, "one-stump-warned", stump_with_a_warning_gate)
    result = pull_request(repo, "one-stump-warned", tmp_path / "run", tmp_path / "github", 9)
    assert result.ok, result.tail()
    [comment] = result.comments
    assert "⚠️ **Gate failed, not blocking** (warn mode): this change makes the model worse" in comment["body"]
    assert "\n\nRegression gate (warn): `f1` 0.9655 → " in comment["body"]
    assert "worse than the base by more than the tolerance — not blocking" in comment["body"]
    assert "::warning title=Regression gate::Regression gate (warn): `f1` 0.9655 → " in result.output
    assert "::error title=Regression gate" not in result.output


def test_a_pr_that_shifts_a_feature_shows_its_drift(repo: Path, tmp_path: Path) -> None:
    path = open_data_branch(repo, "shifted-radius", shift("mean radius", 7.0))
    result = pull_request(repo, "shifted-radius", tmp_path / "run", tmp_path / "github", 10)
    assert result.ok, result.tail()
    [comment] = result.comments
    section = data_drift_section(comment["body"])
    [base_out] = yaml.safe_load(run(repo, "git", "show", "main:dvc.lock").stdout)["stages"]["data"]["outs"]
    base_md5 = base_out["md5"]
    assert f"| data | `{SAMPLE}` | `{path}` |" in section
    assert f"| md5 | `{base_md5}` | `{md5_of(repo / path)}` |" in section
    assert "| rows | 569 | 569 (+0, +0.0%) |" in section
    assert "🟠 **Some columns drifted** (fewer than the dataset-drift share): 1 of 30 features drifted." in section
    [drifted] = {line for line in section.splitlines() if "| 🔴 drift |" in line}  # changed, then all columns
    assert drifted.startswith("| `mean radius` | 🔴 drift | KS 0.") and "; psi " in drifted
    assert "a column drifts when its Benjamini-Hochberg adjusted p-value is below alpha 0.05" in section
    assert "Informational, not a gate: this section never fails the check." in section


def test_a_pr_that_adds_rows_of_the_same_distribution_shows_no_drift(repo: Path, tmp_path: Path) -> None:
    path = open_data_branch(repo, "more-rows", add_rows_of_the_same_distribution(200))
    result = pull_request(repo, "more-rows", tmp_path / "run", tmp_path / "github", 11)
    assert result.ok, result.tail()
    [comment] = result.comments
    section = data_drift_section(comment["body"])
    assert f"| data | `{SAMPLE}` | `{path}` |" in section
    assert "| rows | 569 | 769 (+200, +35.1%) |" in section
    assert "🟢 **No drift**: the same distribution within the monitor's thresholds: 0 of 30 features" in section
    assert "🔴" not in section and "| `target` (target) | no drift |" in section


def test_base_that_is_no_branch_tag_or_commit_fails_with_one_clear_error(repo: Path, tmp_path: Path) -> None:
    result = run_workflow(repo, EXPERIMENT, "workflow_dispatch", {}, tmp_path / "run", inputs={"base": "no-such-ref"})
    assert result.failed_steps == ["Main Resolve the base revision"], result.tail()
    assert (
        "::error title=Base revision::`no-such-ref` is not a branch, a tag or a commit of this repository"
        in result.output
    )


def test_stale_dvc_lock_fails_with_the_fix(repo: Path, tmp_path: Path) -> None:
    open_branch(repo, "forgot-repro", hyperparameters(n_estimators=20), repro=False)
    result = pull_request(repo, "forgot-repro", tmp_path / "run", tmp_path / "github", 9)
    assert not result.ok
    assert result.failed_steps == ["Main Check the dvc.lock policy"], result.failed_steps
    assert "train: param train.hyperparameters modified" in result.output
    assert (
        "run `make pipeline` (dvc repro) locally, then commit dvc.lock, metrics/ and plots/ and push" in result.output
    )
    assert result.comments == []


def test_ci_workflow_lints_and_tests(repo: Path, tmp_path: Path) -> None:
    run(repo, "git", "checkout", "--quiet", "main")
    result = run_workflow(repo, ".github/workflows/ci.yml", "push", {"ref": "refs/heads/main"}, tmp_path / "ci")
    assert result.ok, result.tail()
    assert "ruff check" in result.output and "Passed" in result.output
    assert " passed" in result.output and " failed" not in result.output
