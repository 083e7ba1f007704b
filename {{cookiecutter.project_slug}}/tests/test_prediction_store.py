"""The prediction log on object storage: batches by rows and by age, date partitions, the last upload at
shutdown, bounded memory and counted drops when the store is slow or down, and no partial object ever."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import fsspec
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from {{ cookiecutter.package_name }}.contracts import parse_prediction_line
from {{ cookiecutter.package_name }}.serve.prediction_log import LoggedRequest, PredictionLogger
from {{ cookiecutter.package_name }}.serve.prediction_store import ObjectStoreSink

import serve_bundles

DAY = datetime(2026, 11, 24, 23, 59, tzinfo=UTC)


class FlakyStore(MemoryFileSystem):
    """An in-memory store that can be down (every write fails) or slow (every write waits for `released`)."""

    protocol = "flaky"
    store: ClassVar[dict[str, Any]] = {}
    pseudo_dirs: ClassVar[list[str]] = [""]
    down = False
    released = threading.Event()

    @classmethod
    def _strip_protocol(cls, path: str) -> str:
        return super()._strip_protocol(path.removeprefix("flaky://"))

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        self.released.wait(timeout=30)
        if self.down:
            raise ConnectionRefusedError("store unreachable")
        super().pipe_file(path, value, mode=mode, **kwargs)


@pytest.fixture
def store() -> Iterator[type[FlakyStore]]:
    fsspec.register_implementation("flaky", FlakyStore, clobber=True)
    FlakyStore.down = False
    FlakyStore.released.set()
    FlakyStore.store.clear()
    FlakyStore.pseudo_dirs[:] = [""]
    yield FlakyStore
    FlakyStore.released.set()
    FlakyStore.store.clear()


class Clock:
    def __init__(self) -> None:
        self.now = DAY
        self.seconds = 0.0

    def wall(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.seconds


def record(row_count: int = 1, request_id: str = "r") -> LoggedRequest:
    rows = [[float(i), "red"] for i in range(row_count)]
    return LoggedRequest(
        DAY.isoformat(), request_id, "v1", ["x", "colour"], rows, [0] * row_count, None, None
    )


def lines(count: int, request_id: str = "r") -> list[str]:
    return record(count, request_id).lines()


def objects(store: type[FlakyStore]) -> dict[str, list[str]]:
    """Every object of the store: key -> its lines, each parsed as a PredictionRecord (partial ones fail)."""
    found = {}
    for key, value in store.store.items():
        text = value.getvalue().decode()
        assert text.endswith("\n"), f"{key} is not whole"
        found[key] = text.splitlines()
        for number, line in enumerate(found[key], 1):
            parse_prediction_line(line, f"{key}:{number}")
    return found


def sink(clock: Clock, **options: Any) -> ObjectStoreSink:
    options = {"batch_rows": 3, "batch_seconds": 60.0, "writer": "pod-a", **options}
    return ObjectStoreSink(
        "flaky://bucket/predictions", clock=clock.wall, monotonic=clock.monotonic, **options
    )


def test_a_batch_is_uploaded_when_it_has_enough_rows(store: type[FlakyStore]) -> None:
    clock = Clock()
    log = sink(clock)
    log.write(lines(2))
    log.flush()
    assert objects(store) == {}
    log.write(lines(2))
    log.flush()
    written = objects(store)
    assert list(written) == ["/bucket/predictions/date=2026-11-24/pod-a-20261124T235900Z-000000.jsonl"]
    assert len(next(iter(written.values()))) == 4


def test_a_batch_is_uploaded_when_it_is_old_enough(store: type[FlakyStore]) -> None:
    clock = Clock()
    log = sink(clock, batch_rows=1000)
    log.write(lines(1))
    clock.seconds = 59.0
    log.flush()
    assert objects(store) == {}
    clock.seconds = 60.0
    log.flush()
    assert [len(rows) for rows in objects(store).values()] == [1]


def test_rows_go_to_the_partition_of_their_day_and_each_upload_is_a_new_object(
    store: type[FlakyStore],
) -> None:
    clock = Clock()
    log = sink(clock, batch_rows=1000)
    log.write(lines(1, "before-midnight"))
    clock.now = DAY + timedelta(minutes=2)
    log.write(lines(2, "after-midnight"))
    assert log.upload()
    log.write(lines(1, "later"))
    assert log.upload()
    keys = sorted(objects(store))
    assert [key.split("/")[3] for key in keys] == ["date=2026-11-24", "date=2026-11-25", "date=2026-11-25"]
    assert [key.rsplit("-", 1)[1] for key in keys] == ["000000.jsonl", "000001.jsonl", "000002.jsonl"]


def test_the_logger_flushes_by_age_while_idle_and_uploads_the_rest_at_shutdown(
    store: type[FlakyStore],
) -> None:
    log = ObjectStoreSink("flaky://bucket/predictions", batch_rows=1000, batch_seconds=0.2)
    logger = PredictionLogger(log, tick_seconds=0.05)
    logger.start()
    logger.submit(record(2, "first"))
    deadline = time.monotonic() + 5
    while not objects(store) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [len(rows) for rows in objects(store).values()] == [2], "not uploaded by age while idle"
    logger.submit(record(3, "last"))
    logger.close()
    assert sorted(len(rows) for rows in objects(store).values()) == [2, 3]


def test_a_store_down_keeps_rows_up_to_the_bound_counts_drops_and_failures_then_recovers(
    store: type[FlakyStore],
) -> None:
    clock = Clock()
    dropped: list[int] = []
    failures: list[int] = []
    log = sink(clock, max_buffered_rows=5, on_drop=dropped.append, on_failure=lambda: failures.append(1))
    store.down = True
    log.write(lines(3, "a"))
    log.flush()
    assert failures == [1] and log.buffered_rows == 3
    log.write(lines(1, "b"))
    log.flush()
    assert failures == [1], "retried before batch_seconds"
    log.write(lines(4, "c"))
    assert dropped == [3] and log.buffered_rows == 5 and log.dropped_rows == 3
    store.down = False
    clock.seconds = 60.0
    log.flush()
    (written,) = objects(store).values()
    assert [parse_prediction_line(line, "log").request_id for line in written] == ["b"] + ["c"] * 4
    assert log.buffered_rows == 0 and log.failed_uploads == 1


def test_a_slow_store_never_blocks_requests_and_the_queue_drops_are_counted(store: type[FlakyStore]) -> None:
    store.released.clear()
    log = ObjectStoreSink("flaky://bucket/predictions", batch_rows=1, batch_seconds=60)
    taken: list[int] = []  # rows the writer handed to the sink (it blocks on the hanging store after a few)
    write = log.write
    log.write = lambda lines: (taken.append(len(lines)), write(lines))[1]
    maxsize = 10
    logger = PredictionLogger(log, maxsize=maxsize, tick_seconds=0.05)
    logger.start()
    started = time.perf_counter()
    accepted = sum(logger.submit(record(1, f"r{i}")) for i in range(1000))
    elapsed = time.perf_counter() - started
    taken_during_submits = sum(taken)
    assert elapsed < 5, f"1000 submits took {elapsed:.2f} s while the store hangs for 30 s"
    assert accepted + logger.dropped_rows == 1000
    # Whatever the scheduling: what was accepted sits in the queue, in the one batch the writer drained from
    # it (at most the queue's size again), or was taken by the sink; nothing else is accepted while it hangs.
    assert accepted <= 2 * maxsize + taken_during_submits, (accepted, taken)
    assert logger.dropped_rows > 0
    store.released.set()
    logger.close()
    assert sum(len(rows) for rows in objects(store).values()) == accepted


def test_a_local_path_gets_whole_files_only(tmp_path: Path) -> None:
    log = ObjectStoreSink(str(tmp_path / "log"), batch_rows=2, writer="pod-a")
    log.write(lines(2))
    log.flush()
    log.write(lines(1))
    log.close()
    files = sorted(path.relative_to(tmp_path / "log").as_posix() for path in (tmp_path / "log").rglob("*"))
    partition = f"date={datetime.now(UTC):%Y-%m-%d}"
    assert [name.split("/")[0] for name in files] == [partition, partition, partition]
    assert [name.rsplit("-", 1)[1] for name in files[1:]] == ["000000.jsonl", "000001.jsonl"]


def test_the_service_writes_to_the_url_and_counts_failures_in_metrics(
    store: type[FlakyStore], tmp_path: Path
) -> None:
    model_dir = serve_bundles.build_bundle(tmp_path / "bundle", "classification")
    row = serve_bundles.good_row(model_dir)
    settings = {"prediction_log_url": "flaky://bucket/predictions", "prediction_log_batch_rows": 2}
    with serve_bundles.client(model_dir, tmp_path, **settings) as client:
        assert client.post("/predict", json={"rows": [row, row]}).status_code == 200
        deadline = time.monotonic() + 5
        while not objects(store) and time.monotonic() < deadline:
            time.sleep(0.05)
        store.down = True
        assert client.post("/predict", json={"rows": [row, row, row]}).status_code == 200
        deadline = time.monotonic() + 5
        while "serve_prediction_log_upload_failures_total 1.0" not in (text := client.get("/metrics").text):
            assert time.monotonic() < deadline, text
            time.sleep(0.05)
        store.down = False
    assert "serve_prediction_log_uploaded_rows_total 2.0" in text
    assert sorted(len(rows) for rows in objects(store).values()) == [2, 3]
    assert not (tmp_path / "predlogs").exists()
