"""Benchmark: the PR loop's wall time, the experiment workflow of a default project under act, warm caches.

Not a test. `make bench-pr-loop` in the template, or `python benchmarks/pr_loop.py` with the template's dev
virtualenv (act and the act kit, tools/actkit, as the template's tests use them; `make test` installs them).
A default project is generated, installed (`make install EXTRAS=train`), its pipeline run and committed on
main; a branch changes one hyperparameter (n_estimators 200 -> 50), runs `make pipeline` and commits, as an
author would. Then experiment.yml runs for that PR twice under act with the same fake repository and caches:
the first run fills the caches (setup-uv's uv cache, the DVC cache), the second is the measured one, as on a
PR's second push. Prints both wall times and the measured run's steps. Work folder: a temporary directory.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TEMPLATE_DIR / "tools"))
from actkit.act import ActResult, run_workflow  # noqa: E402  (the kit lives in the template's tools/)

GIT = ["git", "-c", "user.name=Benchmark", "-c", "user.email=bench@example.com"]
STEP = re.compile(
    r"\[[^\]]+\]\s+(?:✅|❌)\s+(?:Success|Failure) - (?P<phase>Pre|Main|Post) (?P<name>.+?) \[(?P<took>[^\]]+)\]"
)


def sh(project: Path, *command: str) -> None:
    result = subprocess.run(command, cwd=project, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def commit(project: Path, message: str) -> None:
    sh(project, *GIT, "add", "-A")
    sh(project, *GIT, "commit", "--quiet", "--no-verify", "-m", message)


def prepared_pr(output: Path) -> Path:
    project = Path(cookiecutter(str(TEMPLATE_DIR), no_input=True, output_dir=str(output)))
    commit(project, "Generated from the template")
    sh(project, "make", "install", f"PYTHON={sys.executable}", "EXTRAS=train")
    sh(project, "make", "pipeline")
    commit(project, "Pipeline results")
    sh(project, "git", "update-ref", "refs/remotes/origin/main", "main")
    sh(project, "git", "checkout", "--quiet", "-b", "fewer-trees")
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"]["hyperparameters"]["n_estimators"] = 50
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh(project, "make", "pipeline")
    commit(project, "Fewer trees")
    return project


def pull_request(project: Path, out: Path, state: Path) -> tuple[float, ActResult]:
    payload: dict[str, Any] = {
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": {"ref": "fewer-trees", "repo": {"full_name": "owner/project"}},
            "base": {"ref": "main", "repo": {"full_name": "owner/project"}},
        },
    }
    started = time.perf_counter()
    result = run_workflow(project, ".github/workflows/experiment.yml", "pull_request", payload, out, state_dir=state)
    elapsed = time.perf_counter() - started
    if not result.ok:
        sys.exit(f"the experiment workflow failed:\n{result.tail()}")
    return elapsed, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-pr-loop-"))
    try:
        project = prepared_pr(work / "project")
        state = work / "github"
        cold, _ = pull_request(project, work / "run-cold", state)
        warm, result = pull_request(project, work / "run-warm", state)
        print("\nexperiment.yml for a PR (n_estimators 200 -> 50) on the default project, under act (host mode)")
        print(f"  first run (caches empty)  {cold:6.1f} s")
        print(f"  second run (warm caches)  {warm:6.1f} s   target < 180 s")
        print("  steps of the warm run:")
        for match in STEP.finditer(result.output):
            print(f"    {match['took']:>10}  {match['phase']} {match['name']}")
        print("  $ python benchmarks/pr_loop.py  (actkit.act.run_workflow, as tests/test_experiment_act.py)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
