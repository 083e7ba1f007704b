"""A team's DVC remote on a real S3-compatible store: push, a fresh clone pulls everything, and the faults.

One project per module, generated with `dvc_remote=s3` for a bucket on SeaweedFS (127.0.0.1, credentials
required), installed with its own `make install`, its pipeline run and committed. The rendered remote has no
endpoint: DVC finds the store through AWS_ENDPOINT_URL alone. The store is started once; only the fault test
stops and restarts it. Push/pull times are printed (pytest -s) and written to team-store-figures.json in the
module's temporary folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from servers.seaweedfs import SeaweedS3, seaweed_s3
from tests.helpers import commit, generate, project_env, run

pytestmark = pytest.mark.slow

BUCKET = "team-data"
PREFIX = "store"
REMOTE = f"'storage' (s3://{BUCKET}/{PREFIX})"
BULK_FILES = 400


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("team-store")


@pytest.fixture(scope="module")
def store(workdir: Path) -> Iterator[SeaweedS3]:
    with seaweed_s3(workdir / "seaweed", buckets=(BUCKET,)) as running:
        yield running


@pytest.fixture(scope="module")
def project(workdir: Path, store: SeaweedS3) -> Path:
    answers = {"dvc_remote": "s3", "dvc_remote_url": f"s3://{BUCKET}/{PREFIX}"}
    project = generate(workdir / "generated", answers)
    assert "endpointurl" not in (project / ".dvc" / "config").read_text()
    commit(project, "Generated from the template")
    run(project, "make", "install", f"PYTHON={sys.executable}", "EXTRAS=train")
    run(project, "make", "pipeline")
    commit(project, "Pipeline run")
    return project


def cache_files(repository: Path) -> dict[str, int]:
    """Relative path -> size of every object in the repository's DVC cache."""
    root = repository / ".dvc" / "cache" / "files" / "md5"
    return {str(path.relative_to(root)): path.stat().st_size for path in root.rglob("*") if path.is_file()}


def stored_objects(store: SeaweedS3) -> set[str]:
    return {key.removeprefix(f"{PREFIX}/files/md5/") for key in store.keys(BUCKET, f"{PREFIX}/files/md5/")}


def clone(project: Path, destination: Path) -> Path:
    subprocess.run(["git", "clone", "--quiet", str(project), str(destination)], check=True)
    return destination


def pull_in(clone_dir: Path, project: Path, store: SeaweedS3) -> float:
    """`make pull` in a clone, with the project's virtualenv (VENV=): seconds it took."""
    started = time.monotonic()
    run(clone_dir, "make", "pull", f"VENV={project / '.venv'}", env=store.env())
    return time.monotonic() - started


def assert_in_sync(clone_dir: Path, project: Path) -> None:
    dvc = str(project / ".venv" / "bin" / "dvc")
    status = run(clone_dir, dvc, "status", "--json").stdout
    assert json.loads(status) == {}, status
    repro = run(clone_dir, dvc, "repro").stdout
    assert "Running stage" not in repro, repro


def user_lines(stderr: str) -> list[str]:
    """What the command said on stderr, without make's own `make: *** ... Error` line."""
    return [line for line in stderr.splitlines() if line.strip() and not line.startswith("make:")]


def record(workdir: Path, figures: Mapping[str, float]) -> None:
    path = workdir / "team-store-figures.json"
    known = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**known, **figures}, indent=2))
    print(f"\nteam store figures ({path}): {json.dumps(figures)}")


def test_push_then_a_fresh_clone_pulls_everything_and_reproduces_nothing(
    project: Path, store: SeaweedS3, workdir: Path
) -> None:
    started = time.monotonic()
    run(project, "make", "push", env=store.env())
    push_seconds = time.monotonic() - started
    local = cache_files(project)
    assert store.keys(BUCKET, f"{PREFIX}/runs/"), "the run-cache was not pushed"

    fresh = clone(project, workdir / "clone")
    pull_seconds = pull_in(fresh, project, store)
    pulled = cache_files(fresh)
    assert pulled and set(pulled) <= set(local) and set(pulled) <= stored_objects(store)
    assert_in_sync(fresh, project)
    megabytes = sum(local.values()) / 1e6
    record(workdir, {"push_s": round(push_seconds, 1), "pull_s": round(pull_seconds, 1), "objects": len(local),
                     "megabytes": round(megabytes, 2)})  # fmt: skip


def test_wrong_credentials_give_one_line_naming_the_remote_and_the_fix(project: Path, store: SeaweedS3) -> None:
    result = run(project, "make", "push", check=False, env=store.env(secret_key="wrong"))
    assert result.returncode != 0
    lines = user_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert f"DVC remote {REMOTE} refused the credentials" in lines[0]
    assert "AWS_SECRET_ACCESS_KEY" in lines[0] and "dvc remote modify --local storage" in lines[0]


def test_an_unknown_bucket_gives_one_line_naming_the_remote_and_the_fix(project: Path, store: SeaweedS3) -> None:
    dvc = str(project / ".venv" / "bin" / "dvc")
    run(project, dvc, "remote", "modify", "--local", "storage", "url", "s3://no-such-bucket/store")
    try:
        result = run(project, "make", "pull", check=False, env=store.env())
    finally:
        (project / ".dvc" / "config.local").unlink()
    assert result.returncode != 0
    lines = user_lines(result.stderr)
    assert len(lines) == 1, result.stderr
    assert "DVC remote 'storage' (s3://no-such-bucket/store): bucket 'no-such-bucket' does not exist" in lines[0]
    assert "dvc remote modify storage url s3://<bucket>/<path>" in lines[0]


def add_bulk_data(project: Path) -> None:
    """Enough small files that a push takes several seconds: the store can be stopped half-way."""
    bulk = project / "data" / "bulk"
    bulk.mkdir()
    for index in range(BULK_FILES):
        (bulk / f"part-{index:04d}.bin").write_bytes(os.urandom(4096))
    run(project, str(project / ".venv" / "bin" / "dvc"), "add", "--quiet", "data/bulk")
    commit(project, "Bulk data")


def push_until_store_stops(project: Path, store: SeaweedS3) -> subprocess.CompletedProcess[str]:
    """`make push` in the background; the store is stopped once a few of the new objects have arrived."""
    before = len(stored_objects(store))
    env = {**project_env(project), **store.env()}
    with subprocess.Popen(
        ["make", "push"], cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as push:
        deadline = time.monotonic() + 120
        while len(stored_objects(store)) < before + 5 and push.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert push.poll() is None, "the push ended before the store was stopped: add more bulk files"
        store.stop()
        stdout, stderr = push.communicate(timeout=300)
    return subprocess.CompletedProcess(push.args, push.returncode, stdout, stderr)


def test_store_stopped_during_push_gives_one_error_loses_nothing_and_a_retry_completes(
    project: Path, store: SeaweedS3, workdir: Path
) -> None:
    before_bulk = cache_files(project)
    add_bulk_data(project)
    local_before = cache_files(project)
    result = push_until_store_stops(project, store)
    try:
        assert result.returncode != 0
        lines = user_lines(result.stderr)
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith(f"error: dvc push with DVC remote {REMOTE} failed: failed to transfer")
        assert "the local cache is unchanged" in lines[0]
        assert cache_files(project) == local_before
        assert json.loads(run(project, str(project / ".venv" / "bin" / "dvc"), "status", "--json").stdout) == {}
    finally:
        store.start()
    bulk_objects = {name for name in local_before if name not in before_bulk}
    assert not bulk_objects <= stored_objects(store), "the push was not interrupted"
    run(project, "make", "push", env=store.env())
    assert bulk_objects <= stored_objects(store)

    fresh = clone(project, workdir / "clone-after-fault")
    pull_in(fresh, project, store)
    assert bulk_objects <= set(cache_files(fresh))
    assert_in_sync(fresh, project)
