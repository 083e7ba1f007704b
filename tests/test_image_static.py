"""Fast checks of the serving image's files in every configuration: hadolint, base image, build context."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import generate
from tests.test_workflows_static import tool


@pytest.fixture
def project(tmp_path: Path, configuration: tuple[str, dict[str, str]]) -> Path:
    return generate(tmp_path, configuration[1])


def test_dockerfile_is_hadolint_clean(project: Path, configuration: tuple[str, dict[str, str]]) -> None:
    result = subprocess.run(
        [tool("hadolint"), "--failure-threshold", "info", "Dockerfile"], cwd=project, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = (project / "Dockerfile").read_text()
    python = configuration[1].get("python_version", "3.11")
    assert f"ARG BASE_IMAGE=python:{python}-slim\n" in text
    assert text.count("FROM ${BASE_IMAGE}") == 2  # builder + runtime, both from the same base
    # Only the core and the serve extra, pinned by the lock: no training or dev packages in the image.
    assert '\nRUN /opt/venv/bin/pip install --constraint requirements-lock.txt ".[serve]" \\\n' in text
    assert "\nUSER 10001:10001\n" in text and "\nHEALTHCHECK " in text


def test_build_context_keeps_only_package_lock_and_model(project: Path) -> None:
    lines = [line for line in (project / ".dockerignore").read_text().splitlines() if not line.startswith("#")]
    assert lines[0] == "*"  # everything else (.git, .venv, data/, mlruns/, mlflow.db...) stays out
    assert {"!src/", "!requirements-lock.txt", "!models/model.joblib", "!models/metadata.json"} <= set(lines)
