"""A broken model bundle stops the service at start-up with a message naming the problem."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.serve.app import create_app
from {{ cookiecutter.package_name }}.serve.bundle import ModelLoadError, load_bundle
from {{ cookiecutter.package_name }}.serve.settings import ServeSettings, get_settings

import serve_bundles


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {
        name: serve_bundles.build_bundle(tmp_path_factory.mktemp(name), name)
        for name in ("classification", "regression")
    }


@pytest.fixture
def bundle_copy(pristine: dict[str, Path], tmp_path: Path) -> Any:
    def copy(name: str = "classification") -> Path:
        return Path(shutil.copytree(pristine[name], tmp_path / name))

    return copy


def rewrite_metadata(model_dir: Path, change: Any) -> None:
    metadata = json.loads((model_dir / "metadata.json").read_text())
    change(metadata)
    (model_dir / "metadata.json").write_text(json.dumps(metadata))


def test_missing_files(bundle_copy: Any) -> None:
    model_dir = bundle_copy()
    (model_dir / "model.joblib").unlink()
    with pytest.raises(ModelLoadError, match=r"model\.joblib: model file not found"):
        load_bundle(model_dir)
    (model_dir / "metadata.json").unlink()
    with pytest.raises(ModelLoadError, match=r"metadata\.json: metadata file not found"):
        load_bundle(model_dir)


def test_invalid_metadata(bundle_copy: Any) -> None:
    model_dir = bundle_copy()

    def break_it(metadata: dict[str, Any]) -> None:
        del metadata["feature_schema"]["features"]
        metadata["model_sha256"] = "xyz"

    rewrite_metadata(model_dir, break_it)
    with pytest.raises(ModelLoadError, match=r"invalid metadata: .*feature_schema\.features.*model_sha256"):
        load_bundle(model_dir)
    (model_dir / "metadata.json").write_text("{not json")
    with pytest.raises(ModelLoadError, match="cannot read metadata JSON"):
        load_bundle(model_dir)


def test_sha256_mismatch_and_corrupt_model(bundle_copy: Any) -> None:
    model_dir = bundle_copy()
    with (model_dir / "model.joblib").open("ab") as stream:
        stream.write(b"\0")
    with pytest.raises(ModelLoadError, match="sha256 mismatch"):
        load_bundle(model_dir)
    (model_dir / "model.joblib").write_bytes(b"this is not a pickle")
    digest = hashlib.sha256(b"this is not a pickle").hexdigest()
    rewrite_metadata(model_dir, lambda metadata: metadata.update(model_sha256=digest))
    with pytest.raises(ModelLoadError, match="cannot unpickle model"):
        load_bundle(model_dir)


def test_schema_must_match_the_model(bundle_copy: Any) -> None:
    model_dir = bundle_copy()
    rewrite_metadata(model_dir, lambda m: m["feature_schema"]["features"][0].update(name="not a feature"))
    with pytest.raises(ModelLoadError, match=r"feature names do not match.*size.*not a feature"):
        load_bundle(model_dir)
    model_dir = bundle_copy("regression")

    def claim_classification(metadata: dict[str, Any]) -> None:
        metadata["feature_schema"].update(problem_type="classification", classes=[0, 1])

    rewrite_metadata(model_dir, claim_classification)
    with pytest.raises(ModelLoadError, match="no predict_proba"):
        load_bundle(model_dir)


def test_classes_must_match(bundle_copy: Any) -> None:
    model_dir = bundle_copy()
    rewrite_metadata(model_dir, lambda m: m["feature_schema"].update(classes=["no", "yes"]))
    with pytest.raises(ModelLoadError, match="classes"):
        load_bundle(model_dir)


def test_app_startup_fails_on_a_broken_model(bundle_copy: Any, tmp_path: Path) -> None:
    model_dir = bundle_copy()
    with (model_dir / "model.joblib").open("ab") as stream:
        stream.write(b"\0")
    with pytest.raises(ModelLoadError, match="sha256 mismatch"), serve_bundles.client(model_dir, tmp_path):
        pass
    with pytest.raises(ModelLoadError, match="metadata file not found"):
        create_app(ServeSettings(model_dir=tmp_path / "nowhere"))


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SERVE_MODEL_DIR", raising=False)
    assert ServeSettings().model_dir == Path("models")
    get_settings.cache_clear()
    monkeypatch.setenv("SERVE_MODEL_DIR", "/x/models")
    monkeypatch.setenv("SERVE_MAX_BATCH_ROWS", "1000")
    monkeypatch.setenv("SERVE_UNKNOWN_CATEGORY", "ignore")
    monkeypatch.setenv("SERVE_PREDICTION_LOG_ENABLED", "false")
    try:
        settings = get_settings()
        assert str(settings.model_dir) == "/x/models" and settings.max_batch_rows == 1000
        assert settings.unknown_category == "ignore" and settings.prediction_log_enabled is False
        assert settings.host == "127.0.0.1"
    finally:
        get_settings.cache_clear()
