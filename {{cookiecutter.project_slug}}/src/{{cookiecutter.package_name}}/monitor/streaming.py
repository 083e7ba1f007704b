"""Drift of current data read in chunks: each column's counts are summed chunk by chunk, so memory is
bounded by the chunk, not by the window.

The tests need only counts: a numeric column's counts at the reference grid (KS, PSI) and its missing count;
a categorical column's count by category. Summed over the chunks they are the whole data's counts, so the
verdicts and statistics equal ``drift.detect_drift`` on the concatenated data. Two things need the values
themselves and are kept bounded: up to ``KS_EXACT_MAX_N`` present values per column (below that size
scipy's exact KS p-value is used, as in memory), and a uniform sample of ``PLOT_SAMPLE`` values for the
report's histogram when there are more.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from ..config import DriftThresholds
from .columns import category_tally, numeric_values, require_columns, sorted_counts
from .drift import (
    ColumnDrift,
    DriftResult,
    categorical_drift,
    check_critical_features,
    numeric_drift_from_counts,
    summarise,
    test_numeric,
)
from .errors import EmptyDataError
from .profile import PREDICTION, CategoricalProfile, ColumnProfile, NumericProfile, ReferenceProfile
from .stats import KS_EXACT_MAX_N, current_counts_at

PLOT_SAMPLE = 10_000


class NumericTally:
    """Counts of one numeric column at the reference grid, a bounded copy of its values, a plot sample."""

    def __init__(self, reference: NumericProfile, seed: int) -> None:
        self.reference = reference
        self.le = np.zeros(reference.x.size, dtype=np.int64)
        self.eq = np.zeros(reference.x.size, dtype=np.int64)
        self.n_present = 0
        self.n_missing = 0
        self.kept: list[np.ndarray] | None = []
        self.sample = np.zeros(0)
        self.sample_keys = np.zeros(0)
        self.random = np.random.default_rng(seed)

    def add(self, series: pd.Series) -> None:
        values = numeric_values(series, self.reference.name)
        missing = np.isnan(values)
        present = np.sort(values[~missing])
        self.n_missing += int(missing.sum())
        self.n_present += int(present.size)
        le, eq = current_counts_at(self.reference.x, present)
        self.le += le
        self.eq += eq
        if self.kept is not None:
            self.kept.append(present)
            if self.n_present > KS_EXACT_MAX_N:
                self.kept = None
        self._add_to_sample(present)

    def _add_to_sample(self, present: np.ndarray) -> None:
        """Bottom-k sampling: every value gets a random key, the PLOT_SAMPLE smallest keys stay."""
        keys = np.concatenate([self.sample_keys, self.random.random(present.size)])
        values = np.concatenate([self.sample, present])
        if values.size > PLOT_SAMPLE:
            smallest = np.argpartition(keys, PLOT_SAMPLE)[:PLOT_SAMPLE]
            keys, values = keys[smallest], values[smallest]
        self.sample_keys, self.sample = keys, values

    def add_missing(self, rows: int) -> None:
        self.n_missing += rows

    def result(self, thresholds: DriftThresholds) -> ColumnDrift:
        if self.kept is not None:
            values = np.concatenate([*self.kept, np.full(self.n_missing, np.nan)])
            return test_numeric(self.reference, values, thresholds)
        return numeric_drift_from_counts(
            self.reference,
            (self.le, self.eq),
            self.n_present,
            self.n_missing,
            np.sort(self.sample),
            thresholds,
        )


class CategoricalTally:
    """Counts of one categorical column by category key, in order of first appearance."""

    def __init__(self, reference: CategoricalProfile) -> None:
        self.reference = reference
        self.counts: dict[str, int] = {}
        self.n_missing = 0

    def add(self, series: pd.Series) -> None:
        _, n_missing = category_tally(series, into=self.counts)
        self.n_missing += n_missing

    def add_missing(self, rows: int) -> None:
        self.n_missing += rows

    def result(self, thresholds: DriftThresholds) -> ColumnDrift:
        categories, counts = sorted_counts(self.counts)
        return categorical_drift(self.reference, categories, counts, self.n_missing, thresholds)


Tally = NumericTally | CategoricalTally


def _tally(reference: ColumnProfile, seed: int) -> Tally:
    if isinstance(reference, NumericProfile):
        return NumericTally(reference, seed)
    return CategoricalTally(reference)


class StreamingDrift:
    """``add`` the current data chunk by chunk, then ``result()``: the DriftResult of the whole."""

    def __init__(
        self,
        profile: ReferenceProfile,
        thresholds: DriftThresholds | None = None,
        *,
        prediction_column: str = PREDICTION,
        workers: int | None = None,
    ) -> None:
        self.thresholds = thresholds or DriftThresholds()
        check_critical_features(profile, self.thresholds)
        self.names = profile.schema.names()
        self.features = {name: _tally(profile.columns[name], seed) for seed, name in enumerate(self.names)}
        self.prediction = _tally(profile.prediction, len(self.names)) if profile.prediction else None
        self.prediction_column = prediction_column
        self.prediction_seen = False
        self.rows_without_prediction = 0
        self.n_rows = 0
        self.workers = workers if workers is not None else min(4, os.cpu_count() or 1)

    def add(self, chunk: pd.DataFrame) -> None:
        if len(chunk) == 0:
            return
        require_columns(chunk, self.names)
        work: list[tuple[Tally, pd.Series]] = [(self.features[name], chunk[name]) for name in self.names]
        if self.prediction is not None:
            if self.prediction_column in chunk.columns:
                self.prediction_seen = True
                work.append((self.prediction, chunk[self.prediction_column]))
            else:
                self.rows_without_prediction += len(chunk)
        if self.workers > 1 and len(work) > 1:
            with ThreadPoolExecutor(max_workers=self.workers) as pool:
                list(pool.map(lambda job: job[0].add(job[1]), work))
        else:
            for tally, series in work:
                tally.add(series)
        self.n_rows += len(chunk)

    def result(self) -> DriftResult:
        if self.n_rows == 0:
            raise EmptyDataError("current data has no rows")
        features = [self.features[name].result(self.thresholds) for name in self.names]
        prediction = None
        if self.prediction is not None and self.prediction_seen:
            self.prediction.add_missing(self.rows_without_prediction)
            self.rows_without_prediction = 0
            prediction = self.prediction.result(self.thresholds)
        return summarise(features, prediction, self.thresholds, self.n_rows)


def detect_drift_streaming(
    profile: ReferenceProfile,
    chunks: Iterable[pd.DataFrame],
    thresholds: DriftThresholds | None = None,
    *,
    prediction_column: str = PREDICTION,
    workers: int | None = None,
) -> DriftResult:
    """``drift.detect_drift`` of the concatenated ``chunks``, holding one chunk at a time."""
    drift = StreamingDrift(profile, thresholds, prediction_column=prediction_column, workers=workers)
    for chunk in chunks:
        drift.add(chunk)
    return drift.result()
