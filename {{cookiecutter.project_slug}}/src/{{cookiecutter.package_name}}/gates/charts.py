"""Charts GitHub draws from the report's text itself (mermaid `xychart-beta`) and tables, from the plot CSVs.

No image file is involved, so the report stays private (nothing is uploaded to an image host) and renders the
same in a PR comment and in a job summary. Each chart shows this branch and the base together. xychart spaces
a series' points evenly and has no legend, so curves are resampled on a fixed grid (which also keeps a chart
small: GitHub caps the size of a diagram) and the colours are fixed: blue this branch, grey the base.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..pipeline.plots import PlotSpec

CURRENT_COLOR, BASE_COLOR, IDEAL_COLOR = "#2563eb", "#9ca3af", "#16a34a"
GRID_POINTS = 21  # curves at 0, 0.05, ..., 1
BINS = 10  # predicted vs actual: bins of the actual value
RESIDUAL_BINS = 15  # odd, so that 0 is the centre of a bin
TOP_FEATURES = 12


@dataclass(frozen=True)
class Series:
    kind: str  # line | bar
    values: tuple[float, ...]
    color: str


def number(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _label(text: str) -> str:
    return '"' + str(text).replace('"', "'") + '"'


def xychart(title: str, x_axis: str, y_axis: str, series: Sequence[Series]) -> str:
    """One mermaid xychart in a fenced block; x_axis and y_axis are the text after `x-axis ` / `y-axis `."""
    palette = ", ".join(s.color for s in series)
    lines = [
        "```mermaid",
        '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "' + palette + '"}}}}%%',
        "xychart-beta",
        f"    title {_label(title)}",
        f"    x-axis {x_axis}",
        f"    y-axis {y_axis}",
    ]
    lines += [f"    {s.kind} [{', '.join(number(v) for v in s.values)}]" for s in series]
    return "\n".join([*lines, "```"])


def _numeric_axis(name: str, low: float, high: float) -> str:
    return f"{_label(name)} {number(low)} --> {number(high)}"


def _categories(name: str, labels: Sequence[str]) -> str:
    return f"{_label(name)} [{', '.join(_label(label) for label in labels)}]"


def _pair(current: Sequence[float], base: Sequence[float] | None, kind: str = "line") -> list[Series]:
    series = [Series(kind, tuple(current), CURRENT_COLOR)]
    return series if base is None else [*series, Series("line", tuple(base), BASE_COLOR)]


# --- curves: ROC and precision-recall --------------------------------------------------------------------


def resample_curve(x: Sequence[float], y: Sequence[float], grid: np.ndarray, best_at: str) -> np.ndarray:
    """The curve at each grid x: the best y reached at or below x (ROC), at or above x (precision-recall)."""
    xs, ys = np.asarray(x, dtype=float)[None, :], np.asarray(y, dtype=float)
    points = grid[:, None]
    reach = (xs <= points + 1e-12) if best_at == "below" else (xs >= points - 1e-12)
    return np.where(reach, ys[None, :], 0.0).max(axis=1, initial=0.0)


def curve_chart(spec: PlotSpec, current: pd.DataFrame, base: pd.DataFrame | None) -> str:
    grid = np.linspace(0.0, 1.0, GRID_POINTS)
    best_at = "below" if spec.name == "roc" else "above"

    def points(frame: pd.DataFrame) -> list[float]:
        return resample_curve(frame[spec.x], frame[spec.y], grid, best_at).tolist()

    series = _pair(points(current), None if base is None else points(base))
    return xychart(spec.title, _numeric_axis(spec.x, 0, 1), _numeric_axis(spec.y, 0, 1), series)


# --- regression: predicted vs actual, residuals -----------------------------------------------------------


def binned_means(x: pd.Series, y: pd.Series, edges: np.ndarray) -> np.ndarray:
    """Mean y per bin of x; an empty bin is interpolated from its neighbours (xychart needs every point)."""
    index = np.clip(np.searchsorted(edges, x.to_numpy(dtype=float), side="right") - 1, 0, len(edges) - 2)
    frame = pd.DataFrame({"bin": index, "y": y.to_numpy(dtype=float)})
    means = frame.groupby("bin")["y"].mean().reindex(range(len(edges) - 1))
    known = means.notna().to_numpy()
    centers = (edges[:-1] + edges[1:]) / 2
    return np.interp(centers, centers[known], means.to_numpy()[known])


def predictions_chart(spec: PlotSpec, current: pd.DataFrame, base: pd.DataFrame | None) -> str:
    frames = [current] if base is None else [current, base]
    low = min(float(f[spec.x].min()) for f in frames)
    high = max(float(f[spec.x].max()) for f in frames)
    edges = np.linspace(low, high if high > low else low + 1.0, BINS + 1)
    centers = (edges[:-1] + edges[1:]) / 2

    def means(frame: pd.DataFrame) -> list[float]:
        return binned_means(frame[spec.x], frame[spec.y], edges).tolist()

    series = _pair(means(current), None if base is None else means(base))
    series.append(Series("line", tuple(centers), IDEAL_COLOR))  # predicted = actual
    title = f"{spec.title}: mean {spec.y} per bin of {spec.x}"
    return xychart(title, _numeric_axis(spec.x, centers[0], centers[-1]), _label(spec.y), series)


def residuals_chart(spec: PlotSpec, current: pd.DataFrame, base: pd.DataFrame | None) -> str:
    frames = [current] if base is None else [current, base]
    reach = max(float(f[spec.y].abs().max()) for f in frames) or 1.0
    edges = np.linspace(-reach, reach, RESIDUAL_BINS + 1)
    centers = (edges[:-1] + edges[1:]) / 2

    def shares(frame: pd.DataFrame) -> list[float]:
        counts, _ = np.histogram(frame[spec.y].to_numpy(dtype=float), bins=edges)
        return (100 * counts / max(len(frame), 1)).tolist()

    series = _pair(shares(current), None if base is None else shares(base))
    title = f"{spec.title}: share of rows per {spec.y} bin"
    return xychart(title, _numeric_axis(spec.y, centers[0], centers[-1]), _label("% of rows"), series)


# --- feature importance, metrics, confusion matrix ---------------------------------------------------------


def importance_chart(spec: PlotSpec, current: pd.DataFrame, base: pd.DataFrame | None) -> str:
    """This branch's top features as bars, the base's importance of the same features as a line.

    A negative permutation importance (the feature's shuffling helped: noise) is drawn as 0.
    """
    top = current.head(TOP_FEATURES)
    features = top[spec.y].astype(str).tolist()
    values = top[spec.x].clip(lower=0).tolist()
    base_values = None
    if base is not None:
        by_feature = dict(zip(base[spec.y].astype(str), base[spec.x].clip(lower=0), strict=True))
        base_values = [float(by_feature.get(feature, 0.0)) for feature in features]
    high = max([*values, *(base_values or []), 0.0]) or 1.0
    series = _pair(values, base_values, kind="bar")
    return xychart(spec.title, _categories(spec.y, features), _numeric_axis(spec.x, 0, high), series)


def metric_change_chart(changes: Sequence[tuple[str, float]]) -> str:
    """Relative change of each metric against the base, in %, signed so that up is better; the base is 0."""
    names = [name for name, _ in changes]
    values = [value for _, value in changes]
    series = [Series("line", tuple(values), CURRENT_COLOR), Series("line", (0.0,) * len(values), BASE_COLOR)]
    reach = max(abs(value) for value in values) or 1.0  # symmetric, so that the base's zero is in the middle
    title = "Metric change vs the base (%, up is better)"
    return xychart(title, _categories("metric", names), _numeric_axis("%", -reach, reach), series)


def confusion_table(spec: PlotSpec, current: pd.DataFrame, base: pd.DataFrame | None) -> list[str]:
    """Counts per actual (rows) and predicted (columns) class: this branch, the base in parentheses."""

    def counts(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.crosstab(frame[spec.x].astype(str), frame[spec.y].astype(str))

    frames = [counts(current)] + ([] if base is None else [counts(base)])
    labels = sorted(set().union(*(set(f.index) | set(f.columns) for f in frames)))
    grids = [f.reindex(index=labels, columns=labels, fill_value=0) for f in frames]
    lines = [f"| {spec.x} ↓ / {spec.y} → | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]
    for actual in labels:
        cells = []
        for predicted in labels:
            first, *others = (int(grid.at[actual, predicted]) for grid in grids)
            cells.append(" ".join([str(first), *(f"({count})" for count in others)]))
        lines.append(f"| **{actual}** | " + " | ".join(cells) + " |")
    return lines


def plot_section(spec: PlotSpec, current: pd.DataFrame, base: pd.DataFrame | None) -> list[str]:
    """Markdown lines for one plot: a table for the confusion matrix, a chart for everything else."""
    if spec.kind == "confusion":
        note = "this PR" + ("" if base is None else " (base)")
        return [f"**{spec.title}**: {note}", "", *confusion_table(spec, current, base)]
    if spec.kind == "curve":
        return [curve_chart(spec, current, base)]
    if spec.kind == "bars":
        return [importance_chart(spec, current, base)]
    if spec.name == "predictions":
        return [predictions_chart(spec, current, base), "", "Green: predicted = actual."]
    return [residuals_chart(spec, current, base)]
