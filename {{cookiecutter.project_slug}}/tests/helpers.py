"""Helpers the project's tests import: where the project is, a small synthetic table.

conftest.py imports this module, so it imports no more than numpy and pandas: the template runs
tests/test_dvc_deps.py (a static check) where the project itself is not installed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def make_frame(problem_type: str, rows: int = 240, seed: int = 0) -> pd.DataFrame:
    """Numeric and categorical features with a learnable target; a few missing values."""
    rng = np.random.default_rng(seed)
    size = rng.normal(size=rows)
    noise = rng.normal(size=rows)
    colour = rng.choice(["red", "green", "blue"], size=rows)
    signal = 2 * size + (colour == "red") * 1.5 + 0.3 * noise
    frame = pd.DataFrame(
        {
            "size": size,
            "weight": rng.normal(loc=5, size=rows),
            "colour": colour,
            "target": (signal > np.median(signal)).astype(int)
            if problem_type == "classification"
            else signal,
        }
    )
    frame.loc[frame.index[:5], "weight"] = np.nan
    return frame
