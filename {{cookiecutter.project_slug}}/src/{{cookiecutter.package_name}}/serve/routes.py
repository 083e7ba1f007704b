"""The service's routes: module-level endpoints that read what they need from ``request.app.state``.

The app's state (set by ``create_app`` and its lifespan): ``settings``, ``metadata``, ``model_card`` (a
``ServedCard``, ``None`` when the bundle has none), ``metrics``,
``table_rules`` (the feature schema's column rules, columns.py), and,
once the model is loaded, ``predictor`` and ``prediction_log`` (``None`` before start-up and after
shutdown, and ``prediction_log`` also when the log is disabled).
"""

from __future__ import annotations

import inspect
import json
import math
import types
import uuid
from collections.abc import Callable
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel
from starlette.datastructures import State

from ..contracts import FeatureSchema
from .bundle import ServedCard
from .invocations import INVOCATIONS_DESCRIPTION, INVOCATIONS_RESPONSES, invocations, record_served
from .predict import Prediction, Predictor, predict
from .schema import ValidationErrorResponse, build_request_model, build_response_model, build_row_model
from .settings import ServeSettings

MAX_ERRORS_REPORTED = 20
JSON = "application/json"
MARKDOWN = "text/markdown; charset=utf-8"
NO_CARD = (
    "this model bundle has no model card: models/model_card.md and models/model_card.json are written by the "
    "pipeline's `card` stage (make pipeline) and copied into the image beside the model"
)
_encode = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode

PREDICT_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": ValidationErrorResponse, "description": "Invalid input (field named in message)"},
    413: {"description": "Request body too large"},
    503: {"description": "Model not loaded"},
}


def build_router(schema: FeatureSchema, settings: ServeSettings) -> APIRouter:
    """Every route of the service; /predict takes the request model built from the feature schema."""
    row_model = build_row_model(
        schema, unknown_category=settings.unknown_category, allow_missing=settings.allow_missing
    )
    request_model = build_request_model(row_model, settings.max_batch_rows)
    predict_endpoint = predict_in_threadpool if settings.predict_in_threadpool else predict_on_event_loop
    router = APIRouter()
    router.add_api_route(
        "/predict",
        _with_body_model(predict_endpoint, request_model),
        methods=["POST"],
        name="predict",
        response_model=build_response_model(schema),
        responses=PREDICT_RESPONSES,
        summary="Predict for a batch of rows",
        tags=["prediction"],
    )
    router.add_api_route(
        "/invocations",
        invocations,
        methods=["POST"],
        name="invocations",
        summary="Predict as `mlflow models serve` does (MLflow's scoring protocol)",
        description=INVOCATIONS_DESCRIPTION,
        responses=INVOCATIONS_RESPONSES,
        tags=["prediction"],
    )
    router.add_api_route("/health/live", live, methods=["GET"], tags=["health"])
    router.add_api_route(
        "/health/ready",
        ready,
        methods=["GET"],
        tags=["health"],
        responses={503: {"description": "Not ready"}},
    )
    router.add_api_route("/metadata", get_metadata, methods=["GET"], tags=["model"])
    router.add_api_route(
        "/model-card",
        get_model_card,
        methods=["GET"],
        tags=["model"],
        summary="The model card: markdown, or JSON with `Accept: application/json` or `?format=json`",
        responses={
            200: {"content": {MARKDOWN: {}, JSON: {}}},
            404: {"description": "The bundle has no card"},
        },
    )
    router.add_api_route(
        "/metrics", prom_metrics, methods=["GET"], tags=["monitoring"], response_class=Response
    )
    return router


def _with_body_model(endpoint: Callable[..., Any], body_model: type[BaseModel]) -> Callable[..., Any]:
    """A copy of `endpoint` whose `body` parameter is annotated with `body_model`.

    FastAPI reads the body model from the endpoint's signature, and this app's model is built from the
    feature schema at run time; the copy leaves the module's function as it is for other apps.
    """
    typed = types.FunctionType(endpoint.__code__, endpoint.__globals__, endpoint.__name__)
    signature = inspect.signature(endpoint, eval_str=True)
    parameters = [
        parameter.replace(annotation=body_model) if parameter.name == "body" else parameter
        for parameter in signature.parameters.values()
    ]
    # inspect.signature reads __signature__, which type checkers do not know on a function.
    typed.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
    return typed


def predict_in_threadpool(request: Request, body: Any) -> Response:
    return predict_response(request.app.state, body)


# CPU-bound and short: running inline on the event loop avoids a thread hop per request.
async def predict_on_event_loop(request: Request, body: Any) -> Response:
    return predict_response(request.app.state, body)


def predict_response(state: State, body: Any) -> Response:
    """The /predict response for a validated request; the prediction is counted and logged."""
    predictor: Predictor | None = state.predictor
    if predictor is None:
        return Response(b'{"detail":"model not loaded"}', status_code=503, media_type=JSON)
    rows = [list(row.__dict__.values()) for row in body.rows]
    try:
        prediction = predict(predictor, rows)
    except (ValueError, TypeError) as error:  # the model itself rejected the input
        return validation_error_response(
            [{"loc": ["body", "rows"], "msg": f"model rejected input: {error}", "type": "model_error"}]
        )
    request_id = uuid.uuid4().hex
    try:
        content = _encode_prediction(request_id, predictor, prediction)
    except ValueError:  # non-finite model output
        return Response(b'{"detail":"model produced a non-finite value"}', status_code=500, media_type=JSON)
    record_served(state, request_id, predictor, predictor.layout.feature_names, rows, prediction)
    return Response(content.encode(), media_type=JSON, headers={"X-Request-ID": request_id})


def _encode_prediction(request_id: str, predictor: Predictor, prediction: Prediction) -> str:
    """The response body; ValueError when the model produced a non-finite value."""
    probabilities = None
    if prediction.probabilities is not None and predictor.class_keys is not None:
        keys = predictor.class_keys
        probabilities = [dict(zip(keys, row, strict=True)) for row in prediction.probabilities]
    return _encode(
        {
            "request_id": request_id,
            "model_version": predictor.bundle.model_version,
            "predictions": prediction.predictions,
            "probabilities": probabilities,
        }
    )


async def live() -> dict[str, str]:
    return {"status": "ok"}


async def ready(request: Request) -> Response:
    state = request.app.state
    if state.predictor is None:
        return Response(b'{"status":"loading"}', status_code=503, media_type=JSON)
    if state.settings.prediction_log_enabled and (
        state.prediction_log is None or not state.prediction_log.alive
    ):
        return Response(b'{"status":"prediction log writer not running"}', status_code=503, media_type=JSON)
    return JSONResponse({"status": "ready", "model_version": state.predictor.bundle.model_version})


async def get_metadata(request: Request) -> dict[str, Any]:
    state = request.app.state
    predictor: Predictor | None = state.predictor
    settings: ServeSettings = state.settings
    out = state.metadata.model_dump(mode="json")
    out["serving"] = {
        "loaded": predictor is not None,
        "path": predictor.serving_path if predictor else None,
        "path_reason": predictor.fast_path_reason if predictor else None,
        "max_batch_rows": settings.max_batch_rows,
        "unknown_category": settings.unknown_category,
        "allow_missing": settings.allow_missing,
    }
    return out


async def get_model_card(request: Request, format: Literal["markdown", "json"] | None = None) -> Response:
    """The card as the pipeline wrote it; JSON when asked by `format` or, without it, by the Accept header."""
    served: ServedCard | None = request.app.state.model_card
    if served is None:
        return JSONResponse({"detail": NO_CARD}, status_code=404)
    wants_json = format == "json" or (format is None and JSON in request.headers.get("accept", ""))
    if wants_json:
        return Response(served.card.model_dump_json(), media_type=JSON)
    return Response(served.markdown, media_type=MARKDOWN)


async def prom_metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
    return validation_error_response(list(error.errors()))


def validation_error_response(errors: list[dict[str, Any]]) -> JSONResponse:
    """422 with a message naming each field (the first MAX_ERRORS_REPORTED) and the errors in detail."""
    detail = []
    for error in errors[:MAX_ERRORS_REPORTED]:
        item: dict[str, Any] = {
            "loc": [part if isinstance(part, (str, int)) else str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        echoed = _echoable_input(error.get("input"))
        if echoed is not None:
            item["input"] = echoed
        detail.append(item)
    message = "; ".join(f"{_field_path(item['loc'])}: {item['msg']}" for item in detail)
    if len(errors) > MAX_ERRORS_REPORTED:
        message += f"; ... {len(errors) - MAX_ERRORS_REPORTED} more errors"
    return JSONResponse(
        status_code=422, content={"message": message, "detail": detail, "error_count": len(errors)}
    )


def _field_path(location: list[Any]) -> str:
    """An error location as the field path a reader knows: rows[0]["mean radius"]."""
    parts = [part for part in location if part != "body"] if location and location[0] == "body" else location
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif path and not str(part).isidentifier():
            path += f"[{json.dumps(str(part))}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def _echoable_input(value: Any) -> Any:
    """The input of an error if short and scalar (NaN and infinities as strings), else None."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON cannot carry NaN/inf: echo as a string
    if (
        value is None
        or isinstance(value, (bool, int, float))
        or (isinstance(value, str) and len(value) <= 200)
    ):
        return value
    return None
