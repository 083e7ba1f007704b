"""The main job on the embedded default: generate a project, set it up, run its pipeline, show the results."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parents[1]


def run(project: Path, *command: str) -> None:
    print(f"\n$ {' '.join(command)}", flush=True)
    subprocess.run(command, cwd=project, check=True)


def main(output: Path) -> None:
    if output.exists():
        shutil.rmtree(output)
    project = Path(cookiecutter(str(TEMPLATE_DIR), no_input=True, output_dir=str(output)))
    print(f"generated {project}")
    git = ["git", "-c", "user.name=Template Demo", "-c", "user.email=demo@example.com"]
    run(project, "git", "add", "-A")
    run(project, *git, "commit", "--quiet", "--no-verify", "-m", "Generated from the template")
    run(project, "make", "setup", f"PYTHON={sys.executable}")
    run(project, "make", "pipeline")
    run(project, ".venv/bin/dvc", "metrics", "show")
    metadata = json.loads((project / "models" / "metadata.json").read_text(encoding="utf-8"))
    print(f"\nmodel {metadata['model_version']} (commit {metadata['git_commit'][:12]})")
    print(f"MLflow run {metadata['mlflow_run_id']} in {project / 'mlflow.db'} (artifacts in mlartifacts/)")
    print(f"see it with: cd {project} && .venv/bin/mlflow ui --backend-store-uri sqlite:///mlflow.db")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "build/demo").resolve())
