"""One entry point with a subcommand per job: `{{ cookiecutter.project_slug }} <command> [options]`.

dvc.yaml calls the stage modules directly (`python -m {{ cookiecutter.package_name }}.<stage>`); this runs the
same code for people, make and CI.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .errors import run_stage

# command -> (module, takes options, help); a module is imported only when its command runs.
COMMANDS = {
    "data": ("data", False, "stage: write the bundled sample data"),
    "validate": ("validate", False, "stage: check the data contract, write the typed table"),
    "split": ("split", False, "stage: train/test split"),
    "train": ("train", False, "stage: fit the model, log the MLflow run"),
    "evaluate": ("evaluate", False, "stage: metrics, plots, model metadata"),
    "report": ("report", True, "PR report against a base revision (report --help)"),
    "check-lock": ("lock_check", False, "fail when dvc.lock does not match the code, params and data"),
    "promote": ("promotion", True, "deploy gate: candidate model vs bounds and production (promote --help)"),
    "serve": ("serve", True, "run the model service on models/ (serve --help; SERVE_* variables)"),
    "register": ("registry", True, "MLflow registry: the deployed model as @champion (register --help)"),
    "monitor": ("monitor.cli", True, "drift and decay of current data vs the reference (monitor --help)"),
    "annotate": ("workflow_commands", True, "a GitHub Actions annotation, every line kept (annotate --help)"),
    "github-setup": ("github_setup", True, "one-time GitHub settings, missing secrets (github-setup --help)"),
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="{{ cookiecutter.project_slug }}", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "command", choices=COMMANDS, help="; ".join(f"{k}: {v[2]}" for k, v in COMMANDS.items())
    )
    parser.add_argument("options", nargs=argparse.REMAINDER, help="options of the command")
    args = parser.parse_args(argv)
    module_name, takes_options, _ = COMMANDS[args.command]
    if args.options and not takes_options:
        parser.error(f"{args.command} takes no options")
    module = importlib.import_module(f"{__package__}.{module_name}")
    run_stage(module.main, args.options if takes_options else None)


if __name__ == "__main__":
    main(sys.argv[1:])
