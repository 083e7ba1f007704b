"""Prometheus metrics (one registry per app instance, so several apps can live in one process)."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.002,
    0.003,
    0.005,
    0.0075,
    0.01,
    0.015,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)
ROW_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)


def _regression_buckets() -> tuple[float, ...]:
    positive = [mantissa * 10.0**exponent for exponent in range(-2, 6) for mantissa in (1, 2, 5)]
    return tuple(sorted([-bound for bound in positive] + [0.0] + positive))


class Metrics:
    def __init__(self, classification: bool, classes: list[Any] | None, model_version: str = "") -> None:
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "serve_http_requests_total",
            "HTTP requests by endpoint, method and status",
            ["endpoint", "method", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "serve_http_request_duration_seconds",
            "HTTP request latency by endpoint",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.batch_rows = Histogram(
            "serve_predict_batch_rows",
            "Rows per successful /predict request",
            buckets=ROW_BUCKETS,
            registry=registry,
        )
        self.rows = Counter("serve_predicted_rows_total", "Rows predicted", registry=registry)
        self.model_info = Gauge(
            "serve_model_info", "Loaded model (value 1)", ["model_version"], registry=registry
        )
        self.model_loaded = Gauge(
            "serve_model_loaded", "1 when the model is loaded and ready", registry=registry
        )
        self.log_dropped = Counter(
            "serve_prediction_log_dropped_rows_total",
            "Prediction log rows dropped because the queue or the store's upload buffer was full",
            registry=registry,
        )
        self.log_upload_failures = Counter(
            "serve_prediction_log_upload_failures_total",
            "Failed uploads of a prediction log batch to the store (its rows are kept and retried)",
            registry=registry,
        )
        self.log_uploaded = Counter(
            "serve_prediction_log_uploaded_rows_total",
            "Prediction log rows uploaded to the store",
            registry=registry,
        )
        self.log_written = Counter(
            "serve_prediction_log_written_rows_total", "Prediction log rows written", registry=registry
        )
        self.classification = classification
        if classification:
            self.predicted_class = Counter(
                "serve_predictions_total", "Predicted rows by predicted class", ["class"], registry=registry
            )
            self._class_children = {
                label: self.predicted_class.labels(str(label)) for label in (classes or [])
            }
        else:
            self.predicted_value = Histogram(
                "serve_prediction_value",
                "Distribution of regression predictions",
                buckets=_regression_buckets(),
                registry=registry,
            )
        if model_version:
            self.model_info.labels(model_version).set(1)

    def observe_predictions(self, predictions: list[Any]) -> None:
        self.rows.inc(len(predictions))
        self.batch_rows.observe(len(predictions))
        if self.classification:
            if len(predictions) == 1:
                counts = {predictions[0]: 1}
            else:
                counts = {}
                for label in predictions:
                    counts[label] = counts.get(label, 0) + 1
            for label, count in counts.items():
                child = self._class_children.get(label)
                if child is None:
                    child = self._class_children[label] = self.predicted_class.labels(str(label))
                child.inc(count)
        else:
            observe = self.predicted_value.observe
            for value in predictions:
                observe(value)


class MetricsMiddleware:
    """Pure ASGI middleware: request counter + latency histogram, plus a request-body size limit.

    The endpoint label is the route path for known routes and "other" otherwise (bounded cardinality).
    """

    def __init__(self, app: Any, metrics: Metrics, known_paths: set[str], max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.known_paths = known_paths
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        endpoint = path if path in self.known_paths else "other"
        start = time.perf_counter()
        status = [500]

        async def send_wrapper(message: dict) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            for name, value in scope.get("headers", ()):
                if name == b"content-length":
                    try:
                        too_big = int(value) > self.max_body_bytes
                    except ValueError:
                        too_big = False
                    if too_big:
                        await _send_json(send, 413, b'{"detail":"request body too large"}')
                        status[0] = 413
                        return
                    break
            await self.app(scope, receive, send_wrapper)
        finally:
            self.metrics.latency.labels(endpoint).observe(time.perf_counter() - start)
            self.metrics.requests.labels(endpoint, scope.get("method", ""), str(status[0])).inc()


async def _send_json(send: Any, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
