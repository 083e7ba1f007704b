"""Synthetic monitoring data for the monitor's tests: a feature schema and frames with known shifts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.contracts import FeatureSchema

CATS = ["red", "green", "blue", "black"]
PROBS = [0.4, 0.3, 0.2, 0.1]


def make_schema(problem_type: str = "classification", extra_numeric: tuple[str, ...] = ()) -> FeatureSchema:
    """x1 (numeric), x2 (nullable numeric), colour (categorical, CATS), then the `extra_numeric` features."""
    return FeatureSchema.model_validate(
        {
            "target": "target",
            "problem_type": problem_type,
            "classes": [0, 1] if problem_type == "classification" else None,
            "features": [
                {"name": "x1", "kind": "numeric", "dtype": "float64", "nullable": False, "categories": None},
                {"name": "x2", "kind": "numeric", "dtype": "float64", "nullable": True, "categories": None},
                {
                    "name": "colour",
                    "kind": "categorical",
                    "dtype": "object",
                    "nullable": False,
                    "categories": CATS,
                },
                *({"name": name, "kind": "numeric"} for name in extra_numeric),
            ],
        }
    )


def make_frame(
    n: int,
    seed: int,
    *,
    mean: float = 0.0,
    scale: float = 1.0,
    probs=PROBS,
    missing_x2: float = 0.0,
    new_cat_share: float = 0.0,
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x2 = rng.exponential(2.0, n)
    if missing_x2:
        x2[rng.random(n) < missing_x2] = np.nan
    colour = np.array(CATS, dtype=object)[rng.choice(len(CATS), n, p=probs)]
    if new_cat_share:
        colour[rng.random(n) < new_cat_share] = "purple"
    return pd.DataFrame({"x1": rng.normal(mean, scale, n), "x2": x2, "colour": colour})
