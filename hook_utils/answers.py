"""Validation of the cookiecutter answers (run by hooks/pre_gen_project.py before anything is written)."""

from __future__ import annotations

import keyword
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

PYTHON_VERSIONS = ("3.11", "3.12", "3.13")
CHOICES: dict[str, tuple[str, ...]] = {
    "python_version": PYTHON_VERSIONS,
    "problem_type": ("classification", "regression"),
    "dvc_remote": ("none", "local", "s3", "gs", "azure"),
    "mlflow_tracking": ("local", "server"),
    "license": ("MIT", "Apache-2.0", "BSD-3-Clause", "Proprietary"),
}
# Packages the generated project imports: a package of the same name would shadow them.
SHADOWED_DEPENDENCIES = frozenset(
    {
        "dvc",
        "fastapi",
        "joblib",
        "matplotlib",
        "mlflow",
        "numpy",
        "pandas",
        "pandera",
        "pydantic",
        "scipy",
        "sklearn",
        "uvicorn",
        "yaml",
        "pytest",
        "hypothesis",
    }
)
REMOTE_SCHEMES = {"s3": "s3://", "gs": "gs://", "azure": "azure://"}

SLUG_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
PACKAGE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
GITHUB_OWNER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


class InvalidAnswer(ValueError):
    """An answer that cannot generate a working project."""

    def __init__(self, field: str, value: object, allowed: str) -> None:
        super().__init__(f"Invalid answer for {field!r}: {value!r} is not allowed; allowed: {allowed}.")
        self.field = field


def _check_project_name(value: str) -> str | None:
    if not value.strip() or "\n" in value or len(value) > 100:
        return "a non-empty single line of at most 100 characters"
    return None


def _check_slug(value: str) -> str | None:
    if not SLUG_RE.match(value):
        return (
            "lowercase letters and digits in words joined by single hyphens, starting with a letter (e.g. churn-model)"
        )
    return None


def _check_package(value: str) -> str | None:
    allowed = (
        "a lowercase Python identifier (letters, digits, underscores; starting with a letter) that is not "
        "a Python keyword, a standard-library module or a dependency of the project (e.g. churn_model)"
    )
    if not PACKAGE_RE.match(value) or keyword.iskeyword(value) or keyword.issoftkeyword(value):
        return allowed
    if value in sys.stdlib_module_names or value in SHADOWED_DEPENDENCIES:
        return allowed
    return None


def _check_email(value: str) -> str | None:
    return None if EMAIL_RE.match(value) else "an e-mail address of the form name@domain.tld"


def _check_github_owner(value: str) -> str | None:
    if GITHUB_OWNER_RE.match(value):
        return None
    return "a GitHub user or organisation name: 1-39 letters, digits or single hyphens, not starting with a hyphen"


def _check_single_line(value: str) -> str | None:
    return None if "\n" not in value and len(value) <= 300 else "a single line of at most 300 characters"


CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 6))
CRON_ALLOWED = (
    "a 5-field cron schedule 'minute hour day-of-month month day-of-week' (UTC) with numbers, *, ranges a-b, "
    "lists a,b and steps */n (e.g. 0 6 * * 1)"
)


def _cron_field_problem(field: str, low: int, high: int) -> str | None:
    """The problem with one cron field (numbers only: GitHub also takes names, kept out for clarity)."""
    for item in field.split(","):
        base, _, step = item.partition("/")
        if step and (not step.isdigit() or int(step) == 0):
            return f"step {step!r} must be a positive number"
        if base == "*":
            continue
        bounds = base.split("-")
        if len(bounds) > 2 or not all(b.isdigit() for b in bounds):
            return f"{item!r} is not a number, a range a-b or *"
        numbers = [int(b) for b in bounds]
        if any(n < low or n > high for n in numbers):
            return f"{item!r} is outside {low}-{high}"
        if len(numbers) == 2 and numbers[0] > numbers[1]:
            return f"range {item!r} runs backwards"
    return None


def _check_cron(value: str) -> str | None:
    fields = value.split()
    if len(fields) != len(CRON_FIELDS):
        return f"{CRON_ALLOWED}; got {len(fields)} field(s)"
    for text, (name, low, high) in zip(fields, CRON_FIELDS, strict=True):
        problem = _cron_field_problem(text, low, high)
        if problem:
            return f"{CRON_ALLOWED}; {name} field: {problem} (allowed {low}-{high})"
    return None


FIELD_CHECKS: dict[str, Callable[[str], str | None]] = {
    "project_name": _check_project_name,
    "project_slug": _check_slug,
    "package_name": _check_package,
    "description": _check_single_line,
    "author_name": _check_project_name,
    "author_email": _check_email,
    "github_owner": _check_github_owner,
    "monitor_cron": _check_cron,
}


def _check_remote_url(remote: str, url: str) -> str | None:
    if remote == "none":
        return None if not url else "empty when dvc_remote is 'none'"
    if remote == "local":
        return None if url and "://" not in url else "a filesystem path (absolute, or relative to the project)"
    scheme = REMOTE_SCHEMES[remote]
    if url.startswith(scheme) and len(url) > len(scheme):
        return None
    return f"a URL starting with {scheme} for dvc_remote {remote!r} (e.g. {scheme}my-bucket/dvc)"


def validate(answers: Mapping[str, Any]) -> None:
    """Raise InvalidAnswer for the first answer that cannot generate a working project."""
    for field, choices in CHOICES.items():
        value = answers[field]
        if value not in choices:
            raise InvalidAnswer(field, value, "one of " + ", ".join(choices))
    for field, check in FIELD_CHECKS.items():
        value = answers[field]
        problem = check(value) if isinstance(value, str) else "a text value"
        if problem:
            raise InvalidAnswer(field, value, problem)
    problem = _check_remote_url(answers["dvc_remote"], answers["dvc_remote_url"])
    if problem:
        raise InvalidAnswer("dvc_remote_url", answers["dvc_remote_url"], problem)


def main(answers: Mapping[str, Any]) -> int:
    """Hook entry point: one clear line on stderr and exit code 1 for a bad answer."""
    try:
        validate(answers)
    except InvalidAnswer as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    return 0
