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

from .columns import category_counts, numeric_values, require_columns
from .errors import EmptyDataError, IncompatibleDataError
from .profile import PREDICTION, CategoricalProfile, ColumnProfile, NumericProfile, ReferenceProfile
from .stats import (
    benjamini_hochberg,
    bin_counts_from_le,
    chi2_2xk,
    ks_test,
    merge_rare,
    psi,
    two_proportion_ztest,
)
from .thresholds import DriftThresholds

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
        d = {k: getattr(self, k) for k in _JSON_KEYS}
        d["new_categories"] = list(self.new_categories)[:50]
        return d


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
        cols = self.features + ([self.prediction] if self.prediction else [])
        return [c for c in cols if c.verdict == "drift"]

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
            "drifted_features": [c.name for c in self.features if c.verdict == "drift"],
            "critical_drifted": list(self.critical_drifted),
            "features": [c.to_dict() for c in self.features],
            "prediction": self.prediction.to_dict() if self.prediction else None,
        }


def _finite(v: float | None, default: float | None = None) -> float | None:
    if v is None:
        return default
    v = float(v)
    return v if math.isfinite(v) else default


# ----------------------------------------------------------------------------- numeric


def _numeric_plot(ref: NumericProfile, cur_sorted: np.ndarray) -> dict[str, Any] | None:
    n1, n2 = ref.n, cur_sorted.size
    if n1 == 0 and n2 == 0:
        return None
    lo_hi: list[float] = []
    if n1:
        q = np.searchsorted(ref.cum, [0.005 * n1, 0.995 * n1], side="left")
        lo_hi += [float(ref.x[min(q[0], ref.x.size - 1)]), float(ref.x[min(q[1], ref.x.size - 1)])]
    if n2:
        lo_hi += [float(cur_sorted[int(0.005 * (n2 - 1))]), float(cur_sorted[int(0.995 * (n2 - 1))])]
    lo_hi = [v for v in lo_hi if math.isfinite(v)]
    if not lo_hi:
        return None
    lo, hi = min(lo_hi), max(lo_hi)
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, PLOT_BINS + 1)

    def ref_props() -> list[float]:
        if n1 == 0:
            return [0.0] * PLOT_BINS
        i = np.searchsorted(ref.x, edges, side="right") - 1
        f = np.where(i >= 0, ref.cum[np.clip(i, 0, None)], 0) / n1
        f[0] = 0.0 if i[0] < 0 else f[0]
        return np.diff(f).clip(0).tolist()

    def cur_props() -> list[float]:
        if n2 == 0:
            return [0.0] * PLOT_BINS
        f = np.searchsorted(cur_sorted, edges, side="right") / n2
        return np.diff(f).clip(0).tolist()

    return {"type": "histogram", "edges": edges.tolist(), "reference": ref_props(), "current": cur_props()}


def test_numeric(ref: NumericProfile, values: np.ndarray, thr: DriftThresholds) -> ColumnDrift:
    """Unadjusted numeric tests for float64 ``values`` (NaN = missing)."""
    missing = np.isnan(values)
    cur = np.sort(values[~missing]) if missing.any() else np.sort(values)
    res = ColumnDrift(
        name=ref.name,
        kind="numeric",
        n_reference=ref.n,
        n_current=int(cur.size),
        n_current_total=int(values.size),
    )
    _missing_test(res, ref.n_missing, ref.n_total, int(missing.sum()), int(values.size))
    res.plot = _numeric_plot(ref, cur)
    if cur.size < thr.min_samples or ref.n < thr.min_samples:
        return res
    d, p, le = ks_test(ref.x, ref.cum, ref.n, ref.exact, cur)
    res.test, res.statistic, res.p_value = "ks", _finite(d, 0.0), _finite(p, 1.0)
    le_edges = le[np.searchsorted(ref.x, ref.psi_edges)] if ref.psi_edges.size else np.zeros(0, np.int64)
    cur_props = bin_counts_from_le(le_edges, cur.size) / cur.size
    res.psi = _finite(psi(ref.psi_ref_props, cur_props), 0.0)
    return res


# ----------------------------------------------------------------------------- categorical


def _categorical_plot(cats: list[str], rc: np.ndarray, cc: np.ndarray) -> dict[str, Any] | None:
    if not cats:
        return None
    rp = rc / rc.sum() if rc.sum() else rc.astype(float)
    cp = cc / cc.sum() if cc.sum() else cc.astype(float)
    order = np.argsort(-np.maximum(rp, cp), kind="stable")
    top = order[:PLOT_MAX_CATEGORIES]
    labels = [cats[i] for i in top]
    r, c = rp[top].tolist(), cp[top].tolist()
    if len(order) > PLOT_MAX_CATEGORIES:
        rest = order[PLOT_MAX_CATEGORIES:]
        labels.append(f"(other {len(rest)})")
        r.append(float(rp[rest].sum()))
        c.append(float(cp[rest].sum()))
    return {"type": "bars", "categories": labels, "reference": r, "current": c}


def test_categorical(ref: CategoricalProfile, series: pd.Series, thr: DriftThresholds) -> ColumnDrift:
    cats, counts, n_missing = category_counts(series)
    n_cur = int(counts.sum())
    res = ColumnDrift(
        name=ref.name,
        kind="categorical",
        n_reference=ref.n,
        n_current=n_cur,
        n_current_total=len(series),
    )
    _missing_test(res, ref.n_missing, ref.n_total, n_missing, len(series))
    index = {c: i for i, c in enumerate(ref.categories)}
    union = list(ref.categories)
    cur_counts = np.zeros(len(union), dtype=np.int64)
    new: list[tuple[str, int]] = []
    for c, k in zip(cats, counts.tolist(), strict=False):
        i = index.get(c)
        if i is None:
            new.append((c, k))
        else:
            cur_counts[i] = k
    if new:
        union += [c for c, _ in new]
        cur_counts = np.concatenate([cur_counts, np.array([k for _, k in new], dtype=np.int64)])
    ref_counts = np.concatenate([ref.counts.astype(np.int64), np.zeros(len(new), dtype=np.int64)])
    res.new_categories = [c for c, _ in new]
    res.new_category_share = (sum(k for _, k in new) / n_cur) if n_cur else 0.0
    res.plot = _categorical_plot(union, ref_counts, cur_counts)
    if n_cur < thr.min_samples or ref.n < thr.min_samples:
        return res
    table, n_merged = merge_rare(ref_counts, cur_counts, thr.rare_category_min_expected)
    chi2, p, dof, v = chi2_2xk(table)
    res.test, res.statistic, res.p_value = "chi2", _finite(chi2, 0.0), _finite(p, 1.0)
    res.cramers_v, res.dof, res.merged_categories = _finite(v, 0.0), dof, n_merged
    if table.shape[1] >= 1:
        res.psi = _finite(psi(table[0] / table[0].sum(), table[1] / table[1].sum()), 0.0)
    else:
        res.psi = 0.0
    return res


# ----------------------------------------------------------------------------- shared


def _missing_test(
    res: ColumnDrift, ref_missing: int, ref_total: int, cur_missing: int, cur_total: int
) -> None:
    res.missing_rate_reference = ref_missing / ref_total if ref_total else 0.0
    res.missing_rate_current = cur_missing / cur_total if cur_total else 0.0
    _, p = two_proportion_ztest(ref_missing, ref_total, cur_missing, cur_total)
    res.missing_p_value = _finite(p, 1.0)


def test_column(ref: ColumnProfile, series: pd.Series, thr: DriftThresholds) -> ColumnDrift:
    if isinstance(ref, NumericProfile):
        return test_numeric(ref, numeric_values(series, ref.name), thr)
    return test_categorical(ref, series, thr)


def effect_reasons(c: ColumnDrift, thr: DriftThresholds) -> list[str]:
    """The effect sizes of a significant column that pass their thresholds."""
    reasons: list[str] = []
    if c.kind == "numeric" and (c.statistic or 0.0) >= thr.ks_threshold:
        reasons.append(f"ks {c.statistic:.3f} >= {thr.ks_threshold}")
    if c.kind == "categorical" and (c.cramers_v or 0.0) >= thr.cramers_v_threshold:
        reasons.append(f"cramers_v {c.cramers_v:.3f} >= {thr.cramers_v_threshold}")
    if (c.psi or 0.0) >= thr.psi_threshold:
        reasons.append(f"psi {c.psi:.3f} >= {thr.psi_threshold}")
    if c.kind == "categorical" and (c.new_category_share or 0.0) >= thr.new_category_share_threshold:
        reasons.append(
            f"new categories {c.new_category_share:.3f} of rows >= {thr.new_category_share_threshold}"
        )
    return reasons


def apply_verdicts(cols: list[ColumnDrift], thr: DriftThresholds) -> None:
    """BH-adjust p-values across columns (distribution family, missing-rate family) and decide."""
    adj = benjamini_hochberg([c.p_value for c in cols])
    madj = benjamini_hochberg([c.missing_p_value for c in cols])
    for c, pa, ma in zip(cols, adj, madj, strict=True):
        c.p_value_adj, c.missing_p_value_adj = pa, ma
        reasons = effect_reasons(c, thr) if pa is not None and pa < thr.alpha else []
        c.distribution_drift = bool(reasons)
        delta = c.missing_rate_current - c.missing_rate_reference
        if ma is not None and ma < thr.alpha and abs(delta) >= thr.missing_rate_threshold:
            c.missing_drift = True
            reasons.append(f"missing rate {c.missing_rate_reference:.3f} -> {c.missing_rate_current:.3f}")
        c.reasons = reasons
        if c.n_current_total < thr.min_samples:
            c.verdict, c.reasons = "insufficient_data", [f"fewer than {thr.min_samples} current rows"]
            c.distribution_drift = c.missing_drift = False
        elif c.distribution_drift or c.missing_drift:
            c.verdict = "drift"
        elif c.p_value is None:
            c.verdict = "insufficient_data"
            c.reasons = [f"fewer than {thr.min_samples} non-missing values"]
        else:
            c.verdict = "no_drift"


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
    thr = thresholds or DriftThresholds()
    if not isinstance(current, pd.DataFrame):
        raise IncompatibleDataError(f"current data must be a pandas DataFrame, got {type(current).__name__}")
    if len(current) == 0:
        raise EmptyDataError("current data has no rows")
    names = profile.schema.names()
    require_columns(current, names)
    unknown = sorted(set(thr.critical_features) - set(names))
    if unknown:
        raise IncompatibleDataError(f"critical feature(s) not in the schema: {', '.join(unknown)}")
    n_workers = workers if workers is not None else min(4, os.cpu_count() or 1)
    if n_workers > 1 and len(names) > 1:
        with ThreadPoolExecutor(max_workers=n_workers) as pool:
            feats = list(pool.map(lambda n: test_column(profile.columns[n], current[n], thr), names))
    else:
        feats = [test_column(profile.columns[n], current[n], thr) for n in names]
    for f in feats:
        f.critical = f.name in thr.critical_features
    pred: ColumnDrift | None = None
    if profile.prediction is not None and prediction_column in current.columns:
        pred = test_column(profile.prediction, current[prediction_column], thr)
        pred.name, pred.role = PREDICTION, "prediction"
    apply_verdicts(feats + ([pred] if pred else []), thr)

    evaluated = [f for f in feats if f.verdict != "insufficient_data"]
    drifted = [f for f in evaluated if f.verdict == "drift"]
    share = len(drifted) / len(evaluated) if evaluated else 0.0
    critical = [f.name for f in drifted if f.critical]
    dataset_drift = bool(evaluated) and (share >= thr.share_threshold or bool(critical))
    prediction_drift = pred is not None and pred.verdict == "drift"
    if dataset_drift or prediction_drift:
        status = "drift"
    elif not evaluated:
        status = "insufficient_data"
    elif drifted:
        status = "warning"
    else:
        status = "ok"
    return DriftResult(
        features=feats,
        prediction=pred,
        thresholds=thr,
        n_current_rows=len(current),
        n_evaluated=len(evaluated),
        n_drifted=len(drifted),
        share_drifted=share,
        critical_drifted=critical,
        dataset_drift=dataset_drift,
        prediction_drift=prediction_drift,
        status=status,
    )
