"""The metrics each problem type reports, which direction is better, and the one rule every gate applies:
"worse than the reference by more than a tolerance".

The PR report (gates/report.py), the deploy gate (gates/promotion.py) and the monitor's decay check
(monitor/decay.py) compare a metric with a reference through `compare_to_reference`; params.yaml is checked
against the same names (config.py), and the pipeline computes them (pipeline/metrics.py).
"""

from __future__ import annotations

from dataclasses import dataclass

# Metrics where a lower value is better; every other metric is better when higher.
LOWER_IS_BETTER = frozenset({"rmse", "mae", "log_loss"})
METRIC_NAMES = {
    "classification": ("accuracy", "balanced_accuracy", "precision", "recall", "f1", "log_loss", "roc_auc"),
    "regression": ("rmse", "mae", "r2"),
}


def higher_is_better(name: str) -> bool:
    return name not in LOWER_IS_BETTER


@dataclass(frozen=True)
class Tolerance:
    """How much worse than the reference a metric may get: max(absolute, relative * |reference|)."""

    absolute: float
    relative: float = 0.0

    def allowed(self, reference: float) -> float:
        return max(self.absolute, self.relative * abs(reference))


@dataclass(frozen=True)
class Comparison:
    """A metric's value against its reference, with the tolerance in the metric's own units.

    `worse` and `acceptable` are complements for numbers; a NaN value or reference is neither, so each
    caller says which question it asks: the PR gate and the decay check fail only what is `worse`, the
    deploy gate promotes only what is `acceptable`.
    """

    metric: str
    value: float
    reference: float
    allowed: float

    @property
    def higher_is_better(self) -> bool:
        return higher_is_better(self.metric)

    @property
    def delta(self) -> float:
        return self.value - self.reference

    @property
    def limit(self) -> float:
        """The worst value still accepted."""
        return self.reference - self.allowed if self.higher_is_better else self.reference + self.allowed

    @property
    def worse(self) -> bool:
        return self.value < self.limit if self.higher_is_better else self.value > self.limit

    @property
    def acceptable(self) -> bool:
        return self.value >= self.limit if self.higher_is_better else self.value <= self.limit


def compare_to_reference(metric: str, value: float, reference: float, tolerance: Tolerance) -> Comparison:
    return Comparison(metric, value, reference, tolerance.allowed(reference))
