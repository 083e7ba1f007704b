"""Numpy fast path for common sklearn pipelines.

sklearn's per-call overhead dominates single-row latency: a fitted
``Pipeline(ColumnTransformer(...), RandomForest)`` spends ~2 ms in the ColumnTransformer's
DataFrame handling and ~4 ms in the forest's per-tree joblib dispatch, while the actual tree
traversal takes ~0.3 ms. This module compiles the *fitted* pipeline into plain numpy functions
for a small set of well-understood components, doing the same arithmetic in the same order:

- ColumnTransformer (columns given by name or index; 'drop'/'passthrough'/transformer)
- Pipeline, SimpleImputer (missing_values=nan, no indicator), StandardScaler,
  OneHotEncoder (no drop, no infrequent categories, handle_unknown='ignore')
- final estimator: RandomForest/ExtraTrees classifier/regressor and DecisionTree (tree loop
  with ``check_input=False``, exactly what sklearn does minus the joblib dispatch), any other
  estimator is called directly on the transformed array.

Anything else returns ``None`` (with a reason) and the caller uses the plain sklearn path.
The caller must also verify the compiled function against the sklearn pipeline on probe rows
before using it (``bundle.load_bundle`` does).
"""

from __future__ import annotations

import math
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

# Input given to compiled functions: numeric block (n, n_num) float64 with NaN for missing, and
# categorical block (n, n_cat) object with None/NaN for missing, both in schema order.
Block = tuple[np.ndarray, np.ndarray]
ArrayFn = Callable[[np.ndarray], np.ndarray]


class Unsupported(Exception):  # noqa: N818 (a reason, not a failure: the caller falls back)
    """The fitted pipeline has a part the fast path does not reproduce exactly."""


def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _compile_imputer(imp: Any, numeric: bool) -> ArrayFn:
    mv = imp.missing_values
    if not (isinstance(mv, float) and np.isnan(mv)) and mv is not None:
        # sklearn default is np.nan; pd.NA/others unsupported
        raise Unsupported(f"SimpleImputer(missing_values={mv!r})")
    if getattr(imp, "add_indicator", False):
        raise Unsupported("SimpleImputer(add_indicator=True)")
    stats = imp.statistics_
    if numeric:
        stats = np.asarray(stats, dtype=np.float64)
        if np.isnan(stats).any():
            raise Unsupported("SimpleImputer with all-missing training columns")

        def f(x: np.ndarray) -> np.ndarray:
            x = np.array(x, dtype=np.float64)
            mask = np.isnan(x)
            if mask.any():
                x[mask] = np.take(stats, np.nonzero(mask)[1])
            return x

        return f
    stats_list = list(stats)
    if any(_is_missing(s) for s in stats_list):
        raise Unsupported("SimpleImputer with all-missing training columns")

    def g(x: np.ndarray) -> np.ndarray:
        x = np.array(x, dtype=object)
        for j, fill in enumerate(stats_list):
            col = x[:, j]
            for i, v in enumerate(col):
                if _is_missing(v):
                    col[i] = fill
        return x

    return g


def _compile_scaler(sc: Any) -> ArrayFn:
    mean = sc.mean_ if sc.with_mean else None
    scale = sc.scale_ if sc.with_std else None

    def f(x: np.ndarray) -> np.ndarray:
        x = np.array(x, dtype=np.float64)
        if mean is not None:
            x -= mean
        if scale is not None:
            x /= scale
        return x

    return f


def _compile_onehot(enc: Any) -> ArrayFn:
    if getattr(enc, "drop_idx_", None) is not None:
        raise Unsupported("OneHotEncoder(drop=...)")
    if getattr(enc, "_infrequent_enabled", False):
        raise Unsupported("OneHotEncoder with infrequent categories")
    if enc.handle_unknown not in ("ignore", "infrequent_if_exist"):
        raise Unsupported(f"OneHotEncoder(handle_unknown={enc.handle_unknown!r})")
    maps: list[dict[Any, int]] = []
    nan_idx: list[int | None] = []
    offsets = []
    off = 0
    for cats in enc.categories_:
        m: dict[Any, int] = {}
        ni = None
        for k, c in enumerate(cats.tolist()):
            if _is_missing(c):
                ni = k
            else:
                m[c] = k
        maps.append(m)
        nan_idx.append(ni)
        offsets.append(off)
        off += len(cats)
    width = off
    dtype = enc.dtype

    def f(x: np.ndarray) -> np.ndarray:
        n = x.shape[0]
        out = np.zeros((n, width), dtype=dtype)
        for j in range(x.shape[1]):
            m, ni, o = maps[j], nan_idx[j], offsets[j]
            for i, v in enumerate(x[:, j].tolist()):
                k = ni if _is_missing(v) else m.get(v)
                if k is not None:
                    out[i, o + k] = 1
        return out

    return f


def _compile_transformer(t: Any, numeric: bool) -> ArrayFn:
    if t == "passthrough" or t is None:
        if not numeric:
            raise Unsupported("passthrough of categorical columns")
        return lambda x: np.array(x, dtype=np.float64)
    if isinstance(t, Pipeline):
        fns = []
        num = numeric
        for _, step in t.steps:
            if step == "passthrough" or step is None:
                continue
            fns.append(_compile_transformer(step, num))
            if isinstance(step, OneHotEncoder):
                num = True

        def chain(x: np.ndarray) -> np.ndarray:
            for fn in fns:
                x = fn(x)
            return x

        return chain
    if type(t) is SimpleImputer:
        return _compile_imputer(t, numeric)
    if type(t) is StandardScaler:
        if not numeric:
            raise Unsupported("StandardScaler on categorical columns")
        return _compile_scaler(t)
    if type(t) is OneHotEncoder:
        return _compile_onehot(t)
    raise Unsupported(f"transformer {type(t).__name__}")


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
    ct: Any, feature_names: list[str], kinds: dict[str, str]
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Compile a fitted ColumnTransformer into f(x_num, x_cat) -> dense float array."""
    if type(ct) is not ColumnTransformer:
        raise Unsupported(f"preprocessor {type(ct).__name__}")
    if getattr(ct, "_sklearn_output_config", {}).get("transform") not in (None, "default"):
        raise Unsupported("ColumnTransformer with set_output")
    names_in = list(getattr(ct, "feature_names_in_", feature_names))
    num_names = [n for n in feature_names if kinds[n] == "numeric"]
    cat_names = [n for n in feature_names if kinds[n] != "numeric"]
    num_pos = {n: i for i, n in enumerate(num_names)}
    cat_pos = {n: i for i, n in enumerate(cat_names)}
    parts: list[tuple[bool, np.ndarray, ArrayFn]] = []
    for name, trans, spec in ct.transformers_:
        if trans == "drop":
            continue
        resolved = _resolve_columns(name, spec, names_in, kinds)
        if not resolved:
            continue
        is_num = [kinds[c] == "numeric" for c in resolved]
        if all(is_num):
            idx = np.array([num_pos[c] for c in resolved], dtype=np.intp)
            parts.append((True, idx, _compile_transformer(trans, True)))
        elif not any(is_num):
            idx = np.array([cat_pos[c] for c in resolved], dtype=np.intp)
            parts.append((False, idx, _compile_transformer(trans, False)))
        else:
            raise Unsupported(f"transformer {name!r} mixes numeric and categorical columns")

    def f(x_num: np.ndarray, x_cat: np.ndarray) -> np.ndarray:
        outs = []
        for numeric, idx, fn in parts:
            src = x_num if numeric else x_cat
            outs.append(fn(src[:, idx]))
        out = outs[0] if len(outs) == 1 else np.hstack(outs)
        return np.asarray(out, dtype=np.float64)

    return f


def compile_estimator(est: Any, classification: bool) -> ArrayFn:
    """f(xt) -> probabilities (n, k) for classifiers, predictions (n,) for regressors."""
    if hasattr(est, "feature_names_in_"):
        raise Unsupported("final estimator was fitted on a DataFrame")
    if getattr(est, "n_outputs_", 1) != 1:
        raise Unsupported("multi-output estimator")
    forest_types = (RandomForestClassifier, ExtraTreesClassifier, RandomForestRegressor, ExtraTreesRegressor)
    if type(est) in forest_types:
        trees = list(est.estimators_)
        n_trees = len(trees)
        if classification:
            k = len(est.classes_)

            def forest_proba(xt: np.ndarray) -> np.ndarray:
                x32 = np.ascontiguousarray(xt, dtype=np.float32)
                acc = np.zeros((x32.shape[0], k), dtype=np.float64)
                for t in trees:
                    acc += t.predict_proba(x32, check_input=False)
                acc /= n_trees
                return acc

            return forest_proba

        def forest_pred(xt: np.ndarray) -> np.ndarray:
            x32 = np.ascontiguousarray(xt, dtype=np.float32)
            acc = np.zeros((x32.shape[0],), dtype=np.float64)
            for t in trees:
                acc += t.predict(x32, check_input=False)
            acc /= n_trees
            return acc

        return forest_pred
    if type(est) in (DecisionTreeClassifier, DecisionTreeRegressor):
        if classification:
            return lambda xt: est.predict_proba(np.ascontiguousarray(xt, dtype=np.float32), check_input=False)
        return lambda xt: est.predict(np.ascontiguousarray(xt, dtype=np.float32), check_input=False)
    if classification:
        if not hasattr(est, "predict_proba"):
            raise Unsupported(f"{type(est).__name__} has no predict_proba")
        return est.predict_proba
    return est.predict


def compile_pipeline(
    model: Any, feature_names: list[str], kinds: dict[str, str], classification: bool
) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """Compile Pipeline([... , ColumnTransformer, estimator]) or raise Unsupported."""
    if type(model) is not Pipeline:
        raise Unsupported(f"model is {type(model).__name__}, not a Pipeline")
    steps = [s for _, s in model.steps if s not in (None, "passthrough")]
    if len(steps) != 2:
        raise Unsupported(f"pipeline has {len(steps)} active steps (expected preprocessor + estimator)")
    pre = compile_preprocessor(steps[0], feature_names, kinds)
    est = compile_estimator(steps[1], classification)

    def f(x_num: np.ndarray, x_cat: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):  # huge finite inputs may scale to inf: trees/linear models cope
            return est(pre(x_num, x_cat))

    return f
