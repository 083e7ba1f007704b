"""After generation: keep only the selected optional parts, write the answers file, start the git repo."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ANSWERS_FILE = ".cookiecutter.json"
# Private keys worth keeping: where the project came from, so that `cruft link`/`cruft update` can find it.
KEPT_PRIVATE_KEYS = ("_template", "_checkout")


@dataclass(frozen=True)
class Selection:
    """A folder of alternatives in the template: the answer picks one file, kept as `keep_as`; the folder goes."""

    folder: str
    question: str
    file_name: str  # the chosen file's name in the folder, with {answer} for the answer
    keep_as: str
    keep_none: tuple[str, ...] = ()  # the answers that keep no file at all


# What the hook prunes. tests/test_generation.py derives each configuration's exact file set from the template
# tree through this table (kept_path), so a new optional part is one row here.
SELECTIONS: tuple[Selection, ...] = (
    Selection(folder="licenses", question="license", file_name="{answer}", keep_as="LICENSE"),
    Selection(
        folder="docs/remotes",
        question="dvc_remote",
        file_name="{answer}.md",
        keep_as="docs/dvc-remote.md",
        keep_none=("none",),
    ),
    # How workflow jobs sign in to a cloud DVC remote (OIDC, else static keys); none for `none` and `local`.
    Selection(
        folder=".github/remote-auth",
        question="dvc_remote",
        file_name="{answer}.yml",
        keep_as=".github/actions/remote-auth/action.yml",
        keep_none=("none", "local"),
    ),
)
# Files the hook writes that the template does not hold (git init's .git/ is the repository, not a project file).
WRITTEN_FILES: tuple[str, ...] = (ANSWERS_FILE,)


def chosen_file(selection: Selection, context: Mapping[str, Any]) -> str | None:
    """The path (relative to the project) of the file the answer keeps, or None when it keeps none."""
    answer = context[selection.question]
    if answer in selection.keep_none:
        return None
    return f"{selection.folder}/{selection.file_name.format(answer=answer)}"


def kept_path(relative: str, context: Mapping[str, Any]) -> str | None:
    """Where a rendered template file ends up after this hook: its own path, `keep_as`, or None (pruned)."""
    for selection in SELECTIONS:
        if relative.startswith(f"{selection.folder}/"):
            return selection.keep_as if relative == chosen_file(selection, context) else None
    return relative


def apply_selection(project: Path, selection: Selection, context: Mapping[str, Any]) -> None:
    """Move the chosen file to `keep_as` (the licence text to LICENSE, the remote's guide to docs/dvc-remote.md)."""
    chosen = chosen_file(selection, context)
    if chosen is not None:
        (project / selection.keep_as).parent.mkdir(parents=True, exist_ok=True)
        shutil.move(project / chosen, project / selection.keep_as)
    shutil.rmtree(project / selection.folder)


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
    for selection in SELECTIONS:
        apply_selection(project, selection, context)
    write_answers(project, context)
    git_init(project)
    return 0
