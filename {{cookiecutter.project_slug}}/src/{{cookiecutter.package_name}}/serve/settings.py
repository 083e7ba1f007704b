"""Settings of the service: environment variables `SERVE_<NAME>` (or a `.env` file), read once, on demand."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..config import Paths

PREDICTION_LOG_DIR = Path("logs") / "predictions"


class ServeSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SERVE_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        protected_namespaces=(),
    )

    model_dir: Path = Field(Paths().metadata.parent, description="Folder with model.joblib + metadata.json")
    max_batch_rows: int = Field(5000, ge=1, description="Largest accepted number of rows per request")
    max_body_bytes: int = Field(32 * 1024 * 1024, ge=1024, description="Larger request bodies get 413")
    unknown_category: Literal["error", "ignore"] = Field(
        "error",
        description="error: a category not seen in training is rejected with 422; "
        "ignore: passed to the model (OneHotEncoder(handle_unknown='ignore') encodes it as all zeros)",
    )
    allow_missing: bool = Field(
        True, description="Accept null for features that had missing values in training"
    )
    fast_path: bool = Field(
        True,
        description="Use the numpy fast path for supported pipelines (verified against sklearn at start-up)",
    )
    predict_in_threadpool: bool = Field(
        True,
        description="Predict in the worker thread pool (sync endpoint) rather than on the event loop: "
        "as fast on 2 cores, and /health stays responsive during large batches",
    )
    prediction_log_enabled: bool = True
    prediction_log_dir: Path = PREDICTION_LOG_DIR
    prediction_log_queue_size: int = Field(10_000, ge=1, description="Requests buffered for the log writer")
    prediction_log_url: str | None = Field(
        None,
        min_length=1,
        description="fsspec URL (s3://bucket/predictions, gs://..., az://...) or a local path: the log is "
        "written there as date-partitioned objects, one per batch, instead of into prediction_log_dir",
    )
    prediction_log_batch_rows: int = Field(10_000, ge=1, description="Rows per uploaded object (at most)")
    prediction_log_batch_seconds: float = Field(
        60.0, gt=0, description="Buffered rows are uploaded at least this often (and retried after a failure)"
    )
    prediction_log_buffer_rows: int = Field(
        100_000, ge=1, description="Rows held while the store is slow or down; the oldest beyond are dropped"
    )
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=0, le=65535)
    workers: int = Field(1, ge=1)
    log_level: str = "info"
    access_log: bool = Field(
        False, description="uvicorn's per-request log (counts and latency are in /metrics)"
    )


@lru_cache(maxsize=1)
def get_settings() -> ServeSettings:
    """Settings from the environment, read on first call (never at import time)."""
    return ServeSettings()
