"""Fast checks of the serving image's files in every configuration: hadolint, base image, build context."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import generate, tool

# A FROM line Dependabot's docker ecosystem can read and update: a literal image and tag, no ARG in it.
DEPENDABOT_FROM = re.compile(
    r"FROM (?P<image>[a-z0-9][a-z0-9._/-]*):(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})(?: AS \w+)?"
)


@pytest.fixture
def project(tmp_path: Path, configuration: tuple[str, dict[str, str]]) -> Path:
    return generate(tmp_path, configuration[1])


def test_dockerfile_is_hadolint_clean(project: Path, configuration: tuple[str, dict[str, str]]) -> None:
    result = subprocess.run(
        [tool("hadolint"), "--failure-threshold", "info", "Dockerfile"], cwd=project, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    text = (project / "Dockerfile").read_text()
    # Only the core and the serve extra, pinned by the lock: no training or dev packages in the image.
    assert '\nRUN /opt/venv/bin/pip install --constraint requirements-lock.txt ".[serve]" \\\n' in text
    assert "\nUSER 10001:10001\n" in text and "\nHEALTHCHECK " in text


def test_build_context_keeps_only_package_lock_and_model(project: Path) -> None:
    lines = [line for line in (project / ".dockerignore").read_text().splitlines() if not line.startswith("#")]
    assert lines[0] == "*"  # everything else (.git, .venv, data/, mlruns/, mlflow.db...) stays out
    assert {"!src/", "!requirements-lock.txt", "!models/model.joblib", "!models/metadata.json"} <= set(lines)
    assert {"!models/model_card.md", "!models/model_card.json"} <= set(lines)  # served at /model-card


def test_base_image_is_a_literal_dependabot_updates(project: Path, configuration: tuple[str, dict[str, str]]) -> None:
    """Dependabot reads only literal `FROM image:tag` lines (not `FROM ${ARG}`), in the folder it is given."""
    python = configuration[1].get("python_version", "3.11")
    dockerfiles = sorted(p for p in project.rglob("*") if p.is_file() and re.search(r"(Docker|Container)file", p.name))
    stack_server = project / "deploy" / "stack" / "mlflow" / "Dockerfile"  # the team stack's MLflow server
    assert dockerfiles == [project / "Dockerfile", stack_server]
    for dockerfile, stages in ((dockerfiles[0], 2), (stack_server, 1)):  # the serving image: builder and runtime
        froms = [line for line in dockerfile.read_text().splitlines() if line.upper().startswith("FROM")]
        assert len(froms) == stages
        for line in froms:
            match = DEPENDABOT_FROM.fullmatch(line)
            assert match, f"Dependabot cannot read {line!r}: write the base image as a literal image:tag"
            assert (match["image"], match["tag"]) == ("python", f"{python}-slim")
    updates = yaml.safe_load((project / ".github/dependabot.yml").read_text())["updates"]
    docker = next(u for u in updates if u["package-ecosystem"] == "docker")
    assert docker["directories"] == ["/", "/deploy/stack/mlflow"]
    compose = next(u for u in updates if u["package-ecosystem"] == "docker-compose")
    assert compose["directory"] == "/deploy/stack"
