"""Read current data: prediction-log JSONL (directory / glob / file) or CSV / Parquet.

Paths may be plain paths, globs or directories; URLs such as ``s3://bucket/logs/`` are read through fsspec
when it is installed (``storage.filesystem``: the same options as the service's log writer). A folder with
``date=YYYY-MM-DD`` sub-folders (the service's object-store log) is pruned to the partitions of the time
window before anything is listed inside them; the glob then applies inside each partition. ``iter_current``
streams the data in chunks of rows (memory bounded by the chunk); ``load_current`` reads it whole.

Prediction-log lines (``contracts.PredictionRecord``) are flattened:
the ``features`` object becomes one column per feature; ``prediction``, ``request_id``, ``row``,
``timestamp`` and ``model_version`` are kept; ``probabilities`` become ``proba:<class>`` columns.
"""

from __future__ import annotations

import gzip
import io
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from pathlib import Path
from typing import IO, Any

import pandas as pd

from ..contracts import ContractError, PredictionRecord, parse_prediction_line
from ..storage import filesystem
from .columns import PROBA_PREFIX
from .errors import EmptyDataError, IncompatibleDataError, SourceNotFoundError

JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".json")
TABLE_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")
CHUNK_ROWS = 200_000
PARTITION = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
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


def resolve_paths(source: str | os.PathLike[str], since: date | None = None) -> list[str]:
    """Expand a file / directory / glob / URL to a sorted list of data files; with ``since``, date partitions
    (``date=YYYY-MM-DD`` folders) of earlier days are skipped."""
    location = os.fspath(source).removeprefix("file://")
    partitioned = _partitioned_files(location, since)
    if partitioned is not None:
        files = partitioned
    elif _is_url(location):
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


def _split_glob(location: str) -> tuple[str, str | None]:
    """(folder before the first glob part, the rest) of a location; (location, None) without a glob."""
    parts = location.rstrip("/").split("/")
    first = next((i for i, part in enumerate(parts) if _is_glob(part)), None)
    if first is None:
        return location.rstrip("/"), None
    return "/".join(parts[:first]), "/".join(parts[first:])


def _partitioned_files(location: str, since: date | None) -> list[str] | None:
    """The data files of the date partitions under the location's folder (from ``since`` on), or None when
    the folder has no date partitions."""
    if _fsspec() is None:
        return None
    folder, pattern = _split_glob(location)
    try:
        fs, root = filesystem(folder)
        children = fs.ls(root, detail=False) if fs.isdir(root) else []
    except (OSError, ValueError):
        return None
    days = {
        child: date.fromisoformat(match.group(1))
        for child in children
        if (match := PARTITION.match(child.rstrip("/").rsplit("/", 1)[-1]))
    }
    if not days:
        return None
    kept = sorted(child for child, day in days.items() if since is None or day >= since)
    found: list[str] = []
    for partition in kept:
        found += fs.glob(f"{partition}/{pattern}") if pattern else fs.find(partition)
    protocol = folder.split("://", 1)[0] if _is_url(folder) else None
    return sorted(
        f"{protocol}://{path}" if protocol and "://" not in path else path
        for path in found
        if _has_data_suffix(path)
    )


def _remote_files(url: str) -> list[str]:
    """The data files at a URL (a file, a folder or a glob), through fsspec."""
    if _fsspec() is None:
        raise IncompatibleDataError(f"{url}: reading URLs needs the optional package fsspec")
    fs, root = filesystem(url)
    protocol = url.split("://", 1)[0]
    if _is_glob(root):
        found = fs.glob(root)
    elif fs.isdir(root):
        found = list(fs.find(root))
    elif fs.exists(root):
        found = [root]
    else:
        found = []
    return sorted(
        path if "://" in path else f"{protocol}://{path}" for path in found if _has_data_suffix(path)
    )


def _open(path: str, mode: str = "rb") -> IO[Any]:
    if _is_url(path):
        fs, root = filesystem(path)
        return fs.open(root, mode, compression="infer")
    if path.endswith(".gz"):
        return gzip.open(path, mode)
    return Path(path).open(mode)


def parse_prediction_log_lines(
    lines: Iterable[bytes | str], where: str = "<log>", first_line: int = 1
) -> pd.DataFrame:
    """Flatten prediction-log lines into a DataFrame; a line that is not a PredictionRecord is an error."""
    log_values: dict[str, list[Any]] = {name: [] for name in LOG_FIELDS}
    features: list[dict[str, Any]] = []
    probabilities: list[dict[str, Any] | None] = []
    for line_number, line in enumerate(lines, first_line):
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


def window_start(window_days: float, now: datetime | None = None) -> tuple[datetime, datetime]:
    """(start, end) of the last ``window_days`` days before ``now`` (UTC)."""
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now - timedelta(days=float(window_days)), now


def filter_window(
    frame: pd.DataFrame, window_days: float, now: datetime | None = None, timestamp_column: str = "timestamp"
) -> pd.DataFrame:
    """Keep rows whose timestamp is within the last ``window_days`` days before ``now`` (UTC)."""
    if timestamp_column not in frame.columns:
        raise IncompatibleDataError(f"a time window needs a {timestamp_column!r} column in the current data")
    timestamps = pd.to_datetime(frame[timestamp_column], utc=True, errors="coerce", format="ISO8601")
    start, end = window_start(window_days, now)
    return frame.loc[(timestamps >= start) & (timestamps <= end)].reset_index(drop=True)


def read_chunks(
    path: str, chunk_rows: int = CHUNK_ROWS, columns: Sequence[str] | None = None
) -> Iterator[pd.DataFrame]:
    """One data file in chunks of at most ``chunk_rows`` rows; Parquet and CSV read only ``columns`` (when
    given, those present)."""
    name = path.lower()
    try:
        if name.endswith(JSONL_SUFFIXES):
            yield from _jsonl_chunks(path, chunk_rows)
        elif name.endswith((".parquet", ".pq")):
            yield from _parquet_chunks(path, chunk_rows, columns)
        elif name.endswith((".csv", ".csv.gz")):
            with _open(path, "rb") as stream:
                wanted = None if columns is None else set(columns)
                usecols = None if wanted is None else (lambda column: column in wanted)
                yield from pd.read_csv(stream, chunksize=chunk_rows, usecols=usecols)
        else:
            raise IncompatibleDataError(f"{path}: unsupported file type (use .jsonl, .csv or .parquet)")
    except (IncompatibleDataError, EmptyDataError):
        raise
    except pd.errors.EmptyDataError:
        return
    except ImportError as error:
        raise IncompatibleDataError(f"{path}: {error}") from error
    except (OSError, ValueError, UnicodeDecodeError) as error:
        raise IncompatibleDataError(f"cannot read {path}: {error}") from error


def _jsonl_chunks(path: str, chunk_rows: int) -> Iterator[pd.DataFrame]:
    with _open(path, "rb") as stream:
        first_line = 1
        while lines := list(islice(stream, chunk_rows)):
            yield parse_prediction_log_lines(lines, where=path, first_line=first_line)
            first_line += len(lines)


def _parquet_chunks(path: str, chunk_rows: int, columns: Sequence[str] | None) -> Iterator[pd.DataFrame]:
    import pyarrow.parquet as pq  # noqa: PLC0415  (the train extra brings it; the service never reads Parquet)

    with _open(path, "rb") as stream:
        parquet = pq.ParquetFile(stream)
        present = parquet.schema_arrow.names
        selected = present if columns is None else [name for name in present if name in set(columns)]
        for batch in parquet.iter_batches(batch_size=chunk_rows, columns=selected):
            yield batch.to_pandas()


def rechunk(frames: Iterable[pd.DataFrame], chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Join small frames (one per small log object) into chunks of about ``chunk_rows`` rows."""
    pending: list[pd.DataFrame] = []
    rows = 0
    for frame in frames:
        if len(frame) == 0:
            continue
        pending.append(frame)
        rows += len(frame)
        if rows >= chunk_rows:
            yield pending[0] if len(pending) == 1 else pd.concat(pending, ignore_index=True)
            pending, rows = [], 0
    if pending:
        yield pending[0] if len(pending) == 1 else pd.concat(pending, ignore_index=True)


def iter_current(
    source: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
    *,
    window_days: float | None = None,
    now: datetime | None = None,
    timestamp_column: str = "timestamp",
    columns: Sequence[str] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[pd.DataFrame]:
    """The current data in chunks of about ``chunk_rows`` rows, window applied: one chunk in memory at a time.

    ``columns``: what the caller needs (Parquet/CSV read only those; the timestamp is added for a window).
    Raises ``SourceNotFoundError`` or ``IncompatibleDataError`` like ``load_current``; yields nothing when
    there are no rows (the caller says which rows were expected).
    """
    sources = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    since = None
    if window_days is not None:
        start, now = window_start(window_days, now)
        since = start.date()
    wanted = None if columns is None else [*columns, *([timestamp_column] if window_days is not None else [])]
    files = [path for location in sources for path in resolve_paths(location, since)]
    frames = (chunk for path in files for chunk in read_chunks(path, chunk_rows, wanted))
    if window_days is not None:
        frames = (filter_window(frame, window_days, now, timestamp_column) for frame in frames if len(frame))
    yield from rechunk(frames, chunk_rows)


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
        since = window_start(window_days, now)[0].date() if window_days is not None else None
        files = [path for location in sources for path in resolve_paths(location, since)]
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
