"""The estimators params.yaml may name, per problem type, and the check of their hyperparameters."""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils._param_validation import InvalidParameterError

ESTIMATORS: dict[str, dict[str, type[BaseEstimator]]] = {
    "classification": {
        "random_forest": RandomForestClassifier,
        "logistic_regression": LogisticRegression,
        "gradient_boosting": HistGradientBoostingClassifier,
    },
    "regression": {
        "random_forest": RandomForestRegressor,
        "ridge": Ridge,
        "gradient_boosting": HistGradientBoostingRegressor,
    },
}


def check_hyperparameters(problem_type: str, name: str, hyperparameters: dict[str, Any]) -> None:
    """Reject unknown hyperparameters and out-of-range values, naming the key and what is allowed."""
    estimator_class = ESTIMATORS[problem_type][name]
    allowed = estimator_class().get_params()
    unknown = sorted(set(hyperparameters) - set(allowed))
    if unknown:
        raise ValueError(
            f"train.hyperparameters: {', '.join(unknown)} not a hyperparameter of {name}; "
            f"allowed: {', '.join(sorted(allowed))}"
        )
    try:
        # scikit-learn's own parameter constraints (types and ranges), checked before any data is read.
        estimator_class(**hyperparameters)._validate_params()
    except InvalidParameterError as error:
        raise ValueError(f"train.hyperparameters: {error}") from None


def make_estimator(
    problem_type: str, name: str, hyperparameters: dict[str, Any], random_state: int
) -> BaseEstimator:
    estimator = ESTIMATORS[problem_type][name](**hyperparameters)
    if "random_state" in estimator.get_params() and "random_state" not in hyperparameters:
        estimator.set_params(random_state=random_state)
    return estimator
