"""Read current data: prediction-log JSONL (directory / glob / file) or CSV / Parquet.

Paths may be plain paths, globs or directories; URLs such as ``s3://bucket/logs/`` are read
through fsspec when it is installed.  Prediction-log lines (``contracts.PredictionRecord``) are flattened:
the ``features`` object becomes one column per feature; ``prediction``, ``request_id``, ``row``,
``timestamp`` and ``model_version`` are kept; ``probabilities`` become ``proba:<class>`` columns.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import pandas as pd

from ..contracts import ContractError, PredictionRecord, parse_prediction_line
from .columns import PROBA_PREFIX
from .errors import EmptyDataError, IncompatibleDataError, SourceNotFoundError

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".json")
TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")
LOG_FIELDS = tuple(
    field for field in PredictionRecord.model_fields if field not in {"features", "probabilities"}
)


def _is_url(path: str) -> bool:
    return "://" in path and not path.startswith("file://")


def _fsspec() -> Any:
    try:  # optional: installed with the DVC remotes (s3fs, gcsfs, adlfs bring it)
        import fsspec  # noqa: PLC0415
    except ImportError:
        return None
    return fsspec


def _has_data_suffix(path: str) -> bool:
    return path.lower().endswith(JSONL_SUFFIXES + TABLE_SUFFIXES)


def _is_glob(text: str) -> bool:
    return any(character in text for character in "*?[")


def _glob_files(pattern: str) -> list[str]:
    parts = Path(pattern).parts
    first = next(i for i, part in enumerate(parts) if _is_glob(part))
    base = Path(*parts[:first]) if first else Path()
    return sorted(str(path) for path in base.glob(str(Path(*parts[first:]))) if path.is_file())


def resolve_paths(source: str | os.PathLike[str]) -> list[str]:
    """Expand a file / directory / glob / URL to a sorted list of data files."""
    location = os.fspath(source).removeprefix("file://")
    if _is_url(location):
        files = _remote_files(location)
    elif _is_glob(location):
        files = _glob_files(location)
    elif Path(location).is_dir():
        files = sorted(
            str(path) for path in Path(location).rglob("*") if path.is_file() and _has_data_suffix(path.name)
        )
    elif Path(location).is_file():
        files = [location]
    else:
        raise SourceNotFoundError(f"current data source not found: {location}")
    if not files:
        raise SourceNotFoundError(f"no data files (jsonl/csv/parquet) found at {location}")
    return files


def _remote_files(url: str) -> list[str]:
    """The data files at a URL (a file, a folder or a glob), through fsspec."""
    fsspec = _fsspec()
    if fsspec is None:
        raise IncompatibleDataError(f"{url}: reading URLs needs the optional package fsspec")
    filesystem, root = fsspec.core.url_to_fs(url)
    protocol = url.split("://", 1)[0]
    if _is_glob(root):
        found = filesystem.glob(root)
    elif filesystem.isdir(root):
        found = list(filesystem.find(root))
    elif filesystem.exists(root):
        found = [root]
    else:
        found = []
    return sorted(
        path if "://" in path else f"{protocol}://{path}" for path in found if _has_data_suffix(path)
    )


def _open(path: str, mode: str = "rb") -> IO[Any]:
    if _is_url(path):
        fsspec = _fsspec()
        assert fsspec is not None
        return fsspec.open(path, mode, compression="infer").open()
    if path.endswith(".gz"):
        return gzip.open(path, mode)
    return Path(path).open(mode)


def parse_prediction_log_lines(lines: Iterable[bytes | str], where: str = "<log>") -> pd.DataFrame:
    """Flatten prediction-log lines into a DataFrame; a line that is not a PredictionRecord is an error."""
    log_values: dict[str, list[Any]] = {name: [] for name in LOG_FIELDS}
    features: list[dict[str, Any]] = []
    probabilities: list[dict[str, Any] | None] = []
    for line_number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = parse_prediction_line(line, f"{where}:{line_number}")
        except ContractError as error:
            raise IncompatibleDataError(str(error)) from None
        for name in LOG_FIELDS:
            log_values[name].append(getattr(record, name))
        features.append(record.features)
        probabilities.append(record.probabilities)
    if not features:
        return pd.DataFrame()
    frame = pd.DataFrame.from_records(features)
    for name in LOG_FIELDS:
        if name in frame.columns:
            raise IncompatibleDataError(f"{where}: feature name {name!r} clashes with a log field")
        frame[name] = log_values[name]
    if any(probabilities):
        by_class = pd.DataFrame.from_records([row or {} for row in probabilities])
        by_class.columns = [f"{PROBA_PREFIX}{label}" for label in by_class.columns]
        frame = pd.concat([frame, by_class], axis=1)
    return frame


def read_file(path: str) -> pd.DataFrame:
    name = path.lower()
    try:
        if name.endswith(JSONL_SUFFIXES):
            with _open(path, "rb") as stream:
                return parse_prediction_log_lines(stream, where=path)
        if name.endswith((".parquet", ".pq")):
            with _open(path, "rb") as stream:
                return pd.read_parquet(io.BytesIO(stream.read()) if _is_url(path) else path)
        if name.endswith((".csv", ".csv.gz")):
            with _open(path, "rb") as stream:
                return pd.read_csv(stream)
    except (IncompatibleDataError, EmptyDataError):
        raise
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except ImportError as error:
        raise IncompatibleDataError(f"{path}: {error}") from error
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise IncompatibleDataError(f"cannot read {path}: {error}") from error
    raise IncompatibleDataError(f"{path}: unsupported file type (use .jsonl, .csv or .parquet)")


def filter_window(
    frame: pd.DataFrame, window_days: float, now: datetime | None = None, timestamp_column: str = "timestamp"
) -> pd.DataFrame:
    """Keep rows whose timestamp is within the last ``window_days`` days before ``now`` (UTC)."""
    if timestamp_column not in frame.columns:
        raise IncompatibleDataError(f"a time window needs a {timestamp_column!r} column in the current data")
    timestamps = pd.to_datetime(frame[timestamp_column], utc=True, errors="coerce", format="ISO8601")
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    start = now - timedelta(days=float(window_days))
    return frame.loc[(timestamps >= start) & (timestamps <= now)].reset_index(drop=True)


def load_current(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | pd.DataFrame,
    *,
    window_days: float | None = None,
    now: datetime | None = None,
    timestamp_column: str = "timestamp",
) -> pd.DataFrame:
    """Load current data from a path / directory / glob / URL (or list of them, or a DataFrame).

    Raises ``SourceNotFoundError`` (nothing there), ``IncompatibleDataError`` (unreadable) or
    ``EmptyDataError`` (no rows, also after the time window).
    """
    if isinstance(source, pd.DataFrame):
        frame = source
        where = "current DataFrame"
    else:
        sources = [source] if isinstance(source, (str, os.PathLike)) else list(source)
        files = [path for location in sources for path in resolve_paths(location)]
        frames = [read_file(path) for path in files]
        frames = [table for table in frames if len(table)]
        where = ", ".join(os.fspath(location) for location in sources)
        if not frames:
            raise EmptyDataError(f"current data at {where} has no rows")
        frame = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if len(frame) == 0:
        raise EmptyDataError(f"{where} has no rows")
    if window_days is not None:
        frame = filter_window(frame, window_days, now, timestamp_column)
        if len(frame) == 0:
            raise EmptyDataError(f"current data at {where} has no rows in the last {window_days} day(s)")
    return frame
