"""Helpers shared by the template's tests: generate a project, run commands in it, find the dev tools.

Fixtures live in conftest.py; test modules import helpers from here, never from each other or from conftest.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parents[1]

# Every value of every choice question appears in at least one configuration (checked by a test).
# Interacting options (problem type x remote x tracking) are chosen, not multiplied; independent ones cycle.
CONFIGURATIONS: dict[str, dict[str, str]] = {
    "default": {},
    "regression-local-server": {
        "problem_type": "regression",
        "dvc_remote": "local",
        "mlflow_tracking": "server",
        "python_version": "3.12",
        "license": "Apache-2.0",
    },
    "classification-s3": {"dvc_remote": "s3", "python_version": "3.13", "license": "BSD-3-Clause"},
    "regression-gs": {"problem_type": "regression", "dvc_remote": "gs", "license": "Proprietary"},
    "classification-azure-server": {
        "dvc_remote": "azure",
        "mlflow_tracking": "server",
        "project_name": "Fraud Scores",
        "package_name": "fraud_core",
    },
}


def generate(output_dir: Path, extra: Mapping[str, Any] | None = None) -> Path:
    """Generate a project without prompts and return its folder."""
    return Path(
        cookiecutter(str(TEMPLATE_DIR), no_input=True, extra_context=dict(extra or {}), output_dir=str(output_dir))
    )


def project_env(project: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment with the project's virtualenv first on PATH, a git identity, and `extra`."""
    env = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env.update(
        {
            "PATH": f"{project / '.venv' / 'bin'}{os.pathsep}{env['PATH']}",
            "PYTHON": sys.executable,
            "GIT_AUTHOR_NAME": "Template Test",
            "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "Template Test",
            "GIT_COMMITTER_EMAIL": "test@example.com",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
            **(extra or {}),
        }
    )
    return env


def run(
    project: Path, *command: str, check: bool = True, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a command in the project (`env`: variables added); with check, a failure fails the test with its output."""
    result = subprocess.run(
        command, cwd=project, env=project_env(project, env), capture_output=True, text=True, check=False
    )
    if check and result.returncode != 0:
        output = f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
        pytest.fail(f"{' '.join(command)} exited {result.returncode}\n{output}")
    return result


def commit(project: Path, message: str) -> None:
    run(project, "git", "add", "-A")
    run(project, "git", "commit", "--quiet", "--no-verify", "-m", message)


def in_project_python(project: Path, code: str, env: Mapping[str, str] | None = None) -> Any:
    """Run code with the project's own interpreter (its MLflow, not ours); it prints one JSON value."""
    return json.loads(run(project, str(project / ".venv" / "bin" / "python"), "-c", code, env=env).stdout)


def tool(name: str) -> str:
    """Path of a dev tool installed beside this interpreter (requirements-dev.txt)."""
    path = shutil.which(name, path=str(Path(sys.executable).parent))
    assert path, f"{name} is not installed: make test installs it from requirements-dev.txt"
    return path
