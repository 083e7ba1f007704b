"""A project generated from an older release of the template updates to the current one with `cruft update`.

The older release is `v0.1.0` (commit OLD_RELEASE, CHANGELOG.md). Since then the template changed generated files
(the lock gained the DVC remote plugins, the Makefile, workflows, docs...). The project gets the edits a user makes
(a param, a module of their own, a workflow line), then `cruft update` to the current template: it applies without
conflicts, the files the user did not touch become exactly the current template's render, the user's edits stay,
and the updated project passes its own gates (lint, tests, `dvc repro`). Slow: it installs the project.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import bare_clone, commit, generate, git, run, template_history, tool

pytestmark = pytest.mark.slow

OLD_RELEASE = "4dcf074"
USER_PARAM = ("    n_estimators: 200\n", "    n_estimators: 150\n")
USER_WORKFLOW_LINE = ("    timeout-minutes: 30\n", "    timeout-minutes: 45\n")
USER_MODULE = "src/my_mlops_project/pipeline/user_features.py"
USER_FILES = {"params.yaml", ".github/workflows/ci.yml", USER_MODULE}


def cruft(cwd: Path, *args: str) -> None:
    result = subprocess.run([tool("cruft"), *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, f"cruft {' '.join(args)}:\n{result.stdout}\n{result.stderr}"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path.name} no longer has {old!r}: pick another user edit"
    path.write_text(text.replace(old, new, 1))


def files(project: Path) -> dict[str, bytes]:
    """The project's files; in the answers file, the answers only (where the template came from differs)."""
    found = {
        str(path.relative_to(project)): path.read_bytes()
        for path in project.rglob("*")
        if path.is_file() and path.relative_to(project).parts[0] not in {".git", ".venv"}
    }
    answers = json.loads(found[".cookiecutter.json"])
    found[".cookiecutter.json"] = json.dumps({k: v for k, v in answers.items() if not k.startswith("_")}).encode()
    return found


def test_cruft_update_from_v0_1_0_keeps_the_user_edits_and_the_gates_pass(tmp_path: Path) -> None:
    workdir = template_history(tmp_path, needs=OLD_RELEASE)
    url, current = bare_clone(workdir), git(workdir, "rev-parse", "HEAD").strip()
    projects = tmp_path / "projects"
    projects.mkdir()
    cruft(projects, "create", url, "--checkout", OLD_RELEASE, "--no-input")
    project = projects / "my-mlops-project"
    assert json.loads((project / ".cruft.json").read_text())["commit"].startswith(OLD_RELEASE)

    edit(project / "params.yaml", *USER_PARAM)
    edit(project / ".github/workflows/ci.yml", *USER_WORKFLOW_LINE)
    (project / USER_MODULE).write_text(
        '"""A feature of the user\'s own."""\n\n\ndef ratio(a: float, b: float) -> float:\n    return a / b\n'
    )
    commit(project, "the user's edits")
    before = files(project)

    cruft(project, "update", "--checkout", current, "--skip-apply-ask")
    after = files(project)
    assert not [name for name in after if name.endswith(".rej")], "cruft update left conflicts"
    assert json.loads((project / ".cruft.json").read_text())["commit"] == current
    assert USER_PARAM[1] in (project / "params.yaml").read_text()
    assert USER_WORKFLOW_LINE[1] in (project / ".github/workflows/ci.yml").read_text()
    assert after[USER_MODULE] == before[USER_MODULE]

    fresh = files(generate(tmp_path / "fresh", {}))
    untouched = (set(fresh) | set(after)) - USER_FILES - {".cruft.json"}
    differing = sorted(name for name in untouched if fresh.get(name) != after.get(name))
    assert not differing, f"files the user did not touch differ from the current template: {differing}"
    changed_by_update = sorted(name for name in untouched if before.get(name) != after.get(name))
    assert changed_by_update, "the update changed nothing: OLD_RELEASE must predate changes to generated files"
    print(f"\ncruft update from {OLD_RELEASE} changed {len(changed_by_update)} files: {changed_by_update}")

    commit(project, "update from the template")
    run(project, "make", "install", f"PYTHON={sys.executable}", "EXTRAS=train,serve,dev")
    run(project, "make", "lint")
    run(project, ".venv/bin/python", "-m", "pytest", "-q", "-m", "not slow", "-p", "no:cacheprovider")
    run(project, "make", "pipeline")
    assert "up to date" in run(project, ".venv/bin/dvc", "status").stdout
