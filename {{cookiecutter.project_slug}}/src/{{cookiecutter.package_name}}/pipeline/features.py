"""The feature schema (written once, at training) and the preprocessing built from it."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ..config import ProblemType
from ..contracts import FeatureSchema, FeatureSpec


def _json_scalar(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def infer_feature_schema(train: pd.DataFrame, target: str, problem_type: ProblemType) -> FeatureSchema:
    """Names, kinds, dtypes and categories seen in the (validated) training data.

    The service's request model, the monitor's reference profile and the data checks derive from this.
    """
    features = []
    for name in train.columns:
        if name == target:
            continue
        column = train[name]
        numeric = pd.api.types.is_float_dtype(column)
        features.append(
            FeatureSpec(
                name=str(name),
                kind="numeric" if numeric else "categorical",
                dtype="float64" if numeric else "object",
                nullable=bool(column.isna().any()),
                categories=None if numeric else tuple(sorted(str(v) for v in column.dropna().unique())),
            )
        )
    classes = None
    if problem_type == "classification":
        classes = tuple(_json_scalar(v) for v in sorted(train[target].unique()))
    return FeatureSchema(target=target, problem_type=problem_type, classes=classes, features=tuple(features))


def build_preprocessor(schema: FeatureSchema) -> ColumnTransformer:
    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="most_frequent")),
            ("encode", OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
        ]
    )
    return ColumnTransformer(
        [
            ("numeric", numeric, schema.names("numeric")),
            ("categorical", categorical, schema.names("categorical")),
        ],
        remainder="drop",
        verbose_feature_names_out=False,
    )
