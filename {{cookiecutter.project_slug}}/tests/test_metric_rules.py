"""The one rule of every gate: worse than the reference by more than a tolerance, in the metric's
direction."""

from __future__ import annotations

import math

import pytest

from {{ cookiecutter.package_name }}.metric_rules import METRIC_NAMES, Tolerance, compare_to_reference, higher_is_better


def test_directions_cover_every_metric() -> None:
    lower = {name for names in METRIC_NAMES.values() for name in names if not higher_is_better(name)}
    assert lower == {"rmse", "mae", "log_loss"}
    assert higher_is_better("f1") and higher_is_better("r2")


@pytest.mark.parametrize(
    ("metric", "value", "reference", "worse"),
    [
        ("f1", 0.895, 0.90, False),  # higher is better: within 0.01
        ("f1", 0.85, 0.90, True),
        ("f1", 0.99, 0.90, False),  # better
        ("rmse", 50.005, 50.0, False),  # lower is better: within 0.01
        ("rmse", 52.0, 50.0, True),
        ("rmse", 45.0, 50.0, False),
    ],
)
def test_absolute_tolerance_follows_the_direction(
    metric: str, value: float, reference: float, worse: bool
) -> None:
    comparison = compare_to_reference(metric, value, reference, Tolerance(absolute=0.01))
    assert comparison.worse is worse and comparison.acceptable is not worse
    assert comparison.delta == pytest.approx(value - reference)


@pytest.mark.parametrize(
    ("metric", "reference", "limit"),
    [("f1", 0.95, 0.94), ("log_loss", 0.1, 0.11), ("accuracy", 0.9, 0.89), ("mae", 2.5, 2.51)],
)
def test_exactly_at_the_limit_is_not_worse(metric: str, reference: float, limit: float) -> None:
    comparison = compare_to_reference(metric, limit, reference, Tolerance(absolute=0.01))
    assert comparison.limit == pytest.approx(limit)
    assert comparison.acceptable and not comparison.worse


def test_relative_tolerance_takes_the_larger_allowance() -> None:
    tolerance = Tolerance(absolute=0.02, relative=0.05)
    assert tolerance.allowed(0.9) == pytest.approx(0.045)  # 5 % of 0.9 beats 0.02
    assert tolerance.allowed(0.1) == pytest.approx(0.02)
    assert tolerance.allowed(-40.0) == pytest.approx(2.0)  # of the magnitude: r2 can be negative
    assert not compare_to_reference("f1", 0.86, 0.9, tolerance).worse
    assert compare_to_reference("f1", 0.85, 0.9, tolerance).worse
    assert compare_to_reference("log_loss", 0.5, 0.4, tolerance).worse


def test_nan_is_neither_worse_nor_acceptable() -> None:
    """Each caller picks its question: the PR gate and decay fail what is worse; promotion needs what is
    acceptable."""
    for value, reference in ((math.nan, 0.9), (0.9, math.nan)):
        comparison = compare_to_reference("f1", value, reference, Tolerance(absolute=0.01))
        assert not comparison.worse and not comparison.acceptable
