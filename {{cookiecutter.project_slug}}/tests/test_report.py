from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import GateParams
from {{ cookiecutter.package_name }}.lock_check import describe, stale_stages
from {{ cookiecutter.package_name }}.plots import PLOT_SPECS, render
from {{ cookiecutter.package_name }}.report import check_gate, compare_metrics, render_markdown


def test_metric_direction_and_verdicts() -> None:
    rows = {
        r.name: r
        for r in compare_metrics(
            {"f1": 0.9, "rmse": 10.0, "mae": 2.0, "old": 1.0},
            {"f1": 0.95, "rmse": 12.0, "mae": 2.0, "r2": 0.5},
        )
    }
    assert rows["f1"].verdict == "better"
    assert rows["rmse"].verdict == "worse"  # lower is better for rmse
    assert rows["mae"].verdict == "same"
    assert rows["r2"].verdict == "new" and rows["r2"].delta is None
    assert rows["old"].verdict == "removed" and rows["old"].current is None
    assert list(rows) == ["f1", "rmse", "mae", "r2", "old"]


@pytest.mark.parametrize(
    ("base", "current", "gate", "passed", "message"),
    [
        ({"f1": 0.90}, {"f1": 0.895}, GateParams(primary_metric="f1", tolerance=0.01), True, "-0.0050"),
        (
            {"f1": 0.90},
            {"f1": 0.85},
            GateParams(primary_metric="f1", tolerance=0.01),
            False,
            "worse than the base",
        ),
        (
            {"rmse": 50.0},
            {"rmse": 52.0},
            GateParams(primary_metric="rmse", tolerance=1.0),
            False,
            "lower is better",
        ),
        ({"rmse": 50.0}, {"rmse": 45.0}, GateParams(primary_metric="rmse", tolerance=1.0), True, "-5.0000"),
        (None, {"f1": 0.5}, GateParams(primary_metric="f1", tolerance=0.0), True, "first run"),
        (
            {"f1": 0.9},
            {"accuracy": 0.9},
            GateParams(primary_metric="f1", tolerance=0.0),
            False,
            "not produced",
        ),
    ],
)
def test_gate(base: dict | None, current: dict, gate: GateParams, passed: bool, message: str) -> None:
    result = check_gate(compare_metrics(base, current), gate)
    assert result.passed is passed
    assert message in result.message


def test_markdown_has_table_params_data_and_plots() -> None:
    rows = compare_metrics({"f1": 0.9, "accuracy": 0.91}, {"f1": 0.8, "accuracy": 0.91})
    gate = check_gate(rows, GateParams(primary_metric="f1", tolerance=0.01))
    markdown = render_markdown(
        rows=rows,
        gate=gate,
        base_label="origin/main",
        params={"train.hyperparameters.n_estimators": {"old": 200, "new": 5}},
        data={"modified": [{"path": "data/sample/sample.csv"}], "added": []},
        plots=[
            ("ROC curve", "roc_base.png", "roc.png"),
            ("Feature importance", None, "feature_importance.png"),
        ],
        run_link="https://mlflow.example.com/#/experiments/1/runs/abc",
    )
    assert "❌ **Gate failed**" in markdown
    assert "| metric | origin/main | this PR | Δ | |" in markdown
    assert "| f1 | 0.9000 | 0.8000 | -0.1000 | 🔴 worse |" in markdown
    assert "| accuracy | 0.9100 | 0.9100 | +0.0000 | ⚪ same |" in markdown
    assert "| `train.hyperparameters.n_estimators` | `200` | `5` |" in markdown
    assert "- modified: `data/sample/sample.csv`" in markdown
    assert "| ![ROC curve (origin/main)](roc_base.png) | ![ROC curve (this PR)](roc.png) |" in markdown
    assert "| no plot on base | ![Feature importance (this PR)](feature_importance.png) |" in markdown
    assert "MLflow run: https://mlflow.example.com/#/experiments/1/runs/abc" in markdown


def test_first_report_without_baseline() -> None:
    rows = compare_metrics(None, {"f1": 0.8})
    markdown = render_markdown(
        rows=rows,
        gate=check_gate(rows, GateParams(primary_metric="f1", tolerance=0)),
        base_label="main",
        params={},
        data={},
        plots=[],
    )
    assert "✅ **Gate passed**" in markdown and "| f1 | — | 0.8000 | — | 🆕 new |" in markdown
    assert "No parameter changed." in markdown and "No DVC-tracked data or artifact changed." in markdown


@pytest.mark.parametrize("problem_type", ["classification", "regression"])
def test_every_plot_renders_from_its_csv(tmp_path: Path, problem_type: str) -> None:
    frames = {
        "confusion": pd.DataFrame({"actual": ["0", "1", "1"], "predicted": ["0", "1", "0"]}),
        "roc": pd.DataFrame({"fpr": [0, 0.5, 1], "tpr": [0, 0.8, 1]}),
        "precision_recall": pd.DataFrame({"recall": [1, 0.5, 0], "precision": [0.5, 0.8, 1]}),
        "predictions": pd.DataFrame({"actual": [1.0, 2.0], "predicted": [1.1, 1.9]}),
        "residuals": pd.DataFrame({"predicted": [1.1, 1.9], "residual": [-0.1, 0.1]}),
        "feature_importance": pd.DataFrame({"feature": ["a", "b"], "importance": [0.3, 0.1]}),
    }
    for spec in PLOT_SPECS[problem_type]:
        render(spec, frames[spec.name], tmp_path / f"{spec.name}.png")
        assert (tmp_path / f"{spec.name}.png").read_bytes().startswith(b"\x89PNG")


def test_lock_check_separates_stale_from_missing() -> None:
    status = {
        "validate": [
            {"changed deps": {"data/sample/sample.csv": "deleted"}},
            {"changed outs": {"data/interim/validated.parquet": "deleted"}},
        ],
        "train": [
            {
                "changed deps": {
                    "params.yaml": {"train.hyperparameters.n_estimators": "modified"},
                    "src/pkg/train.py": "modified",
                }
            }
        ],
        "evaluate": ["changed command"],
    }
    stale = stale_stages(status)
    assert stale == {
        "train": ["param train.hyperparameters.n_estimators modified", "src/pkg/train.py modified"],
        "evaluate": ["changed command"],
    }
    message = describe(stale)
    assert "train: param train.hyperparameters.n_estimators modified" in message
    assert "run `make pipeline` (dvc repro) locally, then commit dvc.lock" in message
    assert stale_stages({"validate": [{"changed outs": {"x": "deleted"}}]}) == {}
