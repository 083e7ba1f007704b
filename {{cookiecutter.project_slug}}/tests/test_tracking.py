"""The local MLflow store: made once, quickly, with the schema MLflow expects."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import mlflow
import pytest

from {{ cookiecutter.package_name }}.config import MlflowParams
from {{ cookiecutter.package_name }}.pipeline.tracking import create_local_store, start_experiment


@pytest.fixture(autouse=True)
def no_telemetry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")


def schema(store: Path) -> dict[str, list[str]]:
    """Each table's and index's definition, its lines sorted: MLflow's own migrations order a table's
    constraints differently from one run to the next."""
    with sqlite3.connect(store) as connection:
        rows = connection.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
        return {name: sorted(line.strip().rstrip(",") for line in sql.splitlines()) for name, sql in rows}


def test_first_experiment_makes_the_store_mlflow_opens_and_logs_to(tmp_path: Path) -> None:
    start_experiment(MlflowParams(tracking="local", experiment_name="first"), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlflow.db"]  # no partial file left
    with mlflow.start_run() as run:  # MLflow checks the schema revision when it opens a store
        mlflow.log_param("trees", 5)
    assert mlflow.get_run(run.info.run_id).data.params == {"trees": "5"}
    assert mlflow.get_experiment_by_name("first").artifact_location == (tmp_path / "mlartifacts").as_uri()


def test_a_store_made_meanwhile_by_another_process_is_kept(tmp_path: Path) -> None:
    store = tmp_path / "mlflow.db"
    store.write_bytes(b"theirs")
    create_local_store(store)
    assert store.read_bytes() == b"theirs"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlflow.db"]


@pytest.mark.slow
def test_the_quick_store_has_the_schema_of_mlflows_own(tmp_path: Path) -> None:
    """MLflow's own set-up (its migrations committed one by one) makes the same tables, indexes, revision."""
    quick, own = tmp_path / "quick.db", tmp_path / "own.db"
    create_local_store(quick)
    mlflow.MlflowClient(tracking_uri=f"sqlite:///{own}").search_experiments()
    assert schema(quick) == schema(own)
    with sqlite3.connect(quick) as a, sqlite3.connect(own) as b:
        revision = "SELECT version_num FROM alembic_version"
        assert a.execute(revision).fetchall() == b.execute(revision).fetchall()
