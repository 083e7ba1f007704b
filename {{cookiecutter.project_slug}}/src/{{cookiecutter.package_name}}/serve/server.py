"""Run the service with uvicorn: `python -m <package>.serve [--host H] [--port P] [--model-dir D] ...`.

Options override the SERVE_* environment variables; they are exported to the environment so that every
uvicorn worker process builds the same settings.
"""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Sequence

import uvicorn

from .settings import get_settings

OPTIONS = {
    "host": "SERVE_HOST",
    "port": "SERVE_PORT",
    "workers": "SERVE_WORKERS",
    "model_dir": "SERVE_MODEL_DIR",
    "log_level": "SERVE_LOG_LEVEL",
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="serve", description=__doc__)
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--model-dir")
    parser.add_argument("--log-level")
    args = parser.parse_args(argv)
    for option, variable in OPTIONS.items():
        value = getattr(args, option)
        if value is not None:
            os.environ[variable] = str(value)

    get_settings.cache_clear()
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(
        f"{__package__}.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level.lower(),
        access_log=settings.access_log,
        timeout_graceful_shutdown=15,
    )
