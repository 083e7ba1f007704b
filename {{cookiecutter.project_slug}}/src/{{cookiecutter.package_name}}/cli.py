"""One entry point with a subcommand per job: `{{ cookiecutter.project_slug }} <command>`.

dvc.yaml calls the stage modules directly (`python -m {{ cookiecutter.package_name }}.<stage>`); this runs the
same code for people and scripts.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

from .errors import run_stage

STAGES = ("data", "validate", "split", "train", "evaluate")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="{{ cookiecutter.project_slug }}", description=__doc__)
    parser.add_argument("stage", choices=STAGES, help="pipeline stage to run (`dvc repro` runs them all)")
    args = parser.parse_args(argv)
    run_stage(importlib.import_module(f"{__package__}.{args.stage}").main)


if __name__ == "__main__":
    main()
