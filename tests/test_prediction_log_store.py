"""The generated service writes its prediction log to an S3-compatible store (SeaweedFS on 127.0.0.1) and the
monitor reads the window back from it; the store stopped mid-run costs counted rows, never a blocked request or a
corrupt object.

One generated project (the S3 remote, installed, pipeline run) and one store are shared by the module.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from servers.ports import free_ports
from servers.seaweedfs import SeaweedS3, seaweed_s3
from tests.helpers import commit, generate, project_env, run

pytestmark = pytest.mark.slow

BUCKET = "predictions"
LOG_URL = f"s3://{BUCKET}/log"
PACKAGE = "my_mlops_project"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = generate(tmp_path_factory.mktemp("predlog"), {"dvc_remote": "s3"})
    commit(project, "Generated from the template")
    run(project, "make", "install", f"PYTHON={sys.executable}")
    run(project, "make", "pipeline")
    return project


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    with seaweed_s3(tmp_path_factory.mktemp("seaweed"), buckets=(BUCKET,)) as running:
        wait_until(lambda: _writable(running), 120, f"bucket {BUCKET} writable")
        yield running


def _writable(store: SeaweedS3) -> bool:
    """A new bucket is a new SeaweedFS collection: its volumes are made on the first write, slowly on a busy
    machine; the service's first upload should not pay for that."""
    try:
        store.client().put_object(Bucket=BUCKET, Key="probe", Body=b"")
    except (BotoCoreError, ClientError):
        return False
    store.client().delete_object(Bucket=BUCKET, Key="probe")
    return True


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def post(url: str, body: dict[str, Any]) -> float:
    """Seconds the request took; a failure fails the test."""
    request = urllib.request.Request(url, json.dumps(body).encode(), {"content-type": "application/json"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    return time.perf_counter() - started


def metric(text: str, name: str) -> float:
    return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " "))


def wait_until(condition: Any, timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
            pytest.fail(f"timed out waiting for {what}\n{tail}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def service(project: Path, store: SeaweedS3) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    (port,) = free_ports(1)
    env = {
        **project_env(project),
        **store.env(),
        "SERVE_PREDICTION_LOG_URL": LOG_URL,
        "SERVE_PREDICTION_LOG_BATCH_ROWS": "40",
        "SERVE_PREDICTION_LOG_BATCH_SECONDS": "1",
        "SERVE_PREDICTION_LOG_BUFFER_ROWS": "200",
    }
    command = [str(project / ".venv/bin/python"), "-m", f"{PACKAGE}.serve", "--port", str(port)]
    log = (project / "serve.log").open("wb")
    process = subprocess.Popen(command, cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _ready(url), 60, "the service")
        yield url, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        log.close()


def _ready(url: str) -> bool:
    try:
        get(f"{url}/health/ready")
    except OSError:
        return False
    return True


def a_row(project: Path) -> dict[str, Any]:
    features = json.loads((project / "models/metadata.json").read_text())["feature_schema"]["features"]
    return {f["name"]: f["categories"][0] if f["kind"] == "categorical" else 1.0 for f in features}


def monitor_summary(project: Path, source: str, env: dict[str, str]) -> dict[str, Any]:
    code = f"""
import json, os
from pathlib import Path
os.environ.update({env!r})
from {PACKAGE}.config import Paths
from {PACKAGE}.monitor.cli import run_monitor
paths = Paths()
out = Path("build/monitor-" + str(abs(hash({source!r}))))
code = run_monitor(paths.reference_profile, {source!r}, paths.metadata, out_dir=out, model_path=paths.model,
                   window_days=7)
print(json.dumps({{"code": code, "drift": json.loads((out / "summary.json").read_text())["drift"]}}))
"""
    output = run(project, str(project / ".venv" / "bin" / "python"), "-c", code).stdout
    return json.loads(output.splitlines()[-1])  # after run_monitor's own line


def test_log_on_the_store_read_back_by_the_monitor_and_a_store_outage_costs_only_counted_rows(
    project: Path, store: SeaweedS3, service: tuple[str, subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    url, process = service
    row = a_row(project)
    for _ in range(30):
        post(f"{url}/predict", {"rows": [row] * 5})

    def uploaded() -> float:
        return metric(get(f"{url}/metrics"), "serve_prediction_log_uploaded_rows_total")

    wait_until(lambda: uploaded() >= 150, 60, "150 rows uploaded", project / "serve.log")
    keys = store.keys(BUCKET)
    assert keys and all(key.startswith("log/date=") and key.endswith(".jsonl") for key in keys), keys

    local = tmp_path / "copy"
    for key in keys:
        target = local / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(store.client().get_object(Bucket=BUCKET, Key=key)["Body"].read())
    from_store = monitor_summary(project, f"{LOG_URL}/*.jsonl", store.env())
    from_copy = monitor_summary(project, f"{local}/log/*.jsonl", {})
    assert from_store == from_copy and from_store["drift"]["n_current_rows"] == 150

    store.stop()
    latencies = [post(f"{url}/predict", {"rows": [row] * 5}) for _ in range(60)]
    assert max(latencies) < 5.0, f"requests blocked while the store is down: {max(latencies):.2f} s"
    wait_until(
        lambda: metric(get(f"{url}/metrics"), "serve_prediction_log_upload_failures_total") >= 1,
        60,
        "a failed upload",
        project / "serve.log",
    )
    wait_until(
        lambda: metric(get(f"{url}/metrics"), "serve_prediction_log_dropped_rows_total") > 0,
        60,
        "counted drops",
        project / "serve.log",
    )

    store.start()
    for _ in range(10):
        post(f"{url}/predict", {"rows": [row] * 5})
    before = len(keys)
    wait_until(lambda: len(store.keys(BUCKET)) > before, 120, "new objects after the restart", project / "serve.log")
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=30)
    stored_rows = 0
    for key in store.keys(BUCKET):
        body = store.client().get_object(Bucket=BUCKET, Key=key)["Body"].read().decode()
        assert body.endswith("\n"), f"{key} is partial"
        records = [json.loads(line) for line in body.splitlines()]
        assert all(set(record) >= {"timestamp", "request_id", "features", "prediction"} for record in records)
        stored_rows += len(records)
    assert stored_rows >= 150 + 50
