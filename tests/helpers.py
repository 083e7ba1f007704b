"""Helpers shared by the template's tests: generate a project, run commands in it, find the dev tools.

Fixtures live in conftest.py; test modules import helpers from here, never from each other or from conftest.
"""

from __future__ import annotations

import fcntl
import hashlib
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

from actkit.podman import build_image

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


# What the tests' own launcher adds to the environment and a user's shell does not have: a virtualenv, an import
# path, and, under `make test`, the outer make's variables (a nested make then prints "Entering directory" lines
# and shares the outer jobserver).
NOT_IN_A_USERS_SHELL = {"VIRTUAL_ENV", "PYTHONPATH", "MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES"}


def users_environ() -> dict[str, str]:
    """This process's environment as a user's shell would have it (see NOT_IN_A_USERS_SHELL)."""
    return {key: value for key, value in os.environ.items() if key not in NOT_IN_A_USERS_SHELL}


def project_env(project: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment with the project's virtualenv first on PATH, a git identity, and `extra`."""
    env = users_environ()
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


def isolated_tool(name: str, requirements: Path) -> str:
    """A tool whose pins clash with requirements-dev.txt, from its own virtualenv under build/.

    The virtualenv is made once from `requirements` (every package pinned) and made again when that file changes;
    a lock keeps parallel test workers from building it twice.
    """
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:12]
    venv = TEMPLATE_DIR / "build" / f"{name}-venv-{digest}"
    installed = venv / ".installed"
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f"{name}-venv.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not installed.exists():
            shutil.rmtree(venv, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
            result = subprocess.run([*pip, "-r", str(requirements)], capture_output=True, text=True, check=False)
            if result.returncode != 0:
                pytest.fail(f"installing {requirements} into {venv} failed:\n{result.stderr[-3000:]}")
            installed.touch()
    return str(venv / "bin" / name)


def installed_project(folder: Path) -> Path:
    """The default project, installed with its default extras, its pipeline run and committed."""
    project = generate(folder)
    commit(project, "Generated from the template")
    run(project, "make", "install", f"PYTHON={sys.executable}")
    run(project, "make", "pipeline")
    commit(project, "Pipeline results")
    return project


def build_serving_image(project: Path, tag: str) -> str:
    """The project's serving image (its Dockerfile, its model), built with podman under `tag`."""
    metadata = json.loads((project / "models" / "metadata.json").read_text())
    head = run(project, "git", "rev-parse", "HEAD").stdout.strip()
    result = build_image(project, tag, {"MODEL_VERSION": metadata["model_version"], "REVISION": head})
    assert result.ok, result.output[-5000:]
    print(f"\nserving image built in {result.seconds:.0f} s")
    return tag


def git(cwd: Path, *args: str) -> str:
    """Run git in cwd (its output), failing the test with git's error."""
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"git {' '.join(args)} failed in {cwd}: {result.stderr}")
    return result.stdout


def template_history(root: Path, needs: str | None = None) -> Path:
    """A clone of the template's git history with, committed on top, its files as they are now (uncommitted
    changes included): what `cruft` sees as the hosted template. `needs`: a commit the history must hold."""
    workdir = root / "mlops-template"
    git(root, "clone", "--quiet", "--no-local", str(TEMPLATE_DIR), str(workdir))
    missing = needs and subprocess.run(["git", "cat-file", "-e", f"{needs}^{{commit}}"], cwd=workdir).returncode
    if missing:
        pytest.fail(f"commit {needs} is not in this clone's history: run `git fetch --unshallow` in the template")
    git(workdir, "rm", "-r", "--quiet", ".")
    listed = git(TEMPLATE_DIR, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    for name in filter(None, listed.split("\0")):
        if (TEMPLATE_DIR / name).is_file():
            (workdir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATE_DIR / name, workdir / name)
    git(workdir, "add", "-A")
    git(workdir, "-c", "user.name=Template Test", "-c", "user.email=test@example.com", "commit", "--quiet",
        "--allow-empty", "-m", "the template as it is now")  # fmt: skip
    return workdir


def bare_clone(workdir: Path) -> str:
    """A bare clone beside workdir (the hosted repository) and its file:// URL."""
    bare = workdir.with_name(f"{workdir.name}.git")
    shutil.rmtree(bare, ignore_errors=True)
    git(workdir.parent, "clone", "--quiet", "--bare", str(workdir), str(bare))
    return bare.as_uri()
