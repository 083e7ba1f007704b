"""The shared vocabulary at the package root imports nothing from the phase packages.

The root modules (config, contracts, errors, cli, metric_rules, estimators) sit underneath the lifecycle
phases (pipeline/, gates/, serve/, monitor/, github/): every phase may import them, they never import a
phase, so no arrow points back up and a phase can be read, tested or removed on its own. The CLI reaches the
phases by module name through its COMMANDS table, at run time, not through an import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import {{ cookiecutter.package_name }} as package

PACKAGE_DIR = Path(package.__file__).parent
PHASES = sorted(path.parent.name for path in PACKAGE_DIR.glob("*/__init__.py"))
ROOT_MODULES = sorted(PACKAGE_DIR.glob("*.py"))


def imported_top_names(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, first name inside the package) of every import of the package, anywhere in the module."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [node.module] if node.module else [alias.name for alias in node.names]
            found += [(node.lineno, f"{package.__name__}.{name}") for name in names]
    prefix = f"{package.__name__}."
    return [
        (line, name.removeprefix(prefix).split(".")[0]) for line, name in found if name.startswith(prefix)
    ]


def phase_imports(source: str) -> list[str]:
    return [f"line {line}: {name}" for line, name in imported_top_names(ast.parse(source)) if name in PHASES]


def test_the_package_has_phases_and_root_modules() -> None:
    assert {"pipeline", "gates", "serve", "monitor"} <= set(PHASES)
    assert {"config.py", "errors.py", "cli.py"} <= {path.name for path in ROOT_MODULES}


@pytest.mark.parametrize("module", ROOT_MODULES, ids=lambda path: path.name)
def test_root_module_imports_no_phase(module: Path) -> None:
    assert phase_imports(module.read_text(encoding="utf-8")) == [], f"{module.name} imports a phase package"


@pytest.mark.parametrize(
    "source",
    [
        "from .pipeline.metrics import METRIC_NAMES",
        "from . import monitor",
        f"import {package.__name__}.gates.report",
        f"from {package.__name__}.serve import app",
        "def later():\n    from .monitor import drift\n",
    ],
)
def test_the_check_sees_every_form_of_import(source: str) -> None:
    assert phase_imports(source)


def test_the_check_lets_root_and_outside_imports_through() -> None:
    assert (
        phase_imports("from .errors import UserError\nfrom . import config\nimport numpy\nimport pipeline")
        == []
    )
