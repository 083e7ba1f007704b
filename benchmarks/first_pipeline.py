"""Benchmark: the first `make pipeline` of a freshly generated default project, before vs after, side by side.

Not a test. `make bench-pipeline` in the template, or `python benchmarks/first_pipeline.py [--before REF]
[--repeat 2]`. "before" is the template at REF (default: the commit before the first-pipeline work), "after" is
this working tree. Each is generated with the defaults, committed, and installed the same way (a virtualenv
with the lock's uv, `uv pip install --constraint requirements-lock.txt -e .[train]`: warm uv cache, not timed).
Then `make pipeline` runs from a clean checkout (no mlflow.db, no DVC cache, no outputs: `git clean -xdf`
keeping .venv), alternating before, after, before, after..., timed as wall time and as the CPU time of all its
processes (steadier on a shared machine). Both must end with an MLflow run holding the model, the test
metrics and the lineage tags (checked and printed). Work folder: a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
BEFORE = "4dcf074"  # the template before the first pipeline was profiled and cut (issue 12)
GIT = ["git", "-c", "user.name=Benchmark", "-c", "user.email=bench@example.com"]
RUN_CHECK = """
import json, mlflow
metadata = json.load(open("models/metadata.json"))
mlflow.set_tracking_uri("sqlite:///mlflow.db")
run = mlflow.get_run(metadata["mlflow_run_id"])
models = mlflow.search_logged_models(experiment_ids=[run.info.experiment_id], output_format="list")
print(json.dumps({"run": run.info.run_id, "models": [m.source_run_id for m in models],
                  "tags": sorted(k for k in run.data.tags if not k.startswith("mlflow.")),
                  "metrics": sorted(run.data.metrics)}))
"""


def template_at(ref: str, destination: Path) -> Path:
    archive = subprocess.run(["git", "archive", "--format=tar", ref], cwd=TEMPLATE_DIR, capture_output=True, check=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(destination, filter="tar")
    return destination


def locked_uv(project: Path) -> str:
    match = re.search(r"^uv==([^ ;\n]+)", (project / "requirements-lock.txt").read_text(), re.MULTILINE)
    if not match:
        sys.exit(f"{project}/requirements-lock.txt pins no uv")
    return match[1]


def generate(template: Path, output: Path, python: str) -> Path:
    project = Path(cookiecutter(str(template), no_input=True, output_dir=str(output)))
    subprocess.run([*GIT, "add", "-A"], cwd=project, check=True)
    subprocess.run([*GIT, "commit", "--quiet", "--no-verify", "-m", "Generated"], cwd=project, check=True)
    venv_python = project / ".venv" / "bin" / "python"
    subprocess.run([python, "-m", "venv", ".venv"], cwd=project, check=True)
    subprocess.run(
        [venv_python, "-m", "pip", "install", "--quiet", f"uv=={locked_uv(project)}"], cwd=project, check=True
    )
    install = ["pip", "install", "--quiet", "--python", str(venv_python), "--constraint", "requirements-lock.txt"]
    subprocess.run([project / ".venv" / "bin" / "uv", *install, "--editable", ".[train]"], cwd=project, check=True)
    return project


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def first_pipeline(project: Path, env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, all processes) of `make pipeline` from a clean checkout."""
    subprocess.run(["git", "clean", "-xdfq", "-e", ".venv"], cwd=project, check=True)
    cpu, started = children_cpu(), time.perf_counter()
    result = subprocess.run(["make", "pipeline"], cwd=project, env=env, capture_output=True, text=True)
    wall, cpu = time.perf_counter() - started, children_cpu() - cpu
    if result.returncode != 0:
        sys.exit(f"make pipeline failed in {project}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return wall, cpu


def mlflow_run(project: Path, env: dict[str, str]) -> dict[str, list[str] | str]:
    python = project / ".venv" / "bin" / "python"
    output = subprocess.run([python, "-c", RUN_CHECK], cwd=project, env=env, capture_output=True, text=True, check=True)
    run = json.loads(output.stdout)
    if run["run"] not in run["models"] or "git.commit" not in run["tags"] or not run["metrics"]:
        sys.exit(f"{project}: the MLflow run lacks its model, tags or metrics: {run}")
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help=f"template revision to compare with (default {BEFORE})")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--python", default=sys.executable, help="the python that makes the virtualenvs")
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    env.update({"MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"})
    work = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
    try:
        templates = {"before": template_at(args.before, work / "template-before"), "after": TEMPLATE_DIR}
        projects = {side: generate(template, work / side, args.python) for side, template in templates.items()}
        walls: dict[str, list[float]] = {side: [] for side in projects}
        cpus: dict[str, list[float]] = {side: [] for side in projects}
        for _ in range(args.repeat):
            for side, project in projects.items():
                wall, cpu = first_pipeline(project, env)
                walls[side].append(wall)
                cpus[side].append(cpu)
        print(f"\nfirst `make pipeline` of a default project (no mlflow.db, no DVC cache), median of {args.repeat}")
        for side, project in projects.items():
            run = mlflow_run(project, env)
            source = args.before if side == "before" else "working tree"
            wall, cpu = statistics.median(walls[side]), statistics.median(cpus[side])
            runs = ", ".join(f"{t:.1f}" for t in walls[side])
            print(f"  {side:6} wall {wall:6.1f} s ({runs})  CPU {cpu:6.1f} s  template: {source}")
            tags = ", ".join(run["tags"])
            print(f"         MLflow run {run['run'][:12]}: model logged; tags {tags}; {len(run['metrics'])} metrics")
        print("  $ cd <project> && git clean -xdf -e .venv && make pipeline")
        for name, values in (("wall", walls), ("CPU", cpus)):
            before, after = (statistics.median(values[side]) for side in projects)
            print(f"ratio after/before ({name}): {after / before:.2f}x (target <= 0.40x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
