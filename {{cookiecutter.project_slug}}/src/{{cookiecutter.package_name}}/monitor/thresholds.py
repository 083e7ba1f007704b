"""Thresholds of the drift and decay verdicts: a strict, frozen model (`monitor.thresholds` in params.yaml).

Defaults and why
----------------
alpha = 0.05
    False-discovery rate of the Benjamini-Hochberg correction over all features' distribution tests
    (and, separately, over the missing-rate tests).
psi_threshold = 0.1
    Conventional PSI reading: < 0.1 no meaningful shift, 0.1-0.25 moderate, > 0.25 major.
ks_threshold = 0.1
    KS distance (max ECDF gap) of 0.1 = 10 percentage points of probability mass moved;
    a 0.25 sd mean shift of a normal gives ~0.1, a 0.02 sd shift only ~0.008.
cramers_v_threshold = 0.1
    Cohen's "small effect" for a 2xK table.
new_category_share_threshold = 0.01
    1 % of current rows in categories never seen in training is a real change.
missing_rate_threshold = 0.05
    The missing-value rate must change by >= 5 percentage points (and significantly).
min_samples = 30
    Below that many current rows (non-missing, per feature) a test is not run: `insufficient_data`.
share_threshold = 0.3
    Dataset drift when >= 30 % of the evaluated features drift. BH + the effect-size gate make false
    feature alarms rare, so 30 % (Evidently uses 50 %) is already a broad shift.
critical_features = ()
    Drift in any one of these makes the dataset verdict "drift".
rare_category_min_expected = 5.0
    Chi-square: categories whose expected count is < 5 in either row are merged into one "other" cell
    (Cochran's rule), which keeps the test valid on long tails.
decay_relative_tolerance = 0.05, decay_absolute_tolerance = 0.02
    A metric decays when it is worse than the training (test-set) metric by more than
    max(absolute, relative * |training value|), in its "bad" direction.
min_labeled_rows = 30
    Decay is evaluated only with at least that many labelled predictions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import MonitorDataError


class ThresholdsError(MonitorDataError):
    """Thresholds given to the monitor (not through params.yaml) are invalid."""


class DriftThresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    alpha: float = Field(default=0.05, gt=0, le=1)
    psi_threshold: float = Field(default=0.1, ge=0, allow_inf_nan=False)
    ks_threshold: float = Field(default=0.1, ge=0, le=1)
    cramers_v_threshold: float = Field(default=0.1, ge=0, le=1)
    new_category_share_threshold: float = Field(default=0.01, ge=0, le=1)
    missing_rate_threshold: float = Field(default=0.05, ge=0, le=1)
    min_samples: int = Field(default=30, ge=1)
    share_threshold: float = Field(default=0.3, gt=0, le=1)
    # YAML gives a list: accepted (strict mode would only take a tuple), stored as a tuple.
    critical_features: tuple[str, ...] = Field(default=(), strict=False)
    rare_category_min_expected: float = Field(default=5.0, ge=0, allow_inf_nan=False)
    decay_relative_tolerance: float = Field(default=0.05, ge=0, allow_inf_nan=False)
    decay_absolute_tolerance: float = Field(default=0.02, ge=0, allow_inf_nan=False)
    min_labeled_rows: int = Field(default=30, ge=1)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> DriftThresholds:
        """Build from a mapping; an unknown key or a bad value is one ThresholdsError line naming it."""
        try:
            return cls.model_validate(dict(data or {}))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()
            )
            raise ThresholdsError(f"invalid monitor thresholds: {problems}") from None

    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump()
        data["critical_features"] = list(self.critical_features)
        return data
