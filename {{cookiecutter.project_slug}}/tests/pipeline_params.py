"""Params for the pipeline stages' unit tests."""

from __future__ import annotations

from typing import Any

from {{ cookiecutter.package_name }}.config import DataParams


def data_params(**changes: Any) -> DataParams:
    values = {"sample_dataset": "iris", "path": "data/table.csv", "target": "target", "min_rows": 50}
    return DataParams(**(values | changes))
