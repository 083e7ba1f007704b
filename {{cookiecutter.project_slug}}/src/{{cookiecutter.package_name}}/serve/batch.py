"""Batch scoring: `score INPUT OUTPUT` runs the served model on CSV or Parquet tables, chunk by chunk.

It lives with the service (serve/, the deploy phase) because it is the service's job on files: the same model
bundle (SERVE_MODEL_DIR, --model-dir), the same settings (SERVE_UNKNOWN_CATEGORY, SERVE_ALLOW_MISSING,
SERVE_FAST_PATH), the same column rules (columns.py, typed as the pipeline types its training table) and the
same prediction log. A phase folder of its own would import all of that from serve/.

- INPUT: a file, a folder (its .csv, .csv.gz, .parquet and .pq files), a glob, or an fsspec URL of any of them
  (s3://, gs://, az://: the filesystem's package installed). Files are scored in name order.
- Memory is bounded by the chunk (--chunk-rows; and a Parquet file's row group), not by the input: CSV is read
  with pandas' chunked reader, Parquet one record batch at a time (pyarrow).
- OUTPUT (.csv, .csv.gz, .parquet or .pq; a path or URL): the id columns, `prediction` and, for a classifier,
  `proba:<class>` per class, one row per scored row in input order. Written to OUTPUT.partial, moved to
  OUTPUT when every row has been read: an interrupted run leaves no half-written OUTPUT.
- Id columns: --id-column (repeatable); by default the input's columns listed in params.yaml `data.drop` (the
  data contract names there the identifiers and other columns that are not features).
- Rejected rows are never scored: every broken rule of every such row is a line of `<OUTPUT stem>.rejects.csv`
  beside OUTPUT (source file, row = 0-based data row in that file, the id columns, column, reason, value).
- Prediction log: one `PredictionRecord` per scored row, written through the service's sink (the monitor reads
  batch traffic as it reads the service's); request_id `batch-<run id>-<chunk>`, row = position in the
  chunk's scored rows. SERVE_PREDICTION_LOG_ENABLED=false turns it off.
- Exit code: 0 every row scored; 1 some rows rejected (the others scored and written); 2 nothing scored
  (unreadable input, a feature column missing, bad options, no model).
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.implementations.local import LocalFileSystem

from ..config import Paths, load_params
from ..errors import UserError
from .bundle import ModelLoadError, load_bundle
from .columns import CheckedTable, TableRules
from .predict import Predictor, predict_blocks, prepare_predictor
from .prediction_log import LoggedRequest, PredictionSink, now_iso
from .prediction_store import open_sink
from .settings import ServeSettings, get_settings

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
PROBA_PREFIX = "proba:"  # as the monitor names probability columns (monitor/columns.py)
REJECT_COLUMNS = ("source", "row", "column", "reason", "value")
DEFAULT_CHUNK_ROWS = 20_000  # ~3 KB a row at work for 30 features with the log on: ~60 MB


class ScoreError(UserError):
    """The batch cannot be scored: the message names the input, option or column and what is allowed."""


@dataclass(frozen=True)
class Chunk:
    source: str
    first_row: int  # position of the chunk's first row among its file's data rows
    frame: pd.DataFrame


@dataclass
class ScoreSummary:
    run_id: str
    output: str
    rejects: str
    files: int = 0
    rows_read: int = 0
    rows_scored: int = 0
    rows_rejected: int = 0
    seconds: float = 0.0
    first_reject: str | None = None
    logged: int = 0
    id_columns: list[str] = field(default_factory=list)


def _is_table(path: str) -> bool:
    return path.lower().endswith(CSV_SUFFIXES + PARQUET_SUFFIXES)


def input_files(location: str) -> list[str]:
    """The tables at a file, folder, glob or URL, sorted; ScoreError when there are none."""
    filesystem, root = fsspec.core.url_to_fs(location)
    if any(character in root for character in "*?["):
        found = filesystem.glob(root)
    elif filesystem.isdir(root):
        found = filesystem.find(root)
    elif filesystem.exists(root):
        if not _is_table(root):
            raise ScoreError(
                f"{location}: not a table (allowed: {', '.join(CSV_SUFFIXES + PARQUET_SUFFIXES)})"
            )
        found = [root]
    else:
        raise ScoreError(f"{location}: no such file, folder or glob")
    files = sorted(path for path in found if _is_table(path))
    if not files:
        raise ScoreError(f"{location}: no .csv, .csv.gz, .parquet or .pq files there")
    return [filesystem.unstrip_protocol(path) if "://" in location else path for path in files]


def read_chunks(path: str, columns: set[str], chunk_rows: int) -> Iterator[Chunk]:
    """The file's data rows, `chunk_rows` at a time, with only the `columns` it has."""
    first_row = 0
    try:
        with fsspec.open(path, "rb", compression="infer") as stream:
            if path.lower().endswith(PARQUET_SUFFIXES):
                table = pq.ParquetFile(stream)
                wanted = [name for name in table.schema_arrow.names if name in columns]
                frames = (batch.to_pandas() for batch in table.iter_batches(chunk_rows, columns=wanted))
            else:
                frames = pd.read_csv(stream, chunksize=chunk_rows, usecols=lambda name: name in columns)
            for frame in frames:
                yield Chunk(path, first_row, frame.reset_index(drop=True))
                first_row += len(frame)
    except (OSError, ValueError, pa.ArrowException, UnicodeDecodeError) as error:
        raise ScoreError(
            f"cannot read {path} (after row {first_row}): {type(error).__name__}: {error}"
        ) from None


class TableWriter:
    """CSV or Parquet (by OUTPUT's suffix) written a chunk at a time to OUTPUT.partial, moved to OUTPUT."""

    def __init__(self, output: str) -> None:
        name = output.lower()
        if not name.endswith(CSV_SUFFIXES + PARQUET_SUFFIXES):
            raise ScoreError(
                f"OUTPUT {output}: the suffix chooses the format: .csv, .csv.gz, .parquet or .pq"
            )
        self.parquet = name.endswith(PARQUET_SUFFIXES)
        self.filesystem, self.path = fsspec.core.url_to_fs(output)
        self.partial = f"{self.path}.partial"
        if isinstance(self.filesystem, LocalFileSystem):
            self.filesystem.makedirs(self.filesystem._parent(self.path), exist_ok=True)
        compression = "gzip" if name.endswith(".gz") else None
        self._stream = self.filesystem.open(self.partial, "wb", compression=compression)
        self._parquet: pq.ParquetWriter | None = None
        self._csv_header = True

    def write(self, frame: pd.DataFrame) -> None:
        if self.parquet:
            if self._parquet is None:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                self._parquet = pq.ParquetWriter(self._stream, table.schema)
            else:
                table = pa.Table.from_pandas(frame, schema=self._parquet.schema, preserve_index=False)
            self._parquet.write_table(table)
        else:
            self._stream.write(frame.to_csv(index=False, header=self._csv_header).encode())
            self._csv_header = False

    def commit(self, empty: pd.DataFrame) -> None:
        """Close and move to OUTPUT; `empty` (the output's columns) is written when no row was."""
        nothing_written = self._parquet is None if self.parquet else self._csv_header
        if nothing_written:
            self.write(empty)
        if self._parquet is not None:
            self._parquet.close()
        self._stream.close()
        self.filesystem.mv(self.partial, self.path)

    def abort(self) -> None:
        self._stream.close()
        if self.filesystem.exists(self.partial):
            self.filesystem.rm(self.partial)


def rejects_path(output: str) -> str:
    """`<OUTPUT without its suffix>.rejects.csv`, beside OUTPUT."""
    name = output
    for suffix in (".csv.gz", ".csv", ".parquet", ".pq"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return f"{name}.rejects.csv"


def reject_lines(chunk: Chunk, checked: CheckedTable, id_columns: list[str]) -> pd.DataFrame:
    """One line per broken rule per row: source, row, the id columns, column, reason, value."""
    parts = []
    for problem in checked.problems:
        rows = problem.rows
        part = {"source": chunk.source, "row": chunk.first_row + rows}
        for name in id_columns:
            part[name] = chunk.frame[name].to_numpy()[rows]
        values = chunk.frame[problem.column].to_numpy()[rows]
        part |= {
            "column": problem.column,
            "reason": problem.reason,
            "value": [str(value) for value in values],
        }
        parts.append(pd.DataFrame(part))
    lines = pd.concat(parts, ignore_index=True)
    return lines.sort_values(["row", "column"], kind="stable")


@dataclass
class BatchScorer:
    predictor: Predictor
    rules: TableRules
    id_columns: list[str]
    ids_required: bool  # given with --id-column; else the defaults the first chunk has
    sink: PredictionSink | None

    def output_frame(self, chunk: Chunk, keep: np.ndarray, checked: CheckedTable) -> pd.DataFrame:
        """The id columns, the prediction and the class probabilities of the kept rows (at least one)."""
        predictor = self.predictor
        frame = chunk.frame.loc[keep, self.id_columns].reset_index(drop=True)
        arrays = predict_blocks(predictor, checked.numeric[keep], checked.categorical[keep])
        frame["prediction"] = pd.Series(arrays.predictions, dtype=self.prediction_dtype)
        if arrays.probabilities is not None:
            for index, key in enumerate(predictor.class_keys or ()):
                frame[f"{PROBA_PREFIX}{key}"] = arrays.probabilities[:, index]
        return frame

    def empty_output(self) -> pd.DataFrame:
        """The output's columns, no rows: OUTPUT when every row was rejected."""
        columns = {name: pd.Series(dtype=object) for name in self.id_columns}
        columns["prediction"] = pd.Series(dtype=self.prediction_dtype)
        for key in self.predictor.class_keys or ():
            columns[f"{PROBA_PREFIX}{key}"] = pd.Series(dtype=np.float64)
        return pd.DataFrame(columns)

    @property
    def prediction_dtype(self) -> Any:
        classes = self.predictor.bundle.classes
        if classes is None:
            return np.float64
        dtype = np.asarray(classes).dtype
        return object if dtype.kind in "UO" else dtype

    def log(self, run_id: str, chunk_index: int, rows: list[list[Any]], scored: pd.DataFrame) -> int:
        if self.sink is None or not rows:
            return 0
        keys = self.predictor.class_keys
        probabilities = scored[[f"{PROBA_PREFIX}{key}" for key in keys]].to_numpy().tolist() if keys else None
        request = LoggedRequest(
            timestamp=now_iso(),
            request_id=f"batch-{run_id}-{chunk_index}",
            model_version=self.predictor.bundle.model_version,
            feature_names=self.rules.names,
            rows=rows,
            predictions=scored["prediction"].tolist(),
            probabilities=probabilities,
            class_keys=keys,
        )
        lines = request.lines()
        self.sink.write(lines)
        return len(lines)

    def score(self, files: list[str], output: str, chunk_rows: int) -> ScoreSummary:
        summary = ScoreSummary(
            uuid.uuid4().hex[:12], output, rejects_path(output), id_columns=self.id_columns
        )
        wanted = {*self.rules.names, *self.id_columns}
        writer = TableWriter(output)
        rejects: list[pd.DataFrame] = []
        start = time.perf_counter()
        try:
            chunk_index = 0
            for path in files:
                summary.files += 1
                for chunk in read_chunks(path, wanted, chunk_rows):
                    if chunk_index == 0 and not self.ids_required:
                        self.id_columns = [name for name in self.id_columns if name in chunk.frame.columns]
                        summary.id_columns = self.id_columns
                    self._check_columns(chunk)
                    checked = self.rules.check(
                        {name: chunk.frame[name] for name in self.rules.names},
                        len(chunk.frame),
                        unexpected="ignore",
                    )
                    keep = ~checked.bad_rows()
                    if not keep.all():
                        rejects.append(reject_lines(chunk, checked, self.id_columns))
                    if keep.any():
                        scored = self.output_frame(chunk, keep, checked)
                        writer.write(scored)
                        rows = self.rules.rows(checked, keep)
                        summary.logged += self.log(summary.run_id, chunk_index, rows, scored)
                        summary.rows_scored += len(scored)
                    summary.rows_read += len(chunk.frame)
                    chunk_index += 1
            writer.commit(self.empty_output())
        except BaseException:
            writer.abort()
            raise
        finally:
            if self.sink is not None:
                self.sink.close()
        summary.seconds = time.perf_counter() - start
        _write_rejects(summary, rejects)
        return summary

    def _check_columns(self, chunk: Chunk) -> None:
        missing = [name for name in self.rules.names if name not in chunk.frame.columns]
        if missing:
            raise ScoreError(
                f"{chunk.source}: missing feature column(s) {', '.join(map(repr, missing))}; "
                f"the model's features: {', '.join(self.rules.names)}"
            )
        absent = [name for name in self.id_columns if name not in chunk.frame.columns]
        if absent:
            raise ScoreError(f"{chunk.source}: no id column(s) {', '.join(map(repr, absent))} (--id-column)")


def _write_rejects(summary: ScoreSummary, rejects: list[pd.DataFrame]) -> None:
    filesystem, path = fsspec.core.url_to_fs(summary.rejects)
    if not rejects:
        if filesystem.exists(path):  # a previous run's: it no longer describes OUTPUT
            filesystem.rm(path)
        return
    lines = pd.concat(rejects, ignore_index=True)
    summary.rows_rejected = len(lines.drop_duplicates(["source", "row"]))
    first = lines.iloc[0]
    summary.first_reject = (
        f"{first['source']} row {first['row']}: {first['column']}: {first['reason']} ({first['value']!r})"
    )
    with filesystem.open(path, "wb") as stream:
        stream.write(lines.to_csv(index=False).encode())


def default_id_columns(params_file: Path) -> list[str]:
    """The columns params.yaml `data.drop` names (identifiers, other non-features); none without it."""
    return list(load_params(params_file).data.drop) if params_file.is_file() else []


def report(summary: ScoreSummary) -> str:
    rate = summary.rows_read / summary.seconds if summary.seconds else float("nan")
    lines = [
        f"scored {summary.rows_scored} of {summary.rows_read} rows from {summary.files} file(s) in "
        f"{summary.seconds:.1f} s ({rate:,.0f} rows/s) -> {summary.output}"
        + (f" (id columns: {', '.join(summary.id_columns)})" if summary.id_columns else ""),
        f"prediction log: {summary.logged} records, request_id batch-{summary.run_id}-<chunk>"
        if summary.logged
        else "prediction log: off (SERVE_PREDICTION_LOG_ENABLED=false)",
    ]
    if summary.rows_rejected:
        lines.append(
            f"rejected {summary.rows_rejected} row(s), not scored: every problem is in {summary.rejects}; "
            f"first: {summary.first_reject}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """`score INPUT OUTPUT`: the model on CSV/Parquet rows; rejected rows reported (exit 1), never scored."""
    parser = argparse.ArgumentParser(
        prog="score", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("input", help="file, folder, glob or URL of .csv, .csv.gz, .parquet or .pq tables")
    parser.add_argument("output", help=".csv, .csv.gz, .parquet or .pq path or URL")
    parser.add_argument(
        "--id-column", action="append", help="carried to OUTPUT (repeatable); default: params data.drop"
    )
    parser.add_argument(
        "--chunk-rows", type=int, default=DEFAULT_CHUNK_ROWS, help="rows per chunk (%(default)s)"
    )
    parser.add_argument("--model-dir", type=Path, help="default: SERVE_MODEL_DIR or models/")
    args = parser.parse_args(argv)
    if args.chunk_rows < 1:
        raise ScoreError(f"--chunk-rows {args.chunk_rows}: must be at least 1")
    settings = get_settings()
    if args.model_dir is not None:
        settings = settings.model_copy(update={"model_dir": args.model_dir})
    files = input_files(args.input)
    if args.id_column:
        scorer = build_scorer(settings, args.id_column, ids_required=True)
    else:
        scorer = build_scorer(settings, default_id_columns(Paths().params), ids_required=False)
    summary = scorer.score(files, args.output, args.chunk_rows)
    print(report(summary))
    return 1 if summary.rows_rejected else 0


def build_scorer(settings: ServeSettings, id_columns: list[str], *, ids_required: bool = True) -> BatchScorer:
    try:
        bundle = load_bundle(settings.model_dir)
        predictor = prepare_predictor(bundle, fast_path=settings.fast_path)
    except ModelLoadError as error:
        raise ScoreError(str(error)) from None
    features = set(bundle.schema.names())
    clashing = [name for name in id_columns if name in features]
    if clashing:
        raise ScoreError(f"id column(s) {', '.join(map(repr, clashing))} are features of the model, not ids")
    rules = TableRules.of(
        bundle.schema, unknown_category=settings.unknown_category, allow_missing=settings.allow_missing
    )
    sink = open_sink(settings) if settings.prediction_log_enabled else None
    return BatchScorer(predictor, rules, list(id_columns), ids_required, sink)
