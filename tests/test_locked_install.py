"""`make install` installs the lock with uv: the uv on PATH when there is one (CI's setup-uv), else the lock's uv,
bootstrapped into the virtualenv with its own pip (a fresh machine has only python3). Fast: `make -n` prints the
recipes without running them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers import generate, users_environ

MAKE = shutil.which("make") or "make"
LOCKED_INSTALL = (
    '{uv} pip install --quiet --python .venv/bin/python --constraint requirements-lock.txt --editable ".[train]"'
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("install"))


def locked_uv(project: Path) -> str:
    match = re.search(r"^uv==([^ ;\n]+)", (project / "requirements-lock.txt").read_text(), re.MULTILINE)
    assert match, "requirements-lock.txt pins no uv (it comes with the dev extra)"
    return match[1]


def dry_run_install(project: Path, path: str) -> list[str]:
    env = {**users_environ(), "PATH": path}
    env.pop("UV", None)
    result = subprocess.run(
        [MAKE, "-n", "install", "PYTHON=python3", "EXTRAS=train"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.splitlines()


def test_fresh_machine_bootstraps_the_locked_uv_with_pip(project: Path, tmp_path: Path) -> None:
    python_only = tmp_path / "bin"
    python_only.mkdir()
    for name in ("python3", "sed"):
        (python_only / name).symlink_to(shutil.which(name) or name)
    assert dry_run_install(project, str(python_only)) == [
        "python3 -m venv .venv",
        f'.venv/bin/python -m pip install --quiet "uv=={locked_uv(project)}"',
        LOCKED_INSTALL.format(uv=".venv/bin/uv"),
    ]


def test_uv_on_path_installs_without_bootstrapping(project: Path, tmp_path: Path) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "uv").write_text("#!/bin/sh\nexit 1\n")
    (tools / "uv").chmod(0o755)
    lines = dry_run_install(project, f"{tools}{os.pathsep}{os.environ['PATH']}")
    assert lines == ["python3 -m venv .venv", LOCKED_INSTALL.format(uv=tools / "uv")]
