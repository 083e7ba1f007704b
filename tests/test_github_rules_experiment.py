"""experiment.yml against the rules of real GitHub that act cannot show: who gets secrets (forks, Dependabot),
what a setup action does on current runners, where images go, what telemetry runs. Static, every configuration."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.action_pins import PINS
from tests.github_expressions import evaluate
from tests.helpers import generate

EXPERIMENT = ".github/workflows/experiment.yml"
# Steps that reach a secret, the DVC remote or the PR: they must not run where GitHub gives no secrets.
NEEDS_SECRETS = re.compile(r"secrets\.|dvc (pull|push)|cml (comment|pr)|GCP_SA_KEY")


@pytest.fixture
def workflow(tmp_path: Path, configuration: tuple[str, dict[str, str]]) -> dict[str, Any]:
    return yaml.safe_load((generate(tmp_path, configuration[1]) / EXPERIMENT).read_text())


@pytest.fixture
def job(workflow: dict[str, Any]) -> dict[str, Any]:
    return workflow["jobs"]["experiment"]


def pull_request(author: str, actor: str, head_repo: str) -> dict[str, Any]:
    return {
        "github": {
            "event_name": "pull_request",
            "actor": actor,
            "repository": "owner/project",
            "event": {"pull_request": {"user": {"login": author}, "head": {"repo": {"full_name": head_repo}}}},
        }
    }


@pytest.mark.parametrize(
    ("context", "trusted"),
    [
        (pull_request("alice", "alice", "owner/project"), True),
        (pull_request("mallory", "mallory", "mallory/project"), False),  # a fork
        (pull_request("dependabot[bot]", "dependabot[bot]", "owner/project"), False),  # no Actions secrets
        (pull_request("dependabot[bot]", "alice", "owner/project"), False),  # re-run by a person: still Dependabot's
        ({"github": {"event_name": "workflow_dispatch", "actor": "alice", "event": {"inputs": {}}}}, True),
    ],
)
def test_trusted_excludes_forks_and_dependabot(job: dict[str, Any], context: dict[str, Any], trusted: bool) -> None:
    assert bool(evaluate(job["env"]["TRUSTED"], context)) is trusted


def test_every_step_that_needs_secrets_is_guarded_by_trusted(job: dict[str, Any]) -> None:
    guarded = []
    for step in job["steps"]:
        text = yaml.safe_dump({k: step.get(k) for k in ("run", "env", "with")})
        if NEEDS_SECRETS.search(text):
            assert "env.TRUSTED == 'true'" in step.get("if", ""), f"not guarded by TRUSTED: {step}"
            guarded.append(step.get("name", step.get("uses")))
    assert any("comment" in name for name in guarded), guarded


def test_cml_is_installed_so_it_works_on_current_runners(job: dict[str, Any]) -> None:
    [setup] = [step for step in job["steps"] if step.get("uses", "").startswith("iterative/setup-cml@")]
    assert setup["uses"] == f"iterative/setup-cml@{PINS['iterative/setup-cml'][0]}"
    # vega (the default) runs an un-awaited `npm install canvas@2 vega...` that fails on Node 22/24 (setup-cml#103)
    assert setup["with"]["vega"] is False
    assert re.fullmatch(r"v\d+\.\d+\.\d+", str(setup["with"]["version"])), setup["with"]  # not `latest`


def test_report_images_are_published_only_when_the_repository_opts_in(job: dict[str, Any]) -> None:
    comments = [step for step in job["steps"] if "cml comment" in step.get("run", "")]
    assert comments
    for step in comments:
        run, condition = step["run"], step["if"]
        # CML uploads every local image to the public asset.cml.dev unless told --no-publish
        assert ("--publish" in run) != ("--no-publish" in run), run
        if "--no-publish" in run:
            assert "vars.CML_PUBLISH_IMAGES != 'true'" in condition, condition
        else:
            assert "vars.CML_PUBLISH_IMAGES == 'true'" in condition, condition
    assert {"--no-publish" in step["run"] for step in comments} == {True, False}


def test_no_telemetry(job: dict[str, Any]) -> None:
    for name in ("DVC_NO_ANALYTICS", "ITERATIVE_DO_NOT_TRACK", "MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK"):
        assert job["env"].get(name) == "true", name


def test_gcp_key_is_written_outside_the_workspace(job: dict[str, Any]) -> None:
    assert "GOOGLE_APPLICATION_CREDENTIALS" not in job["env"]
    text = yaml.safe_dump(job)
    assert "github.workspace" not in text and ".gcp-key.json" not in text
    for step in job["steps"]:
        if "GCP_SA_KEY" in str(step.get("env", "")):
            assert 'key="$RUNNER_TEMP/gcp-key.json"' in step["run"]
            assert 'echo "GOOGLE_APPLICATION_CREDENTIALS=$key" >> "$GITHUB_ENV"' in step["run"]


def test_dvc_cache_is_saved_even_when_the_job_fails(job: dict[str, Any]) -> None:
    uses = [step.get("uses", "").split("@")[0] for step in job["steps"]]
    assert "actions/cache" not in uses  # its post step saves only on success
    restores = [s for s in job["steps"] if s.get("uses", "").startswith("actions/cache/restore@")]
    saves = [s for s in job["steps"] if s.get("uses", "").startswith("actions/cache/save@")]
    if not restores and not saves:
        assert any("dvc pull" in step.get("run", "") for step in job["steps"])  # a DVC remote holds the cache
        return
    [restore], [save] = restores, saves
    sha = PINS["actions/cache"][0]
    assert restore["uses"].endswith(f"@{sha}") and save["uses"].endswith(f"@{sha}")
    # Saved when the gate failed too, but not from a cancelled run (its cache is half-filled).
    assert save["if"].startswith("!cancelled() && "), save["if"]
    assert save["with"]["path"] == restore["with"]["path"] == ".dvc/cache"
    assert save["with"]["key"] == f"${{{{ steps.{restore['id']}.outputs.cache-primary-key }}}}"


def test_regression_gate_message_keeps_every_line(job: dict[str, Any]) -> None:
    [gate] = [step for step in job["steps"] if step.get("name") == "Regression gate"]
    assert "::error" not in gate["run"] and "python -c" not in gate["run"]
    assert re.search(r"\.cli annotate error --title \"Regression gate\" --file reports/experiment/\S+", gate["run"])


def test_base_input_says_what_it_takes(workflow: dict[str, Any]) -> None:
    base = workflow[True]["workflow_dispatch"]["inputs"]["base"]  # yaml reads `on:` as True
    assert "commit" in base["description"] and "tag" in base["description"]  # what works is tested under act
