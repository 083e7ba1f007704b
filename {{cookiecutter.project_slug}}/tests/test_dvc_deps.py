"""Each dvc.yaml stage lists in `deps` exactly the package code its command runs.

Why: DVC re-runs a stage only when one of its listed deps changed. A module the stage imports but does not
list leaves the stage "up to date" after you edit that module, and its outputs (the model, the metrics) stale.

How: for each stage, the code it runs is computed from the code itself: the module of its
`python -m <package>.<module>` and everything that module imports inside the package, directly or through
other modules, including the `__init__.py` files those imports execute and imports inside functions.

When it fails, each line names the stage and the file:
- "deps miss src/.../x.py (imported by a -> b -> x)": add that path to the stage's `deps` in dvc.yaml.
- "deps list src/.../y.py, which the stage does not run": remove it from the stage's `deps`.
- "dep ... does not exist": the file moved or was deleted; fix the path.
- "cannot follow an import": a module name computed at run time; import it by its literal name.
"""

from __future__ import annotations

import ast
import shlex
import textwrap
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from helpers import PROJECT_ROOT

ImportChain = tuple[str, ...]


@dataclass
class Closure:
    """The package files one entry module runs, each with the import chain that first reaches it."""

    files: dict[Path, ImportChain] = field(default_factory=dict)
    # Imports this check cannot follow (a computed module name): "file:line: source".
    unresolved: list[str] = field(default_factory=list)


def module_file(src_root: Path, name: str) -> Path | None:
    """The file Python runs for module `name`: `a/b.py`, or `a/b/__init__.py` for a package."""
    base = src_root.joinpath(*name.split("."))
    for candidate in (base.with_name(base.name + ".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node that can run, function bodies included; not the body of `if TYPE_CHECKING:`.

    That body never runs (TYPE_CHECKING is False at run time), so what it imports cannot change a stage's
    output; its `else:` branch does run and is kept.
    """
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and is_type_checking(node.test):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def is_dynamic_import(call: ast.Call) -> bool:
    func = call.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
    return name in {"import_module", "__import__"}


def imports_of(path: Path, module: str, package: str) -> tuple[list[str], list[str], list[str]]:
    """What running `path` (module `module`) imports inside `package`.

    Returns (required modules, modules imported only if they exist as files, unresolved imports): in
    `from X import y`, X must be a module while y is a submodule only when it has a file (else an attribute).
    """
    here = module if path.name == "__init__.py" else module.rpartition(".")[0]
    required: list[str] = []
    optional: list[str] = []
    unresolved: list[str] = []
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in runtime_nodes(tree):
        if isinstance(node, ast.Import):
            required += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = here.split(".")
                anchor = ".".join(parts[: len(parts) - node.level + 1])
                base = f"{anchor}.{node.module}" if node.module else anchor
            else:
                base = node.module or ""
            required.append(base)
            optional += [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Call) and is_dynamic_import(node):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value[:1] != ".":
                required.append(first.value)
            else:
                unresolved.append(f"{path}:{node.lineno}: {ast.unparse(node)}")

    def inside(names: list[str]) -> list[str]:
        return [name for name in names if name == package or name.startswith(package + ".")]

    return inside(required), inside(optional), unresolved


def import_closure(src_root: Path, entry: str) -> Closure:
    """The files `python -m <entry>` runs inside entry's top-level package, found by following imports.

    Importing `a.b.c` runs `a/__init__.py` and `a/b/__init__.py` first, so they are part of the closure;
    running a package with -m runs its `__init__.py` and `__main__.py`. Imports inside functions count (they
    run when the function is called).
    """
    package = entry.split(".", maxsplit=1)[0]
    closure = Closure()
    chains: dict[str, ImportChain] = {}
    queue: deque[str] = deque()

    def reach(name: str, via: ImportChain) -> bool:
        parts = name.split(".")
        for depth in range(1, len(parts) + 1):
            prefix = ".".join(parts[:depth])
            if prefix not in chains and module_file(src_root, prefix) is not None:
                chains[prefix] = (*via, prefix)
                queue.append(prefix)
        return module_file(src_root, name) is not None

    if not reach(entry, ()):
        closure.unresolved.append(f"{entry}: no module file under {src_root}")
        return closure
    entry_file = module_file(src_root, entry)
    if entry_file is not None and entry_file.name == "__init__.py":
        reach(f"{entry}.__main__", chains[entry])
    while queue:
        name = queue.popleft()
        path = module_file(src_root, name)
        assert path is not None
        closure.files[path] = chains[name]
        required, optional, unresolved = imports_of(path, name, package)
        closure.unresolved += unresolved
        for imported in required:
            if not reach(imported, chains[name]):
                closure.unresolved.append(f"{path}: imports {imported}, which has no file under {src_root}")
        for imported in optional:
            reach(imported, chains[name])
    return closure


def entry_modules(cmd: str | list[str]) -> list[tuple[str, str | None]]:
    """What a stage's `cmd` runs with `python -m <module> [command]`, in any of its commands."""
    modules = []
    for command in [cmd] if isinstance(cmd, str) else cmd:
        words = shlex.split(command)
        for index, word in enumerate(words[1:-1], start=1):
            if word == "-m" and PurePosixPath(words[index - 1]).name.startswith("python"):
                modules.append((words[index + 1], words[index + 2] if index + 2 < len(words) else None))
    return modules


def cli_command_module(cli_file: Path, package: str, command: str) -> str | None:
    """The module the CLI runs for `command`, from its literal `COMMANDS = {command: (module, ...)}` table."""
    for node in ast.parse(cli_file.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Dict):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if not any(isinstance(target, ast.Name) and target.id == "COMMANDS" for target in targets):
                continue
            for key, value in zip(node.value.keys, node.value.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == command and isinstance(value, ast.Tuple):
                    module = value.elts[0]
                    if isinstance(module, ast.Constant) and isinstance(module.value, str):
                        return f"{package}.{module.value}"
    return None


def package_root(project: Path, package: str) -> Path | None:
    """The folder holding `package` (src layout or flat)."""
    for root in (project / "src", project):
        if (root / package / "__init__.py").is_file():
            return root
    return None


def dep_path(entry: str | dict[str, Any]) -> str:
    return entry if isinstance(entry, str) else next(iter(entry))


def code_the_stage_runs(
    project: Path, name: str, entries: list[tuple[str, str | None]]
) -> tuple[dict[Path, ImportChain], set[Path], list[str]]:
    """The files the entry modules run, the package folders they live in, and what cannot be followed.

    `python -m <package>.cli <command>` runs the CLI and the module its COMMANDS table names for the command
    (the CLI imports it by a computed name, so that one import is followed through the table).
    """
    runs: dict[Path, ImportChain] = {}
    code_folders: set[Path] = set()
    problems: list[str] = []
    for entry, command in entries:
        package = entry.split(".", maxsplit=1)[0]
        src_root = package_root(project, package)
        if src_root is None:
            problems.append(f"stage {name}: cmd runs {entry}, whose package is in neither src/ nor {project}")
            continue
        code_folders.add((src_root / package).resolve())
        closure = import_closure(src_root, entry)
        cli_file = module_file(src_root, entry)
        target = cli_command_module(cli_file, package, command) if cli_file and command else None
        if target is not None:
            dispatch = str(cli_file)
            closure.unresolved = [item for item in closure.unresolved if not item.startswith(f"{dispatch}:")]
            command_closure = import_closure(src_root, target)
            for path, chain in command_closure.files.items():
                closure.files.setdefault(path, (*closure.files[cli_file], *chain))
            closure.unresolved += command_closure.unresolved
        problems += [f"stage {name}: cannot follow an import: {item}" for item in closure.unresolved]
        for path, chain in closure.files.items():
            runs.setdefault(path.resolve(), chain)
    return runs, code_folders, problems


def stage_problems(project: Path, name: str, stage: dict[str, Any]) -> list[str]:
    """What is wrong with one stage's code deps: files it runs that are not listed, code deps that do not
    exist or that the stage does not run (a folder dep counts every .py file under it). Empty when right."""
    cmd = stage.get("cmd")
    entries = entry_modules(cmd) if cmd else []
    if not entries:
        return [f"stage {name}: cmd {cmd!r} runs no `python -m <module>`; this check cannot find its code"]
    runs, code_folders, problems = code_the_stage_runs(project, name, entries)

    workdir = project / stage.get("wdir", ".")
    covered: set[Path] = set()
    for entry in stage.get("deps", []):
        dep = dep_path(entry)
        if "${" in dep:
            continue  # interpolated from params.yaml: a data path
        path = (workdir / dep).resolve()
        if not (dep.endswith(".py") or any(path.is_relative_to(folder) for folder in code_folders)):
            continue  # data or a model, not code
        if not path.exists():
            problems.append(f"stage {name}: dep {dep} does not exist")
        elif path.is_dir():
            covered |= {file.resolve() for file in path.rglob("*.py")}
        else:
            covered.add(path)

    def shown(path: Path) -> str:
        return path.relative_to(project.resolve()).as_posix()

    for path, chain in sorted(runs.items()):
        if path not in covered:
            problems.append(f"stage {name}: deps miss {shown(path)} (imported by {' -> '.join(chain)})")
    problems += [
        f"stage {name}: deps list {shown(path)}, which the stage does not run"
        for path in sorted(covered - runs.keys())
    ]
    return problems


def dvc_problems(project: Path) -> list[str]:
    """Every stage's problems, for the dvc.yaml in `project`."""
    stages = yaml.safe_load((project / "dvc.yaml").read_text(encoding="utf-8"))["stages"]
    return [problem for name, stage in stages.items() for problem in stage_problems(project, name, stage)]


def test_each_stage_lists_the_code_it_runs() -> None:
    problems = dvc_problems(PROJECT_ROOT)
    assert not problems, "dvc.yaml deps do not match the code the stages run:\n" + "\n".join(problems)


# The check itself, on a small package built for it: it must catch what it is for.
TOY_PACKAGE = {
    "toy/__init__.py": "VERSION = 1\n",
    "toy/stage.py": """
        from typing import TYPE_CHECKING
        import numpy
        import toy.absolute
        from . import sibling, VERSION
        from .helpers import tool, HELPER
        if TYPE_CHECKING:
            from . import typing_only
        else:
            from . import typing_else

        def main():
            from toy.late import value
            import importlib
            importlib.import_module("toy.plugin")
            return value
        """,
    "toy/absolute.py": "",
    "toy/sibling.py": "",
    "toy/typing_only.py": "",
    "toy/typing_else.py": "",
    "toy/late.py": "value = 1\n",
    "toy/plugin.py": "",
    "toy/unused.py": "",
    "toy/helpers/__init__.py": "HELPER = 2\n",
    "toy/helpers/tool.py": "from ..deep.leaf import leaf\n",
    "toy/deep/__init__.py": "",
    "toy/deep/leaf.py": "def leaf():\n    from .. import absolute\n",
    "toy/runner/__init__.py": "",
    "toy/runner/__main__.py": "from .. import late\n",
    "toy/dynamic.py": "import importlib\n\nimportlib.import_module(f'toy.{NAME}')\n",
}


@pytest.fixture
def toy_project(tmp_path: Path) -> Path:
    for name, text in TOY_PACKAGE.items():
        path = tmp_path / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def closure_names(project: Path, entry: str) -> dict[str, ImportChain]:
    closure = import_closure(project / "src", entry)
    return {path.relative_to(project / "src").as_posix(): chain for path, chain in closure.files.items()}


def test_closure_follows_every_kind_of_import(toy_project: Path) -> None:
    names = closure_names(toy_project, "toy.stage")
    assert set(names) == {
        "toy/__init__.py",
        "toy/stage.py",
        "toy/absolute.py",
        "toy/sibling.py",
        "toy/typing_else.py",
        "toy/late.py",
        "toy/plugin.py",
        "toy/helpers/__init__.py",
        "toy/helpers/tool.py",
        "toy/deep/__init__.py",
        "toy/deep/leaf.py",
    }
    assert names["toy/deep/leaf.py"] == ("toy.stage", "toy.helpers.tool", "toy.deep.leaf")
    assert import_closure(toy_project / "src", "toy.stage").unresolved == []


def test_closure_of_a_package_run_with_dash_m(toy_project: Path) -> None:
    names = closure_names(toy_project, "toy.runner")
    runner = {"toy/runner/__init__.py", "toy/runner/__main__.py"}
    assert set(names) == {"toy/__init__.py", *runner, "toy/late.py"}


def test_closure_reports_an_import_it_cannot_follow(toy_project: Path) -> None:
    (unresolved,) = import_closure(toy_project / "src", "toy.dynamic").unresolved
    assert "dynamic.py:3" in unresolved


def write_toy_stage(project: Path, deps: list[str]) -> list[str]:
    stage = {"cmd": "python -m toy.helpers.tool", "deps": deps}
    (project / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"tool": stage}}), encoding="utf-8")
    return dvc_problems(project)


def test_stage_check_catches_a_miss_a_stale_dep_and_extra_code(toy_project: Path) -> None:
    helpers = ["src/toy/helpers/__init__.py", "src/toy/helpers/tool.py"]
    complete = ["src/toy/__init__.py", *helpers, "src/toy/deep", "src/toy/absolute.py"]
    assert write_toy_stage(toy_project, [*complete, "data/raw.csv", "${data.path}"]) == []

    problems = write_toy_stage(toy_project, [dep for dep in complete if dep != "src/toy/absolute.py"])
    assert problems == [
        "stage tool: deps miss src/toy/absolute.py"
        " (imported by toy.helpers.tool -> toy.deep.leaf -> toy.absolute)"
    ]
    problems = write_toy_stage(toy_project, [*complete, "src/toy/gone.py", "src/toy/unused.py"])
    assert problems == [
        "stage tool: dep src/toy/gone.py does not exist",
        "stage tool: deps list src/toy/unused.py, which the stage does not run",
    ]
    problems = write_toy_stage(toy_project, [*complete[:-2], "src/toy"])  # a folder dep holding code not run
    assert "stage tool: deps list src/toy/stage.py, which the stage does not run" in problems


def test_stage_without_python_dash_m_is_reported(toy_project: Path) -> None:
    stages = {"stages": {"s": {"cmd": "bash run.sh"}}}
    (toy_project / "dvc.yaml").write_text(yaml.safe_dump(stages), encoding="utf-8")
    assert dvc_problems(toy_project) == [
        "stage s: cmd 'bash run.sh' runs no `python -m <module>`; this check cannot find its code"
    ]
