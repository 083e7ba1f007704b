"""Static checks of every workflow: actionlint, zizmor, the GitHub workflow schema, pins and hygiene."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.action_pins import PINS
from tests.helpers import TEMPLATE_DIR, generate, tool

USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<action>[^@\s]+)@(?P<ref>\S+)(?:\s+#\s*(?P<tag>\S+))?\s*$")


@pytest.fixture
def project(tmp_path: Path, configuration: tuple[str, dict[str, str]]) -> Path:
    return generate(tmp_path, configuration[1])


def workflow_files(root: Path) -> list[Path]:
    return sorted((root / ".github" / "workflows").glob("*.yml"))


def check_pins_and_hygiene(workflow: Path) -> None:
    text = workflow.read_text()
    for line in text.splitlines():
        match = USES.match(line)
        if match:
            sha, tag = PINS.get(match["action"], (None, None))
            assert (match["ref"], match["tag"]) == (sha, tag), f"{workflow.name}: unpinned or unknown {line.strip()}"
    document = yaml.safe_load(text)
    assert document["permissions"] == {}, f"{workflow.name}: workflow-level permissions must be empty"
    for name, job in document["jobs"].items():
        assert "timeout-minutes" in job, f"{workflow.name}:{name} has no timeout"
        assert "permissions" in job, f"{workflow.name}:{name} does not declare its permissions"
        for step in job.get("steps", []):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, f"{workflow.name}:{name} keeps credentials"
    if "pull_request" in document[True]:  # yaml reads `on:` as True
        assert "cancel-in-progress" in document["concurrency"], f"{workflow.name}: PR runs must cancel old ones"


def run_checks(root: Path) -> None:
    workflows = workflow_files(root)
    assert workflows
    for workflow in workflows:
        check_pins_and_hygiene(workflow)
    lint = subprocess.run([tool("actionlint"), *map(str, workflows)], cwd=root, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    audit = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", ".github/workflows"], cwd=root, capture_output=True, text=True
    )
    assert audit.returncode == 0 and "No findings" in audit.stdout, audit.stdout + audit.stderr
    schema = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, workflows)],
        capture_output=True,
        text=True,
    )
    assert schema.returncode == 0, schema.stdout + schema.stderr
    dependabot = root / ".github" / "dependabot.yml"
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.dependabot", str(dependabot)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    ecosystems = {update["package-ecosystem"] for update in yaml.safe_load(dependabot.read_text())["updates"]}
    assert {"github-actions", "pip"} <= ecosystems


def test_generated_workflows(project: Path) -> None:
    run_checks(project)


def test_template_repository_workflows() -> None:
    run_checks(TEMPLATE_DIR)
