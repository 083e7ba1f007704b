from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.errors import UserError
from {{ cookiecutter.package_name }}.github import repository_setup as github_setup
from {{ cookiecutter.package_name }}.github.repository_setup import (
    GITHUB_ACTIONS_APP_ID,
    Call,
    Gh,
    GhError,
    environment_body,
    hint,
    job_names,
    missing_secrets,
    protection_body,
    required_checks,
    secrets_needed,
)

PROJECT = Path(__file__).resolve().parents[1]


def yaml_job_names(path: Path) -> list[str]:
    jobs = yaml.safe_load(path.read_text())["jobs"]
    return [job.get("name", job_id) for job_id, job in jobs.items()]


def test_required_checks_are_the_experiment_and_ci_jobs() -> None:
    workflows = PROJECT / ".github" / "workflows"
    expected = yaml_job_names(workflows / "experiment.yml") + yaml_job_names(workflows / "ci.yml")
    assert required_checks(PROJECT) == expected


def test_job_names_are_the_name_else_the_id() -> None:
    text = (
        "name: x\non: push\njobs:\n  # a comment\n  build:\n    name: 'lint: all' # why\n"
        "    steps:\n      - name: not a job\n  test:\n    runs-on: ubuntu-latest\n"
    )
    assert job_names(text) == ["lint: all", "test"]


def test_job_names_read_any_yaml_style() -> None:
    assert job_names("on: [push]\njobs: {a: {name: lint}, b: {runs-on: x}}\n") == ["lint", "b"]
    folded = "jobs:\n  a:\n    name: >-\n      lint and\n      tests\n  b: &b\n    name: B\n  c: *b\n"
    assert job_names(folded) == ["lint and tests", "B", "B"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("jobs:\n  a:\n    strategy:\n      matrix: {v: [1, 2]}\n", "job a has a matrix"),
        ("jobs: {a: {strategy: {matrix: {v: [1]}}}}\n", "job a has a matrix"),
        ("jobs:\n  a:\n    name: build ${{ '{{' }} matrix.v {{ '}}' }}\n", "job a has an expression in its name"),
        ("jobs:\n  a:\n    name: no\n", "job a: name is not a string"),
        ("name: x\non: push\n", "no jobs found"),
        ("jobs: [a, b]\n", "no jobs found"),
        ("jobs:\n  a: [b]\n", "job a is not a mapping"),
        ("jobs:\n  a: {name: x\n", "not valid YAML"),
    ],
)
def test_job_names_refuses_names_it_cannot_know(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message) as error:
        job_names(text)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    ("remote", "tracking", "expected"),
    [
        ("none", "local", []),
        ("local", "local", []),
        ("s3", "local", ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]),
        ("gs", "local", ["GCP_SA_KEY"]),
        (
            "azure",
            "server",
            ["AZURE_STORAGE_CONNECTION_STRING", "MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN"],
        ),
    ],
)
def test_secrets_the_answers_need(remote: str, tracking: str, expected: list[str]) -> None:
    assert secrets_needed({"dvc_remote": remote, "mlflow_tracking": tracking}) == expected


def test_an_unknown_answer_names_the_field_and_the_allowed_values() -> None:
    with pytest.raises(UserError, match=r"dvc_remote is 'ftp'; expected one of none, local, s3, gs, azure"):
        secrets_needed({"dvc_remote": "ftp", "mlflow_tracking": "local"})


def test_missing_secrets_accepts_a_token_or_a_github_app() -> None:
    needed = ["AWS_ACCESS_KEY_ID"]
    token_line = missing_secrets(needed, set(), set())[-1]
    assert token_line.startswith("gh secret set RETRAIN_TOKEN") and "RETRAIN_APP_CLIENT_ID" in token_line
    assert missing_secrets(needed, {"AWS_ACCESS_KEY_ID", "RETRAIN_TOKEN"}, set()) == []
    assert missing_secrets([], {"RETRAIN_APP_PRIVATE_KEY"}, {"RETRAIN_APP_CLIENT_ID"}) == []
    assert missing_secrets([], set(), {"RETRAIN_APP_CLIENT_ID"}) == [
        "gh secret set RETRAIN_APP_PRIVATE_KEY < app-private-key.pem"
    ]


def test_protection_body_has_what_github_requires() -> None:
    body = protection_body(["a", "b"])
    assert set(body) == {
        "required_status_checks",
        "enforce_admins",
        "required_pull_request_reviews",
        "restrictions",
    }
    checks = body["required_status_checks"]
    assert "contexts" not in checks  # GitHub refuses contexts and checks together
    assert checks == {
        "strict": True,
        "checks": [{"context": c, "app_id": GITHUB_ACTIONS_APP_ID} for c in "ab"],
    }
    assert body["enforce_admins"] is False


def test_environment_body_keeps_reviewers_and_wait_timer() -> None:
    current = {
        "protection_rules": [
            {"type": "wait_timer", "wait_timer": 5},
            {
                "type": "required_reviewers",
                "prevent_self_review": True,
                "reviewers": [{"type": "User", "reviewer": {"id": 7}}],
            },
        ],
        "deployment_branch_policy": None,
    }
    assert environment_body(current) == {
        "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
        "wait_timer": 5,
        "prevent_self_review": True,
        "reviewers": [{"type": "User", "id": 7}],
    }


def fake_run(returncode: int, stdout: str = "", stderr: str = ""):
    def run(argv, **kwargs):
        run.argv, run.input = argv, kwargs.get("input")
        return subprocess.CompletedProcess(argv, returncode, stdout, stderr)

    return run


def test_gh_errors_carry_the_status_and_message(monkeypatch: pytest.MonkeyPatch) -> None:
    message = "Upgrade to GitHub Pro or make this repository public to enable this feature."
    monkeypatch.setattr(subprocess, "run", fake_run(1, '{"message": "..."}', f"gh: {message} (HTTP 403)\n"))
    with pytest.raises(GhError) as error:
        Gh().api(Call("GET", "repos/o/r/branches/main/protection"))
    assert (error.value.status, error.value.message) == (403, message)
    assert "public" in hint(error.value)
    monkeypatch.setattr(
        subprocess, "run", fake_run(4, "", "To get started with GitHub CLI, please run:  gh auth login")
    )
    with pytest.raises(GhError) as error:
        Gh().api(Call("GET", "repos/o/r"))
    assert "gh auth login" in hint(error.value)


def test_gh_sends_the_body_on_stdin(monkeypatch: pytest.MonkeyPatch) -> None:
    run = fake_run(0, "")
    monkeypatch.setattr(subprocess, "run", run)
    Gh().api(Call("PUT", "repos/o/r/environments/production", {"a": 1}))
    assert run.argv == ["gh", "api", "--method", "PUT", "repos/o/r/environments/production", "--input", "-"]
    assert json.loads(run.input) == {"a": 1}


def test_dry_run_calls_nothing_and_prints_the_plan(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_call(*args, **kwargs):
        raise AssertionError(f"dry run called {args}")

    monkeypatch.setattr(subprocess, "run", no_call)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["github-setup", "--dry-run", "--project", str(PROJECT), "--repo", "team/models"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert "  PUT repos/team/models/branches/main/protection {" in out
    assert "  POST repos/team/models/labels {" in out
    assert "gh secret set RETRAIN_TOKEN" in out


def test_bad_repo_option_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["github-setup", "--dry-run", "--project", str(PROJECT), "--repo", "not a repo"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == "error: --repo 'not a repo': expected OWNER/NAME\n"


def test_labels_fit_github_limits() -> None:
    for name, (color, description) in github_setup.LABELS.items():
        assert len(name) <= 50 and len(description) <= 100
        assert len(color) == 6 and int(color, 16) >= 0


def test_the_secrets_it_asks_for_are_the_ones_the_workflows_read() -> None:
    """The list github-setup prints is the workflows' own: no secret they read is forgotten, none is extra."""
    text = "\n".join(path.read_text() for path in sorted((PROJECT / ".github" / "workflows").glob("*.yml")))
    read = set(re.findall(r"secrets\.([A-Z][A-Z0-9_]*)", text)) - {"GITHUB_TOKEN"}
    answers = json.loads((PROJECT / ".cookiecutter.json").read_text())
    retraining = {github_setup.RETRAIN_TOKEN, github_setup.RETRAIN_APP_KEY_SECRET}
    kubernetes = {github_setup.KUBERNETES_ENVIRONMENT_SECRET}
    assert read == {*github_setup.secrets_needed(answers), *retraining, *kubernetes}
    assert f"vars.{github_setup.RETRAIN_APP_ID_VARIABLE}" in text
