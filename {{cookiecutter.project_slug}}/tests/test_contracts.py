"""The contracts between the stages: metadata.json round trip, errors that name the field, and a
prediction-log line written by the service read back by the monitor as the same record."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package_name }}.contracts import (
    ContractError,
    ContractFileMissingError,
    FeatureSchema,
    ModelMetadata,
    PredictionRecord,
    parse_prediction_line,
    read_metadata,
    write_json_contract,
)
from {{ cookiecutter.package_name }}.monitor.sources import parse_prediction_log_lines
from {{ cookiecutter.package_name }}.pipeline.features import infer_feature_schema
from {{ cookiecutter.package_name }}.serve.prediction_log import LoggedRequest


@pytest.fixture
def metadata(frame: pd.DataFrame, problem_type: str) -> ModelMetadata:
    return ModelMetadata(
        model_version="20260101.000000-abcdef12",
        git_commit="abcdef12" * 5,
        git_dirty=False,
        data_hash="d" * 32,
        params_hash="p" * 32,
        trained_at="2026-01-01T00:00:00+00:00",
        mlflow_run_id="run",
        mlflow_experiment_id="1",
        model_sha256="a" * 64,
        metrics={"score": 0.5},
        feature_schema=infer_feature_schema(frame, "target", problem_type),
    )


def test_metadata_round_trip(tmp_path: Path, metadata: ModelMetadata) -> None:
    path = tmp_path / "metadata.json"
    write_json_contract(path, metadata)
    assert read_metadata(path) == metadata
    colour = json.loads(path.read_text())["feature_schema"]["features"][2]
    assert colour["categories"] == ["blue", "green", "red"]


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda m: m.update(model_sha256="xyz"), "model_sha256: String should match pattern"),
        (lambda m: m.pop("model_version"), "model_version: required field is missing"),
        (lambda m: m.update(modelversion="x"), "modelversion: unknown field (allowed: model_version, "),
        (
            lambda m: m["feature_schema"]["features"][0].update(kind="text"),
            "feature_schema.features.0.kind: Input should be 'numeric' or 'categorical' (got 'text')",
        ),
        (
            lambda m: m["feature_schema"]["features"][0].update(nulable=True),
            "features.0.nulable: unknown field (allowed: name, kind, dtype, nullable, categories)",
        ),
        (
            lambda m: m["feature_schema"].update(problem_type="classification", classes=None),
            "feature_schema: a classification schema needs a non-empty 'classes' list",
        ),
    ],
)
def test_bad_metadata_names_the_file_and_field(
    tmp_path: Path, metadata: ModelMetadata, change: Any, named: str
) -> None:
    raw = metadata.model_dump(mode="json")
    change(raw)
    path = tmp_path / "metadata.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ContractError) as error:
        read_metadata(path)
    assert str(error.value).startswith(f"{path}: invalid metadata: ")
    assert named in str(error.value)


def test_missing_or_unreadable_metadata(tmp_path: Path) -> None:
    with pytest.raises(ContractFileMissingError, match="metadata file not found"):
        read_metadata(tmp_path / "metadata.json")
    (tmp_path / "metadata.json").write_text("{not json")
    with pytest.raises(ContractError, match="cannot read metadata JSON"):
        read_metadata(tmp_path / "metadata.json")


def test_feature_schema_refuses_duplicates() -> None:
    feature = {"name": "x", "kind": "numeric"}
    with pytest.raises(ValueError, match=r"duplicate feature names: \['x'\]"):
        FeatureSchema.model_validate(
            {"target": "y", "problem_type": "regression", "features": [feature, feature]}
        )


def test_a_line_written_by_serve_is_read_by_monitor_as_the_same_record() -> None:
    request = LoggedRequest(
        timestamp="2026-01-01T00:00:00+00:00",
        request_id="abc",
        model_version="v1",
        feature_names=["size", "colour"],
        rows=[[1.5, "red"], [None, None]],
        predictions=[1, 0],
        probabilities=[[0.25, 0.75], [0.5, 0.5]],
        class_keys=["0", "1"],
    )
    lines = request.lines()
    expected = [
        PredictionRecord(
            timestamp="2026-01-01T00:00:00+00:00",
            request_id="abc",
            row=row,
            model_version="v1",
            features=features,
            prediction=prediction,
            probabilities=probabilities,
        )
        for row, features, prediction, probabilities in [
            (0, {"size": 1.5, "colour": "red"}, 1, {"0": 0.25, "1": 0.75}),
            (1, {"size": None, "colour": None}, 0, {"0": 0.5, "1": 0.5}),
        ]
    ]
    assert [parse_prediction_line(line, "log:1") for line in lines] == expected
    frame = parse_prediction_log_lines(lines)
    assert frame["size"].tolist()[0] == 1.5 and frame["prediction"].tolist() == [1, 0]
    assert frame["proba:1"].tolist() == [0.75, 0.5] and frame["row"].tolist() == [0, 1]


def test_bad_log_line_names_the_place_and_field() -> None:
    line = json.dumps({"timestamp": "t", "request_id": "r", "row": -1, "model_version": "v", "features": {}})
    with pytest.raises(ContractError, match=r"p\.jsonl:3: not a prediction-log record: row: Input should be"):
        parse_prediction_line(line, "p.jsonl:3")


def run_cli(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "{{ cookiecutter.package_name }}.cli", *argv]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)


def test_cli_prints_metadata_and_params_values(
    tmp_path: Path, metadata: ModelMetadata, params_dict: dict[str, Any]
) -> None:
    """What the workflows and the Makefile run instead of `python -c`."""
    (tmp_path / "models").mkdir()
    write_json_contract(tmp_path / "models" / "metadata.json", metadata)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params_dict))
    assert run_cli(tmp_path, "metadata", "model_version").stdout == "20260101.000000-abcdef12\n"
    assert run_cli(tmp_path, "metadata", "metrics.score").stdout == "0.5\n"
    assert run_cli(tmp_path, "params", "data.path").stdout == f"{params_dict['data']['path']}\n"
    unknown = run_cli(tmp_path, "metadata", "metrics.nope")
    assert unknown.returncode == 2
    assert unknown.stderr == "error: models/metadata.json: no key 'metrics.nope'; keys at metrics: score\n"
    missing = run_cli(tmp_path, "metadata", "model_version", "--file", "other.json")
    assert missing.returncode == 2 and "other.json: metadata file not found" in missing.stderr
