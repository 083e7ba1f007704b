"""Fast checks of what each configuration generates: exact file set, rendered text, valid files."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from hook_utils.answers import CHOICES
from tests.conftest import CONFIGURATIONS, TEMPLATE_DIR, generate

# GitHub Actions expressions are meant to stay in workflows; anything else with {{ or {% is un-rendered Jinja.
GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
DEFAULTS = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8"))


def package_files(package: str) -> set[str]:
    modules = ["__init__", "cli", "config", "errors"]
    modules += [f"pipeline/{name}" for name in ("__init__", "data", "estimators", "evaluate", "features", "lineage")]
    modules += [f"pipeline/{name}" for name in ("metrics", "plots", "split", "tracking", "train", "validate")]
    modules += [f"gates/{name}" for name in ("__init__", "charts", "lock_check", "promotion", "registry", "report")]
    modules += [f"github/{name}" for name in ("__init__", "repository_setup", "workflow_commands")]
    monitor = [
        "__init__",
        "cli",
        "decay",
        "drift",
        "errors",
        "profile",
        "report",
        "schema",
        "sources",
        "stats",
        "thresholds",
    ]
    serve = ["__init__", "__main__", "app", "bundle", "fastpath", "instrumentation", "predict", "prediction_log"]
    serve += ["request_example", "routes", "schema", "server", "settings"]
    return (
        {f"src/{package}/{name}.py" for name in modules}
        | {f"src/{package}/monitor/{name}.py" for name in monitor}
        | {f"src/{package}/serve/{name}.py" for name in serve}
    )


def expected_files(answers: dict[str, str]) -> set[str]:
    package = answers.get("package_name", "my_mlops_project")
    files = {
        ".cookiecutter.json",
        ".dvc/.gitignore",
        ".dvc/config",
        ".dvcignore",
        ".gitignore",
        ".pre-commit-config.yaml",
        "LICENSE",
        "Makefile",
        "README.md",
        "dvc.yaml",
        "params.yaml",
        "pyproject.toml",
        "requirements-lock.txt",
        ".github/dependabot.yml",
        ".github/workflows/ci.yml",
        ".github/workflows/experiment.yml",
        ".github/workflows/monitor.yml",
        ".github/workflows/retrain.yml",
        "benchmarks/drift_vs_evidently.py",
        "tests/test_monitor_cli.py",
        "tests/test_monitor_decay.py",
        "tests/test_monitor_drift.py",
        "tests/test_monitor_sources.py",
        "tests/test_monitor_stats.py",
        ".dockerignore",
        "Dockerfile",
        ".github/workflows/deploy.yml",
        "benchmarks/serve_vs_mlflow.py",
        "tests/serve_bundles.py",
        "tests/test_promotion.py",
        "tests/test_serve_app.py",
        "tests/test_serve_bundle.py",
        "tests/test_serve_fuzz.py",
        "docs/workflows.md",
        "tests/test_report.py",
        "tests/conftest.py",
        "tests/test_config.py",
        "tests/test_data.py",
        "tests/test_dvc_deps.py",
        "tests/test_evaluate.py",
        "tests/test_pipeline.py",
        "tests/test_split.py",
        "tests/test_train.py",
        "tests/test_validate.py",
        "tests/test_workflow_commands.py",
        "docs/github.md",
        "tests/test_github_setup.py",
    } | package_files(package)
    if answers.get("dvc_remote", "none") != "none":
        files.add("docs/dvc-remote.md")
    return files


def generated_files(project: Path) -> set[str]:
    return {
        str(path.relative_to(project))
        for path in project.rglob("*")
        if path.is_file() and ".git" not in path.relative_to(project).parts[:1]
    }


def test_every_choice_value_is_generated_by_a_configuration() -> None:
    for question, values in CHOICES.items():
        covered = {answers.get(question, DEFAULTS[question][0]) for answers in CONFIGURATIONS.values()}
        assert covered == set(values), question
        assert DEFAULTS[question] == list(values), question


def test_generated_project(tmp_path: Path, configuration: tuple[str, dict[str, str]]) -> None:
    name, answers = configuration
    project = generate(tmp_path, answers)

    assert generated_files(project) == expected_files(answers)
    for path in sorted(project.rglob("*")):
        if path.is_file() and ".git" not in path.relative_to(project).parts[:1]:
            text = path.read_text(encoding="utf-8")
            jinja_text = GITHUB_EXPRESSION.sub("", text).replace(".cookiecutter.json", "")
            assert "{{" not in jinja_text and "{%" not in jinja_text and "cookiecutter" not in jinja_text, (
                f"{name}: un-rendered template text in {path.name}"
            )
            if path.suffix == ".py":
                ast.parse(text, filename=str(path))
            elif path.suffix in {".yaml", ".yml"}:
                assert yaml.safe_load(text) is not None, path
            elif path.suffix == ".toml":
                tomllib.loads(text)
            elif path.suffix == ".json":
                json.loads(text)

    branch = subprocess.run(
        ["git", "symbolic-ref", "--short", "HEAD"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert branch == "main"
    stored = json.loads((project / ".cookiecutter.json").read_text())
    assert {key: stored[key] for key in answers} == answers
    assert stored["_template"] == str(TEMPLATE_DIR)
    assert not any(key.startswith("_") and key not in {"_template", "_checkout"} for key in stored)


@pytest.mark.parametrize(
    ("answers", "remote_line"),
    [
        ({}, None),
        ({"dvc_remote": "local"}, "url = ../../my-mlops-project-dvc-storage"),
        ({"dvc_remote": "local", "dvc_remote_url": "/srv/dvc"}, "url = /srv/dvc"),
        ({"dvc_remote": "s3"}, "url = s3://my-mlops-project-dvc/store"),
        ({"dvc_remote": "gs", "dvc_remote_url": "gs://team-bucket/dvc"}, "url = gs://team-bucket/dvc"),
        ({"dvc_remote": "azure"}, "url = azure://my-mlops-project-dvc/store"),
    ],
)
def test_dvc_remote_config(tmp_path: Path, answers: dict[str, str], remote_line: str | None) -> None:
    project = generate(tmp_path, answers)
    config = (project / ".dvc" / "config").read_text()
    if remote_line is None:
        assert "remote" not in config
        assert not (project / "docs" / "dvc-remote.md").exists()
    else:
        assert "remote = storage" in config and remote_line in config
        guide = (project / "docs" / "dvc-remote.md").read_text()
        assert guide.startswith("# DVC remote: ") and "credentials" in guide.lower()


@pytest.mark.parametrize(
    ("problem_type", "sample", "plots"),
    [
        ("classification", "breast_cancer", {"plots/confusion.csv", "plots/roc.csv", "plots/precision_recall.csv"}),
        ("regression", "diabetes", {"plots/predictions.csv", "plots/residuals.csv"}),
    ],
)
def test_problem_type_sets_params_and_plots(tmp_path: Path, problem_type: str, sample: str, plots: set[str]) -> None:
    project = generate(tmp_path, {"problem_type": problem_type})
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["problem_type"] == problem_type
    assert params["data"]["sample_dataset"] == sample
    stages = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    declared = {next(iter(entry)) for entry in stages["evaluate"]["plots"]}
    assert declared == plots | {"plots/feature_importance.csv"}


def test_license_and_names_rendered(tmp_path: Path) -> None:
    project = generate(
        tmp_path, {"license": "Apache-2.0", "author_name": "Ada Lovelace", "project_name": "Churn Model"}
    )
    assert project.name == "churn-model"
    assert (project / "src" / "churn_model" / "pipeline" / "train.py").is_file()
    license_text = (project / "LICENSE").read_text()
    assert license_text.startswith("Apache License") and "Ada Lovelace" in license_text
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "churn-model"
    assert pyproject["project"]["scripts"] == {"churn-model": "churn_model.cli:main"}
