"""Shared fixtures: the project's own params, small synthetic tables and a scratch project folder.

Functions the tests import are in helpers.py (test modules import neither conftest nor each other).
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from helpers import PROJECT_ROOT, make_frame


@pytest.fixture(scope="session")
def base_params() -> dict[str, Any]:
    """params.yaml as shipped: the tests start from the real file, so they fail when it is broken."""
    return yaml.safe_load((PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def params_dict(base_params: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(base_params)


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
