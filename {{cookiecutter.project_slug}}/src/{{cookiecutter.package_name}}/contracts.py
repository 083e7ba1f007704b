"""What flows between the stages, each defined once and used by every writer and reader.

- `FeatureSchema`: the features of the training table (name, kind, dtype, nullable, categories seen), the
  target, the problem type and the classes. Inferred by `train`, it builds the preprocessing, the service's
  request model and the monitor's reference profile.
- `TrainingRun` (`models/training.json`, written by `train`, read by `evaluate` and the PR report): the
  model's version, lineage (git commit, md5 of data and params), MLflow run, registered model version (with a
  tracking server) and feature schema.
- `ModelMetadata` (`models/metadata.json`, written by `evaluate`): the training run plus the model file, its
  sha256 and the test metrics. Read by the service (it refuses a model whose sha256 differs), the image
  labels, the deploy gate, the MLflow registry step and the monitor.
- `ModelCard` (`models/model_card.json`, written by the `card` stage beside its markdown twin
  `models/model_card.md`): the model's lineage for people: data version, params, metrics, data contract,
  feature schema, MLflow run, intended use and, after deploy, the image digest. Served at /model-card,
  shown in the PR report, attached to the image attestation.
- `PredictionRecord`: one line of the prediction log (JSON Lines, one line per scored row), written by the
  service (`serve/prediction_log.py`) and batch scoring (`serve/batch.py`), read by the monitor
  (`monitor/sources.py`).

Each is a frozen pydantic model that forbids unknown fields: a file or line that does not match is refused
with one message naming the file, the field and what is allowed (`ContractError`).
`python -m <package>.cli metadata FIELD` prints one field of models/metadata.json (for the workflows).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .config import ColumnKind, Paths, ProblemType, value_at
from .errors import UserError

JSONScalar = str | int | float | bool
ContractT = TypeVar("ContractT", bound=BaseModel)


class ContractError(UserError):
    """A file or log line breaks its contract: the message names the file, the field and what is allowed."""


class ContractFileMissingError(ContractError):
    """The contract's file (models/metadata.json, models/training.json or the one given instead) is absent."""


class Contract(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())


class FeatureSpec(Contract):
    name: str = Field(min_length=1)
    kind: ColumnKind
    dtype: str = "float64"
    nullable: bool = False
    categories: tuple[JSONScalar, ...] | None = None


class FeatureSchema(Contract):
    """The features in table order (the order of the service's request fields), the target and the classes."""

    target: str = Field(min_length=1)
    problem_type: ProblemType
    classes: tuple[JSONScalar, ...] | None = None
    features: tuple[FeatureSpec, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = self.names()
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate feature names: {duplicates}")
        if self.problem_type == "classification" and not self.classes:
            raise ValueError("a classification schema needs a non-empty 'classes' list")
        return self

    def names(self, kind: ColumnKind | None = None) -> list[str]:
        """Feature names in schema order, of one kind when `kind` is given."""
        return [f.name for f in self.features if kind is None or f.kind == kind]


class TrainingRun(Contract):
    """models/training.json: what `train` knows about the model it fitted."""

    model_version: str = Field(min_length=1)
    git_commit: str = "unknown"
    git_dirty: bool | None = None
    data_hash: str | None = None
    params_hash: str | None = None
    trained_at: str | None = None
    mlflow_run_id: str | None = None
    mlflow_experiment_id: str | None = None
    registered_model_name: str | None = None  # the MLflow registry's model and version (tracking server only)
    registered_model_version: str | None = None
    feature_schema: FeatureSchema


class ModelMetadata(TrainingRun):
    """models/metadata.json: the training run, the model file with its sha256, and the test metrics."""

    model_config = ConfigDict(ser_json_inf_nan="constants")  # a NaN metric stays NaN, as json.dumps writes it
    model_file: str = "model.joblib"
    model_sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$")
    metrics: dict[str, float | None] = Field(default_factory=dict)


class CardFile(Contract):
    """A file the model was made from, with the md5 DVC records for it in dvc.lock."""

    path: str = Field(min_length=1)
    md5: str = Field(pattern=r"^[0-9a-f]{32}$")
    rows: int | None = Field(default=None, ge=0)


class CardDataContract(Contract):
    """What the `validate` stage demands of the training table (params.yaml `data`)."""

    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    min_rows: int = Field(ge=0)
    declared_columns: dict[str, ColumnKind] = Field(default_factory=dict)
    dropped_columns: tuple[str, ...] = ()


class CardMlflowRun(Contract):
    run_id: str | None = None
    experiment_id: str | None = None
    model_uri: str | None = None  # runs:/<run id>/model
    registered_model_name: str | None = None
    registered_model_version: str | None = None


IntendedUseStatus = Literal["written", "placeholder", "missing"]


class CardIntendedUse(Contract):
    """The user's own text, copied verbatim from `source`; `text` is None unless it is `written`."""

    source: str = Field(min_length=1)
    status: IntendedUseStatus
    text: str | None = None

    @model_validator(mode="after")
    def _text_only_when_written(self) -> Self:
        if (self.status == "written") != (self.text is not None):
            raise ValueError("text is given exactly when status is 'written'")
        return self


class CardImage(Contract):
    """The pushed image that serves the model (recorded by deploy.yml after the push)."""

    name: str = Field(min_length=1)
    digest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")


class ModelCard(Contract):
    """models/model_card.json: the model's card, the facts of its markdown twin models/model_card.md."""

    model_config = ConfigDict(ser_json_inf_nan="constants")
    card_format: Literal[1] = 1
    model_version: str = Field(min_length=1)
    problem_type: ProblemType
    estimator: str = Field(min_length=1)
    trained_at: str | None = None
    git_commit: str = "unknown"
    git_dirty: bool | None = None
    model_file: CardFile
    data: tuple[CardFile, ...]
    params_md5: str | None = None
    params: dict[str, Any]
    metrics: dict[str, float | None]
    data_contract: CardDataContract
    feature_schema: FeatureSchema
    mlflow: CardMlflowRun
    intended_use: CardIntendedUse
    image: CardImage | None = None


class PredictionRecord(Contract):
    """One prediction-log line: one row of one /predict or /invocations request, or of a batch chunk
    (request_id `batch-<run id>-<chunk>`).

    `timestamp` is ISO-8601 in UTC, `row` the row's index in its request, `features` the row as sent (missing
    values null), `probabilities` one per class keyed by str(class) (null for regression).
    """

    timestamp: str
    request_id: str
    row: int = Field(ge=0)
    model_version: str
    features: dict[str, JSONScalar | None]
    prediction: JSONScalar
    probabilities: dict[str, float] | None = None


def describe_errors(error: ValidationError, contract: type[BaseModel], limit: int = 10) -> str:
    """'field: problem (allowed ...)' for each error, joined by '; '."""
    problems = []
    for item in error.errors()[:limit]:
        key = ".".join(str(part) for part in item["loc"]) or "<root>"
        if item["type"] == "extra_forbidden":
            allowed = _fields_at(contract, item["loc"][:-1])
            problems.append(f"{key}: unknown field (allowed: {', '.join(allowed)})")
        elif item["type"] == "missing":
            problems.append(f"{key}: required field is missing")
        else:
            got = "" if isinstance(item["input"], dict | list) else f" (got {item['input']!r})"
            problems.append(f"{key}: {item['msg'].removeprefix('Value error, ')}{got}")
    return "; ".join(problems)


def _fields_at(contract: type[BaseModel], loc: Sequence[int | str]) -> list[str]:
    """The field names of the (nested) contract at `loc`, list indexes skipped."""
    model: Any = contract
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation
        nested = [t for t in (annotation, *getattr(annotation, "__args__", ())) if _is_model(t)]
        if not nested:
            break
        model = nested[0]
    return list(model.model_fields)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _read_json_contract(path: Path, contract: type[ContractT], what: str) -> ContractT:
    if not path.is_file():
        raise ContractFileMissingError(f"{path}: {what} file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ContractError(f"{path}: cannot read {what} JSON: {error}") from None
    try:
        return contract.model_validate_json(text)
    except ValidationError as error:
        if error.errors()[0]["type"] == "json_invalid":
            raise ContractError(f"{path}: cannot read {what} JSON: {error.errors()[0]['msg']}") from None
        raise ContractError(f"{path}: invalid {what}: {describe_errors(error, contract)}") from None


def read_training_run(path: Path) -> TrainingRun:
    return _read_json_contract(path, TrainingRun, "training run")


def read_metadata(path: Path) -> ModelMetadata:
    """models/metadata.json; ContractFileMissingError when absent, ContractError naming the bad field."""
    return _read_json_contract(path, ModelMetadata, "metadata")


def read_model_card(path: Path) -> ModelCard:
    """models/model_card.json; ContractFileMissingError when absent, ContractError naming the bad field."""
    return _read_json_contract(path, ModelCard, "model card")


def write_json_contract(path: Path, record: BaseModel) -> None:
    path.write_text(record.model_dump_json(indent=2) + "\n", encoding="utf-8")


def parse_prediction_line(line: str | bytes, where: str) -> PredictionRecord:
    """One prediction-log line; `where` ("file:line") starts the error message."""
    try:
        return PredictionRecord.model_validate_json(line)
    except ValidationError as error:
        first = error.errors()[0]
        if first["type"] == "json_invalid":
            raise ContractError(f"{where}: invalid JSON ({first['msg']})") from None
        raise ContractError(
            f"{where}: not a prediction-log record: {describe_errors(error, PredictionRecord, limit=3)}"
        ) from None


def main(argv: Sequence[str] | None = None) -> None:
    """`metadata FIELD`: print one field of models/metadata.json (dotted for nested ones)."""
    parser = argparse.ArgumentParser(prog="metadata", description=main.__doc__)
    parser.add_argument("field", help="e.g. model_version, metrics.f1, feature_schema.problem_type")
    parser.add_argument("--file", type=Path, default=Paths().metadata, help="default: %(default)s")
    args = parser.parse_args(argv)
    print(value_at(read_metadata(args.file), args.field, str(args.file)))
