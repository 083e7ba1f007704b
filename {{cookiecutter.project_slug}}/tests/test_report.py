from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import GateMode, GateParams, Paths
from {{ cookiecutter.package_name }}.gates.charts import (
    GRID_POINTS,
    confusion_table,
    curve_chart,
    importance_chart,
    predictions_chart,
    resample_curve,
    residuals_chart,
)
from {{ cookiecutter.package_name }}.gates.lock_check import describe, stale_stages
from {{ cookiecutter.package_name }}.gates.report import (
    GATE_FAILED_EXIT_CODE,
    check_gate,
    compare_metrics,
    gate_outcome,
    images_markdown,
    metric_changes,
    model_card_section,
    render_markdown,
)
from {{ cookiecutter.package_name }}.pipeline.plots import PLOT_SPECS, render

import serve_bundles


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


@pytest.mark.parametrize(
    ("mode", "current", "status", "headline", "code"),
    [
        (
            "enforce",
            0.8,
            "❌ **Gate failed**",
            "Regression gate (enforce): `f1` 0.9000 → 0.8000",
            GATE_FAILED_EXIT_CODE,
        ),
        ("enforce", 0.95, "✅ **Gate passed**", "Regression gate (enforce): passed: `f1` 0.9000 → 0.9500", 0),
        (
            "warn",
            0.8,
            "⚠️ **Gate failed, not blocking** (warn mode)",
            "Regression gate (warn): `f1` 0.9000 → 0.8000",
            0,
        ),
        ("warn", 0.95, "✅ **Gate passed**", "Regression gate (warn): passed: ", 0),
        (
            "off",
            0.8,
            "⚪ **Gate off**",
            "Regression gate (off): not evaluated (gate.mode: off in params.yaml)",
            0,
        ),
    ],
)
def test_regression_gate_in_each_mode(
    mode: GateMode, current: float, status: str, headline: str, code: int
) -> None:
    rows = compare_metrics({"f1": 0.9}, {"f1": current})
    gate = gate_outcome(rows, GateParams(primary_metric="f1", tolerance=0.01, mode=mode))
    markdown = render_markdown(rows=rows, gate=gate, base_label="main", params={}, data={}, plots=[])
    assert f"\n\n{status}" in markdown and f"\n\n{headline}" in markdown
    assert gate.exit_code(GATE_FAILED_EXIT_CODE) == code
    if mode == "warn" and current < 0.9:
        assert gate.headline.endswith("worse than the base by more than the tolerance — not blocking")


SPECS = {spec.name: spec for specs in PLOT_SPECS.values() for spec in specs}
LOCAL_IMAGE = re.compile(r"!\[[^\]]*\]\((?![a-z]+://)")
TWO_COLORS = '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "#2563eb, #9ca3af"}}}}%%'


def test_markdown_has_table_params_data_and_plots() -> None:
    rows = compare_metrics({"f1": 0.9, "accuracy": 0.91}, {"f1": 0.8, "accuracy": 0.91})
    gate = gate_outcome(rows, GateParams(primary_metric="f1", tolerance=0.01))
    markdown = render_markdown(
        rows=rows,
        gate=gate,
        base_label="origin/main",
        params={"train.hyperparameters.n_estimators": {"old": 200, "new": 5}},
        data={"modified": [{"path": "data/sample/sample.csv"}], "added": []},
        plots=["<chart 1>", "<chart 2>"],
        run_link="https://mlflow.example.com/#/experiments/1/runs/abc",
    )
    assert (
        "❌ **Gate failed**" in markdown and "\n\nRegression gate (enforce): `f1` 0.9000 → 0.8000" in markdown
    )
    assert "| metric | origin/main | this PR | Δ | |" in markdown
    assert "| f1 | 0.9000 | 0.8000 | -0.1000 | 🔴 worse |" in markdown
    assert "| accuracy | 0.9100 | 0.9100 | +0.0000 | ⚪ same |" in markdown
    assert "| `train.hyperparameters.n_estimators` | `200` | `5` |" in markdown
    assert "- modified: `data/sample/sample.csv`" in markdown
    assert "MLflow run: https://mlflow.example.com/#/experiments/1/runs/abc" in markdown
    assert markdown.endswith(
        "### Plots\n\nIn the charts, blue is this PR and grey is `origin/main`.\n\n<chart 1>\n\n<chart 2>\n"
    )
    # f1 0.9 -> 0.8 is 11.1 % worse; accuracy unchanged; the base is the zero line, in the middle.
    chart = [
        '    title "Metric change vs the base (%, up is better)"',
        '    x-axis "metric" ["f1", "accuracy"]',
        '    y-axis "%" -11.1111 --> 11.1111',
        "    line [-11.1111, 0]",
        "    line [0, 0]",
        "```",
    ]
    assert "\n".join(chart) in markdown
    assert not LOCAL_IMAGE.search(markdown)


def test_the_model_card_is_collapsed_with_the_metrics_beside_the_base(tmp_path: Path) -> None:
    paths = Paths(tmp_path)
    assert model_card_section([], "origin/main", paths) == (
        f"\n### Model card\n\nNo `{paths.model_card_json}`: the pipeline's `card` stage writes it.\n"
    )
    card = serve_bundles.add_model_card(serve_bundles.build_bundle(tmp_path, "classification"))
    f1 = card.metrics["f1"]
    rows = compare_metrics({"f1": f1 - 0.05}, card.metrics)

    section = model_card_section(rows, "origin/main", paths)

    assert section.startswith(
        "\n<details><summary><b>Model card</b> test-classification ⚠️ intended use placeholder "
        "(`docs/model_card_intended_use.md`)</summary>\n\n#### Model card: test-classification\n"
    )
    assert section.endswith("\n</details>\n")
    assert "\n##### Intended use and limits\n" in section and "> **Not written yet.**" in section
    assert "| metric | origin/main | this model | Δ | |" in section
    assert f"| f1 | {f1 - 0.05:.4f} | {f1:.4f} | +0.0500 | better |" in section
    assert "| accuracy | — |" in section  # not on the base


def test_metric_changes_are_signed_so_that_up_is_better() -> None:
    base = {"rmse": 10.0, "r2": 0.5, "mae": 0.0, "log_loss": float("nan")}
    rows = compare_metrics(base, {"rmse": 8.0, "r2": 0.4, "mae": 1.0, "log_loss": 0.3, "new": 1})
    # mae: base 0; log_loss: not a number on the base; new: no base
    assert metric_changes(rows) == [("rmse", 20.0), ("r2", pytest.approx(-20.0))]


def test_images_are_a_separate_opt_in_section() -> None:
    images = [
        ("ROC curve", "roc_base.png", "roc.png"),
        ("Feature importance", None, "feature_importance.png"),
    ]
    assert images_markdown(images, "origin/main") == (
        "### Plots (images)\n\n| origin/main | this PR |\n|---|---|\n"
        "| ![ROC curve (origin/main)](roc_base.png) | ![ROC curve (this PR)](roc.png) |\n"
        "| no plot on base | ![Feature importance (this PR)](feature_importance.png) |\n"
    )


def test_curves_are_resampled_on_a_grid_best_reachable_value() -> None:
    grid = np.array([0.0, 0.25, 0.5, 1.0])
    # ROC: the best tpr at or below each fpr; precision-recall: the best precision at or above each recall
    assert resample_curve([0, 0, 0.5, 1], [0, 0.6, 0.8, 1], grid, "below").tolist() == [0.6, 0.6, 0.8, 1.0]
    assert resample_curve([1, 0.5, 0], [0.5, 0.8, 1], grid, "above").tolist() == [1.0, 0.8, 0.8, 0.5]


def test_roc_chart_has_both_sides_and_stays_small() -> None:
    fpr = np.linspace(0, 1, 1000)
    current = pd.DataFrame({"fpr": fpr, "tpr": np.sqrt(fpr)})
    base = pd.DataFrame({"fpr": [0.0, 1.0], "tpr": [0.0, 1.0]})
    chart = curve_chart(SPECS["roc"], current, base).splitlines()
    assert chart[:6] == [
        "```mermaid",
        TWO_COLORS,
        "xychart-beta",
        '    title "ROC curve (test set)"',
        '    x-axis "fpr" 0 --> 1',
        '    y-axis "tpr" 0 --> 1',
    ]
    current_line, base_line = chart[6], chart[7]
    assert current_line.startswith("    line [0, 0.2215, 0.3148, ") and current_line.endswith(", 1]")
    # the base's two points (0, 0) and (1, 1): no tpr above 0 is reached before fpr 1
    assert base_line == "    line [" + ", ".join(["0"] * (GRID_POINTS - 1) + ["1"]) + "]"
    assert chart[8:] == ["```"] and len(current_line.split(",")) == GRID_POINTS


def test_confusion_matrix_is_a_table_with_the_base_in_parentheses() -> None:
    current = pd.DataFrame({"actual": ["a", "b", "b"], "predicted": ["a", "b", "a"]})
    base = pd.DataFrame({"actual": ["a", "b", "c"], "predicted": ["a", "a", "c"]})
    assert confusion_table(SPECS["confusion"], current, base) == [
        "| actual ↓ / predicted → | a | b | c |",
        "|---|---:|---:|---:|",
        "| **a** | 1 (1) | 0 (0) | 0 (0) |",
        "| **b** | 1 (1) | 1 (0) | 0 (0) |",
        "| **c** | 0 (0) | 0 (0) | 0 (1) |",
    ]
    without_base = confusion_table(SPECS["confusion"], current, None)
    assert without_base[2:] == ["| **a** | 1 | 0 |", "| **b** | 1 | 1 |"]


def test_importance_chart_bars_this_branch_and_lines_the_base() -> None:
    current = pd.DataFrame({"feature": ["x", "y z", "w"], "importance": [0.3, 0.1, -0.01]})
    base = pd.DataFrame({"feature": ["y z", "q"], "importance": [0.4, 0.2]})
    assert importance_chart(SPECS["feature_importance"], current, base).splitlines()[3:] == [
        '    title "Feature importance (permutation, test set)"',
        '    x-axis "feature" ["x", "y z", "w"]',
        '    y-axis "importance" 0 --> 0.4',
        "    bar [0.3, 0.1, 0]",
        "    line [0, 0.4, 0]",
        "```",
    ]


def test_regression_charts_bin_what_xychart_cannot_scatter() -> None:
    current = pd.DataFrame({"actual": [0.0, 1.0, 10.0], "predicted": [1.0, 1.0, 8.0]})
    chart = predictions_chart(SPECS["predictions"], current, None).splitlines()
    assert chart[1] == TWO_COLORS.replace("#9ca3af", "#16a34a")  # this branch and the ideal
    assert chart[3:] == [
        '    title "Predicted vs actual (test set): mean predicted per bin of actual"',
        '    x-axis "actual" 0.5 --> 9.5',
        '    y-axis "predicted"',
        # bins 0 (actual 0), 1 (1) and 9 (10); the empty ones between are interpolated
        "    line [1, 1, 1.875, 2.75, 3.625, 4.5, 5.375, 6.25, 7.125, 8]",
        "    line [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5]",
        "```",
    ]
    residuals = pd.DataFrame({"predicted": [1.0, 2.0, 3.0, 4.0], "residual": [-1.5, 0.0, 0.1, 1.5]})
    chart = residuals_chart(SPECS["residuals"], residuals, residuals).splitlines()
    assert chart[4:] == [
        '    x-axis "residual" -1.4 --> 1.4',
        '    y-axis "% of rows"',
        "    line [25, 0, 0, 0, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0, 25]",
        "    line [25, 0, 0, 0, 0, 0, 0, 50, 0, 0, 0, 0, 0, 0, 25]",
        "```",
    ]


def test_first_report_without_baseline() -> None:
    rows = compare_metrics(None, {"f1": 0.8})
    markdown = render_markdown(
        rows=rows,
        gate=gate_outcome(rows, GateParams(primary_metric="f1", tolerance=0)),
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
