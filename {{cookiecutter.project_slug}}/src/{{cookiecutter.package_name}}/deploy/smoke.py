"""The smoke test of a rolled-out environment: readiness, then /predict with a real row of the test set.

The request body is the one the deploy gate wrote with `cli request-example` (models/smoke-request.json).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any


class SmokeTestError(RuntimeError):
    """The service did not become ready or did not answer /predict as expected."""


def smoke_test(
    base_url: str, body: dict[str, Any], model_version: str | None, ready_timeout: float = 60
) -> str:
    """A one-line account of the answer; raises SmokeTestError naming what was wrong."""
    wait_ready(f"{base_url}/health/ready", ready_timeout)
    status, answer = _call(f"{base_url}/predict", json.dumps(body).encode())
    if status != 200:
        raise SmokeTestError(f"POST /predict answered HTTP {status}: {answer[:500]}")
    try:
        prediction = json.loads(answer)
    except json.JSONDecodeError as error:
        raise SmokeTestError(f"POST /predict did not answer JSON: {answer[:500]}") from error
    rows, predicted = len(body["rows"]), len(prediction.get("predictions", []))
    if predicted != rows:
        raise SmokeTestError(
            f"POST /predict gave {predicted} prediction(s) for {rows} row(s): {answer[:500]}"
        )
    served = prediction.get("model_version")
    if model_version and served != model_version:
        raise SmokeTestError(f"the service runs model {served!r}, not the deployed {model_version!r}")
    return f"/predict answered {predicted} prediction(s) from model {served}"


def wait_ready(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        status, answer = _call(url)
        if status == 200:
            return
        if time.monotonic() > deadline:
            raise SmokeTestError(f"GET /health/ready: not ready after {timeout:.0f} s: {answer[:300]}")
        time.sleep(1)


def _call(url: str, data: bytes | None = None) -> tuple[int, str]:
    """(HTTP status, body); status 0 when nothing answered."""
    request = urllib.request.Request(url, data, {"content-type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")
    except OSError as error:
        return 0, str(error)
