"""Build the template's documentation site: `python scripts/build_docs.py [--serve]` (what `make docs` runs).

The site shows generated projects' own pages as they are rendered, not their Jinja sources: this script generates
one project per configuration in PROJECT_PAGES, copies the template's `docs/` and those rendered pages into one
source folder, and runs `mkdocs build --strict` on it (a broken link, a missing page or a bad include fails).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from cookiecutter.main import cookiecutter

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "docs"
SOURCE = BUILD / "source"
SITE = BUILD / "site"

# configuration name -> (its answers, {page in the rendered project: page in the site})
PROJECT_PAGES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "team": (
        {"dvc_remote": "s3", "mlflow_tracking": "server"},
        {
            "docs/architecture.md": "project/architecture.md",
            "docs/workflows.md": "project/workflows.md",
            "docs/github.md": "project/github.md",
            "docs/dvc-remote.md": "project/dvc-remote.md",
            "docs/deploy-kubernetes.md": "project/deploy-kubernetes.md",
            # The project's pages link to these with ../ paths: they keep their place beside project/.
            "deploy/k8s/README.md": "deploy/k8s/README.md",
            "deploy/stack/README.md": "deploy/stack/README.md",
        },
    ),
    "gs": ({"dvc_remote": "gs"}, {"docs/dvc-remote.md": "scale-out/remote-gs.md"}),
    "azure": ({"dvc_remote": "azure"}, {"docs/dvc-remote.md": "scale-out/remote-azure.md"}),
    "local": ({"dvc_remote": "local"}, {"docs/dvc-remote.md": "scale-out/remote-local.md"}),
}
REPOSITORY_PAGES = {"CHANGELOG.md": "changelog.md"}


def render_projects() -> dict[str, Path]:
    projects = BUILD / "projects"
    shutil.rmtree(projects, ignore_errors=True)
    return {
        name: Path(cookiecutter(str(ROOT), no_input=True, extra_context=answers, output_dir=str(projects / name)))
        for name, (answers, _) in PROJECT_PAGES.items()
    }


def copy_page(source: Path, target: Path) -> None:
    if not source.is_file():
        raise SystemExit(f"build_docs: {source} does not exist; update PROJECT_PAGES in scripts/build_docs.py")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)


def assemble() -> None:
    shutil.rmtree(SOURCE, ignore_errors=True)
    shutil.copytree(ROOT / "docs", SOURCE)
    for name, project in render_projects().items():
        for page, target in PROJECT_PAGES[name][1].items():
            copy_page(project / page, SOURCE / target)
    for page, target in REPOSITORY_PAGES.items():
        copy_page(ROOT / page, SOURCE / target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help="serve the site on 127.0.0.1:8000 instead of building it")
    args = parser.parse_args(argv)
    assemble()
    mkdocs = [sys.executable, "-m", "mkdocs"]
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    config = ["--config-file", str(ROOT / "mkdocs.yml")]
    if args.serve:
        return subprocess.call([*mkdocs, "serve", *config, "--dev-addr", "127.0.0.1:8000"])
    return subprocess.call([*mkdocs, "build", "--strict", *config])


if __name__ == "__main__":
    raise SystemExit(main())
