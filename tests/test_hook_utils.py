"""Unit tests of the hooks' logic (hook_utils), without running cookiecutter."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from hook_utils import answers, post_gen

VALID: dict[str, Any] = {
    "project_name": "Churn Model",
    "project_slug": "churn-model",
    "package_name": "churn_model",
    "description": "Predicts churn.",
    "author_name": "Ada",
    "author_email": "ada@example.com",
    "github_owner": "acme-data",
    "python_version": "3.11",
    "problem_type": "classification",
    "dvc_remote": "none",
    "dvc_remote_url": "",
    "mlflow_tracking": "local",
    "license": "MIT",
}


def test_valid_answers_pass() -> None:
    answers.validate(VALID)
    assert answers.main(VALID) == 0


@pytest.mark.parametrize("package", ["typing", "sklearn", "match", "_private", "Upper"])
def test_package_names_that_would_shadow_or_break(package: str) -> None:
    with pytest.raises(answers.InvalidAnswer) as error:
        answers.validate(VALID | {"package_name": package})
    assert error.value.field == "package_name"


@pytest.mark.parametrize(
    ("remote", "url", "ok"),
    [
        ("none", "", True),
        ("none", "s3://b", False),
        ("local", "../store", True),
        ("local", "s3://b", False),
        ("s3", "s3://b/p", True),
        ("s3", "s3://", False),
        ("gs", "gs://b", True),
        ("azure", "azure://c/p", True),
        ("azure", "https://acct.blob", False),
    ],
)
def test_remote_url_rules(remote: str, url: str, ok: bool) -> None:
    problem = answers._check_remote_url(remote, url)
    assert (problem is None) == ok


@pytest.mark.parametrize(
    ("question", "value"),
    [
        ("python_version", "3.10"),
        ("problem_type", "ranking"),
        ("dvc_remote", "hdfs"),
        ("mlflow_tracking", "x"),
        ("license", "GPL"),
    ],
)
def test_choices_are_checked_again_by_the_hook(question: str, value: str) -> None:
    with pytest.raises(answers.InvalidAnswer, match=f"allowed: one of {', '.join(answers.CHOICES[question])}"):
        answers.validate(VALID | {question: value})


def test_main_prints_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert answers.main(VALID | {"author_email": "nope"}) == 1
    err = capsys.readouterr().err
    assert err == (
        "ERROR: Invalid answer for 'author_email': 'nope' is not allowed; "
        "allowed: an e-mail address of the form name@domain.tld.\n"
    )


def make_skeleton(root: Path) -> Path:
    (root / "licenses").mkdir(parents=True)
    for name in answers.CHOICES["license"]:
        (root / "licenses" / name).write_text(f"{name} text\n")
    (root / "docs" / "remotes").mkdir(parents=True)
    for remote in ("local", "s3", "gs", "azure"):
        (root / "docs" / "remotes" / f"{remote}.md").write_text(f"# {remote}\n")
    return root


@pytest.mark.parametrize("remote", ["none", "local", "s3", "gs", "azure"])
def test_post_gen_keeps_only_the_selection(tmp_path: Path, remote: str) -> None:
    project = make_skeleton(tmp_path / "p")
    context = VALID | {
        "dvc_remote": remote,
        "license": "BSD-3-Clause",
        "_output_dir": "/tmp/x",
        "_repo_dir": "/tmp/t",
        "_template": "gh:acme/mlops-template",
        "_checkout": None,
    }
    assert post_gen.main(context, project) == 0
    assert (project / "LICENSE").read_text() == "BSD-3-Clause text\n"
    assert not (project / "licenses").exists()
    guide = project / "docs" / "dvc-remote.md"
    assert guide.exists() == (remote != "none")
    stored = json.loads((project / ".cookiecutter.json").read_text())
    assert stored == VALID | {
        "dvc_remote": remote,
        "license": "BSD-3-Clause",
        "_template": "gh:acme/mlops-template",
        "_checkout": None,
    }
    head = subprocess.run(["git", "symbolic-ref", "HEAD"], cwd=project, capture_output=True, text=True)
    assert head.stdout.strip() == "refs/heads/main"
