"""Shared fixtures: the project's own params, small synthetic tables and a scratch project folder."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def base_params() -> dict[str, Any]:
    """params.yaml as shipped: the tests start from the real file, so they fail when it is broken."""
    return yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def params_dict(base_params: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(base_params)


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


@pytest.fixture
def problem_type(base_params: dict[str, Any]) -> str:
    return base_params["problem_type"]


@pytest.fixture
def frame(problem_type: str) -> pd.DataFrame:
    return make_frame(problem_type)


@pytest.fixture
def project(
    tmp_path: Path, params_dict: dict[str, Any], frame: pd.DataFrame, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A scratch project folder with params.yaml pointing at a small CSV that has a categorical column."""
    (tmp_path / "data").mkdir()
    frame.to_csv(tmp_path / "data" / "table.csv", index=False)
    params_dict["data"].update(path="data/table.csv", target="target")
    params_dict["mlflow"]["tracking"] = "local"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params_dict), encoding="utf-8")
    shutil.copy(PROJECT_ROOT / "dvc.yaml", tmp_path / "dvc.yaml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    return tmp_path
