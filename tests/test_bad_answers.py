"""Bad answers stop generation with one clear line and leave nothing behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import TEMPLATE_DIR

BAD_ANSWERS = [
    ("project_slug", "My Project", "lowercase letters and digits in words joined by single hyphens"),
    ("project_slug", "churn--model", "lowercase letters and digits in words joined by single hyphens"),
    ("package_name", "class", "not a Python keyword"),
    ("package_name", "json", "a standard-library module"),
    ("package_name", "mlflow", "a dependency of the project"),
    ("package_name", "churn-model", "a lowercase Python identifier"),
    ("author_email", "ada.example.com", "an e-mail address of the form name@domain.tld"),
    ("github_owner", "-team", "a GitHub user or organisation name"),
    ("project_name", "A" * 120, "a non-empty single line of at most 100 characters"),
    ("description", "x" * 400, "a single line of at most 300 characters"),
    ("monitor_cron", "0 6 * * 8", "day of week field: '8' is outside 0-6"),
    ("monitor_cron", "daily", "a 5-field cron schedule"),
]
# Choice questions are checked by cookiecutter itself before any hook runs (and again by the hook, for
# contexts that bypass it, e.g. a replayed answers file): its last line names question, value and choices.
BAD_CHOICES = [
    ("python_version", "3.10", "['3.11', '3.12', '3.13']"),
    ("problem_type", "clustering", "['classification', 'regression']"),
    ("dvc_remote", "hdfs", "['none', 'local', 's3', 'gs', 'azure']"),
    ("mlflow_tracking", "databricks", "['local', 'server']"),
    ("license", "GPL-3.0", "['MIT', 'Apache-2.0', 'BSD-3-Clause', 'Proprietary']"),
]


def run_cookiecutter(output_dir: Path, *answers: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            str(TEMPLATE_DIR),
            *answers,
            "--output-dir",
            str(output_dir),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(("question", "value", "allowed"), BAD_ANSWERS, ids=[f"{q}={v!r}" for q, v, _ in BAD_ANSWERS])
def test_bad_answer_is_rejected_with_one_clear_line(tmp_path: Path, question: str, value: str, allowed: str) -> None:
    result = run_cookiecutter(tmp_path, f"{question}={value}")
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: Invalid answer")]
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"ERROR: Invalid answer for {question!r}: {value!r} is not allowed; allowed: ")
    assert allowed in errors[0]
    assert list(tmp_path.iterdir()) == [], "a half-made project was left behind"


def test_remote_url_must_match_the_remote(tmp_path: Path) -> None:
    result = run_cookiecutter(tmp_path, "dvc_remote=s3", "dvc_remote_url=gs://bucket/dvc")
    assert result.returncode != 0
    assert (
        "ERROR: Invalid answer for 'dvc_remote_url': 'gs://bucket/dvc' is not allowed; allowed: a URL "
        "starting with s3:// for dvc_remote 's3' (e.g. s3://my-bucket/dvc)."
    ) in result.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("question", "value", "choices"), BAD_CHOICES, ids=[q for q, _, _ in BAD_CHOICES])
def test_bad_choice_is_rejected_before_generation(tmp_path: Path, question: str, value: str, choices: str) -> None:
    result = run_cookiecutter(tmp_path, f"{question}={value}")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f"ValueError: {value} provided for choice variable {question}, but the choices are {choices}."
    )
    assert list(tmp_path.iterdir()) == []
