"""POST /invocations: MLflow's scoring protocol (`mlflow models serve`), so its clients work unchanged.

Bodies, as MLflow reads them (mlflow/pyfunc/scoring_server):

- application/json, a JSON object with exactly one of (other keys, e.g. "params", are ignored, as MLflow
  ignores them for a scikit-learn model):
  - `dataframe_split`: {"columns": [...], "data": [[...], ...]} ("index" accepted and ignored)
  - `dataframe_records`: [{column: value, ...}, ...] (a column absent from a record is null there)
  - `instances`: records as above, or {column: [values]}
  - `inputs`: {column: [values]}, or records
- text/csv: a header row, then the rows (pandas.read_csv)
- application/vnd.apache.parquet: a Parquet table (needs pyarrow: the train extra, not the serving image)

The columns are checked against the feature schema's rules column by column (columns.py): values from JSON as
JSON typed them (as /predict checks them), CSV and Parquet columns typed like the training table first.

Answers:

- 200 {"predictions": [...]}: one per row, class labels for a classifier, numbers for a regressor, as MLflow
  answers for a scikit-learn model; the X-Request-ID header is the request's id in the prediction log.
- 400 {"error_code": "BAD_REQUEST", "message": ...}: not JSON, or not one of the shapes above (as MLflow).
- 415 (text/plain): another content type, or a charset other than UTF-8 (as MLflow).
- 422 {"error_code": "BAD_REQUEST", "message", "detail", "error_count"}: the rows break the feature schema
  (each problem names the column, the reason and the first rows), no rows, or more than max_batch_rows.
"""

from __future__ import annotations

import io
import json
import math
import operator
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pydantic_core
from fastapi import Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State

from .columns import CheckedTable, ColumnProblem, TableRules
from .predict import Prediction, Predictor, predict_blocks
from .prediction_log import LoggedRequest, now_iso

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
CONTENT_TYPES = ("application/json", "text/csv", "application/vnd.apache.parquet")
ROWS_SHOWN = 5  # rows named per problem in a 422 message (the detail lists up to ROWS_LISTED)
ROWS_LISTED = 20
JSON = "application/json"
ERROR_CODE = "BAD_REQUEST"  # MLflow's error_code for invalid input
INVOCATIONS_DESCRIPTION = (
    "JSON with one of dataframe_split, dataframe_records, instances or inputs; or text/csv, or Parquet. "
    'Answers {"predictions": [...]}, one per row, as `mlflow models serve` does.'
)
INVOCATIONS_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Not one of MLflow's input formats"},
    413: {"description": "Request body too large"},
    415: {"description": "Content type other than JSON, CSV or Parquet, or charset other than UTF-8"},
    422: {"description": "Rows break the feature schema (column, reason and rows named in message)"},
    503: {"description": "Model not loaded"},
}
_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode


class BadRequestError(ValueError):
    """The body is not one of MLflow's input formats: 400, as MLflow answers."""


class UnsupportedMediaTypeError(ValueError):
    """A content type (or charset) this endpoint does not read: 415, as MLflow answers."""


@dataclass(frozen=True)
class ParsedBody:
    format: str  # one of FORMATS, "csv" or "parquet"
    columns: Mapping[str, Sequence[Any] | pd.Series]
    row_count: int


def parse_body(body: bytes, content_type: str | None) -> ParsedBody:
    """The columns of a request body; BadRequestError or UnsupportedMediaTypeError when it cannot be read."""
    media_type = _media_type(content_type)
    if media_type == "application/json":
        return parse_json(body)
    if media_type == "text/csv":
        return _table("csv", lambda: pd.read_csv(io.BytesIO(body)))
    try:
        import pyarrow  # noqa: F401, PLC0415 (optional: the train extra)
    except ImportError:
        raise UnsupportedMediaTypeError(
            "application/vnd.apache.parquet needs pyarrow, which this installation does not have; "
            "send application/json or text/csv"
        ) from None
    return _table("parquet", lambda: pd.read_parquet(io.BytesIO(body)))


def _media_type(content_type: str | None) -> str:
    """The media type of a Content-Type header, with MLflow's rules: UTF-8 only, no other parameter."""
    media_type, *parameters = (part.strip() for part in (content_type or "").split(";"))
    values = {key.strip().lower(): value.strip() for key, _, value in (p.partition("=") for p in parameters)}
    if values.get("charset", "utf-8").lower() != "utf-8":
        raise UnsupportedMediaTypeError("The scoring server only supports UTF-8")
    if set(values) - {"charset"}:
        raise UnsupportedMediaTypeError(f"Unrecognized content type parameters: {', '.join(sorted(values))}")
    if media_type.lower() not in CONTENT_TYPES:
        raise UnsupportedMediaTypeError(
            f"This predictor only supports the following content types: {list(CONTENT_TYPES)}. "
            f"Got '{content_type or ''}'."
        )
    return media_type.lower()


def parse_json(body: bytes) -> ParsedBody:
    try:
        document = pydantic_core.from_json(body)  # NaN and Infinity read as floats, refused as not finite
    except ValueError as error:
        raise BadRequestError(
            f"Invalid input. Ensure that input is a valid JSON formatted string. Error: {error}"
        ) from None
    if not isinstance(document, dict):
        raise BadRequestError(
            f"The input must be a JSON dictionary with exactly one of the input fields {list(FORMATS)}. "
            f"Received {'a list' if isinstance(document, list) else type(document).__name__}."
        )
    keys = [key for key in FORMATS if key in document]
    if len(keys) != 1:
        raise BadRequestError(
            f"The input must be a JSON dictionary with exactly one of the input fields {list(FORMATS)}. "
            f"Received dictionary with input fields: {list(document)}."
        )
    key = keys[0]
    data = document[key]
    if key == "dataframe_split":
        columns, row_count = _split(data)
    elif isinstance(data, dict) and key != "dataframe_records":
        columns, row_count = _columnar(data, key)
    else:
        columns, row_count = _records(data, key)
    return ParsedBody(key, columns, row_count)


def _shape_message(key: str) -> str:
    shapes = {
        "dataframe_split": '{"columns": [...], "data": [[...], ...]}',
        "dataframe_records": "a list of records [{column: value, ...}, ...]",
        "instances": "a list of records [{column: value, ...}, ...] or {column: [values, ...]}",
        "inputs": "{column: [values, ...]} or a list of records [{column: value, ...}, ...]",
    }
    return f"Invalid input. {key} must be {shapes[key]}: this model takes named columns."


def _split(data: Any) -> tuple[dict[str, Sequence[Any]], int]:
    if not isinstance(data, dict) or "data" not in data or set(data) - {"columns", "data", "index"}:
        got = f"a dictionary with {sorted(data)}" if isinstance(data, dict) else type(data).__name__
        raise BadRequestError(
            "Invalid input. Dataframe split format must have 'data' field and optionally 'columns' and "
            f"'index' fields. Got {got}."
        )
    names, rows = data.get("columns"), data["data"]
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise BadRequestError(
            "Invalid input. dataframe_split: 'columns' must list the column names (named columns)"
        )
    if len(set(names)) != len(names):
        raise BadRequestError(f"Invalid input. dataframe_split: duplicate column names in {names}")
    if not isinstance(rows, list) or not all(type(row) is list for row in rows):
        raise BadRequestError(
            "Invalid input. dataframe_split: 'data' must be a list of rows (lists of values)"
        )
    width = len(names)
    for index, row in enumerate(rows):
        if len(row) != width:
            raise BadRequestError(
                f"Invalid input. dataframe_split: row {index} has {len(row)} values for {width} columns"
            )
    values = list(zip(*rows, strict=True)) if rows else [()] * width
    return dict(zip(names, values, strict=True)), len(rows)


def _records(data: Any, key: str) -> tuple[dict[str, Sequence[Any]], int]:
    if not isinstance(data, list) or not all(type(record) is dict for record in data):
        raise BadRequestError(_shape_message(key))
    if not data:
        return {}, 0
    first = data[0].keys()
    if all(record.keys() == first for record in data):
        names = list(first)
        get = operator.itemgetter(*names)
        values = list(zip(*map(get, data), strict=True)) if len(names) > 1 else [list(map(get, data))]
        return dict(zip(names, values, strict=True)), len(data)
    names = list(dict.fromkeys(name for record in data for name in record))
    return {name: [record.get(name) for record in data] for name in names}, len(data)


def _columnar(data: dict[str, Any], key: str) -> tuple[dict[str, Sequence[Any]], int]:
    for name, values in data.items():
        if not isinstance(values, list):
            raise BadRequestError(f"Invalid input. {key}: column {name!r} must be a list of values")
    lengths = {len(values) for values in data.values()}
    if len(lengths) > 1:
        raise BadRequestError(
            "Invalid input. The length of values for each input/column name are not the same"
        )
    return data, lengths.pop() if lengths else 0


def _table(kind: str, read: Any) -> ParsedBody:
    try:
        frame = read()
    except Exception as error:  # pandas and pyarrow raise many kinds on a malformed table
        raise BadRequestError(
            f"Failed to parse input as a Pandas DataFrame ({kind}): {type(error).__name__}: {error}"
        ) from None
    if not all(isinstance(name, str) for name in frame.columns):
        raise BadRequestError(f"Invalid input. {kind}: column names must be text, got {list(frame.columns)}")
    return ParsedBody(kind, {name: frame[name] for name in frame.columns}, len(frame))


async def invocations(request: Request) -> Response:
    state = request.app.state
    body = await request.body()
    content_type = request.headers.get("content-type")
    if state.settings.predict_in_threadpool:
        return await run_in_threadpool(invocations_response, state, body, content_type)
    return invocations_response(state, body, content_type)


def invocations_response(state: State, body: bytes, content_type: str | None) -> Response:
    """The /invocations answer to a body; the prediction is counted and logged as /predict's are."""
    predictor: Predictor | None = state.predictor
    if predictor is None:
        return Response(b'{"detail":"model not loaded"}', status_code=503, media_type=JSON)
    try:
        parsed = parse_body(body, content_type)
    except UnsupportedMediaTypeError as error:
        return Response(str(error), status_code=415, media_type="text/plain")
    except BadRequestError as error:
        return JSONResponse({"error_code": ERROR_CODE, "message": str(error)}, status_code=400)
    max_rows = state.settings.max_batch_rows
    if not 1 <= parsed.row_count <= max_rows:
        return _unprocessable(
            f"{parsed.format}: {parsed.row_count} rows; 1 to {max_rows} rows are accepted per request",
            [{"loc": [parsed.format], "msg": f"1 to {max_rows} rows", "type": "row_count"}],
        )
    rules: TableRules = state.table_rules
    checked = rules.check(parsed.columns, parsed.row_count, unexpected="reject")
    if checked.problems:
        return problems_response(parsed.format, checked.problems)
    return _predictions_response(state, predictor, rules, checked)


def _predictions_response(
    state: State, predictor: Predictor, rules: TableRules, checked: CheckedTable
) -> Response:
    try:
        prediction = predict_blocks(predictor, checked.numeric, checked.categorical).as_lists()
    except (ValueError, TypeError) as error:  # the model itself rejected the input
        message = f"model rejected input: {error}"
        return _unprocessable(message, [{"loc": ["body"], "msg": message, "type": "model_error"}])
    try:
        content = _encode({"predictions": prediction.predictions})
    except ValueError:  # non-finite model output
        return Response(b'{"detail":"model produced a non-finite value"}', status_code=500, media_type=JSON)
    request_id = uuid.uuid4().hex
    record_served(state, request_id, predictor, rules.names, rules.rows(checked), prediction)
    return Response(content.encode(), media_type=JSON, headers={"X-Request-ID": request_id})


def record_served(
    state: State,
    request_id: str,
    predictor: Predictor,
    feature_names: Sequence[str],
    rows: list[list[Any]],
    prediction: Prediction,
) -> None:
    """Count a served prediction in the metrics, queue it for the prediction log (/predict, /invocations)."""
    state.metrics.observe_predictions(prediction.predictions)
    if state.prediction_log is not None:
        state.prediction_log.submit(
            LoggedRequest(
                timestamp=now_iso(),
                request_id=request_id,
                model_version=predictor.bundle.model_version,
                feature_names=list(feature_names),
                rows=rows,
                predictions=prediction.predictions,
                probabilities=prediction.probabilities,
                class_keys=predictor.class_keys,
            )
        )


def problems_response(where: str, problems: list[ColumnProblem]) -> JSONResponse:
    """422 naming each problem's column, reason and first rows."""
    detail = [_problem_detail(where, problem) for problem in problems]
    return _unprocessable("; ".join(_problem_message(problem) for problem in problems), detail)


def _unprocessable(message: str, detail: list[dict[str, Any]]) -> JSONResponse:
    content = {"error_code": ERROR_CODE, "message": message, "detail": detail, "error_count": len(detail)}
    return JSONResponse(content, status_code=422)


def _problem_message(problem: ColumnProblem) -> str:
    count = len(problem.rows)
    if not count:
        return f"{problem.column}: {problem.reason}"
    shown = ", ".join(map(str, problem.rows[:ROWS_SHOWN].tolist()))
    more = f" and {count - ROWS_SHOWN} more" if count > ROWS_SHOWN else ""
    return (
        f"{problem.column}: {problem.reason} in {count} row{'s' if count > 1 else ''} "
        f"({shown}{more}; e.g. {_echoable(problem.example)!r})"
    )


def _problem_detail(where: str, problem: ColumnProblem) -> dict[str, Any]:
    item: dict[str, Any] = {"loc": [where, problem.column], "msg": problem.reason, "type": problem.kind}
    if len(problem.rows):
        item |= {"rows": problem.rows[:ROWS_LISTED].tolist(), "row_count": len(problem.rows)}
        item["input"] = _echoable(problem.example)
    return item


def _echoable(value: Any) -> Any:
    """A short scalar as JSON carries it (NaN and infinities as text), anything else as its short repr."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str) and len(value) <= 200:
        return value
    return repr(value)[:200]
