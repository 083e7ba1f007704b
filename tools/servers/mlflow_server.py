"""`mlflow server` on 127.0.0.1: PostgreSQL backend store, artifacts proxied to an S3-compatible bucket.

The server runs from a virtualenv built with uv from a requirements file (the generated project's
deploy/stack/mlflow/requirements.txt: what the team's server image installs), so the tests exercise that
spec. The virtualenv is kept in the system's temporary folder under the hash of the file and reused while the
file does not change (a session's tests, and CI's parallel workers, build it once).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from servers.ports import free_ports
from servers.processes import stop_group

START_TIMEOUT = 120.0


def uv_binary() -> str:
    beside = Path(sys.executable).parent / "uv"
    found = str(beside) if beside.exists() else shutil.which("uv")
    if found is None:
        raise FileNotFoundError("uv not found: pip install uv (requirements-dev.txt pins it)")
    return found


def server_venv(requirements: Path) -> Path:
    """A virtualenv with exactly `requirements` installed (built once per content of the file).

    Built in place (a virtualenv's scripts name its own path) under a file lock, then marked complete.
    """
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    venv = Path(tempfile.gettempdir()) / f"kit-mlflow-server-{digest}"
    complete = venv / ".complete"
    with Path(f"{venv}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not complete.exists():
            shutil.rmtree(venv, ignore_errors=True)
            uv = uv_binary()
            subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], check=True)
            python = str(venv / "bin" / "python")
            subprocess.run([uv, "pip", "install", "--quiet", "--python", python, "-r", str(requirements)], check=True)
            complete.touch()
    return venv


@dataclass
class MlflowServer:
    """One `mlflow server` process; `url` is what clients set as MLFLOW_TRACKING_URI."""

    venv: Path
    backend_store_uri: str
    artifacts_destination: str
    env: Mapping[str, str]
    log_path: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if not self.port:
            [self.port] = free_ports(1)
        command = [
            str(self.venv / "bin" / "mlflow"), "server",
            "--backend-store-uri", self.backend_store_uri,
            "--artifacts-destination", self.artifacts_destination,
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", "1",
        ]  # fmt: skip
        environment = {**os.environ, **self.env, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=environment, start_new_session=True
            )
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"mlflow server exited {self.process.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"mlflow server not healthy within {START_TIMEOUT:.0f} s: {self.log_tail()}")
            time.sleep(0.5)

    def log_tail(self, characters: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-characters:] if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        stop_group(self.process, timeout=20)
        self.process = None


@contextmanager
def mlflow_server(
    requirements: Path, backend_store_uri: str, artifacts_destination: str, env: Mapping[str, str], log_dir: Path
) -> Iterator[MlflowServer]:
    """A healthy server (its virtualenv built from `requirements` when needed); stopped on exit, also on failure.

    env: what the server needs to reach the artifact store (AWS_* of the S3-compatible store).
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    server = MlflowServer(
        server_venv(requirements), backend_store_uri, artifacts_destination, env, log_dir / "mlflow-server.log"
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()
