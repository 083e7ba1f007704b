"""Load and verify the model bundle (models/model.joblib + models/metadata.json, and the model card)."""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from ..config import Paths
from ..contracts import ContractError, FeatureSchema, ModelCard, ModelMetadata, read_metadata, read_model_card
from ..pipeline.lineage import file_sha256

log = logging.getLogger(__name__)

METADATA_FILE = Paths().metadata.name
CARD_FILE = Paths().model_card.name
CARD_JSON_FILE = Paths().model_card_json.name


class ModelLoadError(RuntimeError):
    """The bundle is missing, corrupt, or inconsistent; the service must not start."""


def load_metadata(model_dir: str | Path) -> ModelMetadata:
    try:
        return read_metadata(Path(model_dir) / METADATA_FILE)
    except ContractError as error:
        raise ModelLoadError(str(error)) from error


def json_scalar(value: Any) -> Any:
    """A numpy scalar as the plain Python value JSON can carry; other values unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def _tune_for_serving(model: Any) -> None:
    """Single-threaded estimators: per-call joblib worker start-up is pure overhead for small requests."""
    try:
        params = model.get_params(deep=True)
    except Exception:  # pragma: no cover - not an sklearn estimator
        return
    jobs = {
        name: 1
        for name, value in params.items()
        if (name == "n_jobs" or name.endswith("__n_jobs")) and value not in (None, 1)
    }
    if jobs:
        try:
            model.set_params(**jobs)
        except Exception as error:  # pragma: no cover
            log.warning("could not set n_jobs=1: %s", error)


@dataclass(frozen=True)
class ModelBundle:
    """A model that matched its metadata: the same file (sha256), the same features, the same classes."""

    model: Any
    metadata: ModelMetadata
    model_dir: Path
    model_columns: list[str]  # the column order the model was fitted on
    classes: list[Any] | None  # the model's classes (= the schema's); None for regression

    @property
    def schema(self) -> FeatureSchema:
        return self.metadata.feature_schema

    @property
    def is_classification(self) -> bool:
        return self.schema.problem_type == "classification"

    @property
    def model_version(self) -> str:
        return self.metadata.model_version

    @property
    def model_path(self) -> Path:
        return self.model_dir / self.metadata.model_file


def load_bundle(model_dir: str | Path, *, metadata: ModelMetadata | None = None) -> ModelBundle:
    """Load metadata + model, verify integrity and consistency; raise ModelLoadError on any problem."""
    model_dir = Path(model_dir)
    metadata = metadata or load_metadata(model_dir)
    model_path = model_dir / metadata.model_file
    model = _load_model(model_path, metadata.model_sha256)
    schema = metadata.feature_schema
    _check_methods(model, schema, model_path)
    bundle = ModelBundle(
        model=model,
        metadata=metadata,
        model_dir=model_dir,
        model_columns=_model_columns(model, schema, model_path),
        classes=_model_classes(model, schema, model_path),
    )
    _tune_for_serving(model)
    return bundle


@dataclass(frozen=True)
class ServedCard:
    """The model card as the pipeline wrote it: the markdown as it is, and its JSON twin validated."""

    markdown: str
    card: ModelCard


def load_model_card(model_dir: str | Path, metadata: ModelMetadata) -> ServedCard | None:
    """The bundle's model card, or None when it has neither file.

    Half a card, a card that breaks its contract or the card of another model version is a ModelLoadError:
    the bundle was not made by one pipeline run."""
    markdown_path, json_path = Path(model_dir) / CARD_FILE, Path(model_dir) / CARD_JSON_FILE
    present = [path.name for path in (markdown_path, json_path) if path.is_file()]
    if not present:
        return None
    if len(present) == 1:
        raise ModelLoadError(
            f"{model_dir}: the model card is {present[0]} alone; {CARD_FILE} and {CARD_JSON_FILE} go together"
        )
    try:
        card = read_model_card(json_path)
    except ContractError as error:
        raise ModelLoadError(str(error)) from error
    if card.model_version != metadata.model_version:
        raise ModelLoadError(
            f"{json_path}: the card is of model {card.model_version}, "
            f"{METADATA_FILE} of {metadata.model_version}"
        )
    return ServedCard(markdown_path.read_text(encoding="utf-8"), card)


def _load_model(model_path: Path, expected_sha256: str) -> Any:
    if not model_path.is_file():
        raise ModelLoadError(f"{model_path}: model file not found")
    digest = file_sha256(model_path)
    if digest.lower() != expected_sha256.lower():
        raise ModelLoadError(
            f"{model_path}: sha256 mismatch: file has {digest}, metadata.json says {expected_sha256} "
            "(model file replaced or corrupted after training?)"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. InconsistentVersionWarning is reported below
            return joblib.load(model_path)
    except Exception as error:
        raise ModelLoadError(
            f"{model_path}: cannot unpickle model: {type(error).__name__}: {error}"
        ) from error


def _check_methods(model: Any, schema: FeatureSchema, model_path: Path) -> None:
    if not callable(getattr(model, "predict", None)):
        raise ModelLoadError(f"{model_path}: loaded object {type(model).__name__} has no predict()")
    if schema.problem_type == "classification" and not callable(getattr(model, "predict_proba", None)):
        raise ModelLoadError(
            f"{model_path}: schema says classification but {type(model).__name__} has no predict_proba()"
        )


def _model_columns(model: Any, schema: FeatureSchema, model_path: Path) -> list[str]:
    """The columns the model was fitted on, which must be the schema's features (in any order)."""
    names = [feature.name for feature in schema.features]
    fitted_names = getattr(model, "feature_names_in_", None)
    if fitted_names is None:
        count = getattr(model, "n_features_in_", None)
        if count is not None and count != len(names):
            raise ModelLoadError(f"{model_path}: model expects {count} features, schema lists {len(names)}")
        return names
    columns = [str(column) for column in fitted_names]
    if set(columns) != set(names) or len(columns) != len(names):
        missing = [column for column in columns if column not in names]
        extra = [name for name in names if name not in columns]
        raise ModelLoadError(
            f"{model_path}: feature names do not match metadata feature_schema: "
            f"model expects but schema lacks {missing[:10]}; schema has but model lacks {extra[:10]}"
        )
    return columns


def _model_classes(model: Any, schema: FeatureSchema, model_path: Path) -> list[Any] | None:
    if schema.problem_type != "classification":
        return None
    classes = [json_scalar(label) for label in getattr(model, "classes_", [])]
    if classes != list(schema.classes or []):
        raise ModelLoadError(
            f"{model_path}: model classes {classes} differ from metadata classes {schema.classes}"
        )
    return classes
