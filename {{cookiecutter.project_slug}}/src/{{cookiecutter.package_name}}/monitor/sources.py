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


def _suffix_ok(p: str) -> bool:
    return p.lower().endswith(JSONL_SUFFIXES + TABLE_SUFFIXES)


def _glob_files(pattern: str) -> list[str]:
    parts = Path(pattern).parts
    first = next(i for i, part in enumerate(parts) if any(ch in part for ch in "*?["))
    base = Path(*parts[:first]) if first else Path()
    return sorted(str(p) for p in base.glob(str(Path(*parts[first:]))) if p.is_file())


def resolve_paths(source: str | os.PathLike[str]) -> list[str]:
    """Expand a file / directory / glob / URL to a sorted list of data files."""
    src = os.fspath(source)
    if src.startswith("file://"):
        src = src[len("file://") :]
    if _is_url(src):
        fsspec = _fsspec()
        if fsspec is None:
            raise IncompatibleDataError(f"{src}: reading URLs needs the optional package fsspec")
        fs, root = fsspec.core.url_to_fs(src)
        protocol = src.split("://", 1)[0]
        if any(ch in root for ch in "*?["):
            found = fs.glob(root)
        elif fs.isdir(root):
            found = [p for p in fs.find(root)]
        elif fs.exists(root):
            found = [root]
        else:
            found = []
        files = sorted(f"{protocol}://{p}" if "://" not in p else p for p in found if _suffix_ok(p))
    elif any(ch in src for ch in "*?["):
        files = _glob_files(src)
    elif Path(src).is_dir():
        files = sorted(str(p) for p in Path(src).rglob("*") if p.is_file() and _suffix_ok(p.name))
    elif Path(src).is_file():
        files = [src]
    else:
        raise SourceNotFoundError(f"current data source not found: {src}")
    if not files:
        raise SourceNotFoundError(f"no data files (jsonl/csv/parquet) found at {src}")
    return files


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
    meta: dict[str, list[Any]] = {k: [] for k in LOG_FIELDS}
    feats: list[dict[str, Any]] = []
    probas: list[dict[str, Any] | None] = []
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = parse_prediction_line(line, f"{where}:{i}")
        except ContractError as exc:
            raise IncompatibleDataError(str(exc)) from None
        for k in LOG_FIELDS:
            meta[k].append(getattr(record, k))
        feats.append(record.features)
        probas.append(record.probabilities)
    if not feats:
        return pd.DataFrame()
    df = pd.DataFrame.from_records(feats)
    for k in LOG_FIELDS:
        if k in df.columns:
            raise IncompatibleDataError(f"{where}: feature name {k!r} clashes with a log field")
        df[k] = meta[k]
    if any(p for p in probas):
        pdf = pd.DataFrame.from_records([p or {} for p in probas])
        pdf.columns = [f"{PROBA_PREFIX}{c}" for c in pdf.columns]
        df = pd.concat([df, pdf], axis=1)
    return df


def read_file(path: str) -> pd.DataFrame:
    low = path.lower()
    try:
        if low.endswith(JSONL_SUFFIXES):
            with _open(path, "rb") as fh:
                return parse_prediction_log_lines(fh, where=path)
        if low.endswith((".parquet", ".pq")):
            with _open(path, "rb") as fh:
                return pd.read_parquet(io.BytesIO(fh.read()) if _is_url(path) else path)
        if low.endswith((".csv", ".csv.gz")):
            with _open(path, "rb") as fh:
                return pd.read_csv(fh)
    except (IncompatibleDataError, EmptyDataError):
        raise
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except ImportError as exc:
        raise IncompatibleDataError(f"{path}: {exc}") from exc
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise IncompatibleDataError(f"cannot read {path}: {exc}") from exc
    raise IncompatibleDataError(f"{path}: unsupported file type (use .jsonl, .csv or .parquet)")


def filter_window(
    df: pd.DataFrame, window_days: float, now: datetime | None = None, timestamp_column: str = "timestamp"
) -> pd.DataFrame:
    """Keep rows whose timestamp is within the last ``window_days`` days before ``now`` (UTC)."""
    if timestamp_column not in df.columns:
        raise IncompatibleDataError(f"a time window needs a {timestamp_column!r} column in the current data")
    ts = pd.to_datetime(df[timestamp_column], utc=True, errors="coerce", format="ISO8601")
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    start = now - timedelta(days=float(window_days))
    return df.loc[(ts >= start) & (ts <= now)].reset_index(drop=True)


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
        df = source
        where = "current DataFrame"
    else:
        sources = [source] if isinstance(source, (str, os.PathLike)) else list(source)
        files = [f for s in sources for f in resolve_paths(s)]
        frames = [read_file(f) for f in files]
        frames = [f for f in frames if len(f)]
        where = ", ".join(os.fspath(s) for s in sources)
        if not frames:
            raise EmptyDataError(f"current data at {where} has no rows")
        df = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    if len(df) == 0:
        raise EmptyDataError(f"{where} has no rows")
    if window_days is not None:
        df = filter_window(df, window_days, now, timestamp_column)
        if len(df) == 0:
            raise EmptyDataError(f"current data at {where} has no rows in the last {window_days} day(s)")
    return df
