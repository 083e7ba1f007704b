"""Numpy fast path for common sklearn pipelines.

sklearn's per-call overhead dominates single-row latency: a fitted
``Pipeline(ColumnTransformer(...), RandomForest)`` spends ~2 ms in the ColumnTransformer's
DataFrame handling and ~4 ms in the forest's per-tree joblib dispatch, while the actual tree
traversal takes ~0.3 ms. This module compiles the *fitted* pipeline into plain numpy functions
for a small set of well-understood components, doing the same arithmetic in the same order:

- ColumnTransformer (columns given by name or index; 'drop'/'passthrough'/transformer)
- Pipeline, SimpleImputer (missing_values=nan, no indicator), StandardScaler,
  OneHotEncoder (no drop, no infrequent categories, handle_unknown='ignore')
- final estimator: RandomForest/ExtraTrees classifier/regressor (a loop over the fitted trees' ``tree_``,
  exactly what sklearn computes minus the joblib dispatch and the per-tree checks) and DecisionTree
  (``check_input=False``); any other estimator is called directly on the transformed array.

Anything else raises ``Unsupported`` (with a reason) and the caller uses the plain sklearn path.
``verified_pipeline`` also checks the compiled function against the sklearn pipeline's output on
``probe_rows`` (synthetic rows built from the feature schema) before it may be used.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    ExtraTreesClassifier,
    ExtraTreesRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from ..contracts import FeatureSchema

# Input given to compiled functions: numeric block (n, n_num) float64 with NaN for missing, and
# categorical block (n, n_cat) object with None/NaN for missing, both in schema order.
Block = tuple[np.ndarray, np.ndarray]
ArrayFunction = Callable[[np.ndarray], np.ndarray]
CompiledPipeline = Callable[[np.ndarray, np.ndarray], np.ndarray]


class Unsupported(Exception):  # noqa: N818 (a reason, not a failure: the caller falls back)
    """The fitted pipeline has a part the fast path does not reproduce exactly."""


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _compile_imputer(imputer: Any, numeric: bool) -> ArrayFunction:
    missing_values = imputer.missing_values
    if not (isinstance(missing_values, float) and np.isnan(missing_values)) and missing_values is not None:
        # sklearn default is np.nan; pd.NA/others unsupported
        raise Unsupported(f"SimpleImputer(missing_values={missing_values!r})")
    if getattr(imputer, "add_indicator", False):
        raise Unsupported("SimpleImputer(add_indicator=True)")
    statistics = imputer.statistics_
    if numeric:
        statistics = np.asarray(statistics, dtype=np.float64)
        if np.isnan(statistics).any():
            raise Unsupported("SimpleImputer with all-missing training columns")

        def impute_numeric(x: np.ndarray) -> np.ndarray:
            x = np.array(x, dtype=np.float64)
            missing = np.isnan(x)
            if missing.any():
                x[missing] = np.take(statistics, np.nonzero(missing)[1])
            return x

        return impute_numeric
    fills = list(statistics)
    if any(_is_missing(fill) for fill in fills):
        raise Unsupported("SimpleImputer with all-missing training columns")

    def impute_categorical(x: np.ndarray) -> np.ndarray:
        x = np.array(x, dtype=object)
        for column_index, fill in enumerate(fills):
            column = x[:, column_index]
            for row, value in enumerate(column):
                if _is_missing(value):
                    column[row] = fill
        return x

    return impute_categorical


def _compile_scaler(scaler: Any) -> ArrayFunction:
    mean = scaler.mean_ if scaler.with_mean else None
    scale = scaler.scale_ if scaler.with_std else None

    def standardize(x: np.ndarray) -> np.ndarray:
        x = np.array(x, dtype=np.float64)
        if mean is not None:
            x -= mean
        if scale is not None:
            x /= scale
        return x

    return standardize


def _compile_onehot(encoder: Any) -> ArrayFunction:
    if getattr(encoder, "drop_idx_", None) is not None:
        raise Unsupported("OneHotEncoder(drop=...)")
    if getattr(encoder, "_infrequent_enabled", False):
        raise Unsupported("OneHotEncoder with infrequent categories")
    if encoder.handle_unknown not in ("ignore", "infrequent_if_exist"):
        raise Unsupported(f"OneHotEncoder(handle_unknown={encoder.handle_unknown!r})")
    positions: list[dict[Any, int]] = []  # per column: category -> its position among the column's outputs
    missing_positions: list[int | None] = []  # per column: the output of a missing value, if trained on one
    offsets = []
    width = 0
    for categories in encoder.categories_:
        position: dict[Any, int] = {}
        missing_position = None
        for index, category in enumerate(categories.tolist()):
            if _is_missing(category):
                missing_position = index
            else:
                position[category] = index
        positions.append(position)
        missing_positions.append(missing_position)
        offsets.append(width)
        width += len(categories)
    dtype = encoder.dtype

    def encode(x: np.ndarray) -> np.ndarray:
        out = np.zeros((x.shape[0], width), dtype=dtype)
        for column in range(x.shape[1]):
            position, missing_position, offset = positions[column], missing_positions[column], offsets[column]
            for row, value in enumerate(x[:, column].tolist()):
                index = missing_position if _is_missing(value) else position.get(value)
                if index is not None:
                    out[row, offset + index] = 1
        return out

    return encode


def _compile_transformer(transformer: Any, numeric: bool) -> ArrayFunction:
    if transformer == "passthrough" or transformer is None:
        if not numeric:
            raise Unsupported("passthrough of categorical columns")
        return lambda x: np.array(x, dtype=np.float64)
    if isinstance(transformer, Pipeline):
        functions = []
        for _, step in transformer.steps:
            if step == "passthrough" or step is None:
                continue
            functions.append(_compile_transformer(step, numeric))
            if isinstance(step, OneHotEncoder):
                numeric = True

        def chain(x: np.ndarray) -> np.ndarray:
            for function in functions:
                x = function(x)
            return x

        return chain
    if type(transformer) is SimpleImputer:
        return _compile_imputer(transformer, numeric)
    if type(transformer) is StandardScaler:
        if not numeric:
            raise Unsupported("StandardScaler on categorical columns")
        return _compile_scaler(transformer)
    if type(transformer) is OneHotEncoder:
        return _compile_onehot(transformer)
    raise Unsupported(f"transformer {type(transformer).__name__}")


def _resolve_columns(name: str, spec: Any, names_in: list[str], kinds: dict[str, str]) -> list[str]:
    """A ColumnTransformer column spec (names or indices) as feature names."""
    if isinstance(spec, str):
        spec = [spec]
    columns = spec if isinstance(spec, list) else list(np.asarray(spec).tolist())
    resolved = []
    for column in columns:
        if isinstance(column, bool):
            raise Unsupported("boolean column masks")
        named = names_in[column] if isinstance(column, int) else column
        if not isinstance(named, str) or named not in kinds:
            raise Unsupported(f"column spec {named!r} in {name!r}")
        resolved.append(named)
    return resolved


def compile_preprocessor(
    column_transformer: Any, feature_names: list[str], kinds: dict[str, str]
) -> CompiledPipeline:
    """Compile a fitted ColumnTransformer into f(x_numeric, x_categorical) -> dense float array."""
    if type(column_transformer) is not ColumnTransformer:
        raise Unsupported(f"preprocessor {type(column_transformer).__name__}")
    if getattr(column_transformer, "_sklearn_output_config", {}).get("transform") not in (None, "default"):
        raise Unsupported("ColumnTransformer with set_output")
    names_in = list(getattr(column_transformer, "feature_names_in_", feature_names))
    numeric_names = [name for name in feature_names if kinds[name] == "numeric"]
    categorical_names = [name for name in feature_names if kinds[name] != "numeric"]
    numeric_position = {name: index for index, name in enumerate(numeric_names)}
    categorical_position = {name: index for index, name in enumerate(categorical_names)}
    parts: list[tuple[bool, np.ndarray, ArrayFunction]] = []
    for name, transformer, spec in column_transformer.transformers_:
        if transformer == "drop":
            continue
        resolved = _resolve_columns(name, spec, names_in, kinds)
        if not resolved:
            continue
        is_numeric = [kinds[column] == "numeric" for column in resolved]
        if all(is_numeric):
            index = np.array([numeric_position[column] for column in resolved], dtype=np.intp)
            parts.append((True, index, _compile_transformer(transformer, True)))
        elif not any(is_numeric):
            index = np.array([categorical_position[column] for column in resolved], dtype=np.intp)
            parts.append((False, index, _compile_transformer(transformer, False)))
        else:
            raise Unsupported(f"transformer {name!r} mixes numeric and categorical columns")

    def transform(x_numeric: np.ndarray, x_categorical: np.ndarray) -> np.ndarray:
        outputs = []
        for numeric, index, function in parts:
            block = x_numeric if numeric else x_categorical
            outputs.append(function(block[:, index]))
        out = outputs[0] if len(outputs) == 1 else np.hstack(outputs)
        return np.asarray(out, dtype=np.float64)

    return transform


def compile_estimator(estimator: Any, classification: bool) -> ArrayFunction:
    """f(xt) -> probabilities (n, k) for classifiers, predictions (n,) for regressors."""
    if hasattr(estimator, "feature_names_in_"):
        raise Unsupported("final estimator was fitted on a DataFrame")
    if getattr(estimator, "n_outputs_", 1) != 1:
        raise Unsupported("multi-output estimator")
    forest_types = (RandomForestClassifier, ExtraTreesClassifier, RandomForestRegressor, ExtraTreesRegressor)
    if type(estimator) in forest_types:
        # Each fitted tree's own tree_.predict, sliced as its predict_proba/predict slices it: the same values
        # without the per-tree fitted and input checks, which cost more than the traversal for small requests.
        trees = [tree.tree_ for tree in estimator.estimators_]
        tree_count = len(trees)
        if classification:
            class_count = len(estimator.classes_)
            if any(tree.n_classes_ != class_count for tree in estimator.estimators_):
                raise Unsupported("a tree of the forest has fewer classes than the forest")

            def forest_proba(xt: np.ndarray) -> np.ndarray:
                x32 = np.ascontiguousarray(xt, dtype=np.float32)
                total = np.zeros((x32.shape[0], class_count), dtype=np.float64)
                for tree in trees:
                    total += tree.predict(x32)[:, :class_count]
                total /= tree_count
                return total

            return forest_proba

        def forest_pred(xt: np.ndarray) -> np.ndarray:
            x32 = np.ascontiguousarray(xt, dtype=np.float32)
            total = np.zeros((x32.shape[0],), dtype=np.float64)
            for tree in trees:
                total += tree.predict(x32)[:, 0]
            total /= tree_count
            return total

        return forest_pred
    if type(estimator) in (DecisionTreeClassifier, DecisionTreeRegressor):
        if classification:
            return lambda xt: estimator.predict_proba(
                np.ascontiguousarray(xt, dtype=np.float32), check_input=False
            )
        return lambda xt: estimator.predict(np.ascontiguousarray(xt, dtype=np.float32), check_input=False)
    if classification:
        if not hasattr(estimator, "predict_proba"):
            raise Unsupported(f"{type(estimator).__name__} has no predict_proba")
        return estimator.predict_proba
    return estimator.predict


def compile_pipeline(
    model: Any, feature_names: list[str], kinds: dict[str, str], classification: bool
) -> CompiledPipeline:
    """Compile Pipeline([... , ColumnTransformer, estimator]) or raise Unsupported."""
    if type(model) is not Pipeline:
        raise Unsupported(f"model is {type(model).__name__}, not a Pipeline")
    steps = [step for _, step in model.steps if step not in (None, "passthrough")]
    if len(steps) != 2:
        raise Unsupported(f"pipeline has {len(steps)} active steps (expected preprocessor + estimator)")
    preprocess = compile_preprocessor(steps[0], feature_names, kinds)
    estimate = compile_estimator(steps[1], classification)

    def compiled(x_numeric: np.ndarray, x_categorical: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):  # huge finite inputs may scale to inf: trees/linear models cope
            return estimate(preprocess(x_numeric, x_categorical))

    return compiled


def probe_rows(schema: FeatureSchema, count: int = 64, seed: int = 12345) -> list[list[Any]]:
    """Synthetic rows in schema order: missing values where allowed, zeros, numbers over five orders of
    magnitude and categories seen in training."""
    generator = np.random.default_rng(seed)
    rows = []
    for index in range(count):
        row: list[Any] = []
        for feature in schema.features:
            if feature.nullable and generator.random() < 0.15:
                row.append(None)
            elif feature.kind == "numeric":
                row.append(float(generator.normal() * 10 ** generator.uniform(-2, 3)) if index % 7 else 0.0)
            else:
                categories = feature.categories or ["a"]
                row.append(categories[int(generator.integers(len(categories)))])
        rows.append(row)
    return rows


def verified_pipeline(
    model: Any,
    feature_names: list[str],
    kinds: dict[str, str],
    classification: bool,
    probe: Block,
    reference: np.ndarray,
) -> tuple[CompiledPipeline | None, str]:
    """The compiled pipeline if it reproduces `reference` (sklearn's output on the `probe` blocks:
    probabilities for classifiers, predictions for regressors), else None; and the reason."""
    try:
        compiled = compile_pipeline(model, feature_names, kinds, classification)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            output = np.asarray(compiled(*probe))
    except Unsupported as error:
        return None, f"unsupported: {error}"
    except Exception as error:  # compiled function crashed on probe rows
        return None, f"fast path failed on probe rows: {type(error).__name__}: {error}"
    if classification:
        same = output.shape == reference.shape and np.allclose(output, reference, rtol=1e-9, atol=1e-12)
    else:
        same = output.ravel().shape == reference.ravel().shape and np.allclose(
            output.ravel(), reference.astype(np.float64).ravel(), rtol=1e-9, atol=1e-9
        )
    if not same:
        return None, "fast path output differs from sklearn on probe rows"
    return compiled, "verified against sklearn on probe rows"
