"""Static checks that the production-watch workflows (monitor.yml, retrain.yml) and ci.yml keep GitHub's rules,
for every configuration: what a runner can reach (no `local` DVC remote), which token opens the retraining PR,
the fork-proof loop guard, telemetry off, the GCP key outside the workspace, whole error messages, and the
60-day schedule warning. The act tests (tests/test_monitoring_act.py) run the same workflows."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import CONFIGURATIONS, generate

TELEMETRY = {"DVC_NO_ANALYTICS": "true", "ITERATIVE_DO_NOT_TRACK": "true", "MLFLOW_DISABLE_TELEMETRY": "true"}
TELEMETRY |= {"DO_NOT_TRACK": "true"}


@pytest.fixture(scope="module", params=sorted(CONFIGURATIONS))
def generated(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], Path]:
    answers = CONFIGURATIONS[request.param]
    return answers, generate(tmp_path_factory.mktemp(request.param), answers)


def workflow(project: Path, name: str) -> dict[str, Any]:
    return yaml.safe_load((project / ".github" / "workflows" / name).read_text())


def runs(job: dict[str, Any]) -> list[str]:
    return [step.get("run", "") for step in job["steps"]]


def step_index(job: dict[str, Any], predicate: Any) -> int:
    return next(i for i, step in enumerate(job["steps"]) if predicate(step))


def test_a_local_dvc_remote_is_never_used_from_ci(generated: tuple[dict[str, str], Path]) -> None:
    """dvc_remote=local is a folder on a developer machine: CI treats it like no remote (item 3)."""
    answers, project = generated
    remote = answers.get("dvc_remote", "none")
    jobs = [workflow(project, "monitor.yml")["jobs"]["monitor"], workflow(project, "retrain.yml")["jobs"]["retrain"]]
    for job in jobs:
        # the current data's own `.dvc` pointer may be pulled; models, data and the run-cache only from a cloud
        remote_calls = [r for r in runs(job) if re.search(r"dvc (pull|push)(?! \"\$\{source\}\.dvc\")", r)]
        if remote in ("none", "local"):
            assert remote_calls == [], remote_calls
            assert any("make pipeline" in r for r in runs(job))
        else:
            assert remote_calls


def test_telemetry_is_off_in_the_watch_and_ci_jobs(generated: tuple[dict[str, str], Path]) -> None:
    _, project = generated
    jobs = [
        workflow(project, "monitor.yml")["jobs"]["monitor"],
        workflow(project, "retrain.yml")["jobs"]["retrain"],
        workflow(project, "ci.yml")["jobs"]["checks"],
    ]
    for job in jobs:
        assert TELEMETRY.items() <= job["env"].items()


def test_the_gcp_key_goes_to_runner_temp(generated: tuple[dict[str, str], Path]) -> None:
    answers, project = generated
    for name, job_id in (("monitor.yml", "monitor"), ("retrain.yml", "retrain")):
        job = workflow(project, name)["jobs"][job_id]
        assert "GOOGLE_APPLICATION_CREDENTIALS" not in job["env"]
        assert not [r for r in runs(job) if "GCP_SA_KEY" in r]  # only the remote-auth action writes the key
        given = [s for s in job["steps"] if "GCP_SA_KEY" in str(s.get("with", {}))]
        if answers.get("dvc_remote") == "gs":
            assert given and all(s["uses"] == "./.github/actions/remote-auth" for s in given), given
            action = (project / ".github/actions/remote-auth/action.yml").read_text()
            assert 'key="$RUNNER_TEMP/gcp-key.json"' in action
            assert 'echo "GOOGLE_APPLICATION_CREDENTIALS=$key" >> "$GITHUB_ENV"' in action
        else:
            assert given == []


def test_monitor_errors_keep_every_line(generated: tuple[dict[str, str], Path]) -> None:
    _, project = generated
    text = (project / ".github" / "workflows" / "monitor.yml").read_text()
    assert 'echo "::error' not in text
    assert re.search(r"\.cli annotate error --title Monitor --file ", text)


def test_the_retraining_pr_is_never_opened_with_github_token(generated: tuple[dict[str, str], Path]) -> None:
    """Item 4: RETRAIN_TOKEN or a GitHub App token, checked before anything is installed; no fallback."""
    answers, project = generated
    job = workflow(project, "retrain.yml")["jobs"]["retrain"]
    oidc = {"id-token": "write"} if answers.get("dvc_remote") in ("s3", "gs", "azure") else {}
    assert job["permissions"] == {"contents": "read"} | oidc
    check = step_index(job, lambda s: s.get("id") == "token")
    install = step_index(job, lambda s: s.get("uses") == "./.github/actions/setup")
    checkout = step_index(job, lambda s: str(s.get("uses", "")).startswith("actions/checkout@"))
    assert check < checkout < install
    error = job["steps"][check]["run"]
    for name in ("RETRAIN_TOKEN", "RETRAIN_APP_CLIENT_ID", "RETRAIN_APP_PRIVATE_KEY"):
        assert name in error
    assert "Allow GitHub Actions to create and approve pull requests" in error
    app = job["steps"][step_index(job, lambda s: s.get("id") == "app-token")]
    assert app["uses"] == "actions/create-github-app-token@1b10c78c7865c340bc4f6099eb2f838309f1e8c3"
    assert app["with"]["client-id"] == "${{ vars.RETRAIN_APP_CLIENT_ID }}"
    assert app["with"]["private-key"] == "${{ secrets.RETRAIN_APP_PRIVATE_KEY }}"
    create = job["steps"][step_index(job, lambda s: "create-pull-request" in str(s.get("uses", "")))]
    assert create["with"]["token"] == "${{ steps.app-token.outputs.token || secrets.RETRAIN_TOKEN }}"
    assert check < step_index(job, lambda s: s.get("id") == "app-token") > install  # minted late: 1 h tokens


def test_the_guard_counts_only_this_repositorys_labelled_prs(generated: tuple[dict[str, str], Path]) -> None:
    """Item 9: `gh pr list --head` matches forks' branches of the same name too."""
    _, project = generated
    [command] = runs(workflow(project, "retrain.yml")["jobs"]["guard"])
    assert "--head retrain/auto --label retraining" in command
    assert "--json number,isCrossRepository" in command and "select(.isCrossRepository | not)" in command


def test_the_schedule_warns_before_github_disables_it(generated: tuple[dict[str, str], Path]) -> None:
    _, project = generated
    job = workflow(project, "monitor.yml")["jobs"]["schedule-keepalive"]
    assert job["permissions"] == {"contents": "read"}
    [check] = [s for s in job["steps"] if "run" in s]
    assert check["env"]["WARN_AFTER_DAYS"] == 50 and "::warning" in check["run"]
    assert "gh workflow enable monitor.yml" in check["run"]
    docs = (project / "docs" / "workflows.md").read_text()
    assert "disables scheduled workflows after 60" in docs and "gh workflow enable monitor.yml" in docs
