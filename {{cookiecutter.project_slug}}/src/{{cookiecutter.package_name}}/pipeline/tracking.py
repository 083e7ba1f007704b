"""MLflow set-up: the embedded local store by default, a server when params.yaml says so."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow
from mlflow.exceptions import MlflowException
from mlflow.store.tracking import DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH
from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
from sqlalchemy import event
from sqlalchemy.engine import Engine

from ..config import MlflowParams
from ..errors import UserError

LOCAL_STORE = "mlflow.db"
LOCAL_ARTIFACTS = "mlartifacts"
METADATA_ARTIFACT = "metadata.json"  # models/metadata.json, logged into the training run by `evaluate`
HEALTH_TIMEOUT_SECONDS = 10
WHAT_TO_CHECK = (
    "check that the server runs and is reachable from here, that MLFLOW_TRACKING_URI is its address "
    "(and MLFLOW_TRACKING_TOKEN its token, if it needs one), or set mlflow.tracking to 'local' in params.yaml"
)


class TrackingError(UserError):
    """MLflow tracking is configured for a server that is not given, not reachable or failing."""


def tracking_uri(params: MlflowParams, root: Path = Path()) -> str:
    if params.tracking == "server":
        uri = os.environ.get("MLFLOW_TRACKING_URI", "")
        if not uri:
            raise TrackingError(
                "mlflow.tracking is 'server' in params.yaml: set MLFLOW_TRACKING_URI "
                "(e.g. https://mlflow.example.com), or set mlflow.tracking to 'local'"
            )
        return uri
    return f"sqlite:///{(root / LOCAL_STORE).resolve()}"


def fast_sqlite(connection: sqlite3.Connection, _record: object) -> None:
    connection.execute("PRAGMA synchronous = OFF")
    connection.execute("PRAGMA journal_mode = MEMORY")


def create_local_store(store: Path) -> None:
    """A new local store with MLflow's full schema, made in about a third of the time.

    MLflow creates a new SQLite store by running its ~70 schema migrations, each committed to disk (most of
    the first pipeline's wait before this). They run here on a temporary file with SQLite's syncing off (a
    crash loses nothing: the store is empty), which is then linked into place; if another process made the
    store meanwhile, theirs is kept.
    """
    partial = store.with_name(f".{store.name}.{os.getpid()}.partial")
    event.listen(Engine, "connect", fast_sqlite)
    try:
        default_artifacts = str(store.parent / DEFAULT_LOCAL_FILE_AND_ARTIFACT_PATH)
        created = SqlAlchemyStore(f"sqlite:///{partial}", default_artifacts)
        created.engine.dispose()
        with contextlib.suppress(FileExistsError):
            os.link(partial, store)
    finally:
        event.remove(Engine, "connect", fast_sqlite)
        partial.unlink(missing_ok=True)


def check_server(uri: str) -> None:
    """Fail fast, before any work, when an HTTP tracking server does not answer its health check.

    (MLflow's own client retries for minutes before it gives up.)
    """
    if not uri.startswith(("http://", "https://")):
        return
    try:
        with urllib.request.urlopen(f"{uri.rstrip('/')}/health", timeout=HEALTH_TIMEOUT_SECONDS):
            pass  # any 2xx/3xx answer: the server is up (4xx/5xx raise HTTPError, an OSError)
    except OSError as error:
        reason = f"{type(error).__name__}: {error}"
        message = f"MLflow tracking server {uri} is not reachable ({reason}): {WHAT_TO_CHECK}"
        raise TrackingError(message) from None


@contextmanager
def server_errors(uri: str, doing: str) -> Iterator[None]:
    """An MLflow or connection failure while `doing` something becomes one TrackingError naming the server.

    (requests' errors, which MLflow's client raises for artifact transfers, are OSErrors.)
    """
    try:
        yield
    except (MlflowException, OSError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        message = f"MLflow tracking server {uri} failed while {doing}: {reason}; {WHAT_TO_CHECK}"
        raise TrackingError(message) from None


def start_experiment(params: MlflowParams, root: Path = Path()) -> str:
    """Point MLflow at the configured store and experiment; returns the tracking URI."""
    uri = tracking_uri(params, root)
    if params.tracking == "local" and not (root / LOCAL_STORE).exists():
        create_local_store((root / LOCAL_STORE).resolve())
    if params.tracking == "server":
        check_server(uri)
    mlflow.set_tracking_uri(uri)
    with server_errors(uri, f"opening experiment {params.experiment_name!r}"):
        if mlflow.get_experiment_by_name(params.experiment_name) is None:
            artifacts = None  # a server stores artifacts where it is configured to (its artifact store)
            if params.tracking == "local":
                artifacts = (root / LOCAL_ARTIFACTS).resolve().as_uri()
            mlflow.create_experiment(params.experiment_name, artifact_location=artifacts)
        mlflow.set_experiment(params.experiment_name)
    return uri
