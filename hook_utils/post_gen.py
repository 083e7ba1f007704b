"""After generation: keep only the selected optional parts, write the answers file, start the git repo."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ANSWERS_FILE = ".cookiecutter.json"
# Private keys worth keeping: where the project came from, so that `cruft link`/`cruft update` can find it.
KEPT_PRIVATE_KEYS = ("_template", "_checkout")


def select_license(project: Path, license_name: str) -> None:
    """Move the chosen licence text to LICENSE and drop the others."""
    shutil.move(project / "licenses" / license_name, project / "LICENSE")
    shutil.rmtree(project / "licenses")


def select_remote_doc(project: Path, remote: str) -> None:
    """Keep the credentials guide of the chosen DVC remote as docs/dvc-remote.md."""
    guides = project / "docs" / "remotes"
    if remote != "none":
        shutil.move(guides / f"{remote}.md", project / "docs" / "dvc-remote.md")
    shutil.rmtree(guides)


def answers_for_file(context: Mapping[str, Any]) -> dict[str, Any]:
    """The answers a later `cookiecutter --replay`-style update needs, without machine-specific paths."""
    return {key: value for key, value in context.items() if not key.startswith("_") or key in KEPT_PRIVATE_KEYS}


def write_answers(project: Path, context: Mapping[str, Any]) -> None:
    text = json.dumps(answers_for_file(context), indent=2, sort_keys=True) + "\n"
    (project / ANSWERS_FILE).write_text(text, encoding="utf-8")


def git_init(project: Path) -> None:
    """DVC needs a git repository; the first commit is left to the user."""
    if shutil.which("git") is None:
        print("warning: git not found; run `git init -b main` before using DVC", file=sys.stderr)
        return
    subprocess.run(["git", "init", "--quiet", "-b", "main"], cwd=project, check=True)


def main(context: Mapping[str, Any], project: Path | None = None) -> int:
    project = project or Path.cwd()
    select_license(project, context["license"])
    select_remote_doc(project, context["dvc_remote"])
    write_answers(project, context)
    git_init(project)
    return 0
