"""Predictions for rows of request values: the pure step between a validated request and its response.

``prepare_predictor`` runs once at start-up: it probes the model on rows built from the feature schema and
takes the numpy fast path (fastpath.py) when that reproduces sklearn on them. ``predict`` then turns rows
into predictions, with no I/O.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import fastpath
from .bundle import ModelBundle, ModelLoadError, json_scalar

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prediction:
    predictions: list[Any]
    probabilities: list[list[float]] | None  # rows x classes (metadata order)


@dataclass(frozen=True)
class InputLayout:
    """Where the values of a request row go: a numeric and a categorical block, then the model's columns."""

    feature_names: list[str]  # schema order (= order of the request fields)
    numeric_positions: np.ndarray  # positions of the numeric features in a row
    categorical_positions: np.ndarray
    model_columns: list[tuple[str, bool, int]]  # (name, numeric, position in its block), fitted order

    @classmethod
    def of(cls, bundle: ModelBundle) -> InputLayout:
        features = bundle.schema.features
        numeric = [feature.name for feature in features if feature.kind == "numeric"]
        categorical = [feature.name for feature in features if feature.kind != "numeric"]
        names = [feature.name for feature in features]
        position = {name: index for index, name in enumerate(names)}
        block_position = {name: index for block in (numeric, categorical) for index, name in enumerate(block)}
        return cls(
            feature_names=names,
            numeric_positions=np.array([position[name] for name in numeric], dtype=np.intp),
            categorical_positions=np.array([position[name] for name in categorical], dtype=np.intp),
            model_columns=[(name, name in numeric, block_position[name]) for name in bundle.model_columns],
        )

    def blocks(self, rows: list[list[Any]]) -> tuple[np.ndarray, np.ndarray]:
        """Rows of values in schema order -> (numeric float64 block, categorical object block)."""
        count = len(rows)
        numeric_count, categorical_count = len(self.numeric_positions), len(self.categorical_positions)
        if categorical_count == 0:
            numeric = np.array(rows, dtype=np.float64).reshape(count, numeric_count)
            return numeric, np.empty((count, 0), dtype=object)
        values = np.array(rows, dtype=object).reshape(count, numeric_count + categorical_count)
        numeric = (
            values[:, self.numeric_positions].astype(np.float64) if numeric_count else np.empty((count, 0))
        )
        return numeric, values[:, self.categorical_positions]

    def frame(self, numeric: np.ndarray, categorical: np.ndarray) -> pd.DataFrame:
        """The blocks as the DataFrame the model was fitted on (its columns, missing categories as NaN)."""
        columns: dict[str, Any] = {}
        for name, is_numeric, index in self.model_columns:
            if is_numeric:
                columns[name] = numeric[:, index]
            else:
                column = categorical[:, index].copy()
                for row, value in enumerate(column):
                    if value is None:
                        column[row] = np.nan  # pandas reads missing values as NaN: match training
                columns[name] = column
        return pd.DataFrame(columns, columns=[name for name, _, _ in self.model_columns])


@dataclass(frozen=True)
class Predictor:
    """A verified bundle ready to predict: its input layout and, when verified, the compiled fast path."""

    bundle: ModelBundle
    layout: InputLayout
    class_keys: list[str] | None  # str(class): the keys of a row's probabilities; None for regression
    argmax_matches_predict: bool  # on the probe rows: predict() is the class of highest predict_proba()
    compiled: fastpath.CompiledPipeline | None
    fast_path_reason: str

    @property
    def serving_path(self) -> str:
        return "fast" if self.compiled is not None else "sklearn"


@dataclass(frozen=True)
class PredictionArrays:
    """Predictions as arrays: labels (object, classification) or values (float64, regression), and the
    probabilities (rows x classes, metadata order; None for regression)."""

    predictions: np.ndarray
    probabilities: np.ndarray | None

    def as_lists(self) -> Prediction:
        probabilities = None if self.probabilities is None else self.probabilities.tolist()
        return Prediction(self.predictions.tolist(), probabilities)


def predict(predictor: Predictor, rows: list[list[Any]]) -> Prediction:
    """Predictions for rows of values in schema order; the model's own ValueError/TypeError propagate."""
    return predict_blocks(predictor, *predictor.layout.blocks(rows)).as_lists()


def predict_blocks(predictor: Predictor, numeric: np.ndarray, categorical: np.ndarray) -> PredictionArrays:
    """Predictions for the numeric and categorical blocks (from InputLayout.blocks or TableRules.check)."""
    bundle = predictor.bundle
    if predictor.compiled is not None:
        output = np.asarray(predictor.compiled(numeric, categorical), dtype=np.float64)
        if bundle.is_classification:
            return _most_probable(output, bundle.classes)
        return PredictionArrays(output.ravel(), None)
    frame = predictor.layout.frame(numeric, categorical)
    if not bundle.is_classification:
        return PredictionArrays(np.asarray(bundle.model.predict(frame), dtype=np.float64).ravel(), None)
    probabilities = np.asarray(bundle.model.predict_proba(frame), dtype=np.float64)
    if predictor.argmax_matches_predict:
        return _most_probable(probabilities, bundle.classes)
    labels = [json_scalar(label) for label in np.asarray(bundle.model.predict(frame)).tolist()]
    return PredictionArrays(_objects(labels), probabilities)


def _most_probable(probabilities: np.ndarray, classes: list[Any] | None) -> PredictionArrays:
    assert classes is not None, "a classifier's bundle carries its classes (FeatureSchema requires them)"
    return PredictionArrays(_objects(classes)[probabilities.argmax(axis=1)], probabilities)


def _objects(values: list[Any]) -> np.ndarray:
    """An object array holding the values themselves (labels stay Python ints, strings or booleans)."""
    return np.fromiter(values, dtype=object, count=len(values))


def prepare_predictor(bundle: ModelBundle, *, fast_path: bool = True) -> Predictor:
    """Probe the model on rows built from its schema; take the fast path when enabled and verified on them.

    Raises ModelLoadError when the model fails on the probe rows: such a model must not serve.
    """
    layout = InputLayout.of(bundle)
    try:
        predictor = _probed_predictor(bundle, layout, fast_path)
    except Exception as error:
        raise ModelLoadError(
            f"{bundle.model_path}: model fails on synthetic rows built from the feature schema: "
            f"{type(error).__name__}: {error}"
        ) from error
    log.info(
        "model %s loaded from %s (serving path: %s; %s)",
        bundle.model_version,
        bundle.model_path,
        predictor.serving_path,
        predictor.fast_path_reason,
    )
    return predictor


def _probed_predictor(bundle: ModelBundle, layout: InputLayout, fast_path: bool) -> Predictor:
    probe = layout.blocks(fastpath.probe_rows(bundle.schema))
    frame = layout.frame(*probe)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        predicted = np.asarray(bundle.model.predict(frame))
        probabilities = np.asarray(bundle.model.predict_proba(frame)) if bundle.is_classification else None
    argmax_matches_predict = probabilities is None or bool(
        np.array_equal(
            np.asarray(bundle.classes, dtype=object)[probabilities.argmax(axis=1)].tolist(),
            [json_scalar(label) for label in predicted],
        )
    )
    compiled = None
    if not fast_path:
        reason = "disabled by settings"
    elif not argmax_matches_predict:
        reason = "predict() differs from argmax(predict_proba())"
    else:
        kinds = {feature.name: feature.kind for feature in bundle.schema.features}
        compiled, reason = fastpath.verified_pipeline(
            bundle.model,
            layout.feature_names,
            kinds,
            bundle.is_classification,
            probe,
            reference=probabilities if probabilities is not None else predicted,
        )
    classes = bundle.schema.classes
    class_keys = [str(label) for label in classes] if bundle.is_classification and classes else None
    return Predictor(bundle, layout, class_keys, argmax_matches_predict, compiled, reason)
