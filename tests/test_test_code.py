"""Test code is code: shared helpers live in helpers modules, so no test module imports another or conftest.

Checked in the template's tests, the act kit's tests and a generated project's tests.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.helpers import TEMPLATE_DIR, generate

TEMPLATE_TREES = {
    "template": TEMPLATE_DIR / "tests",
    "actkit": TEMPLATE_DIR / "tools" / "actkit" / "tests",
}


def imported_modules(source: str) -> list[str]:
    """Every module an import statement names (`from . import x` names `.x`)."""
    modules: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = "." * node.level + (node.module or "")
            if node.module:
                modules.append(base)
            else:
                modules += [base + alias.name for alias in node.names]
    return modules


def forbidden_imports(source: str) -> list[str]:
    """The imports of a test module or conftest among these modules' imports."""
    names = [module.rsplit(".", 1)[-1] for module in imported_modules(source)]
    return [name for name in names if name.startswith("test_") or name == "conftest"]


def offenders(tests_dir: Path) -> dict[str, list[str]]:
    found = {
        str(path.relative_to(tests_dir)): forbidden_imports(path.read_text(encoding="utf-8"))
        for path in tests_dir.rglob("*.py")
    }
    return {name: imports for name, imports in found.items() if imports}


def test_the_check_finds_test_module_and_conftest_imports() -> None:
    source = "import conftest\nfrom tests.test_generated_project import run\nfrom . import test_kit, helpers\n"
    source += "from tests.helpers import generate\nimport serve_bundles\n"
    assert forbidden_imports(source) == ["conftest", "test_generated_project", "test_kit"]


@pytest.mark.parametrize("tree", sorted(TEMPLATE_TREES))
def test_template_test_modules_import_no_test_module(tree: str) -> None:
    assert offenders(TEMPLATE_TREES[tree]) == {}


def test_generated_test_modules_import_no_test_module(tmp_path: Path) -> None:
    tests_dir = generate(tmp_path) / "tests"
    assert sorted(path.name for path in tests_dir.glob("test_*.py"))
    assert offenders(tests_dir) == {}
