"""PostgreSQL on 127.0.0.1 from Debian's `postgresql` package, in a throw-away data folder.

`initdb` and `pg_ctl` refuse to run as root, so as root they run as the `postgres` user (runuser); the
data folder and the unix socket live in a folder of /tmp that user owns (pytest's own temporary folders are
private to root). Stopped and removed on exit, also on failure.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from servers.ports import free_ports, wait_for_port

SERVICE_USER = "postgres"
START_TIMEOUT = 60.0


def postgres_bin_dir() -> Path:
    """The newest /usr/lib/postgresql/<major>/bin (Debian installs the server there, off PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[4]))
    if not found:
        raise FileNotFoundError("PostgreSQL not found: apt-get install postgresql (scripts/install-system-deps.sh)")
    return Path(found[-1]).parent


@dataclass
class Postgres:
    """One PostgreSQL cluster whose data and socket are in `root`; `user`/`password` own `database`."""

    root: Path
    user: str = "mlflow"
    password: str = "mlflow-password"
    database: str = "mlflow"
    port: int = 0

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "postgres.log"

    def url(self, driver: str = "postgresql") -> str:
        """SQLAlchemy URL, e.g. driver='postgresql+psycopg' for psycopg 3 (what MLflow's server uses)."""
        return f"{driver}://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    def _command(self, args: Sequence[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL tool, as the postgres user when this process is root; fail with its output."""
        command = [str(postgres_bin_dir() / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVICE_USER, "--", *command]
        result = subprocess.run(command, input=stdin, capture_output=True, text=True, check=False, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}): {result.stdout}{result.stderr}")
        return result

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, SERVICE_USER, SERVICE_USER)
        if not self.port:
            [self.port] = free_ports(1)
        if not self.data_dir.exists():
            # the superuser over the socket in root only; TCP clients (the MLflow server) need the password
            auth = ["--auth-local=trust", "--auth-host=scram-sha-256"]
            self._command(["initdb", "-D", str(self.data_dir), "-U", SERVICE_USER, *auth, "-E", "UTF8"])
        options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root}"
        self._command(["pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_path), "-o", options, "start"])
        try:
            wait_for_port(self.port, START_TIMEOUT, "PostgreSQL")
            self._create_database()
        except BaseException:
            self.stop()
            raise

    def _create_database(self) -> None:
        sql = (
            f"CREATE ROLE {self.user} LOGIN PASSWORD '{self.password}';\n"
            f"CREATE DATABASE {self.database} OWNER {self.user};\n"
        )
        exists = self._psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{self.user}'")
        if exists.strip() != "1":
            self._psql(sql)

    def _psql(self, sql: str, database: str = "postgres") -> str:
        args = ["psql", "-h", str(self.root), "-p", str(self.port), "-U", SERVICE_USER, "-d", database]
        return self._command([*args, "-v", "ON_ERROR_STOP=1", "-tA"], stdin=sql).stdout

    def query(self, sql: str) -> list[str]:
        """The rows of one query in `database` (as the superuser), one string per row, columns joined by |."""
        return self._psql(sql, self.database).splitlines()

    def stop(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self._command(["pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])


@contextmanager
def postgres() -> Iterator[Postgres]:
    """A running cluster with an `mlflow` role and database; stopped and removed on exit, also on failure."""
    root = Path(tempfile.mkdtemp(prefix="kit-postgres-"))
    try:
        server = Postgres(root)
        server.start()
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
