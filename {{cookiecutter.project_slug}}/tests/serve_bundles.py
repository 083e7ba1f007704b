"""Model bundles for the service's tests, made by the project's own training and evaluation code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.config import Paths
from {{ cookiecutter.package_name }}.contracts import (
    CardDataContract,
    CardFile,
    CardIntendedUse,
    CardMlflowRun,
    ModelCard,
    TrainingRun,
    read_metadata,
    write_json_contract,
)
from {{ cookiecutter.package_name }}.estimators import make_estimator
from {{ cookiecutter.package_name }}.pipeline.card import write_card
from {{ cookiecutter.package_name }}.pipeline.evaluate import build_metadata, evaluate_model
from {{ cookiecutter.package_name }}.pipeline.features import infer_feature_schema
from {{ cookiecutter.package_name }}.pipeline.lineage import file_md5, git_commit, git_dirty
from {{ cookiecutter.package_name }}.pipeline.train import train_pipeline
from {{ cookiecutter.package_name }}.serve.app import create_app
from {{ cookiecutter.package_name }}.serve.settings import ServeSettings

from helpers import PROJECT_ROOT, make_frame

# name -> (problem type, estimator, hyperparameters, missing categories in training)
BUNDLES: dict[str, tuple[str, str, dict[str, Any], bool]] = {
    "classification": ("classification", "random_forest", {"n_estimators": 20}, False),
    "classification-linear": ("classification", "logistic_regression", {}, True),
    "regression": ("regression", "random_forest", {"n_estimators": 20}, True),
}


def training_frame(problem_type: str, missing_categories: bool) -> pd.DataFrame:
    """make_frame's table (numeric `size`, nullable numeric `weight`, categorical `colour`)."""
    frame = make_frame(problem_type)
    if missing_categories:
        frame.loc[frame.index[10:14], "colour"] = None
    return frame


def build_bundle(root: Path, name: str) -> Path:
    """Train, evaluate and write models/model.joblib + models/metadata.json the way the pipeline does."""
    problem_type, estimator_name, hyperparameters, missing_categories = BUNDLES[name]
    paths = Paths(root)
    frame = training_frame(problem_type, missing_categories)
    data = root / "data" / "table.csv"
    data.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(data, index=False)
    train, test = frame.iloc[:180], frame.iloc[180:]
    schema = infer_feature_schema(train, "target", problem_type)
    estimator = make_estimator(problem_type, estimator_name, hyperparameters, random_state=0)
    pipeline = train_pipeline(train, schema, estimator)
    paths.model.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, paths.model)
    training = TrainingRun(
        model_version=f"test-{name}",
        git_commit=git_commit(root),
        git_dirty=git_dirty(root),
        data_hash=file_md5(data),
        params_hash=file_md5(PROJECT_ROOT / "params.yaml"),
        trained_at="2026-01-01T00:00:00+00:00",
        feature_schema=schema,
    )
    metadata = build_metadata(training, evaluate_model(pipeline, test, schema).metrics, paths)
    write_json_contract(paths.metadata, metadata)
    return paths.metadata.parent


def add_model_card(model_dir: Path, model_version: str | None = None) -> ModelCard:
    """A model card beside the bundle's model, as the `card` stage writes it (of `model_version` if given)."""
    metadata = read_metadata(model_dir / "metadata.json")
    card = ModelCard(
        model_version=model_version or metadata.model_version,
        problem_type=metadata.feature_schema.problem_type,
        estimator="random_forest",
        trained_at=metadata.trained_at,
        git_commit=metadata.git_commit,
        model_file=CardFile(path="models/model.joblib", md5=file_md5(model_dir / "model.joblib")),
        data=(CardFile(path="data/table.csv", md5=metadata.data_hash or "0" * 32, rows=240),),
        params_md5=metadata.params_hash,
        params={"train.estimator": "random_forest"},
        metrics=metadata.metrics,
        data_contract=CardDataContract(source="data/table.csv", target="target", min_rows=50),
        feature_schema=metadata.feature_schema,
        mlflow=CardMlflowRun(),
        intended_use=CardIntendedUse(source="docs/model_card_intended_use.md", status="placeholder"),
    )
    write_card(card, Paths(model_dir.parent))
    return card


def features(model_dir: Path) -> list[dict[str, Any]]:
    return json.loads((model_dir / "metadata.json").read_text())["feature_schema"]["features"]


def good_row(model_dir: Path) -> dict[str, Any]:
    return {f["name"]: f["categories"][0] if f["kind"] == "categorical" else 1.0 for f in features(model_dir)}


def client(model_dir: Path, tmp_path: Path, **settings: Any) -> TestClient:
    serve_settings = ServeSettings(model_dir=model_dir, prediction_log_dir=tmp_path / "predlogs", **settings)
    return TestClient(create_app(serve_settings))
