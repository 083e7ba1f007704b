"""Property-based tests: no request body may produce a 5xx (bounded: a few seconds)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from {{ cookiecutter.package_name }}.serve.app import create_app
from {{ cookiecutter.package_name }}.serve.bundle import ModelBundle, load_bundle
from {{ cookiecutter.package_name }}.serve.settings import ServeSettings

import serve_bundles

EXAMPLES = 40
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ModelBundle]:
    names = ("classification-linear", "regression")
    return {
        name: load_bundle(serve_bundles.build_bundle(tmp_path_factory.mktemp(name), name)) for name in names
    }


@pytest.fixture(params=["classification-linear", "regression"])
def app(request: pytest.FixtureRequest, loaded: dict[str, ModelBundle], tmp_path: Path) -> Iterator[FastAPI]:
    bundle = loaded[request.param]
    serve_settings = ServeSettings(
        model_dir=bundle.model_dir, prediction_log_dir=tmp_path / "logs", max_batch_rows=20
    )
    application = create_app(serve_settings, bundle=bundle)  # preloaded: each lifespan start is cheap
    with TestClient(application):
        yield application


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_schemathesis_no_server_error(app: FastAPI, mode: str) -> None:
    """Bodies generated from the app's own OpenAPI document (built from the feature schema)."""
    operation = schemathesis.openapi.from_asgi("/openapi.json", app)["/predict"]["POST"]

    @FUZZ
    @given(case=operation.as_strategy(generation_mode=GenerationMode(mode)))
    def check(case: Any) -> None:
        case.call_and_validate(checks=[not_a_server_error])

    check()


SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def test_near_valid_and_arbitrary_bodies(app: FastAPI) -> None:
    names = [f.name for f in app.state.metadata.feature_schema.features]
    rows = st.fixed_dictionaries({}, optional=dict.fromkeys(names, VALUES)) | st.dictionaries(
        st.sampled_from([*names, "extra"]), SCALARS
    )
    bodies = st.lists(rows, max_size=25).map(lambda items: {"rows": items}) | VALUES | st.binary(max_size=64)
    client = TestClient(app)

    @FUZZ
    @given(body=bodies)
    def check(body: Any) -> None:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()  # NaN/Infinity included
        r = client.post("/predict", content=content, headers={"content-type": "application/json"})
        assert r.status_code < 500, (r.status_code, r.text[:500])
        if r.status_code == 422:
            assert r.json()["message"]

    check()


def test_valid_rows_always_succeed(app: FastAPI) -> None:
    schema = app.state.metadata.feature_schema
    values = {
        f.name: st.sampled_from(f.categories) if f.kind == "categorical" else st.floats(-1e6, 1e6)
        for f in schema.features
    }
    client = TestClient(app)

    @FUZZ
    @given(rows=st.lists(st.fixed_dictionaries(values), min_size=1, max_size=20))
    def check(rows: list[dict[str, Any]]) -> None:
        r = client.post("/predict", json={"rows": rows})
        assert r.status_code == 200, r.text
        assert len(r.json()["predictions"]) == len(rows)

    check()
