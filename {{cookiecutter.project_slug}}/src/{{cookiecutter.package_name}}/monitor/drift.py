"""Per-feature drift tests and the dataset verdict.

Numeric: two-sample KS (vs the stored reference ECDF) + PSI on reference-decile bins.
Categorical: Pearson chi-square on the 2xK (reference, current) table with rare categories
merged, Cramér's V, PSI over (merged) categories, categories unseen in the reference.
Every column: missing-rate change (pooled two-proportion z-test + absolute difference).
Prediction column: same tests (classification -> categorical, regression -> numeric).

A column drifts only when the Benjamini-Hochberg adjusted p-value < alpha AND an effect size
passes its threshold, so huge samples do not alarm on negligible shifts.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from ..config import DriftThresholds
from .columns import category_counts, numeric_values, require_columns
from .errors import EmptyDataError, IncompatibleDataError
from .profile import PREDICTION, CategoricalProfile, ColumnProfile, NumericProfile, ReferenceProfile
from .stats import (
    benjamini_hochberg,
    bin_counts_from_le,
    chi2_2xk,
    ks_test,
    ks_test_from_counts,
    merge_rare,
    psi,
    two_proportion_ztest,
)

Verdict = Literal["drift", "no_drift", "insufficient_data"]
PLOT_BINS = 30
PLOT_MAX_CATEGORIES = 15


@dataclass
class ColumnDrift:
    """Result for one column; ``to_dict`` gives the stable JSON form."""

    name: str
    kind: str
    role: str = "feature"  # "feature" | "prediction"
    critical: bool = False
    n_reference: int = 0  # non-missing
    n_current: int = 0  # non-missing
    n_current_total: int = 0
    test: str | None = None  # "ks" | "chi2"
    statistic: float | None = None  # KS distance or chi-square
    p_value: float | None = None
    p_value_adj: float | None = None
    psi: float | None = None
    cramers_v: float | None = None
    dof: int | None = None
    merged_categories: int | None = None
    new_categories: list[str] = field(default_factory=list)
    new_category_share: float | None = None
    missing_rate_reference: float = 0.0
    missing_rate_current: float = 0.0
    missing_p_value: float | None = None
    missing_p_value_adj: float | None = None
    distribution_drift: bool = False
    missing_drift: bool = False
    verdict: Verdict = "insufficient_data"
    reasons: list[str] = field(default_factory=list)
    plot: dict[str, Any] | None = None  # reference-vs-current distribution, for the HTML report

    def to_dict(self) -> dict[str, Any]:
        data = {key: getattr(self, key) for key in _JSON_KEYS}
        data["new_categories"] = list(self.new_categories)[:50]
        return data


_JSON_KEYS = (
    "name",
    "kind",
    "role",
    "critical",
    "verdict",
    "reasons",
    "test",
    "statistic",
    "p_value",
    "p_value_adj",
    "psi",
    "cramers_v",
    "dof",
    "merged_categories",
    "new_categories",
    "new_category_share",
    "n_reference",
    "n_current",
    "n_current_total",
    "missing_rate_reference",
    "missing_rate_current",
    "missing_p_value",
    "missing_p_value_adj",
    "distribution_drift",
    "missing_drift",
)


@dataclass
class DriftResult:
    features: list[ColumnDrift]
    prediction: ColumnDrift | None
    thresholds: DriftThresholds
    n_current_rows: int
    n_evaluated: int
    n_drifted: int
    share_drifted: float
    critical_drifted: list[str]
    dataset_drift: bool
    prediction_drift: bool
    status: str  # "drift" | "warning" | "ok" | "insufficient_data"

    @property
    def drifted(self) -> list[ColumnDrift]:
        columns = self.features + ([self.prediction] if self.prediction else [])
        return [column for column in columns if column.verdict == "drift"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "dataset_drift": self.dataset_drift,
            "prediction_drift": self.prediction_drift,
            "n_current_rows": self.n_current_rows,
            "n_features": len(self.features),
            "n_evaluated": self.n_evaluated,
            "n_drifted": self.n_drifted,
            "share_drifted": self.share_drifted,
            "drifted_features": [column.name for column in self.features if column.verdict == "drift"],
            "critical_drifted": list(self.critical_drifted),
            "features": [column.to_dict() for column in self.features],
            "prediction": self.prediction.to_dict() if self.prediction else None,
        }


def _finite(value: float | None, default: float | None = None) -> float | None:
    if value is None:
        return default
    value = float(value)
    return value if math.isfinite(value) else default


# ----------------------------------------------------------------------------- numeric


def _numeric_plot(reference: NumericProfile, current_sorted: np.ndarray) -> dict[str, Any] | None:
    n_reference, n_current = reference.n, current_sorted.size
    if n_reference == 0 and n_current == 0:
        return None
    bounds: list[float] = []
    if n_reference:
        quantiles = np.searchsorted(reference.cum, [0.005 * n_reference, 0.995 * n_reference], side="left")
        last = reference.x.size - 1
        bounds += [float(reference.x[min(quantiles[0], last)]), float(reference.x[min(quantiles[1], last)])]
    if n_current:
        bounds += [
            float(current_sorted[int(0.005 * (n_current - 1))]),
            float(current_sorted[int(0.995 * (n_current - 1))]),
        ]
    bounds = [bound for bound in bounds if math.isfinite(bound)]
    if not bounds:
        return None
    low, high = min(bounds), max(bounds)
    if high <= low:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, PLOT_BINS + 1)

    def reference_shares() -> list[float]:
        if n_reference == 0:
            return [0.0] * PLOT_BINS
        positions = np.searchsorted(reference.x, edges, side="right") - 1
        cdf = np.where(positions >= 0, reference.cum[np.clip(positions, 0, None)], 0) / n_reference
        cdf[0] = 0.0 if positions[0] < 0 else cdf[0]
        return np.diff(cdf).clip(0).tolist()

    def current_shares() -> list[float]:
        if n_current == 0:
            return [0.0] * PLOT_BINS
        cdf = np.searchsorted(current_sorted, edges, side="right") / n_current
        return np.diff(cdf).clip(0).tolist()

    return {
        "type": "histogram",
        "edges": edges.tolist(),
        "reference": reference_shares(),
        "current": current_shares(),
    }


def test_numeric(reference: NumericProfile, values: np.ndarray, thresholds: DriftThresholds) -> ColumnDrift:
    """Unadjusted numeric tests for float64 ``values`` (NaN = missing)."""
    missing = np.isnan(values)
    current = np.sort(values[~missing]) if missing.any() else np.sort(values)
    result = _numeric_column(reference, int(current.size), int(missing.sum()), current)
    if current.size < thresholds.min_samples or reference.n < thresholds.min_samples:
        return result
    distance, p_value, le = ks_test(reference.x, reference.cum, reference.n, reference.exact, current)
    _set_ks_and_psi(result, reference, distance, p_value, le)
    return result


def numeric_drift_from_counts(
    reference: NumericProfile,
    counts: tuple[np.ndarray, np.ndarray],
    n_present: int,
    n_missing: int,
    plot_sample: np.ndarray,
    thresholds: DriftThresholds,
) -> ColumnDrift:
    """``test_numeric`` from the current counts ``(le, eq)`` at the reference grid (stats.current_counts_at,
    summed over chunks): the same tests and numbers; the plot is drawn from ``plot_sample`` (sorted)."""
    result = _numeric_column(reference, n_present, n_missing, plot_sample)
    if n_present < thresholds.min_samples or reference.n < thresholds.min_samples:
        return result
    le, eq = counts
    distance, p_value = ks_test_from_counts(reference.cum, reference.n, reference.exact, le, eq, n_present)
    _set_ks_and_psi(result, reference, distance, p_value, le)
    return result


def _numeric_column(
    reference: NumericProfile, n_present: int, n_missing: int, current_sorted: np.ndarray
) -> ColumnDrift:
    result = ColumnDrift(
        name=reference.name,
        kind="numeric",
        n_reference=reference.n,
        n_current=n_present,
        n_current_total=n_present + n_missing,
    )
    _missing_test(result, reference.n_missing, reference.n_total, n_missing, n_present + n_missing)
    result.plot = _numeric_plot(reference, current_sorted)
    return result


def _set_ks_and_psi(
    result: ColumnDrift, reference: NumericProfile, distance: float, p_value: float, le: np.ndarray
) -> None:
    result.test, result.statistic, result.p_value = "ks", _finite(distance, 0.0), _finite(p_value, 1.0)
    if reference.psi_edges.size:
        le_at_edges = le[np.searchsorted(reference.x, reference.psi_edges)]
    else:
        le_at_edges = np.zeros(0, np.int64)
    current_shares = bin_counts_from_le(le_at_edges, result.n_current) / result.n_current
    result.psi = _finite(psi(reference.psi_ref_props, current_shares), 0.0)


# ----------------------------------------------------------------------------- categorical


def _categorical_plot(
    categories: list[str], reference_counts: np.ndarray, current_counts: np.ndarray
) -> dict[str, Any] | None:
    if not categories:
        return None
    reference_total, current_total = reference_counts.sum(), current_counts.sum()
    reference = reference_counts / reference_total if reference_total else reference_counts.astype(float)
    current = current_counts / current_total if current_total else current_counts.astype(float)
    order = np.argsort(-np.maximum(reference, current), kind="stable")
    top = order[:PLOT_MAX_CATEGORIES]
    labels = [categories[i] for i in top]
    reference_shares, current_shares = reference[top].tolist(), current[top].tolist()
    if len(order) > PLOT_MAX_CATEGORIES:
        rest = order[PLOT_MAX_CATEGORIES:]
        labels.append(f"(other {len(rest)})")
        reference_shares.append(float(reference[rest].sum()))
        current_shares.append(float(current[rest].sum()))
    return {"type": "bars", "categories": labels, "reference": reference_shares, "current": current_shares}


def test_categorical(
    reference: CategoricalProfile, series: pd.Series, thresholds: DriftThresholds
) -> ColumnDrift:
    categories, counts, n_missing = category_counts(series)
    return categorical_drift(reference, categories, counts, n_missing, thresholds)


def categorical_drift(
    reference: CategoricalProfile,
    categories: list[str],
    counts: np.ndarray,
    n_missing: int,
    thresholds: DriftThresholds,
) -> ColumnDrift:
    """Categorical tests from the current counts by category key (columns.category_counts order)."""
    n_current = int(counts.sum())
    result = ColumnDrift(
        name=reference.name,
        kind="categorical",
        n_reference=reference.n,
        n_current=n_current,
        n_current_total=n_current + n_missing,
    )
    _missing_test(result, reference.n_missing, reference.n_total, n_missing, n_current + n_missing)
    position = {category: i for i, category in enumerate(reference.categories)}
    union = list(reference.categories)
    current_counts = np.zeros(len(union), dtype=np.int64)
    new: list[tuple[str, int]] = []
    for category, count in zip(categories, counts.tolist(), strict=False):
        i = position.get(category)
        if i is None:
            new.append((category, count))
        else:
            current_counts[i] = count
    if new:
        union += [category for category, _ in new]
        new_counts = np.array([count for _, count in new], dtype=np.int64)
        current_counts = np.concatenate([current_counts, new_counts])
    reference_counts = np.concatenate([reference.counts.astype(np.int64), np.zeros(len(new), dtype=np.int64)])
    result.new_categories = [category for category, _ in new]
    result.new_category_share = (sum(count for _, count in new) / n_current) if n_current else 0.0
    result.plot = _categorical_plot(union, reference_counts, current_counts)
    if n_current < thresholds.min_samples or reference.n < thresholds.min_samples:
        return result
    table, n_merged = merge_rare(reference_counts, current_counts, thresholds.rare_category_min_expected)
    chi2, p_value, dof, cramers_v = chi2_2xk(table)
    result.test, result.statistic, result.p_value = "chi2", _finite(chi2, 0.0), _finite(p_value, 1.0)
    result.cramers_v, result.dof, result.merged_categories = _finite(cramers_v, 0.0), dof, n_merged
    if table.shape[1] >= 1:
        result.psi = _finite(psi(table[0] / table[0].sum(), table[1] / table[1].sum()), 0.0)
    else:
        result.psi = 0.0
    return result


# ----------------------------------------------------------------------------- shared


def _missing_test(
    result: ColumnDrift,
    reference_missing: int,
    reference_total: int,
    current_missing: int,
    current_total: int,
) -> None:
    result.missing_rate_reference = reference_missing / reference_total if reference_total else 0.0
    result.missing_rate_current = current_missing / current_total if current_total else 0.0
    _, p_value = two_proportion_ztest(reference_missing, reference_total, current_missing, current_total)
    result.missing_p_value = _finite(p_value, 1.0)


def test_column(reference: ColumnProfile, series: pd.Series, thresholds: DriftThresholds) -> ColumnDrift:
    if isinstance(reference, NumericProfile):
        return test_numeric(reference, numeric_values(series, reference.name), thresholds)
    return test_categorical(reference, series, thresholds)


def effect_reasons(column: ColumnDrift, thresholds: DriftThresholds) -> list[str]:
    """The effect sizes of a significant column that pass their thresholds."""
    reasons: list[str] = []
    if column.kind == "numeric" and (column.statistic or 0.0) >= thresholds.ks_threshold:
        reasons.append(f"ks {column.statistic:.3f} >= {thresholds.ks_threshold}")
    if column.kind == "categorical" and (column.cramers_v or 0.0) >= thresholds.cramers_v_threshold:
        reasons.append(f"cramers_v {column.cramers_v:.3f} >= {thresholds.cramers_v_threshold}")
    if (column.psi or 0.0) >= thresholds.psi_threshold:
        reasons.append(f"psi {column.psi:.3f} >= {thresholds.psi_threshold}")
    new_share = column.new_category_share or 0.0
    if column.kind == "categorical" and new_share >= thresholds.new_category_share_threshold:
        reasons.append(
            f"new categories {column.new_category_share:.3f} of rows >= "
            f"{thresholds.new_category_share_threshold}"
        )
    return reasons


def apply_verdicts(columns: list[ColumnDrift], thresholds: DriftThresholds) -> None:
    """BH-adjust p-values across columns (distribution family, missing-rate family) and decide."""
    adjusted = benjamini_hochberg([column.p_value for column in columns])
    missing_adjusted = benjamini_hochberg([column.missing_p_value for column in columns])
    for column, p_adjusted, missing_p_adjusted in zip(columns, adjusted, missing_adjusted, strict=True):
        column.p_value_adj, column.missing_p_value_adj = p_adjusted, missing_p_adjusted
        significant = p_adjusted is not None and p_adjusted < thresholds.alpha
        reasons = effect_reasons(column, thresholds) if significant else []
        column.distribution_drift = bool(reasons)
        change = column.missing_rate_current - column.missing_rate_reference
        if (
            missing_p_adjusted is not None
            and missing_p_adjusted < thresholds.alpha
            and abs(change) >= thresholds.missing_rate_threshold
        ):
            column.missing_drift = True
            reasons.append(
                f"missing rate {column.missing_rate_reference:.3f} -> {column.missing_rate_current:.3f}"
            )
        column.reasons = reasons
        if column.n_current_total < thresholds.min_samples:
            column.verdict, column.reasons = (
                "insufficient_data",
                [f"fewer than {thresholds.min_samples} current rows"],
            )
            column.distribution_drift = column.missing_drift = False
        elif column.distribution_drift or column.missing_drift:
            column.verdict = "drift"
        elif column.p_value is None:
            column.verdict = "insufficient_data"
            column.reasons = [f"fewer than {thresholds.min_samples} non-missing values"]
        else:
            column.verdict = "no_drift"


def detect_drift(
    profile: ReferenceProfile,
    current: pd.DataFrame,
    thresholds: DriftThresholds | None = None,
    *,
    prediction_column: str = PREDICTION,
    workers: int | None = None,
) -> DriftResult:
    """Run all drift tests of ``current`` against ``profile``.

    Columns are tested in a thread pool of ``workers`` threads (default: number of CPUs, max 4);
    the heavy numpy kernels (sort, searchsorted) release the GIL.

    Raises ``EmptyDataError`` for no rows and ``MissingColumnError`` naming an absent schema column.
    """
    thresholds = thresholds or DriftThresholds()
    if not isinstance(current, pd.DataFrame):
        raise IncompatibleDataError(f"current data must be a pandas DataFrame, got {type(current).__name__}")
    if len(current) == 0:
        raise EmptyDataError("current data has no rows")
    names = profile.schema.names()
    require_columns(current, names)
    check_critical_features(profile, thresholds)

    def test_feature(name: str) -> ColumnDrift:
        return test_column(profile.columns[name], current[name], thresholds)

    n_workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    if n_workers > 1 and len(names) > 1:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            features = list(pool.map(test_feature, names))
    else:
        features = [test_feature(name) for name in names]
    prediction: ColumnDrift | None = None
    if profile.prediction is not None and prediction_column in current.columns:
        prediction = test_column(profile.prediction, current[prediction_column], thresholds)
    return summarise(features, prediction, thresholds, len(current))


def check_critical_features(profile: ReferenceProfile, thresholds: DriftThresholds) -> None:
    unknown = sorted(set(thresholds.critical_features) - set(profile.schema.names()))
    if unknown:
        raise IncompatibleDataError(f"critical feature(s) not in the schema: {', '.join(unknown)}")


def summarise(
    features: list[ColumnDrift], prediction: ColumnDrift | None, thresholds: DriftThresholds, n_rows: int
) -> DriftResult:
    """Adjusted verdicts of the tested columns and the dataset verdict."""
    for feature in features:
        feature.critical = feature.name in thresholds.critical_features
    if prediction is not None:
        prediction.name, prediction.role = PREDICTION, "prediction"
    apply_verdicts(features + ([prediction] if prediction else []), thresholds)

    evaluated = [feature for feature in features if feature.verdict != "insufficient_data"]
    drifted = [feature for feature in evaluated if feature.verdict == "drift"]
    share = len(drifted) / len(evaluated) if evaluated else 0.0
    critical = [feature.name for feature in drifted if feature.critical]
    dataset_drift = bool(evaluated) and (share >= thresholds.share_threshold or bool(critical))
    prediction_drift = prediction is not None and prediction.verdict == "drift"
    if dataset_drift or prediction_drift:
        status = "drift"
    elif not evaluated:
        status = "insufficient_data"
    elif drifted:
        status = "warning"
    else:
        status = "ok"
    return DriftResult(
        features=features,
        prediction=prediction,
        thresholds=thresholds,
        n_current_rows=n_rows,
        n_evaluated=len(evaluated),
        n_drifted=len(drifted),
        share_drifted=share,
        critical_drifted=critical,
        dataset_drift=dataset_drift,
        prediction_drift=prediction_drift,
        status=status,
    )
