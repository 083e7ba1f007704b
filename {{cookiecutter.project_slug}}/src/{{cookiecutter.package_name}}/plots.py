"""Plot data for `dvc plots` (CSV) and the same plots as PNG images (for reports and MLflow)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import ConfusionMatrixDisplay, precision_recall_curve, roc_curve
from sklearn.preprocessing import label_binarize


def _figure() -> tuple[Figure, Any]:
    """A figure outside pyplot: no global state, no display backend needed."""
    fig = Figure(figsize=(6, 4.5), dpi=100)
    return fig, fig.subplots()


def _save(fig: Figure, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path)


def _curve_points(y_true: pd.Series, proba: np.ndarray, classes: list[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Binary: scores of the positive class; multiclass: micro-average over one-vs-rest."""
    if len(classes) == 2:
        return (y_true == classes[1]).to_numpy(dtype=int), proba[:, 1]
    return label_binarize(y_true, classes=classes).ravel(), proba.ravel()


def classification_plots(
    out: Path, images: Path, y_true: pd.Series, y_pred: np.ndarray, proba: np.ndarray, classes: list[Any]
) -> None:
    pd.DataFrame({"actual": y_true.astype(str), "predicted": pd.Series(y_pred).astype(str)}).to_csv(
        out / "confusion.csv", index=False
    )
    truth, scores = _curve_points(y_true, proba, classes)
    fpr, tpr, _ = roc_curve(truth, scores)
    pd.DataFrame({"fpr": fpr, "tpr": tpr}).round(6).to_csv(out / "roc.csv", index=False)
    precision, recall, _ = precision_recall_curve(truth, scores)
    pd.DataFrame({"recall": recall, "precision": precision}).round(6).to_csv(
        out / "precision_recall.csv", index=False
    )

    fig, ax = _figure()
    ConfusionMatrixDisplay.from_predictions(y_true, y_pred, labels=classes, ax=ax, colorbar=False)
    ax.set_title("Confusion matrix (test set)")
    _save(fig, images / "confusion_matrix.png")
    for name, x, y, xlabel, ylabel in (
        ("roc", fpr, tpr, "False positive rate", "True positive rate"),
        ("precision_recall", recall, precision, "Recall", "Precision"),
    ):
        fig, ax = _figure()
        ax.plot(x, y)
        ax.set(
            xlabel=xlabel,
            ylabel=ylabel,
            title=f"{name.replace('_', '-').upper()} curve (test set)",
            xlim=(0, 1),
            ylim=(0, 1.02),
        )
        _save(fig, images / f"{name}.png")


def regression_plots(out: Path, images: Path, y_true: pd.Series, y_pred: np.ndarray) -> None:
    actual = y_true.to_numpy(dtype=float)
    pd.DataFrame({"actual": actual, "predicted": y_pred}).round(6).to_csv(
        out / "predictions.csv", index=False
    )
    residual = actual - y_pred
    pd.DataFrame({"predicted": y_pred, "residual": residual}).round(6).to_csv(
        out / "residuals.csv", index=False
    )

    fig, ax = _figure()
    ax.scatter(actual, y_pred, s=12, alpha=0.7)
    low, high = float(min(actual.min(), y_pred.min())), float(max(actual.max(), y_pred.max()))
    ax.plot([low, high], [low, high], linestyle="--", color="grey")
    ax.set(xlabel="Actual", ylabel="Predicted", title="Predicted vs actual (test set)")
    _save(fig, images / "predicted_vs_actual.png")
    fig, ax = _figure()
    ax.scatter(y_pred, residual, s=12, alpha=0.7)
    ax.axhline(0, linestyle="--", color="grey")
    ax.set(xlabel="Predicted", ylabel="Residual (actual - predicted)", title="Residuals (test set)")
    _save(fig, images / "residuals.png")


def importance_plot(out: Path, images: Path, importance: pd.DataFrame, top: int = 20) -> None:
    importance.round(6).to_csv(out / "feature_importance.csv", index=False)
    shown = importance.head(top).iloc[::-1]
    fig, ax = _figure()
    ax.barh(shown["feature"].astype(str), shown["importance"])
    ax.set(xlabel="Permutation importance (score drop)", title=f"Feature importance (top {len(shown)})")
    ax.tick_params(axis="y", labelsize=7)
    _save(fig, images / "feature_importance.png")
