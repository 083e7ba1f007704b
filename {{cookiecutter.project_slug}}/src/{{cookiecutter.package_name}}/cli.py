"""One entry point with a subcommand per job: `{{ cookiecutter.project_slug }} <command> [options]`.

dvc.yaml (`python -m {{ cookiecutter.package_name }}.cli <stage>`), the Makefile and every workflow call it, so
people, make and CI run the same code the same way.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .errors import run_stage

# command -> (module, takes options, help); a module is imported only when its command runs.
COMMANDS = {
    "params": ("config", True, "check params.yaml; `params KEY` prints one value, e.g. data.path"),
    "metadata": ("contracts", True, "print one field of models/metadata.json, e.g. model_version"),
    "data": ("pipeline.data", False, "stage: write the bundled sample data"),
    "validate": ("pipeline.validate", False, "stage: check the data contract, write the typed table"),
    "split": ("pipeline.split", False, "stage: train/test split"),
    "train": ("pipeline.train", False, "stage: fit the model, log the MLflow run"),
    "evaluate": ("pipeline.evaluate", False, "stage: metrics, plots, model metadata"),
    "card": ("pipeline.card", True, "stage: the model card (`card --help`: record the pushed image)"),
    "profile": ("monitor.profile", False, "stage: the reference profile the monitor compares with"),
    "report": ("gates.report", True, "PR report against a base revision (report --help)"),
    "check-lock": ("gates.lock_check", False, "fail when dvc.lock does not match the code, params and data"),
    "remote": ("remote", True, "the DVC remote: check | push | pull, one line naming it on failure (--help)"),
    "merge-lock": ("gates.lock_merge", True, "git merge driver of dvc.lock, metrics, plots (--help)"),
    "promote": ("gates.promotion", True, "deploy gate: candidate vs bounds and production (--help)"),
    "registry": ("gates.registry", True, "MLflow registry: set an alias, read the champion (--help)"),
    "serve": ("serve", True, "run the model service on models/ (serve --help; SERVE_* variables)"),
    "score": ("serve.batch", True, "batch scoring: score INPUT OUTPUT, CSV/Parquet in chunks (score --help)"),
    "request-example": ("serve.request_example", True, "a real request body from the test set (--help)"),
    "rollout": ("deploy.rollout", True, "Kubernetes rollout by digest, smoke test, undo on failure (--help)"),
    "monitor": ("monitor.cli", True, "drift and decay of current data vs the reference (monitor --help)"),
    "annotate": ("github.workflow_commands", True, "a GitHub Actions annotation, every line kept (--help)"),
    "github-setup": ("github.repository_setup", True, "one-time GitHub settings, missing secrets (--help)"),
    "template-update": ("github.template_update", True, "template changes; .rej files on conflict (--help)"),
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
