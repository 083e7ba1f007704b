"""Plot data for `dvc plots` (CSV, committed) and PNG images rendered from that same data.

Images are always rendered from the CSV files, so the PR report can render the base branch's plots from
the CSVs committed there, with the same code.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay, precision_recall_curve, roc_curve
from sklearn.preprocessing import label_binarize


@dataclass(frozen=True)
class PlotSpec:
    name: str  # CSV stem under plots/ and PNG stem under plots/images/
    title: str
    x: str
    y: str
    kind: str  # confusion | curve | scatter | bars


IMPORTANCE = PlotSpec(
    "feature_importance", "Feature importance (permutation, test set)", "importance", "feature", "bars"
)
PLOT_SPECS: dict[str, tuple[PlotSpec, ...]] = {
    "classification": (
        PlotSpec("confusion", "Confusion matrix (test set)", "actual", "predicted", "confusion"),
        PlotSpec("roc", "ROC curve (test set)", "fpr", "tpr", "curve"),
        PlotSpec("precision_recall", "Precision-recall curve (test set)", "recall", "precision", "curve"),
        IMPORTANCE,
    ),
    "regression": (
        PlotSpec("predictions", "Predicted vs actual (test set)", "actual", "predicted", "scatter"),
        PlotSpec("residuals", "Residuals (test set)", "predicted", "residual", "scatter"),
        IMPORTANCE,
    ),
}


def _curve_points(y_true: pd.Series, proba: np.ndarray, classes: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Binary: scores of the positive class; multiclass: micro-average over one-vs-rest."""
    if len(classes) == 2:
        return (y_true == classes[1]).to_numpy(dtype=int), proba[:, 1]
    return label_binarize(y_true, classes=classes).ravel(), proba.ravel()


def classification_plot_data(
    y_true: pd.Series, y_pred: np.ndarray, proba: np.ndarray, classes: list[Any]
) -> dict[str, pd.DataFrame]:
    truth, scores = _curve_points(y_true, proba, classes)
    fpr, tpr, _ = roc_curve(truth, scores)
    precision, recall, _ = precision_recall_curve(truth, scores)
    return {
        "confusion": pd.DataFrame(
            {"actual": y_true.astype(str).to_numpy(), "predicted": np.asarray(y_pred).astype(str)}
        ),
        "roc": pd.DataFrame({"fpr": fpr, "tpr": tpr}).round(6),
        "precision_recall": pd.DataFrame({"recall": recall, "precision": precision}).round(6),
    }


def regression_plot_data(y_true: pd.Series, y_pred: np.ndarray) -> dict[str, pd.DataFrame]:
    actual = y_true.to_numpy(dtype=float)
    return {
        "predictions": pd.DataFrame({"actual": actual, "predicted": y_pred}).round(6),
        "residuals": pd.DataFrame({"predicted": y_pred, "residual": actual - y_pred}).round(6),
    }


def render(spec: PlotSpec, data: pd.DataFrame, path: Path, top_features: int = 20) -> None:
    """Draw one plot from its CSV data into a PNG (outside pyplot: no global state, no display needed)."""
    fig = Figure(figsize=(6, 4.5), dpi=100)
    ax = fig.subplots()
    if spec.kind == "confusion":
        labels = sorted(set(data[spec.x].astype(str)) | set(data[spec.y].astype(str)))
        ConfusionMatrixDisplay.from_predictions(
            data[spec.x].astype(str), data[spec.y].astype(str), labels=labels, ax=ax, colorbar=False
        )
    elif spec.kind == "curve":
        ax.plot(data[spec.x], data[spec.y])
        ax.set(xlim=(0, 1), ylim=(0, 1.02))
    elif spec.kind == "scatter":
        ax.scatter(data[spec.x], data[spec.y], s=12, alpha=0.7)
        if spec.name == "predictions":
            low, high = float(data.min(axis=None)), float(data.max(axis=None))
            ax.plot([low, high], [low, high], linestyle="--", color="grey")
        else:
            ax.axhline(0, linestyle="--", color="grey")
    else:
        shown = data.head(top_features).iloc[::-1]
        ax.barh(shown[spec.y].astype(str), shown[spec.x])
        ax.tick_params(axis="y", labelsize=7)
    if spec.kind != "confusion":
        ax.set(xlabel=spec.x, ylabel=spec.y)
    ax.set_title(spec.title)
    fig.tight_layout()
    fig.savefig(path)


def write_plots(plots_dir: Path, problem_type: str, data: dict[str, pd.DataFrame]) -> None:
    """Write each plot's CSV (for `dvc plots`) and render its PNG into plots_dir/images."""
    images = plots_dir / "images"
    images.mkdir(parents=True, exist_ok=True)
    for spec in PLOT_SPECS[problem_type]:
        data[spec.name].to_csv(plots_dir / f"{spec.name}.csv", index=False)
        render(spec, data[spec.name], images / f"{spec.name}.png")
