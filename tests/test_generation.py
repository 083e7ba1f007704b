"""Fast checks of what each configuration generates: exact file set, rendered text, valid files."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from cookiecutter.generate import generate_context
from cookiecutter.prompt import prompt_for_config
from jinja2 import Environment, StrictUndefined

from hook_utils import post_gen
from hook_utils.answers import CHOICES
from tests.helpers import CONFIGURATIONS, TEMPLATE_DIR, generate, tool

# GitHub Actions expressions are meant to stay in workflows; anything else with {{ or {% is un-rendered Jinja.
GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
DEFAULTS = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8"))
TEMPLATE_PROJECT = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"


def answers_context(answers: dict[str, str]) -> dict[str, Any]:
    """The full cookiecutter context for these answers (derived defaults rendered), as cookiecutter computes it."""
    context = generate_context(context_file=str(TEMPLATE_DIR / "cookiecutter.json"), extra_context=answers)
    return prompt_for_config(context, no_input=True)


def expected_files(answers: dict[str, str]) -> set[str]:
    """The exact generated file set: the template tree's rendered names, pruned and completed by the hook's tables."""
    context = answers_context(answers)
    names = Environment(undefined=StrictUndefined)
    rendered = {
        names.from_string(str(path.relative_to(TEMPLATE_PROJECT))).render(cookiecutter=context)
        for path in TEMPLATE_PROJECT.rglob("*")
        if path.is_file()
    }
    kept = {post_gen.kept_path(name, context) for name in rendered} - {None}
    return kept | set(post_gen.WRITTEN_FILES)


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


def test_expected_file_set_follows_the_answers() -> None:
    default = expected_files({})
    chosen = expected_files({"dvc_remote": "s3", "license": "Apache-2.0", "project_name": "Fraud Scores"})
    assert {"LICENSE", ".cookiecutter.json", "src/my_mlops_project/cli.py", "tests/conftest.py"} <= default
    assert "docs/dvc-remote.md" not in default and "docs/dvc-remote.md" in chosen
    assert "src/fraud_scores/cli.py" in chosen and not any("my_mlops_project" in name for name in chosen)
    pruned = ("licenses/", "docs/remotes/", "{{", "{%")
    assert not [name for name in default | chosen if any(part in name for part in pruned)]


def test_generated_project(tmp_path: Path, configuration: tuple[str, dict[str, str]]) -> None:
    name, answers = configuration
    project = generate(tmp_path, answers)

    assert generated_files(project) == expected_files(answers)
    for path in sorted(project.rglob("*")):
        if path.is_file() and ".git" not in path.relative_to(project).parts[:1]:
            text = path.read_text(encoding="utf-8")
            jinja_text = GITHUB_EXPRESSION.sub("", text).replace("cookiecutter.json", "")
            # cookiecutter itself may be named (cruft pins it in the lock); a `cookiecutter.<answer>` may not.
            assert "{{" not in jinja_text and "{%" not in jinja_text and "cookiecutter." not in jinja_text, (
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


@pytest.mark.parametrize("package", ["aaa_first", "zzz_last"])
def test_generated_code_is_ruff_clean_whatever_the_package_name(tmp_path: Path, package: str) -> None:
    """The slow end-to-end test runs `make lint` on two configurations; import sorting depends on the package
    name, so names that sort before and after every test helper module are checked here, fast."""
    project = generate(tmp_path, {"package_name": package})
    for command in (["check", "."], ["format", "--check", "."]):
        result = subprocess.run([tool("ruff"), *command], cwd=project, capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
