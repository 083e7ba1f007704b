"""The service's endpoints on bundles trained by the project's own code (both problem types)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import joblib
import numpy as np
import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.serve.app import create_app
from {{ cookiecutter.package_name }}.serve.bundle import ModelLoadError, load_bundle
from {{ cookiecutter.package_name }}.serve.predict import predict, prepare_predictor
from {{ cookiecutter.package_name }}.serve.prediction_log import LoggedRequest, PredictionLogger
from {{ cookiecutter.package_name }}.serve.settings import ServeSettings

import serve_bundles


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {
        name: serve_bundles.build_bundle(tmp_path_factory.mktemp(name), name)
        for name in serve_bundles.BUNDLES
    }


def rows_of(name: str, count: int) -> tuple[list[dict], object]:
    problem_type, _, _, missing = serve_bundles.BUNDLES[name]
    frame = serve_bundles.training_frame(problem_type, missing).drop(columns="target").head(count)
    rows = [
        {k: (None if v is None or (isinstance(v, float) and np.isnan(v)) else v) for k, v in row.items()}
        for row in frame.astype(object).to_dict(orient="records")
    ]
    return rows, frame


def test_single_row_classification(bundles: dict[str, Path], tmp_path: Path) -> None:
    model_dir = bundles["classification"]
    with serve_bundles.client(model_dir, tmp_path) as c:
        r = c.post("/predict", json={"rows": [serve_bundles.good_row(model_dir)]})
        assert r.status_code == 200, r.text
        body = r.json()
    assert len(body["request_id"]) == 32 and r.headers["x-request-id"] == body["request_id"]
    assert body["predictions"][0] in (0, 1)
    probabilities = body["probabilities"][0]
    assert set(probabilities) == {"0", "1"} and abs(sum(probabilities.values()) - 1) < 1e-9
    assert body["model_version"] == json.loads((model_dir / "metadata.json").read_text())["model_version"]


@pytest.mark.parametrize("name", sorted(serve_bundles.BUNDLES))
def test_batch_matches_the_model(bundles: dict[str, Path], tmp_path: Path, name: str) -> None:
    rows, frame = rows_of(name, 200)
    with serve_bundles.client(bundles[name], tmp_path) as c:
        r = c.post("/predict", json={"rows": rows})
        path = c.get("/metadata").json()["serving"]["path"]
    assert r.status_code == 200, r.text
    assert path == "fast"
    model = joblib.load(bundles[name] / "model.joblib")
    body = r.json()
    if serve_bundles.BUNDLES[name][0] == "classification":
        got = np.array([[p["0"], p["1"]] for p in body["probabilities"]])
        np.testing.assert_allclose(got, model.predict_proba(frame), rtol=1e-9, atol=1e-12)
        assert body["predictions"] == model.predict(frame).tolist()
    else:
        assert body["probabilities"] is None
        np.testing.assert_allclose(body["predictions"], model.predict(frame), rtol=1e-9)


def test_fast_path_matches_sklearn_path(bundles: dict[str, Path], tmp_path: Path) -> None:
    model_dir = bundles["classification-linear"]
    row = serve_bundles.good_row(model_dir)
    rows = [dict(row, colour=c, weight=w) for c in ("red", "blue", None) for w in (None, 5.0, 30.0)]
    with serve_bundles.client(model_dir, tmp_path) as c:
        fast = c.post("/predict", json={"rows": rows}).json()
    with serve_bundles.client(model_dir, tmp_path, fast_path=False) as c:
        assert c.get("/metadata").json()["serving"]["path"] == "sklearn"
        slow = c.post("/predict", json={"rows": rows}).json()
    assert fast["predictions"] == slow["predictions"]
    np.testing.assert_allclose(
        [list(p.values()) for p in fast["probabilities"]], [list(p.values()) for p in slow["probabilities"]]
    )


@pytest.mark.parametrize("fast_path", [True, False])
def test_predict_is_a_function_of_the_rows(bundles: dict[str, Path], fast_path: bool) -> None:
    bundle = load_bundle(bundles["classification-linear"])
    predictor = prepare_predictor(bundle, fast_path=fast_path)
    rows, frame = rows_of("classification-linear", 50)
    prediction = predict(predictor, [list(row.values()) for row in rows])
    assert predictor.serving_path == ("fast" if fast_path else "sklearn")
    assert prediction.predictions == bundle.model.predict(frame).tolist()
    np.testing.assert_allclose(
        prediction.probabilities, bundle.model.predict_proba(frame), rtol=1e-9, atol=1e-12
    )


def test_categorical_feature(bundles: dict[str, Path], tmp_path: Path) -> None:
    model_dir = bundles["classification-linear"]  # colour was missing in some training rows: nullable
    row = serve_bundles.good_row(model_dir)
    with serve_bundles.client(model_dir, tmp_path) as c:
        for colour in ("red", "blue", "green", None):
            assert c.post("/predict", json={"rows": [dict(row, colour=colour)]}).status_code == 200
        assert c.post("/predict", json={"rows": [dict(row, weight=None)]}).status_code == 200
        r = c.post("/predict", json={"rows": [dict(row, colour="purple")]})
        assert r.status_code == 422 and "colour" in r.json()["message"]
    with serve_bundles.client(model_dir, tmp_path, unknown_category="ignore") as c:
        assert c.post("/predict", json={"rows": [dict(row, colour="purple")]}).status_code == 200
    with serve_bundles.client(model_dir, tmp_path, allow_missing=False) as c:
        r = c.post("/predict", json={"rows": [dict(row, colour=None)]})
        assert r.status_code == 422 and "colour" in r.json()["message"]


BAD_BODIES = {
    "missing feature": (lambda row: {"rows": [{k: v for k, v in row.items() if k != "size"}]}, "size"),
    "wrong type string": (lambda row: {"rows": [dict(row, size="abc")]}, "size"),
    "wrong type bool": (lambda row: {"rows": [dict(row, size=True)]}, "size"),
    "null not allowed": (lambda row: {"rows": [dict(row, size=None)]}, "size"),
    "extra field": (lambda row: {"rows": [dict(row, bogus=1.0)]}, "bogus"),
    "empty rows": (lambda row: {"rows": []}, "rows"),
    "too many rows": (lambda row: {"rows": [row] * 11}, "rows"),
    "no rows key": (lambda row: {"data": [row]}, "rows"),
    "rows not a list": (lambda row: {"rows": row}, "rows"),
    "row not an object": (lambda row: {"rows": [[1.0, 2.0]]}, "rows"),
    "second row wrong": (lambda row: {"rows": [row, dict(row, weight=[1])]}, "weight"),
}


@pytest.mark.parametrize("case", sorted(BAD_BODIES))
def test_bad_input_is_422_naming_the_field(bundles: dict[str, Path], tmp_path: Path, case: str) -> None:
    model_dir = bundles["classification"]
    make_body, field = BAD_BODIES[case]
    with serve_bundles.client(model_dir, tmp_path, max_batch_rows=10) as c:
        r = c.post("/predict", json=make_body(serve_bundles.good_row(model_dir)))
    assert r.status_code == 422, r.text
    assert field in r.json()["message"], r.json()


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_rejected(bundles: dict[str, Path], tmp_path: Path, token: str) -> None:
    model_dir = bundles["regression"]  # weight is nullable there: NaN is still not a null
    raw = json.dumps({"rows": [serve_bundles.good_row(model_dir)]}).replace(
        '"weight": 1.0', f'"weight": {token}'
    )
    assert token in raw
    with serve_bundles.client(model_dir, tmp_path) as c:
        r = c.post("/predict", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert "weight" in r.json()["message"] and "finite" in r.json()["message"]


def test_invalid_json_and_body_limit(bundles: dict[str, Path], tmp_path: Path) -> None:
    model_dir = bundles["classification"]
    with serve_bundles.client(model_dir, tmp_path, max_body_bytes=2048) as c:
        r = c.post("/predict", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 422
        assert c.post("/predict", json={"rows": [serve_bundles.good_row(model_dir)] * 100}).status_code == 413


def test_health_metadata_openapi(bundles: dict[str, Path], tmp_path: Path) -> None:
    model_dir = bundles["regression"]
    metadata = json.loads((model_dir / "metadata.json").read_text())
    with serve_bundles.client(model_dir, tmp_path) as c:
        assert c.get("/health/live").json() == {"status": "ok"}
        r = c.get("/health/ready")
        assert r.status_code == 200 and r.json()["model_version"] == metadata["model_version"]
        served = c.get("/metadata").json()
        spec = c.get("/openapi.json").json()
    for key in ("model_version", "git_commit", "data_hash", "metrics", "feature_schema", "model_sha256"):
        assert served[key] == metadata[key]
    assert set(metadata["metrics"]) == {"rmse", "mae", "r2"}
    row_schema = spec["components"]["schemas"]["FeatureRow"]
    assert set(row_schema["properties"]) == {"size", "weight", "colour"} == set(row_schema["required"])
    assert row_schema["additionalProperties"] is False


def bundle_copy(bundles: dict[str, Path], tmp_path: Path) -> Path:
    """A copy of the regression bundle (the shared ones stay as they are) in <tmp>/models."""
    return Path(shutil.copytree(bundles["regression"], tmp_path / "models"))


def test_model_card_is_markdown_or_json_as_asked(bundles: dict[str, Path], tmp_path: Path) -> None:
    model_dir = bundle_copy(bundles, tmp_path)
    serve_bundles.add_model_card(model_dir)
    markdown = (model_dir / "model_card.md").read_text()
    card = json.loads((model_dir / "model_card.json").read_text())
    with serve_bundles.client(model_dir, tmp_path) as c:
        default = c.get("/model-card")
        by_header = c.get("/model-card", headers={"accept": "application/json"})
        by_query = c.get("/model-card", params={"format": "json"})
        query_wins = c.get(
            "/model-card", params={"format": "markdown"}, headers={"accept": "application/json"}
        )
        unknown = c.get("/model-card", params={"format": "html"})
        documented = c.get("/openapi.json").json()["paths"]["/model-card"]["get"]
    assert default.status_code == 200 and default.headers["content-type"] == "text/markdown; charset=utf-8"
    assert default.text == markdown and markdown.startswith("# Model card: test-regression")
    assert by_header.headers["content-type"] == "application/json" and by_header.json() == card
    assert by_query.json() == card and query_wins.text == markdown
    assert unknown.status_code == 422 and unknown.json()["message"].startswith(
        "query.format: Input should be"
    )
    assert set(documented["responses"]["200"]["content"]) == {
        "text/markdown; charset=utf-8",
        "application/json",
    }


def test_no_model_card_is_a_404_saying_where_cards_come_from(
    bundles: dict[str, Path], tmp_path: Path
) -> None:
    with serve_bundles.client(bundles["regression"], tmp_path) as c:
        response = c.get("/model-card", headers={"accept": "application/json"})
        assert (
            c.post("/predict", json={"rows": [serve_bundles.good_row(bundles["regression"])]}).status_code
            == 200
        )
    assert response.status_code == 404
    assert response.json() == {
        "detail": "this model bundle has no model card: models/model_card.md and models/model_card.json are "
        "written by the pipeline's `card` stage (make pipeline) and copied into the image beside the model"
    }


def test_a_card_of_another_model_or_half_a_card_stops_the_service(
    bundles: dict[str, Path], tmp_path: Path
) -> None:
    model_dir = bundle_copy(bundles, tmp_path)
    serve_bundles.add_model_card(model_dir, model_version="another-model")
    with pytest.raises(
        ModelLoadError, match=r"the card is of model another-model, metadata\.json of test-regression"
    ):
        serve_bundles.client(model_dir, tmp_path)
    (model_dir / "model_card.json").unlink()
    with pytest.raises(
        ModelLoadError, match=r"model_card\.md alone; model_card\.md and model_card\.json go together"
    ):
        serve_bundles.client(model_dir, tmp_path)


def test_not_ready_before_startup(bundles: dict[str, Path], tmp_path: Path) -> None:
    model_dir = bundles["classification"]
    c = TestClient(create_app(ServeSettings(model_dir=model_dir, prediction_log_dir=tmp_path)))
    assert c.get("/health/ready").status_code == 503  # lifespan not run: no model
    assert c.post("/predict", json={"rows": [serve_bundles.good_row(model_dir)]}).status_code == 503


def test_prometheus_metrics(bundles: dict[str, Path], tmp_path: Path) -> None:
    model_dir = bundles["classification"]
    with serve_bundles.client(model_dir, tmp_path) as c:
        for _ in range(3):
            assert (
                c.post("/predict", json={"rows": [serve_bundles.good_row(model_dir)] * 2}).status_code == 200
            )
        assert c.post("/predict", json={"rows": []}).status_code == 422
        text = c.get("/metrics").text
    assert 'serve_http_requests_total{endpoint="/predict",method="POST",status="200"} 3.0' in text
    assert 'serve_http_requests_total{endpoint="/predict",method="POST",status="422"} 1.0' in text
    assert "serve_predicted_rows_total 6.0" in text
    assert "serve_model_loaded 1.0" in text


def test_prediction_log_follows_the_contract(bundles: dict[str, Path], tmp_path: Path) -> None:
    model_dir = bundles["classification-linear"]
    rows = [serve_bundles.good_row(model_dir), dict(serve_bundles.good_row(model_dir), colour=None)]
    with serve_bundles.client(model_dir, tmp_path) as c:
        ids = [c.post("/predict", json={"rows": rows}).json()["request_id"] for _ in range(3)]
    files = list((tmp_path / "predlogs").glob("predictions-*-*.jsonl"))
    assert len(files) == 1
    lines = [json.loads(line) for line in files[0].read_text().splitlines()]
    assert len(lines) == 6 and {line["request_id"] for line in lines} == set(ids)
    for line in lines:
        assert set(line) == {
            "timestamp",
            "request_id",
            "row",
            "model_version",
            "features",
            "prediction",
            "probabilities",
        }
        assert line["timestamp"].endswith("+00:00") and line["row"] in (0, 1)
        assert set(line["features"]) == {f["name"] for f in serve_bundles.features(model_dir)}
        assert set(line["probabilities"]) == {"0", "1"}
    assert [line["features"]["colour"] for line in lines if line["row"] == 1] == [None] * 3


def test_prediction_log_drops_when_full() -> None:
    written: list[str] = []

    class Sink:
        def write(self, lines: list[str]) -> None:
            written.extend(lines)

        def flush(self) -> None:
            pass

        def close(self) -> None:
            pass

    dropped: list[int] = []
    logger = PredictionLogger(Sink(), maxsize=2, on_drop=dropped.append)  # not started: the queue fills
    record = LoggedRequest("t", "r", "v", ["a"], [[1.0]], [0], None, None)
    assert logger.submit(record) and logger.submit(record)
    assert not logger.submit(record)
    assert logger.dropped_rows == 1 and dropped == [1]
    logger.start()
    logger.close()
    assert len(written) == 2


def test_prediction_log_disabled_and_inline_predict(bundles: dict[str, Path], tmp_path: Path) -> None:
    model_dir = bundles["regression"]
    with serve_bundles.client(
        model_dir, tmp_path, prediction_log_enabled=False, predict_in_threadpool=False
    ) as c:
        assert c.post("/predict", json={"rows": [serve_bundles.good_row(model_dir)]}).status_code == 200
        assert c.get("/health/ready").status_code == 200
    assert not (tmp_path / "predlogs").exists()
