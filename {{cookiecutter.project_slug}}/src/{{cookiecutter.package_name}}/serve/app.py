"""FastAPI application factory.

``create_app(settings)`` reads ``metadata.json`` first (the request models and the OpenAPI
document are built from its feature schema), then registers the routes. The model itself is
loaded and verified in the lifespan start-up; a ``ModelLoadError`` there aborts start-up, so a
broken bundle never serves.

No `from __future__ import annotations` here: FastAPI reads the request model (built at run time) from the
endpoint's annotation.
"""

import json
import logging
import math
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..contracts import ModelMetadata
from .bundle import ModelBundle, load_bundle, load_metadata
from .instrumentation import Metrics, MetricsMiddleware
from .prediction_log import JsonlDirectorySink, LoggedRequest, PredictionLogger, PredictionSink, now_iso
from .schema import ValidationErrorResponse, build_request_model, build_response_model, build_row_model
from .settings import ServeSettings, get_settings

log = logging.getLogger(__name__)

MAX_ERRORS_REPORTED = 20
_dumps = json.JSONEncoder(separators=(",", ":"), allow_nan=False, ensure_ascii=False).encode


class ServiceState:
    def __init__(self) -> None:
        self.bundle: ModelBundle | None = None
        self.logger: PredictionLogger | None = None


def _loc_str(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [p for p in loc if p != "body"] if loc and loc[0] == "body" else list(loc)
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        elif out and not str(p).isidentifier():
            out += f"[{json.dumps(str(p))}]"
        else:
            out += f".{p}" if out else str(p)
    return out or "body"


def _safe_input(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)  # JSON cannot carry NaN/inf: echo as a string
    if v is None or isinstance(v, (bool, int, float)) or (isinstance(v, str) and len(v) <= 200):
        return v
    return None


def validation_error_response(errors: list[dict[str, Any]]) -> JSONResponse:
    detail = []
    for e in errors[:MAX_ERRORS_REPORTED]:
        item: dict[str, Any] = {
            "loc": [p if isinstance(p, (str, int)) else str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        inp = _safe_input(e.get("input"))
        if inp is not None:
            item["input"] = inp
        detail.append(item)
    message = "; ".join(f"{_loc_str(d['loc'])}: {d['msg']}" for d in detail)
    if len(errors) > MAX_ERRORS_REPORTED:
        message += f"; ... {len(errors) - MAX_ERRORS_REPORTED} more errors"
    return JSONResponse(
        status_code=422, content={"message": message, "detail": detail, "error_count": len(errors)}
    )


def create_app(  # noqa: PLR0915 (the routes are closures over the schema-built models)
    settings: ServeSettings | None = None,
    *,
    bundle: ModelBundle | None = None,
    prediction_sink: PredictionSink | None = None,
) -> FastAPI:
    """Build the app.

    settings: defaults to ``get_settings()`` (environment, prefix SERVE_).
    bundle: an already loaded bundle (tests/benchmarks); otherwise loaded from settings.model_dir at start-up.
    prediction_sink: replaces the default JSONL directory sink of the prediction log.
    Raises ModelLoadError at once when metadata.json is missing or invalid.
    """
    settings = settings or get_settings()
    metadata: ModelMetadata = bundle.metadata if bundle is not None else load_metadata(settings.model_dir)
    schema = metadata.feature_schema
    classification = schema.problem_type == "classification"
    feature_names = [f.name for f in schema.features]
    class_keys = [str(c) for c in schema.classes] if classification and schema.classes else None

    row_model = build_row_model(
        schema, unknown_category=settings.unknown_category, allow_missing=settings.allow_missing
    )
    predict_request = build_request_model(row_model, settings.max_batch_rows)
    predict_response = build_response_model(schema)

    metrics = Metrics(classification, schema.classes, metadata.model_version)
    state = ServiceState()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Any ModelLoadError propagates: uvicorn reports it and exits, nothing is served.
        b = bundle or load_bundle(settings.model_dir, fast_path=settings.fast_path, metadata=metadata)
        if bundle is not None and settings.fast_path is False and b.serving_path == "fast":
            b.setup_fast_path(enabled=False)
        logger = None
        if settings.prediction_log_enabled:
            sink = prediction_sink or JsonlDirectorySink(settings.prediction_log_dir)
            logger = PredictionLogger(
                sink,
                maxsize=settings.prediction_log_queue_size,
                on_drop=metrics.log_dropped.inc,
                on_write=metrics.log_written.inc,
            )
            logger.start()
        state.bundle, state.logger = b, logger
        metrics.model_loaded.set(1)
        log.info("serving model %s (%s path)", b.model_version, b.serving_path)
        try:
            yield
        finally:
            metrics.model_loaded.set(0)
            state.bundle = None
            if logger is not None:
                logger.close()

    app = FastAPI(
        title="Model serving API",
        version=metadata.model_version,
        description=(
            f"Serves model {metadata.model_version} ({schema.problem_type}, {len(feature_names)} features). "
            'POST /predict with {"rows": [{feature: value, ...}, ...]}; '
            "a single prediction is a list of one row."
        ),
        lifespan=lifespan,
    )
    app.state.serve = state
    app.state.metrics = metrics
    app.state.settings = settings

    @app.exception_handler(RequestValidationError)
    async def _validation_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_error_response(list(exc.errors()))

    def _unavailable() -> Response:
        return Response(b'{"detail":"model not loaded"}', status_code=503, media_type="application/json")

    def do_predict(req: Any) -> Response:
        b = state.bundle
        if b is None:
            return _unavailable()
        rows = [list(r.__dict__.values()) for r in req.rows]
        try:
            pred = b.predict_rows(rows)
        except (ValueError, TypeError) as e:  # the model itself rejected the input
            return validation_error_response(
                [{"loc": ["body", "rows"], "msg": f"model rejected input: {e}", "type": "model_error"}]
            )
        request_id = uuid.uuid4().hex
        probs = None
        if pred.probabilities is not None and class_keys is not None:
            probs = [dict(zip(class_keys, p, strict=True)) for p in pred.probabilities]
        try:
            body = _dumps(
                {
                    "request_id": request_id,
                    "model_version": b.model_version,
                    "predictions": pred.predictions,
                    "probabilities": probs,
                }
            )
        except ValueError:  # non-finite model output
            return Response(
                b'{"detail":"model produced a non-finite value"}',
                status_code=500,
                media_type="application/json",
            )
        metrics.observe_predictions(pred.predictions)
        if state.logger is not None:
            state.logger.submit(
                LoggedRequest(
                    now_iso(),
                    request_id,
                    b.model_version,
                    feature_names,
                    rows,
                    pred.predictions,
                    pred.probabilities,
                    class_keys,
                )
            )
        return Response(body.encode(), media_type="application/json", headers={"X-Request-ID": request_id})

    predict_doc: dict[str, Any] = dict(
        response_model=predict_response,
        responses={
            422: {"model": ValidationErrorResponse, "description": "Invalid input (field named in message)"},
            413: {"description": "Request body too large"},
            503: {"description": "Model not loaded"},
        },
        summary="Predict for a batch of rows",
        tags=["prediction"],
    )
    # predict_request is built from the schema at run time, hence the `type: ignore` for static checkers.
    if settings.predict_in_threadpool:

        @app.post("/predict", **predict_doc)
        def predict(req: predict_request) -> Response:  # type: ignore[valid-type]
            return do_predict(req)

    else:
        # CPU-bound and short: running inline on the event loop avoids a thread hop per request.
        @app.post("/predict", **predict_doc)
        async def predict(req: predict_request) -> Response:  # type: ignore[valid-type,no-redef]
            return do_predict(req)

    @app.get("/health/live", tags=["health"])
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/health/ready", tags=["health"], responses={503: {"description": "Not ready"}})
    async def ready() -> Response:
        b = state.bundle
        if b is None:
            return Response(b'{"status":"loading"}', status_code=503, media_type="application/json")
        if settings.prediction_log_enabled and (state.logger is None or not state.logger.alive):
            return Response(
                b'{"status":"prediction log writer not running"}',
                status_code=503,
                media_type="application/json",
            )
        return JSONResponse({"status": "ready", "model_version": b.model_version})

    @app.get("/metadata", tags=["model"])
    async def get_metadata() -> dict[str, Any]:
        b = state.bundle
        out = metadata.model_dump(mode="json")
        out["serving"] = {
            "loaded": b is not None,
            "path": b.serving_path if b else None,
            "path_reason": b.fast_path_reason if b else None,
            "max_batch_rows": settings.max_batch_rows,
            "unknown_category": settings.unknown_category,
            "allow_missing": settings.allow_missing,
        }
        return out

    @app.get("/metrics", tags=["monitoring"], response_class=Response)
    async def prom_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    known = {"/predict", "/health/live", "/health/ready", "/metadata", "/metrics", "/docs", "/openapi.json"}
    app.add_middleware(
        MetricsMiddleware, metrics=metrics, known_paths=known, max_body_bytes=settings.max_body_bytes
    )
    return app
