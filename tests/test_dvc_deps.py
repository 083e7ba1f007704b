"""The generated project checks that each dvc.yaml stage's deps are the code it runs: its own
`tests/test_dvc_deps.py` holds that check (one copy, shipped to users). Here it runs in every configuration,
and it must fail, naming the stage and the file, when a needed dep line is deleted. Fast: generation only.

The generated test runs with the project's own conftest.py and pytest settings (its pyproject.toml), as a user
runs it; that conftest imports numpy, pandas and pyyaml, which requirements-dev.txt pins here too.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import CONFIGURATIONS, generate

GENERATED_TEST = "tests/test_dvc_deps.py"


def run_generated_check(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(project), GENERATED_TEST],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("configuration", sorted(CONFIGURATIONS))
def test_generated_dvc_deps_check_passes(tmp_path: Path, configuration: str) -> None:
    project = generate(tmp_path, CONFIGURATIONS[configuration])
    result = run_generated_check(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout


def test_generated_dvc_deps_check_names_a_deleted_dep(tmp_path: Path) -> None:
    answers = CONFIGURATIONS["classification-azure-server"]
    package = answers["package_name"]
    project = generate(tmp_path, answers)
    dvc_yaml = project / "dvc.yaml"
    lines = dvc_yaml.read_text(encoding="utf-8").splitlines(keepends=True)
    train = lines.index("  train:\n")
    needed = next(i for i in range(train, len(lines)) if lines[i] == f"      - src/{package}/pipeline/lineage.py\n")
    dvc_yaml.write_text("".join(lines[:needed] + lines[needed + 1 :]), encoding="utf-8")

    result = run_generated_check(project)

    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed" in result.stdout, result.stdout
    assert f"stage train: deps miss src/{package}/pipeline/lineage.py (imported by {package}.cli -> " in result.stdout
