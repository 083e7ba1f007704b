"""The training runner comes from the repository variable TRAINING_RUNNER: under act, a job runs on the platform
its label is mapped to (`-P label=-self-hosted`, as a self-hosted pool registers its label) and not at all when no
runner has that label. retrain.yml's job stops at its first step without a PR token, so each run is short. Slow."""

from __future__ import annotations

from pathlib import Path

import pytest

from actkit.act import ActResult, run_workflow
from tests.helpers import commit, generate

pytestmark = pytest.mark.slow
RETRAIN = ".github/workflows/retrain.yml"
JOB = "refresh data, reproduce, open the PR"
TOKEN_ERROR = "::error title=Retraining token::"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    generated = generate(tmp_path_factory.mktemp("runner"))
    commit(generated, "Generated from the template")
    return generated


def retrain(project: Path, out: Path, variable: str | None, platforms: tuple[str, ...] = ()) -> ActResult:
    extra = [arg for label in platforms for arg in ("-P", f"{label}=-self-hosted")]
    variables = {"TRAINING_RUNNER": variable} if variable else {}
    return run_workflow(project, RETRAIN, "workflow_dispatch", {}, out, vars=variables, extra_args=extra, timeout=300)


def started(result: ActResult) -> bool:
    """The training job started: its first step ran (and stopped at the missing PR token)."""
    return f"[retrain/{JOB}] ⭐ Run Set up job" in result.output and TOKEN_ERROR in result.output


def test_the_variable_routes_the_training_job_to_its_runner(project: Path, tmp_path: Path) -> None:
    default = retrain(project, tmp_path / "default", None)
    assert started(default), default.tail()

    gpu = retrain(project, tmp_path / "gpu", "gpu-pool", platforms=("gpu-pool",))
    assert started(gpu), gpu.tail()

    unmapped = retrain(project, tmp_path / "unmapped", "gpu-pool")
    assert not started(unmapped), unmapped.tail()
    assert "one retraining PR at a time" in unmapped.output  # the guard still ran on ubuntu-latest
    assert f"[retrain/{JOB}]" not in unmapped.output or "Skipping unsupported platform" in unmapped.output
