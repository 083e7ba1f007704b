"""Benchmark: a generated project's locked install with warm caches, pip (the old `make install`) vs uv (today's).

Not a test. `make bench-install` in the template, or `python benchmarks/install_pip_vs_uv.py [PROJECT]
[--extras train,serve,dev] [--repeat 2]`. Without PROJECT, a default project is generated into a temporary folder.
Both sides install the same requirements-lock.txt with the same extras into a fresh virtualenv made by the same
python, each with its own cache folder under the work folder, warmed by one unmeasured install first; then the
measured installs alternate pip, uv, pip, uv... Each side's time is the whole recipe: virtualenv, bootstrap
(pip's self-upgrade / the lock's uv), install. The uv side is the project's own `make install` (which uses the uv
on PATH when there is one, else bootstraps the lock's). pip and uv read no configuration files (PIP_CONFIG_FILE
= /dev/null, UV_NO_CONFIG) and no PIP_*/UV_* variables of the caller: both use PyPI. Needs network to PyPI the
first time (the warm-up); the two venvs must end up with the same packages at the same versions, checked.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parents[1]


def isolated_env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_")) and k != "VIRTUAL_ENV"}
    env.update(
        {
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PIP_CACHE_DIR": str(work / "pip-cache"),
            "UV_NO_CONFIG": "1",
            "UV_CACHE_DIR": str(work / "uv-cache"),
        }
    )
    return env


def pip_commands(python: str, venv: Path, extras: str) -> list[list[str]]:
    """The `make install` recipe before uv (the template's main until this change)."""
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    return [
        [python, "-m", "venv", str(venv)],
        [*pip, "--upgrade", "pip"],
        [*pip, "--constraint", "requirements-lock.txt", "--editable", f".[{extras}]"],
    ]


def uv_commands(python: str, venv: Path, extras: str) -> list[list[str]]:
    return [["make", "--silent", "install", f"PYTHON={python}", f"VENV={venv}", f"EXTRAS={extras}"]]


def timed(commands: Sequence[Sequence[str]], project: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    for command in commands:
        subprocess.run(command, cwd=project, env=env, check=True)
    return time.perf_counter() - started


def installed(venv: Path, env: dict[str, str]) -> list[str]:
    """Name==version of every distribution in the venv (stdlib only, the same reader for both sides)."""
    code = (
        "import importlib.metadata as m; "
        "print('\\n'.join(sorted(f'{d.name.lower()}=={d.version}' for d in m.distributions())))"
    )
    listed = subprocess.run([str(venv / "bin" / "python"), "-c", code], env=env, capture_output=True, text=True)
    return [line for line in listed.stdout.splitlines() if not line.startswith(("pip==", "setuptools=="))]


def fresh(venv: Path) -> Path:
    shutil.rmtree(venv, ignore_errors=True)
    return venv


def shown(commands: Sequence[Sequence[str]]) -> str:
    return " && ".join(" ".join(command) for command in commands)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=Path, help="a generated project (default: generate one)")
    parser.add_argument("--extras", default="train,serve,dev")
    parser.add_argument("--repeat", type=int, default=1, help="measured installs per side, after the warm-up")
    parser.add_argument("--python", default=sys.executable, help="the python that makes the virtualenvs")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-install-"))
    try:
        project = (
            args.project.resolve()
            if args.project
            else Path(cookiecutter(str(TEMPLATE_DIR), no_input=True, output_dir=str(work)))
        )
        env = isolated_env(work)
        sides = {"pip": pip_commands, "uv": uv_commands}
        times: dict[str, list[float]] = {name: [] for name in sides}
        for name, commands in sides.items():
            print(f"warming {name}'s cache ...", flush=True)
            timed(commands(args.python, fresh(work / f"venv-{name}"), args.extras), project, env)
        for _ in range(args.repeat):
            for name, commands in sides.items():
                times[name].append(
                    timed(commands(args.python, fresh(work / f"venv-{name}"), args.extras), project, env)
                )
        pip_set, uv_set = (installed(work / f"venv-{name}", env) for name in sides)
        if pip_set != uv_set:
            only_pip, only_uv = sorted(set(pip_set) - set(uv_set)), sorted(set(uv_set) - set(pip_set))
            sys.exit(f"the two installs differ: only pip {only_pip}, only uv {only_uv}")
        pip_s, uv_s = (statistics.median(times[name]) for name in sides)
        print(f"\nproject {project} (requirements-lock.txt, extras {args.extras}), python {args.python}")
        print(f"both sides: {len(uv_set)} distributions at the same versions; warm caches; median of {args.repeat}")
        for name, commands in sides.items():
            runs = ", ".join(f"{t:.1f}" for t in times[name])
            command = shown(commands(args.python, Path("VENV"), args.extras))
            print(f"  {name:3} {statistics.median(times[name]):6.1f} s  ({runs})  $ {command}")
        recipe = subprocess.run(
            ["make", "-n", "install", f"PYTHON={args.python}", "VENV=VENV", f"EXTRAS={args.extras}"],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        print("      where make install runs: " + " && ".join(recipe.stdout.splitlines()))
        print(f"ratio uv/pip: {uv_s / pip_s:.2f}x (target <= 0.30x); uv is {pip_s / uv_s:.1f}x faster")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
