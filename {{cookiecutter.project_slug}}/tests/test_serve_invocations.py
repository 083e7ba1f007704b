"""POST /invocations: MLflow's scoring protocol on bundles trained by the project's own code."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import joblib
import mlflow.pyfunc
import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mlflow.models import infer_signature
from mlflow.pyfunc import scoring_server

from {{ cookiecutter.package_name }}.contracts import PredictionRecord

import serve_bundles

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    names = ("classification", "classification-linear", "regression")
    return {name: serve_bundles.build_bundle(tmp_path_factory.mktemp(name), name) for name in names}


def table(name: str, count: int = 12) -> pd.DataFrame:
    problem_type, _, _, missing = serve_bundles.BUNDLES[name]
    return serve_bundles.training_frame(problem_type, missing).drop(columns="target").head(count)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON carries them (every digit of the floats), missing values null."""
    return [
        {name: None if pd.isna(value) else value for name, value in row.items()}
        for row in frame.astype(object).to_dict(orient="records")
    ]


def bodies(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    rows = records(frame)
    columns = {name: [row[name] for row in rows] for name in frame.columns}
    split = {"columns": list(frame.columns), "data": [list(row.values()) for row in rows]}
    return {
        "dataframe_split": {"dataframe_split": split},
        "dataframe_split with index": {"dataframe_split": {**split, "index": list(range(len(rows)))}},
        "dataframe_records": {"dataframe_records": rows},
        "instances records": {"instances": rows},
        "instances columns": {"instances": columns},
        "inputs columns": {"inputs": columns},
        "inputs records": {"inputs": rows},
        "params ignored": {"dataframe_records": rows, "params": {"x": 1}},
    }


def post(client: TestClient, body: Any, headers: dict[str, str] = JSON) -> Any:
    content = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post("/invocations", content=content, headers=headers)


@pytest.mark.parametrize("name", ["classification-linear", "regression"])
def test_every_format_answers_the_models_predictions(
    bundles: dict[str, Path], tmp_path: Path, name: str
) -> None:
    frame = table(name)
    model = joblib.load(bundles[name] / "model.joblib")
    expected = pytest.approx(model.predict(frame).tolist(), rel=1e-12)
    csv = frame.to_csv(index=False)
    with serve_bundles.client(bundles[name], tmp_path) as c:
        answers = {form: post(c, body) for form, body in bodies(frame).items()}
        answers["csv"] = post(c, csv, {"content-type": "text/csv; charset=utf-8"})
        parquet = frame.to_parquet(index=False)
        answers["parquet"] = post(c, parquet, {"content-type": "application/vnd.apache.parquet"})
    for form, r in answers.items():
        assert r.status_code == 200, (form, r.text)
        assert list(r.json()) == ["predictions"] and r.json()["predictions"] == expected, form
        assert len(r.headers["x-request-id"]) == 32


@pytest.fixture(scope="module")
def mlflow_model(bundles: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The classification bundle's pipeline saved and loaded as `mlflow models serve` does."""
    frame = table("classification", 50)
    model = joblib.load(bundles["classification"] / "model.joblib")
    path = tmp_path_factory.mktemp("mlflow") / "model"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mlflow.sklearn.save_model(
            model,
            str(path),
            serialization_format="cloudpickle",
            signature=infer_signature(frame, model.predict(frame)),
        )
    return mlflow.pyfunc.load_model(str(path))


def test_the_same_answers_as_mlflows_scoring_server(
    bundles: dict[str, Path], mlflow_model: Any, tmp_path: Path
) -> None:
    """Byte for byte the bodies of `mlflow models serve` (its own handler, called in-process), JSON equal."""
    frame = table("classification", 30)  # `weight` has missing values: null in JSON, NaN for MLflow
    schema = mlflow_model.metadata.get_input_schema()
    with serve_bundles.client(bundles["classification"], tmp_path) as c:
        cases = [(json.dumps(body), "application/json") for body in bodies(frame).values()]
        for content, content_type in [*cases, (frame.to_csv(index=False), "text/csv")]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                theirs = scoring_server.invocations(content, content_type, mlflow_model, schema)
            ours = post(c, content, {"content-type": content_type})
            assert (ours.status_code, ours.json()) == (theirs.status, json.loads(theirs.response)), content[
                :80
            ]


BAD_REQUESTS = {
    "not JSON": (b"{not json", "valid JSON"),
    "a list": ([], "Received a list"),
    "no format": ({"data": []}, "Received dictionary with input fields: ['data']"),
    "two formats": ({"inputs": {}, "instances": []}, "['inputs', 'instances']"),
    "split without data": ({"dataframe_split": {"columns": ["size"]}}, "must have 'data' field"),
    "split without columns": ({"dataframe_split": {"data": [[1.0]]}}, "'columns' must list the column names"),
    "split row too short": (
        {"dataframe_split": {"columns": ["a", "b"], "data": [[1, 2], [1]]}},
        "row 1 has 1",
    ),
    "records not a list": (
        {"dataframe_records": {"size": [1.0]}},
        "dataframe_records must be a list of records",
    ),
    "unnamed instances": ({"instances": [[1.0, 2.0]]}, "named columns"),
    "columns of unequal length": ({"inputs": {"a": [1], "b": [1, 2]}}, "are not the same"),
    "column not a list": ({"inputs": {"a": 1}}, "column 'a' must be a list"),
}


@pytest.mark.parametrize("case", sorted(BAD_REQUESTS))
def test_not_mlflows_format_is_400_as_mlflow(bundles: dict[str, Path], tmp_path: Path, case: str) -> None:
    body, words = BAD_REQUESTS[case]
    with serve_bundles.client(bundles["classification"], tmp_path) as c:
        r = post(c, body)
    assert r.status_code == 400, r.text
    assert r.json()["error_code"] == "BAD_REQUEST" and words in r.json()["message"], r.json()


@pytest.mark.parametrize(
    ("content_type", "words"),
    [
        ("text/plain", "only supports the following content types"),
        (None, "only supports the following content types"),
        ("application/json; charset=latin-1", "only supports UTF-8"),
        ("application/json; format=pandas-split", "Unrecognized content type parameters: format"),
    ],
)
def test_other_content_types_are_415_as_mlflow(
    bundles: dict[str, Path], tmp_path: Path, content_type: str | None, words: str
) -> None:
    with serve_bundles.client(bundles["classification"], tmp_path) as c:
        headers = {"content-type": content_type} if content_type else {}
        r = c.post("/invocations", content=b'{"inputs": {}}', headers=headers)
    assert r.status_code == 415 and words in r.text, r.text


def test_broken_columns_are_422_naming_column_reason_and_rows(
    bundles: dict[str, Path], tmp_path: Path
) -> None:
    rows = records(table("classification-linear", 8))  # colour nullable there, size not
    for row in (1, 4, 6):
        rows[row]["size"] = "abc"
    rows[2]["colour"] = "purple"
    rows[3]["size"] = None
    rows[0]["bogus"] = 1
    with serve_bundles.client(bundles["classification-linear"], tmp_path) as c:
        r = post(c, {"dataframe_records": rows})
    assert r.status_code == 422
    body = r.json()
    assert body["message"] == (
        "bogus: unexpected column (not a feature of the model); "
        "size: not a number in 3 rows (1, 4, 6; e.g. 'abc'); "
        "size: null not allowed (no missing values in training) in 1 row (3; e.g. None); "
        "colour: not a category seen in training (allowed: 'blue', 'green', 'red') "
        "in 1 row (2; e.g. 'purple')"
    )
    assert body["error_code"] == "BAD_REQUEST" and body["error_count"] == 4
    assert body["detail"][1] == {
        "loc": ["dataframe_records", "size"],
        "msg": "not a number",
        "type": "type",
        "rows": [1, 4, 6],
        "row_count": 3,
        "input": "abc",
    }


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"inputs": {"size": [1.0], "colour": ["red"]}}, "weight: missing column"),
        (
            '{"dataframe_split": {"columns": ["size", "weight", "colour"], "data": [[1.0, NaN, "red"]]}}',
            "finite",
        ),
        ({"inputs": {"size": [1.0] * 11, "weight": [1.0] * 11, "colour": ["red"] * 11}}, "1 to 10 rows"),
        ({"dataframe_records": []}, "0 rows"),
        ({"inputs": {"size": [True], "weight": [1.0], "colour": ["red"]}}, "size: not a number"),
        ({"inputs": {"size": [1.0], "weight": [1.0], "colour": [1]}}, "colour: not a category"),
    ],
)
def test_more_422s(bundles: dict[str, Path], tmp_path: Path, body: Any, words: str) -> None:
    with serve_bundles.client(bundles["regression"], tmp_path, max_batch_rows=10) as c:
        r = post(c, body)
    assert r.status_code == 422 and words in r.json()["message"], r.text


def test_logged_and_counted_as_predict(bundles: dict[str, Path], tmp_path: Path) -> None:
    model_dir = bundles["classification-linear"]
    frame = table("classification-linear", 20)  # missing colours among them
    with serve_bundles.client(model_dir, tmp_path) as c:
        request_id = post(c, bodies(frame)["dataframe_split"]).headers["x-request-id"]
        metrics = c.get("/metrics").text
    assert 'serve_http_requests_total{endpoint="/invocations",method="POST",status="200"} 1.0' in metrics
    assert "serve_predicted_rows_total 20.0" in metrics
    [log] = (tmp_path / "predlogs").glob("predictions-*.jsonl")
    lines = [PredictionRecord.model_validate_json(line) for line in log.read_text().splitlines()]
    model = joblib.load(model_dir / "model.joblib")
    assert [line.request_id for line in lines] == [request_id] * 20
    assert [line.row for line in lines] == list(range(20))
    assert [line.features for line in lines] == records(frame)
    assert [line.prediction for line in lines] == model.predict(frame).tolist()
    probabilities = [[line.probabilities[key] for key in ("0", "1")] for line in lines if line.probabilities]
    np.testing.assert_allclose(probabilities, model.predict_proba(frame))


SCALARS = (
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats() | st.sampled_from(["red", "blue", "x", "1"])
)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    rows=st.lists(st.fixed_dictionaries({"size": SCALARS, "weight": SCALARS, "colour": SCALARS}), max_size=4)
)
def test_invocations_accept_exactly_what_predict_accepts(
    rows: list[dict[str, Any]], app_client: TestClient
) -> None:
    """One definition of the column rules: a row is valid for /invocations iff it is for /predict."""
    content = json.dumps({"dataframe_records": rows})  # NaN and Infinity included
    invocations = app_client.post("/invocations", content=content, headers=JSON)
    predict = app_client.post("/predict", content=json.dumps({"rows": rows}), headers=JSON)
    assert invocations.status_code < 500 and predict.status_code < 500
    assert (invocations.status_code == 200) == (predict.status_code == 200), (invocations.text, predict.text)
    if predict.status_code == 200:
        assert invocations.json()["predictions"] == predict.json()["predictions"]


@pytest.fixture(scope="module")
def app_client(bundles: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    with serve_bundles.client(bundles["classification-linear"], tmp_path_factory.mktemp("logs")) as c:
        yield c
