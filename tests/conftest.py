"""Generation helpers shared by the template's tests."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parents[1]

# Every value of every choice question appears in at least one configuration (checked by a test).
# Interacting options (problem type x remote x tracking) are chosen, not multiplied; independent ones cycle.
CONFIGURATIONS: dict[str, dict[str, str]] = {
    "default": {},
    "regression-local-server": {
        "problem_type": "regression",
        "dvc_remote": "local",
        "mlflow_tracking": "server",
        "python_version": "3.12",
        "license": "Apache-2.0",
    },
    "classification-s3": {"dvc_remote": "s3", "python_version": "3.13", "license": "BSD-3-Clause"},
    "regression-gs": {"problem_type": "regression", "dvc_remote": "gs", "license": "Proprietary"},
    "classification-azure-server": {
        "dvc_remote": "azure",
        "mlflow_tracking": "server",
        "project_name": "Fraud Scores",
        "package_name": "fraud_core",
    },
}


def generate(output_dir: Path, extra: Mapping[str, Any] | None = None) -> Path:
    """Generate a project without prompts and return its folder."""
    return Path(
        cookiecutter(str(TEMPLATE_DIR), no_input=True, extra_context=dict(extra or {}), output_dir=str(output_dir))
    )


@pytest.fixture(params=sorted(CONFIGURATIONS))
def configuration(request: pytest.FixtureRequest) -> tuple[str, dict[str, str]]:
    return request.param, CONFIGURATIONS[request.param]
