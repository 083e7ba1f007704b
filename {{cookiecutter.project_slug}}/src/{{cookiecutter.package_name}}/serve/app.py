"""FastAPI application factory.

``create_app(settings)`` reads ``metadata.json`` first (the request models and the OpenAPI document are
built from its feature schema), sets the app's state and includes the routes (routes.py). The model itself
is loaded and verified in the lifespan start-up; a ``ModelLoadError`` there aborts start-up, so a broken
bundle never serves.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from ..contracts import ModelMetadata
from .bundle import ModelBundle, load_bundle, load_metadata, load_model_card
from .columns import TableRules
from .instrumentation import Metrics, MetricsMiddleware
from .predict import prepare_predictor
from .prediction_log import PredictionLogger, PredictionSink
from .prediction_store import open_sink
from .routes import build_router, invalid_request
from .settings import ServeSettings, get_settings

log = logging.getLogger(__name__)

# Paths counted under their own endpoint label in the metrics; any other path is "other".
METERED_PATHS = {
    "/predict",
    "/invocations",
    "/health/live",
    "/health/ready",
    "/metadata",
    "/model-card",
    "/metrics",
    "/docs",
    "/openapi.json",
}


def create_app(
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
    metadata = bundle.metadata if bundle is not None else load_metadata(settings.model_dir)
    schema = metadata.feature_schema
    app = FastAPI(
        title="Model serving API",
        version=metadata.model_version,
        description=_description(metadata),
        lifespan=partial(lifespan, bundle=bundle, prediction_sink=prediction_sink),
    )
    app.state.settings = settings
    app.state.metadata = metadata
    app.state.model_card = load_model_card(bundle.model_dir if bundle else settings.model_dir, metadata)
    app.state.metrics = Metrics(
        schema.problem_type == "classification", schema.classes, metadata.model_version
    )
    app.state.table_rules = TableRules.of(
        schema, unknown_category=settings.unknown_category, allow_missing=settings.allow_missing
    )
    app.state.predictor = None
    app.state.prediction_log = None
    # Starlette types handlers as taking any Exception; this one is registered for RequestValidationError.
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    app.include_router(build_router(schema, settings))
    app.add_middleware(
        MetricsMiddleware,
        metrics=app.state.metrics,
        known_paths=METERED_PATHS,
        max_body_bytes=settings.max_body_bytes,
    )
    return app


def _description(metadata: ModelMetadata) -> str:
    schema = metadata.feature_schema
    return (
        f"Serves model {metadata.model_version} ({schema.problem_type}, {len(schema.features)} features). "
        'POST /predict with {"rows": [{feature: value, ...}, ...]}; '
        "a single prediction is a list of one row. "
        "POST /invocations takes MLflow's scoring protocol (the bodies `mlflow models serve` takes)."
    )


def default_sink(settings: ServeSettings, metrics: Metrics) -> PredictionSink:
    """The prediction log's sink (prediction_store.open_sink) counting into the service's metrics."""
    return open_sink(
        settings,
        on_drop=metrics.log_dropped.inc,
        on_failure=metrics.log_upload_failures.inc,
        on_upload=metrics.log_uploaded.inc,
    )


@asynccontextmanager
async def lifespan(
    app: FastAPI, *, bundle: ModelBundle | None, prediction_sink: PredictionSink | None
) -> AsyncIterator[None]:
    """Load and verify the model, start the prediction log; stop the log on shutdown.

    Any ModelLoadError propagates: uvicorn reports it and exits, nothing is served.
    """
    state = app.state
    settings: ServeSettings = state.settings
    bundle = bundle or load_bundle(settings.model_dir, metadata=state.metadata)
    predictor = prepare_predictor(bundle, fast_path=settings.fast_path)
    prediction_log = None
    if settings.prediction_log_enabled:
        prediction_log = PredictionLogger(
            prediction_sink or default_sink(settings, state.metrics),
            maxsize=settings.prediction_log_queue_size,
            on_drop=state.metrics.log_dropped.inc,
            on_write=state.metrics.log_written.inc,
        )
        prediction_log.start()
    state.predictor, state.prediction_log = predictor, prediction_log
    state.metrics.model_loaded.set(1)
    log.info("serving model %s (%s path)", bundle.model_version, predictor.serving_path)
    try:
        yield
    finally:
        state.metrics.model_loaded.set(0)
        state.predictor = None
        if prediction_log is not None:
            prediction_log.close()
