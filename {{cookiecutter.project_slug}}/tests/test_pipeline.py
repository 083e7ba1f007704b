"""Every stage's main() in order, on a small CSV with a categorical column, as `dvc repro` would run them."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest

from {{ cookiecutter.package_name }}.config import Paths
from {{ cookiecutter.package_name }}.pipeline import card, data, evaluate, split, train, validate

pytestmark = pytest.mark.slow


def test_stages_end_to_end(project: Path, problem_type: str) -> None:
    data.main()
    for stage in (validate, split, train, evaluate):
        stage.main()
    card.main([])
    paths = Paths()
    metrics = json.loads(paths.metrics.read_text())
    metadata = json.loads(paths.metadata.read_text())
    if problem_type == "classification":
        assert metrics["accuracy"] > 0.7
        assert {"confusion.png", "roc.png", "precision_recall.png"} <= {
            p.name for p in (paths.plots / "images").iterdir()
        }
    else:
        assert metrics["r2"] > 0.5
        assert (paths.plots / "images" / "predictions.png").is_file()
    assert (paths.plots / "feature_importance.csv").is_file()
    assert metadata["metrics"] == metrics
    assert metadata["model_sha256"] and metadata["git_commit"] == "unknown"
    assert [f["name"] for f in metadata["feature_schema"]["features"]] == ["size", "weight", "colour"]

    run = mlflow.get_run(metadata["mlflow_run_id"])
    assert run.data.tags["dvc.data_md5"] == metadata["data_hash"]
    assert run.data.params["train.estimator"] == "random_forest"
    model_card = json.loads(paths.model_card_json.read_text())
    assert model_card["mlflow"]["model_uri"] == f"runs:/{run.info.run_id}/model"
    assert model_card["data"][0]["md5"] == run.data.tags["dvc.data_md5"]
    assert {f"test_{name}" for name in metrics} <= set(run.data.metrics)
