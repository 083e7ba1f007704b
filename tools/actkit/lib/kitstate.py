"""Shared helpers for the act-kit stand-ins (stdlib only; imported via $ACT_KIT_HOME/lib).

Two places hold what stand-ins record:
- $ACT_KIT_OUT   (one workflow run): artifacts/, <record>.json lists (builds, logins, ...).
- $ACT_KIT_STATE (the fake GitHub repository, may outlive a run): github.json with issues,
  pull requests, labels and CML comments, sharing one number space like GitHub does.
"""

from __future__ import annotations

import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

DEFAULT_LABELS = [
    "bug",
    "documentation",
    "duplicate",
    "enhancement",
    "good first issue",
    "help wanted",
    "invalid",
    "question",
    "wontfix",
]


def out_dir() -> Path:
    path = Path(os.environ.get("ACT_KIT_OUT") or "/tmp/act-kit-out")
    path.mkdir(parents=True, exist_ok=True)
    return path


def state_dir() -> Path:
    path = Path(os.environ.get("ACT_KIT_STATE") or out_dir())
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextmanager
def locked_json(path: Path, default: Any) -> Iterator[Any]:
    """Load JSON from path under an exclusive lock, yield it, write it back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(path.suffix + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(path.read_text()) if path.exists() and path.stat().st_size else default
        yield data
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
        tmp.replace(path)


def append_record(name: str, record: dict[str, Any]) -> None:
    with locked_json(out_dir() / f"{name}.json", []) as data:
        data.append(record)


# The run's GITHUB_TOKEN (act.py passes its value as ACT_KIT_GITHUB_TOKEN) and the token GitHub gives
# instead to a run without Actions secrets (pull_request from a fork, Dependabot): read-only.
FAKE_TOKEN = "ghs_actkitfaketoken"
READONLY_TOKEN = "ghs_actkitreadonlytoken"
# GitHub's answer when GITHUB_TOKEN opens a PR while the repository setting "Allow GitHub Actions to create and
# approve pull requests" (API field can_approve_pull_request_reviews) is off, the default.
ACTIONS_PR_FORBIDDEN = "GitHub Actions is not permitted to create or approve pull requests."
FORBIDDEN_403 = "HTTP 403: Resource not accessible by integration"


def empty_github_state() -> dict[str, Any]:
    return {
        "next_number": 1,
        "issues": [],
        "prs": [],
        "comments": [],
        "labels": list(DEFAULT_LABELS),
        "strict_labels": True,
        "default_branch": "main",
        "branches": ["main"],
        "tags": [],
        "can_approve_pull_request_reviews": False,
    }


def token_kind(token: str | None) -> str:
    """'none', 'github_token' (the run's GITHUB_TOKEN), 'readonly' (no-secrets run) or 'other' (PAT, App)."""
    if not token:
        return "none"
    if token == READONLY_TOKEN:
        return "readonly"
    if token == (os.environ.get("ACT_KIT_GITHUB_TOKEN") or FAKE_TOKEN):
        return "github_token"
    return "other"


def pr_creation_refused(state: dict[str, Any], token: str | None) -> str | None:
    """Why GitHub would refuse to open a PR with this token (None: it opens it)."""
    kind = token_kind(token)
    if kind == "readonly":
        return FORBIDDEN_403
    if kind == "github_token" and not state.get("can_approve_pull_request_reviews", False):
        return ACTIONS_PR_FORBIDDEN
    return None


def pr_origin(token: str | None) -> dict[str, Any]:
    """A PR opened with GITHUB_TOKEN starts no workflow runs (GitHub's recursion guard); any other token does."""
    return {"token": token_kind(token), "triggers_workflows": token_kind(token) != "github_token"}


def github_state(directory: Path | None = None) -> Any:
    """Context manager over the fake repository state (issues, prs, labels, comments)."""
    return locked_json((directory or state_dir()) / "github.json", empty_github_state())


def inputs() -> dict[str, Any]:
    """Inputs of a composite stand-in, passed as KIT_INPUTS: ${{ toJSON(inputs) }}."""
    return json.loads(os.environ.get("KIT_INPUTS") or "{}")


def lines(value: str | None) -> list[str]:
    """Split a list input the way the toolkit's getMultilineInput/getList do (newlines, commas)."""
    result: list[str] = []
    for line in (value or "").splitlines():
        result += [p.strip() for p in line.split(",") if p.strip()] if "=" not in line else [line.strip()]
    return [r for r in result if r]


def set_output(name: str, value: str) -> None:
    with open(os.environ["GITHUB_OUTPUT"], "a") as fh:
        if "\n" in value:
            delim = f"ghadelim_{uuid.uuid4().hex}"
            fh.write(f"{name}<<{delim}\n{value}\n{delim}\n")
        else:
            fh.write(f"{name}={value}\n")


def repo() -> str:
    return os.environ.get("GITHUB_REPOSITORY") or "owner/repo"


def event() -> dict[str, Any]:
    path = os.environ.get("GITHUB_EVENT_PATH")
    return json.loads(Path(path).read_text()) if path and Path(path).exists() else {}
