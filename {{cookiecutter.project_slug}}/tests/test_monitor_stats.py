"""Statistical kernels of the monitor against scipy and hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from {{ cookiecutter.package_name }}.monitor.stats import (
    benjamini_hochberg,
    chi2_2xk,
    ecdf_summary,
    ks_test,
    merge_rare,
    psi,
    two_proportion_ztest,
)


@pytest.mark.parametrize(
    "n1,n2,discrete",
    [
        (300, 500, False),
        (4000, 6000, True),
        (20_000, 15_000, False),
        (60_000, 80_000, True),
        (50, 20_000, False),
        (20_000, 40, True),
    ],
)
def test_ks_matches_scipy_exactly(n1, n2, discrete):
    rng = np.random.default_rng(n1 + n2)
    a, b = rng.normal(size=n1), rng.normal(0.05, 1.1, size=n2)
    if discrete:
        a, b = np.round(a, 1), np.round(b, 1)
    x, cum, exact = ecdf_summary(np.sort(a), 200_000)
    assert exact
    d, p, _ = ks_test(x, cum, n1, exact, np.sort(b))
    ref = stats.ks_2samp(a, b)
    assert abs(d - ref.statistic) <= 1e-9
    assert abs(p - ref.pvalue) <= 1e-9


def test_ks_identical_and_disjoint():
    a = np.arange(100.0)
    x, cum, ex = ecdf_summary(a)
    d, p, _ = ks_test(x, cum, 100, ex, a.copy())
    assert d == 0 and p == pytest.approx(1.0)
    d, p, _ = ks_test(x, cum, 100, ex, a + 1000)
    r = stats.ks_2samp(a, a + 1000)
    assert d == 1.0 and p == pytest.approx(r.pvalue, abs=1e-12)


def test_ks_sketch_is_accurate():
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=300_000), rng.normal(0.03, 1, size=250_000)
    x, cum, exact = ecdf_summary(np.sort(a), max_exact=200_000, sketch_size=10_000)
    assert not exact and x.size <= 10_000
    d, p, _ = ks_test(x, cum, a.size, exact, np.sort(b))
    r = stats.ks_2samp(a, b)
    assert abs(d - r.statistic) < 5e-4
    assert math.log10(p) == pytest.approx(math.log10(r.pvalue), rel=0.1)


def test_psi_hand_computed():
    # (0.25-0.5)ln(0.25/0.5) + (0.75-0.5)ln(0.75/0.5)
    expected = 0.25 * math.log(2) + 0.25 * math.log(1.5)
    assert psi(np.array([0.5, 0.5]), np.array([0.25, 0.75])) == pytest.approx(expected, abs=1e-12)
    assert psi(np.array([0.2, 0.3, 0.5]), np.array([0.2, 0.3, 0.5])) == 0.0
    # zero proportion is clipped to 1e-4, not infinite
    v = psi(np.array([0.5, 0.5, 0.0]), np.array([0.4, 0.4, 0.2]))
    assert math.isfinite(v) and v > 0.5


def test_chi2_matches_scipy():
    table = np.array([[120, 80, 50, 30], [100, 95, 70, 20]])
    chi2, p, dof, v = chi2_2xk(table)
    r = stats.chi2_contingency(table, correction=False)
    assert chi2 == pytest.approx(r.statistic, abs=1e-9)
    assert p == pytest.approx(r.pvalue, abs=1e-12)
    assert dof == 3
    assert v == pytest.approx(math.sqrt(r.statistic / table.sum()))


def test_merge_rare_categories():
    ref = np.array([500, 400, 2, 1, 0])
    cur = np.array([480, 410, 1, 0, 3])
    table, merged = merge_rare(ref, cur, 5.0)
    assert merged == 3
    assert table.sum() == ref.sum() + cur.sum()
    assert table.shape in ((2, 3), (2, 2))
    _chi2, p, _dof, _v = chi2_2xk(table)
    assert 0 <= p <= 1
    # a single category: defined result, no exception
    assert chi2_2xk(np.array([[10], [12]])) == (0.0, 1.0, 0, 0.0)


def test_two_proportion_ztest():
    z, p = two_proportion_ztest(10, 1000, 10, 1000)
    assert z == 0 and p == pytest.approx(1.0)
    assert two_proportion_ztest(0, 100, 0, 50) == (0.0, 1.0)
    z, p = two_proportion_ztest(10, 1000, 100, 1000)
    assert z > 0 and p < 1e-10


def test_benjamini_hochberg():
    adj = benjamini_hochberg([0.01, 0.04, 0.03, None, 0.5])
    # sorted p: .01,.03,.04,.5 (m=4) -> .04, .0533, .0533, .5
    assert adj[0] == pytest.approx(0.04)
    assert adj[2] == pytest.approx(0.04 * 4 / 3)
    assert adj[1] == pytest.approx(0.04 * 4 / 3)
    assert adj[3] is None
    assert adj[4] == pytest.approx(0.5)


def step_up_adjusted(p_values: list[float]) -> list[float]:
    """The hand-written Benjamini-Hochberg the monitor used before scipy's, kept to compare with."""
    p = np.array(p_values, dtype=np.float64)
    m = len(p)
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, m + 1)
    adjusted = np.empty(m)
    adjusted[order] = np.clip(np.minimum.accumulate(ranked[::-1])[::-1], 0.0, 1.0)
    return adjusted.tolist()


@pytest.mark.parametrize(
    "p_values",
    [
        [0.01, 0.04, 0.03, 0.5],
        [0.02, 0.02, 0.02, 0.9, 0.02],  # ties
        [0.0, 0.0, 1.0, 1.0, 0.049, 0.051],  # ties at both ends
        [0.3],
        [0.001 * k for k in range(1, 40)] + [0.01] * 5,
        np.random.default_rng(3).random(200).round(3).tolist(),  # many ties
    ],
)
def test_benjamini_hochberg_matches_the_step_up_it_replaced(p_values):
    # scipy multiplies p * (m / rank), the old code (p * m) / rank: equal to the last bit or two.
    assert benjamini_hochberg(p_values) == pytest.approx(step_up_adjusted(p_values), rel=1e-15, abs=0)


def test_benjamini_hochberg_skips_missing_and_non_finite():
    adjusted = benjamini_hochberg([0.01, None, math.nan, 0.04, math.inf, 0.03])
    assert adjusted[1] is None and adjusted[2] is None and adjusted[4] is None
    expected = step_up_adjusted([0.01, 0.04, 0.03])
    assert [adjusted[0], adjusted[3], adjusted[5]] == pytest.approx(expected, rel=1e-15, abs=0)
    assert benjamini_hochberg([None, math.nan]) == [None, None]
    assert benjamini_hochberg([]) == []
