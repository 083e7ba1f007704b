"""Prediction log on object storage (``SERVE_PREDICTION_LOG_URL``: s3://, gs://, az://, or a local path).

A replica's local folder is lost with its pod, so the log goes to a store every replica and the monitor
reach. Objects are immutable: nothing is appended, each upload is a new object
``<url>/date=YYYY-MM-DD/<writer>-<start>-<seq>.jsonl`` (JSON Lines of ``contracts.PredictionRecord``, the
format of the local log; the monitor reads only the date partitions of its window). ``writer`` is the host
name (the pod's name on Kubernetes) and the process id, ``start`` the process start time: no collisions.

Rows are buffered and uploaded by rows (``batch_rows``) or by age (``batch_seconds``), whichever comes
first. When the store is slow or down the buffer keeps at most ``max_buffered_rows`` rows: the oldest beyond
that are dropped and counted; a failed upload keeps its rows and is retried ``batch_seconds`` later.
``close()`` (graceful shutdown) makes one last upload of what is buffered. An upload is one PUT of a whole
object, so a reader never sees a partial one; on a local path the file is written under a temporary name
and renamed.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..storage import filesystem
from .prediction_log import JsonlDirectorySink, PredictionSink
from .settings import ServeSettings

log = logging.getLogger(__name__)

TEMPORARY_SUFFIX = ".partial"


class ObjectStoreSink:
    """A ``prediction_log.PredictionSink`` that writes one new object per upload."""

    def __init__(
        self,
        url: str,
        *,
        batch_rows: int = 10_000,
        batch_seconds: float = 60.0,
        max_buffered_rows: int = 100_000,
        writer: str | None = None,
        clock: Callable[[], datetime] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        on_drop: Callable[[int], None] | None = None,
        on_failure: Callable[[], None] | None = None,
        on_upload: Callable[[int], None] | None = None,
    ) -> None:
        self.url = url
        self.fs, self.root = filesystem(url)
        self.local = "file" in _protocols(self.fs)
        self.batch_rows = batch_rows
        self.batch_seconds = batch_seconds
        self.max_buffered_rows = max(max_buffered_rows, batch_rows)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._monotonic = monotonic
        self.writer = writer or f"{socket.gethostname()}-{os.getpid()}"
        self.started = self._clock().strftime("%Y%m%dT%H%M%SZ")
        self._on_drop, self._on_failure, self._on_upload = on_drop, on_failure, on_upload
        self._pending: dict[str, list[str]] = {}  # UTC day -> lines, oldest day first
        self.buffered_rows = 0
        self.sequence = 0
        self.dropped_rows = 0
        self.failed_uploads = 0
        self.uploaded_rows = 0
        self._last_attempt = monotonic()
        self._last_failed = False

    def write(self, lines: list[str]) -> None:
        if not lines:
            return
        day = self._clock().strftime("%Y-%m-%d")
        self._pending.setdefault(day, []).extend(lines)
        self.buffered_rows += len(lines)
        self._drop_oldest(self.buffered_rows - self.max_buffered_rows)

    def _drop_oldest(self, rows: int) -> None:
        if rows <= 0:
            return
        left = rows
        for day in list(self._pending):
            lines = self._pending[day]
            taken = min(left, len(lines))
            del lines[:taken]
            if not lines:
                del self._pending[day]
            left -= taken
            if left == 0:
                break
        self.buffered_rows -= rows
        self.dropped_rows += rows
        log.warning(
            "prediction log buffer full (%d rows): %d oldest rows dropped", self.max_buffered_rows, rows
        )
        if self._on_drop:
            self._on_drop(rows)

    def flush(self) -> None:
        """Upload when due: ``batch_rows`` buffered, or ``batch_seconds`` since the last attempt."""
        if self.buffered_rows == 0:
            return
        waited = self._monotonic() - self._last_attempt
        backing_off = self._last_failed and waited < self.batch_seconds
        if (self.buffered_rows >= self.batch_rows and not backing_off) or waited >= self.batch_seconds:
            self.upload()

    def upload(self) -> bool:
        """Each buffered day as a new object; False (rows kept, failure counted) when the store fails."""
        self._last_attempt = self._monotonic()
        for day in list(self._pending):
            lines = self._pending[day]
            path = (
                f"{self.root.rstrip('/')}/date={day}/{self.writer}-{self.started}-{self.sequence:06d}.jsonl"
            )
            try:
                self._put(path, ("\n".join(lines) + "\n").encode())
            except Exception as error:  # any store error: keep the rows, never kill the writer thread
                self.failed_uploads += 1
                self._last_failed = True
                log.warning(
                    "prediction log upload to %s failed (%d rows kept): %s", self.url, len(lines), error
                )
                if self._on_failure:
                    self._on_failure()
                return False
            self.sequence += 1
            del self._pending[day]
            self.buffered_rows -= len(lines)
            self.uploaded_rows += len(lines)
            if self._on_upload:
                self._on_upload(len(lines))
        self._last_failed = False
        return True

    def _put(self, path: str, data: bytes) -> None:
        if not self.local:
            self.fs.pipe_file(path, data)
            return
        self.fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        self.fs.pipe_file(path + TEMPORARY_SUFFIX, data)
        self.fs.mv(path + TEMPORARY_SUFFIX, path)

    def close(self) -> None:
        """The last upload (graceful shutdown): what is buffered is written once more, or reported lost."""
        if self.buffered_rows and not self.upload():
            log.error("prediction log: %d rows not uploaded to %s at shutdown", self.buffered_rows, self.url)


def _protocols(fs: Any) -> tuple[str, ...]:
    protocol = fs.protocol
    return (protocol,) if isinstance(protocol, str) else tuple(protocol)


def open_sink(
    settings: ServeSettings,
    *,
    on_drop: Callable[[int], None] | None = None,
    on_failure: Callable[[], None] | None = None,
    on_upload: Callable[[int], None] | None = None,
) -> PredictionSink:
    """The prediction log's sink: the store at SERVE_PREDICTION_LOG_URL when set, else the local JSONL folder.

    The service passes its Prometheus counters; batch scoring writes the same records without them.
    """
    if settings.prediction_log_url is None:
        return JsonlDirectorySink(settings.prediction_log_dir)
    return ObjectStoreSink(
        settings.prediction_log_url,
        batch_rows=settings.prediction_log_batch_rows,
        batch_seconds=settings.prediction_log_batch_seconds,
        max_buffered_rows=settings.prediction_log_buffer_rows,
        on_drop=on_drop,
        on_failure=on_failure,
        on_upload=on_upload,
    )
