"""Unit tests of the hooks' logic (hook_utils), without running cookiecutter."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.utils import create_env_with_context

from hook_utils import answers, post_gen
from tests.helpers import TEMPLATE_DIR

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
    "monitor_cron": "0 6 * * 1",
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
    (root / ".github" / "remote-auth").mkdir(parents=True)
    for remote in ("s3", "gs", "azure"):
        (root / ".github" / "remote-auth" / f"{remote}.yml").write_text(f"name: {remote}\n")
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
    auth = project / ".github" / "actions" / "remote-auth" / "action.yml"
    assert (auth.read_text() if auth.exists() else None) == (
        f"name: {remote}\n" if remote in ("s3", "gs", "azure") else None
    )
    assert not (project / ".github" / "remote-auth").exists()
    stored = json.loads((project / ".cookiecutter.json").read_text())
    assert stored == VALID | {
        "dvc_remote": remote,
        "license": "BSD-3-Clause",
        "_template": "gh:acme/mlops-template",
        "_checkout": None,
    }
    head = subprocess.run(["git", "symbolic-ref", "HEAD"], cwd=project, capture_output=True, text=True)
    assert head.stdout.strip() == "refs/heads/main"


@pytest.mark.parametrize(
    ("cron", "problem"),
    [
        ("0 6 * * 1", None),
        ("*/15 0-23/2 1,15 1-12 0-6", None),
        ("30 2 * * *", None),
        ("0 6 * *", "got 4 field(s)"),
        ("0 6 * * 1 2026", "got 6 field(s)"),
        ("60 6 * * 1", "minute field: '60' is outside 0-59 (allowed 0-59)"),
        ("0 24 * * 1", "hour field: '24' is outside 0-23"),
        ("0 6 0 * 1", "day of month field: '0' is outside 1-31"),
        ("0 6 * 13 1", "month field: '13' is outside 1-12"),
        ("0 6 * * 7", "day of week field: '7' is outside 0-6"),
        ("0 6 * * MON", "day of week field: 'MON' is not a number"),
        ("*/0 6 * * 1", "minute field: step '0' must be a positive number"),
        ("0 9-5 * * 1", "hour field: range '9-5' runs backwards"),
    ],
)
def test_cron_rules(cron: str, problem: str | None) -> None:
    found = answers._check_cron(cron)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found and "5-field cron" in found


def test_bad_cron_names_field_value_and_allowed() -> None:
    with pytest.raises(answers.InvalidAnswer) as error:
        answers.validate(VALID | {"monitor_cron": "0 25 * * 1"})
    assert error.value.field == "monitor_cron"
    message = str(error.value)
    assert message.startswith("Invalid answer for 'monitor_cron': '0 25 * * 1' is not allowed; allowed: a 5-field")
    assert "hour field: '25' is outside 0-23" in message and "\n" not in message


@pytest.mark.parametrize("hook", ["pre_gen_project.py", "post_gen_project.py"])
def test_hooks_render_with_the_absolute_template_root_under_cruft(hook: str) -> None:
    """cruft's context has no `_repo_dir`, `_output_dir` or `_checkout`: the hooks must not need them."""
    extensions = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text()).get("_extensions", [])
    cruft_answers = VALID | {"_template": "https://github.com/acme/mlops-template", "_commit": "0" * 40}
    context = {"cookiecutter": cruft_answers | {"_extensions": extensions}}
    env = create_env_with_context(context)
    source = env.from_string((TEMPLATE_DIR / "hooks" / hook).read_text()).render(**context)
    compile(source, hook, "exec")
    assert f"sys.path.insert(0, {json.dumps(str(TEMPLATE_DIR))})" in source
    assert Path(env.globals["template_root"]).is_absolute()
