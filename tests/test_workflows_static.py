"""Static checks of every workflow and local composite action: actionlint, zizmor, the GitHub schemas, pins and
hygiene."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.action_pins import PINS
from tests.helpers import TEMPLATE_DIR, generate, tool

USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<action>[^@\s]+)@(?P<ref>\S+)(?:\s+#\s*(?P<tag>\S+))?\s*$")
SETUP_ACTION = "./.github/actions/setup"


@pytest.fixture
def project(tmp_path: Path, configuration: tuple[str, dict[str, str]]) -> Path:
    return generate(tmp_path, configuration[1])


def workflow_files(root: Path) -> list[Path]:
    return sorted((root / ".github" / "workflows").glob("*.yml"))


def action_files(root: Path) -> list[Path]:
    return sorted((root / ".github" / "actions").glob("*/action.yml"))


def check_pins(path: Path) -> None:
    for line in path.read_text().splitlines():
        match = USES.match(line)
        if match:
            sha, tag = PINS.get(match["action"], (None, None))
            assert (match["ref"], match["tag"]) == (sha, tag), f"{path}: unpinned or unknown {line.strip()}"


def check_pins_and_hygiene(workflow: Path) -> None:
    check_pins(workflow)
    document = yaml.safe_load(workflow.read_text())
    assert document["permissions"] == {}, f"{workflow.name}: workflow-level permissions must be empty"
    for name, job in document["jobs"].items():
        assert "timeout-minutes" in job, f"{workflow.name}:{name} has no timeout"
        assert "permissions" in job, f"{workflow.name}:{name} does not declare its permissions"
        checked_out = False
        for step in job.get("steps", []):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, f"{workflow.name}:{name} keeps credentials"
                checked_out = True
            if step.get("uses", "").startswith("./"):  # a local action is read from the checked-out workspace
                assert checked_out, f"{workflow.name}:{name} uses {step['uses']} before checkout"
    if "pull_request" in document[True]:  # yaml reads `on:` as True
        assert "cancel-in-progress" in document["concurrency"], f"{workflow.name}: PR runs must cancel old ones"


def check_composite_action(action: Path) -> None:
    """Pinned like the workflows, every input described, and `shell: bash` on every run step (composite actions
    have no default shell)."""
    check_pins(action)
    document = yaml.safe_load(action.read_text())
    assert document["description"], f"{action}: no description"
    for name, spec in document.get("inputs", {}).items():
        assert spec.get("description"), f"{action}: input {name} is not described"
    assert document["runs"]["using"] == "composite", action
    for step in document["runs"]["steps"]:
        if "run" in step:
            assert step.get("shell") == "bash", f"{action}: {step.get('name', step['run'])} has no shell: bash"


def check_schema(schema: str, files: list[Path]) -> None:
    result = subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", schema, *map(str, files)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def run_checks(root: Path) -> None:
    """actionlint reads workflows only; zizmor and the schema check also read the local composite actions."""
    workflows = workflow_files(root)
    actions = action_files(root)
    assert workflows
    for workflow in workflows:
        check_pins_and_hygiene(workflow)
    for action in actions:
        check_composite_action(action)
    lint = subprocess.run([tool("actionlint"), *map(str, workflows)], cwd=root, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    audited = [".github/workflows"] + ([".github/actions"] if actions else [])
    audit = subprocess.run(
        [tool("zizmor"), "--offline", "--no-progress", *audited], cwd=root, capture_output=True, text=True
    )
    assert audit.returncode == 0 and "No findings" in audit.stdout, audit.stdout + audit.stderr
    for action in actions:
        assert f"completed {action.relative_to(root)}" in audit.stderr, f"zizmor did not audit {action}"
    check_schema("vendor.github-workflows", workflows)
    if actions:
        check_schema("vendor.github-actions", actions)
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


def test_every_job_that_installs_the_project_uses_the_setup_action(
    project: Path, configuration: tuple[str, dict[str, str]]
) -> None:
    """Python and the locked install are written once, in the composite action; jobs call it after checkout."""
    [action] = [path for path in action_files(project) if path.parent.name == "setup"]
    document = yaml.safe_load(action.read_text())
    assert document["inputs"]["python-version"]["default"] == configuration[1].get("python_version", "3.11")
    steps = document["runs"]["steps"]
    uses = [step.get("uses", "").split("@")[0] for step in steps]
    assert uses == ["actions/setup-python", "", "astral-sh/setup-uv", ""]
    # uv at the lock's version, its wheel cache restored and saved under a key that changes with the lock and
    # with the extras (a job installing fewer must not save a thinner cache under a fuller job's key).
    assert steps[2]["with"] == {
        "version-file": "requirements-lock.txt",
        "enable-cache": True,
        "cache-dependency-glob": "requirements-lock.txt",
        "cache-suffix": "${{ steps.cache-suffix.outputs.suffix }}",
    }
    suffix = subprocess.run(
        ["bash", "-c", steps[1]["run"]],
        env={"INSTALL_EXTRAS": "train,serve", "GITHUB_OUTPUT": "/dev/stdout", "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert steps[1]["id"] == "cache-suffix" and suffix == "suffix=extras-train-serve\n"
    assert steps[3]["run"].startswith("make install PYTHON=python ")
    users = set()
    for workflow in workflow_files(project):
        for name, job in yaml.safe_load(workflow.read_text())["jobs"].items():
            for step in job.get("steps", []):
                assert not step.get("uses", "").startswith("actions/setup-python@"), f"{workflow.name}:{name}"
                assert "make install" not in step.get("run", ""), f"{workflow.name}:{name} installs on its own"
                if step.get("uses") == SETUP_ACTION:
                    users.add(f"{workflow.stem}:{name}")
    expected = {
        "ci:checks",
        "deploy:gate",
        "experiment:experiment",
        "lock-refresh:refresh",
        "monitor:monitor",
        "retrain:retrain",
        "score:score",
        "template-update:update",
    }
    expected |= {"deploy:card", "deploy:staging", "deploy:production"}
    if configuration[1].get("mlflow_tracking") == "server":
        expected.add("deploy:register")
    assert users == expected


def test_template_repository_workflows() -> None:
    run_checks(TEMPLATE_DIR)


def steps_of(project: Path, workflow: str, job: str) -> dict[str, dict]:
    document = yaml.safe_load((project / ".github" / "workflows" / workflow).read_text())
    return {step.get("name", step.get("uses", "")): step for step in document["jobs"][job]["steps"]}


def test_gate_steps_act_on_the_verdict_in_its_mode(project: Path) -> None:
    """Only an enforced failure fails a check; a warned one is annotated as a warning (gate_mode.py)."""
    experiment = steps_of(project, "experiment.yml", "experiment")
    assert "jq -r .outcome reports/experiment/gate.json" in experiment["Build the report against the base"]["run"]
    enforced = experiment["Regression gate"]
    assert enforced["if"] == "steps.report.outputs.gate == 'failed'" and "exit 1" in enforced["run"]
    warned = experiment["Regression gate in warn mode (reported, not blocking)"]
    assert warned["if"] == "steps.report.outputs.gate == 'warned'"
    assert "annotate warning" in warned["run"] and "exit" not in warned["run"]
    deploy = steps_of(project, "deploy.yml", "gate")["Deploy gate (promotion bounds and not worse than production)"]
    assert 'annotate warning --title "Deploy gate" --file gate-error.txt' in deploy["run"]
    monitor = steps_of(project, "monitor.yml", "monitor")
    names = list(monitor)
    restore = monitor["Restore the alert window (the recent verdicts on this branch)"]
    save = monitor["Save the alert window"]
    assert names.index(restore["name"]) < names.index("Run the monitor") < names.index(save["name"])
    assert restore["uses"].startswith("actions/cache/restore@") and save["uses"].startswith("actions/cache/save@")
    assert save["if"] == "always()" and save["with"] == {"path": restore["with"]["path"], "key": restore["with"]["key"]}
    # cache entries are immutable: a new key per run attempt, the newest of the branch restored by prefix
    assert restore["with"]["key"].startswith(restore["with"]["restore-keys"])
    assert "github.run_id" in restore["with"]["key"] and "github.run_attempt" in restore["with"]["key"]
    assert 'annotate warning --title "Drift alert"' in monitor["Run the monitor"]["run"]
