"""The generated project a benchmark measures: run in its folder, with its virtualenv's interpreter.

The benchmarks live in the template repository (they are evidence for the template, not part of every project)
and import the project's package, so they run with the project's own interpreter: `enter` re-runs the script
under `<project>/.venv/bin/python` when another one started it, then works in the project's folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def virtualenv_python(project: Path) -> Path:
    return project / ".venv" / "bin" / "python"


def enter(project: Path) -> None:
    """Continue this script in the project's virtualenv (exec, same arguments), in the project's folder."""
    python = virtualenv_python(project)
    if not python.exists():
        sys.exit(f"{python} not found: {project} must be a generated project set up with `make setup`")
    if Path(sys.prefix).resolve() != (project / ".venv").resolve():
        os.execv(python, [str(python), *sys.argv])
    os.chdir(project)


def package_name(project: Path) -> str:
    """The project's package: the one folder of src/ that is a Python package."""
    return next(path.parent.name for path in (project / "src").glob("*/__init__.py"))
