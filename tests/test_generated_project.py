"""End to end: generate, set up with the project's own `make setup`, and run its gates and pipeline.

Slow (a virtualenv with DVC and MLflow per configuration); `.ci/run` runs it, `-m "not slow"` skips it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from tests.helpers import commit, generate, in_project_python, run

pytestmark = pytest.mark.slow

E2E_CONFIGURATIONS = {
    "default": {},
    "regression": {"problem_type": "regression", "dvc_remote": "local", "project_name": "House Prices"},
}


@pytest.fixture(scope="module", params=sorted(E2E_CONFIGURATIONS))
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = generate(tmp_path_factory.mktemp(request.param), E2E_CONFIGURATIONS[request.param])
    commit(project, "Generated from the template")
    run(project, "make", "setup", f"PYTHON={sys.executable}")
    return project


def test_lint_and_format_leave_no_diff(project: Path) -> None:
    run(project, "make", "lint")
    run(project, "make", "format")
    assert run(project, "git", "status", "--porcelain").stdout == ""


def test_own_tests_pass(project: Path) -> None:
    result = run(project, "make", "test")
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_pipeline_metrics_plots_and_mlflow_run(project: Path) -> None:
    run(project, "make", "pipeline")
    params = yaml.safe_load((project / "params.yaml").read_text())
    metrics = json.loads((project / "metrics" / "metrics.json").read_text())
    images = {p.name for p in (project / "plots" / "images").iterdir()}
    if params["problem_type"] == "classification":
        assert metrics["accuracy"] > 0.9 and metrics["roc_auc"] > 0.95, metrics
        assert {"confusion.png", "roc.png", "precision_recall.png", "feature_importance.png"} == images
    else:
        assert metrics["r2"] > 0.3 and 40 < metrics["rmse"] < 70, metrics
        assert {"predictions.png", "residuals.png", "feature_importance.png"} == images
    metadata = json.loads((project / "models" / "metadata.json").read_text())
    head = run(project, "git", "rev-parse", "HEAD").stdout.strip()
    assert metadata["git_commit"] == head and metadata["metrics"] == metrics

    run_info = in_project_python(
        project,
        f"""
import json, mlflow
mlflow.set_tracking_uri("sqlite:///mlflow.db")
run = mlflow.get_run({metadata["mlflow_run_id"]!r})
models = mlflow.search_logged_models(experiment_ids=[run.info.experiment_id], output_format="list")
print(json.dumps({{"params": run.data.params, "metrics": run.data.metrics, "tags": run.data.tags,
                   "models": [m.source_run_id for m in models],
                   "artifacts": [a.path for a in mlflow.MlflowClient().list_artifacts(run.info.run_id, "plots")]}}))
""",
    )
    assert run_info["params"]["train.estimator"] == "random_forest"
    assert run_info["params"]["train.hyperparameters.n_estimators"] == "200"
    assert {f"test_{name}" for name in metrics} <= set(run_info["metrics"])
    assert run_info["tags"]["git.commit"] == head
    assert run_info["tags"]["git.dirty"] == "false"
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    validate_deps = {dep["path"]: dep["md5"] for dep in lock["stages"]["validate"]["deps"]}
    assert run_info["tags"]["dvc.data_md5"] == validate_deps["data/sample/sample.csv"]
    assert metadata["mlflow_run_id"] in run_info["models"]
    assert {f"plots/{name}" for name in images} == set(run_info["artifacts"])

    again = run(project, "make", "pipeline")
    assert "Running stage" not in again.stdout and "Data and pipelines are up to date." in again.stdout
    run(project, "git", "add", "-A")
    assert run(project, "git", "status", "--porcelain").stdout.strip(), "dvc.lock and metrics to commit"
    assert not any(
        line.endswith((".parquet", ".joblib", ".db"))
        for line in run(project, "git", "diff", "--cached", "--name-only").stdout.splitlines()
    )
    commit(project, "Pipeline results")


def test_experiment_run_and_metrics_diff(project: Path) -> None:
    run(project, "dvc", "exp", "run", "-S", "train.hyperparameters.n_estimators=5", "-n", "few-trees")
    show = run(project, "dvc", "exp", "show", "--json").stdout
    experiments = json.loads(show)
    names = [exp.get("name") for entry in experiments for exp in (entry.get("experiments") or [])]
    assert "few-trees" in names, show[:2000]
    diff = json.loads(run(project, "dvc", "metrics", "diff", "HEAD", "few-trees", "--json").stdout)
    changes = diff["metrics/metrics.json"]
    assert any(change.get("diff") for change in changes.values()), changes
    params_diff = json.loads(run(project, "dvc", "params", "diff", "HEAD", "few-trees", "--json").stdout)
    change = params_diff["params.yaml"]["train.hyperparameters.n_estimators"]
    assert (change["old"], change["new"]) == (200, 5)


def test_user_csv_with_categorical_column_through_params_only(project: Path) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    rng = np.random.default_rng(3)
    rows = 400
    plan = rng.choice(["basic", "plus", "pro"], size=rows)
    tenure = rng.integers(1, 60, size=rows).astype(float)
    score = 0.05 * tenure + (plan == "pro") * 2 - (plan == "basic") * 1 + rng.normal(scale=0.5, size=rows)
    label = (score > np.median(score)).astype(int) if params["problem_type"] == "classification" else score
    table = pd.DataFrame(
        {
            "customer_id": np.arange(rows),
            "plan": plan,
            "tenure": tenure,
            "region": rng.choice([1, 2, 3], size=rows),
            "outcome": label,
        }
    )
    table.to_csv(project / "data" / "customers.csv", index=False)
    run(project, "dvc", "add", "data/customers.csv")
    params["data"].update(
        path="data/customers.csv", target="outcome", columns={"region": "categorical"}, drop=["customer_id"]
    )
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(project, "make", "pipeline")
    schema = json.loads((project / "models" / "metadata.json").read_text())["feature_schema"]
    kinds = {feature["name"]: feature["kind"] for feature in schema["features"]}
    assert kinds == {"plan": "categorical", "tenure": "numeric", "region": "categorical"}
    metrics = json.loads((project / "metrics" / "metrics.json").read_text())
    assert metrics.get("accuracy", 1) > 0.8 and metrics.get("r2", 1) > 0.6, metrics


def test_bad_params_stop_with_the_key_named(project: Path) -> None:
    original = (project / "params.yaml").read_text()
    try:
        (project / "params.yaml").write_text(original.replace("test_size:", "test_sise:"))
        result = run(project, "make", "pipeline", check=False)
        assert result.returncode != 0
        assert "split.test_sise: unknown key" in result.stderr
        assert "split.test_size: required key is missing" in result.stderr
        assert "Running stage" not in result.stdout
    finally:
        (project / "params.yaml").write_text(original)


def test_dvc_push_follows_the_remote_answer(project: Path) -> None:
    answers = json.loads((project / ".cookiecutter.json").read_text())
    if answers["dvc_remote"] == "none":
        result = run(project, "dvc", "push", check=False)
        assert result.returncode != 0 and "no remote" in result.stderr.lower()
        return
    run(project, "dvc", "push")
    storage = (project / ".." / f"{answers['project_slug']}-dvc-storage").resolve()
    assert sum(1 for path in storage.rglob("*") if path.is_file()) >= 8, storage
