"""Strict, typed view of params.yaml and the project's fixed paths.

Every section is a frozen pydantic model that forbids unknown keys, so a typo in params.yaml is an error
that names the key instead of a silently ignored setting.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .errors import UserError
from .estimators import ESTIMATORS, check_hyperparameters
from .metric_rules import METRIC_NAMES, higher_is_better

ProblemType = Literal["classification", "regression"]
ColumnKind = Literal["numeric", "categorical"]
# What a gate's failure does (gate_mode.py): enforce fails the check, warn reports it, off skips the gate.
GateMode = Literal["enforce", "warn", "off"]
SAMPLE_DATASETS: dict[str, ProblemType] = {
    "breast_cancer": "classification",
    "iris": "classification",
    "wine": "classification",
    "diabetes": "regression",
}


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class DataParams(StrictModel):
    sample_dataset: Literal["breast_cancer", "iris", "wine", "diabetes"]
    path: str = Field(min_length=1)
    target: str = Field(min_length=1)
    columns: dict[str, ColumnKind] = Field(default_factory=dict)
    drop: list[str] = Field(default_factory=list)
    min_rows: int = Field(default=50, ge=10)


class SplitParams(StrictModel):
    test_size: float = Field(gt=0, lt=1)
    random_state: int


class TrainParams(StrictModel):
    estimator: str
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    random_state: int


class EvaluateParams(StrictModel):
    importance_repeats: int = Field(default=5, ge=1, le=50)


class GateParams(StrictModel):
    """The PR regression gate: fail when primary_metric is worse than the base by more than tolerance."""

    primary_metric: str
    tolerance: float = Field(ge=0)
    mode: GateMode = "enforce"


class MlflowParams(StrictModel):
    tracking: Literal["local", "server"]
    experiment_name: str = Field(min_length=1)


class PromotionParams(StrictModel):
    """The deploy gate (promotion.py): bounds on the test metrics, and no regression against production."""

    min_metrics: dict[str, float] = Field(default_factory=dict)
    max_metrics: dict[str, float] = Field(default_factory=dict)
    compare_to_production: list[str] = Field(default_factory=list)
    tolerance: float = Field(default=0.0, ge=0)
    mode: GateMode = "enforce"


class ProfileParams(StrictModel):
    """How the `profile` stage summarises the training split (see monitor/profile.py)."""

    psi_bins: int = Field(default=10, ge=2, le=100)
    max_exact: int = Field(default=200_000, ge=1)
    sketch_size: int = Field(default=10_000, ge=100)


class CurrentDataParams(StrictModel):
    """Where the monitor reads the data the model saw in production."""

    kind: Literal["prediction_log", "files"]
    path: str = Field(min_length=1)
    glob: str | None = Field(default=None, min_length=1)
    window_days: float | None = Field(default=None, gt=0)

    @property
    def source(self) -> str:
        return f"{self.path.rstrip('/')}/{self.glob}" if self.glob else self.path


class ThresholdsError(UserError):
    """Thresholds given to the monitor (not through params.yaml) are invalid."""


class DriftThresholds(StrictModel):
    """Thresholds of the monitor's drift and decay verdicts (`monitor.thresholds` in params.yaml).

    Defaults and why:

    - alpha = 0.05: false-discovery rate of the Benjamini-Hochberg correction over all features'
      distribution tests (and, separately, over the missing-rate tests).
    - psi_threshold = 0.1: conventional PSI reading: < 0.1 no meaningful shift, 0.1-0.25 moderate,
      > 0.25 major.
    - ks_threshold = 0.1: KS distance (max ECDF gap) of 0.1 = 10 percentage points of probability mass
      moved; a 0.25 sd mean shift of a normal gives ~0.1, a 0.02 sd shift only ~0.008.
    - cramers_v_threshold = 0.1: Cohen's "small effect" for a 2xK table.
    - new_category_share_threshold = 0.01: 1 % of current rows in categories never seen in training is a
      real change.
    - missing_rate_threshold = 0.05: the missing-value rate must change by >= 5 percentage points (and
      significantly).
    - min_samples = 30: below that many current rows (non-missing, per feature) a test is not run:
      `insufficient_data`.
    - share_threshold = 0.3: dataset drift when >= 30 % of the evaluated features drift. BH + the
      effect-size gate make false feature alarms rare, so 30 % (Evidently uses 50 %) is already a broad
      shift.
    - critical_features = (): drift in any one of these makes the dataset verdict "drift".
    - rare_category_min_expected = 5.0: chi-square: categories whose expected count is < 5 in either row
      are merged into one "other" cell (Cochran's rule), which keeps the test valid on long tails.
    - decay_relative_tolerance = 0.05, decay_absolute_tolerance = 0.02: a metric decays when it is worse
      than the training (test-set) metric by more than max(absolute, relative * |training value|), in its
      "bad" direction (metric_rules.Tolerance).
    - min_labeled_rows = 30: decay is evaluated only with at least that many labelled predictions.
    """

    alpha: float = Field(default=0.05, gt=0, le=1)
    psi_threshold: float = Field(default=0.1, ge=0, allow_inf_nan=False)
    ks_threshold: float = Field(default=0.1, ge=0, le=1)
    cramers_v_threshold: float = Field(default=0.1, ge=0, le=1)
    new_category_share_threshold: float = Field(default=0.01, ge=0, le=1)
    missing_rate_threshold: float = Field(default=0.05, ge=0, le=1)
    min_samples: int = Field(default=30, ge=1)
    share_threshold: float = Field(default=0.3, gt=0, le=1)
    # YAML gives a list: accepted (strict mode would only take a tuple), stored as a tuple.
    critical_features: tuple[str, ...] = Field(default=(), strict=False)
    rare_category_min_expected: float = Field(default=5.0, ge=0, allow_inf_nan=False)
    decay_relative_tolerance: float = Field(default=0.05, ge=0, allow_inf_nan=False)
    decay_absolute_tolerance: float = Field(default=0.02, ge=0, allow_inf_nan=False)
    min_labeled_rows: int = Field(default=30, ge=1)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> DriftThresholds:
        """Build from a mapping; an unknown key or a bad value is one ThresholdsError line naming it."""
        try:
            return cls.model_validate(dict(data or {}))
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in item['loc'])}: {item['msg']}" for item in error.errors()
            )
            raise ThresholdsError(f"invalid monitor thresholds: {problems}") from None

    def to_dict(self) -> dict[str, Any]:
        data = self.model_dump()
        data["critical_features"] = list(self.critical_features)
        return data


class AlertParams(StrictModel):
    """The drift alert (issue, retraining): raised when at least min_alerts of the last window runs drifted or
    decayed (monitor/window.py); 1 of 1 alerts on every drifted run."""

    mode: GateMode = "enforce"
    window: int = Field(default=1, ge=1, le=100)
    min_alerts: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _fits_the_window(self) -> AlertParams:
        if self.min_alerts > self.window:
            raise ValueError(
                f"min_alerts: {self.min_alerts} is more than the window of {self.window} run(s); "
                f"allowed: 1 to {self.window}"
            )
        return self


class MonitorParams(StrictModel):
    profile: ProfileParams
    current: CurrentDataParams
    labels: str | None = Field(default=None, min_length=1)
    thresholds: DriftThresholds = Field(default_factory=DriftThresholds)
    alert: AlertParams = Field(default_factory=AlertParams)


class Params(StrictModel):
    problem_type: ProblemType
    data: DataParams
    split: SplitParams
    train: TrainParams
    evaluate: EvaluateParams
    gate: GateParams
    mlflow: MlflowParams
    promotion: PromotionParams
    monitor: MonitorParams

    @model_validator(mode="after")
    def _consistent(self) -> Params:
        sample_type = SAMPLE_DATASETS[self.data.sample_dataset]
        if sample_type != self.problem_type:
            allowed = sorted(k for k, v in SAMPLE_DATASETS.items() if v == self.problem_type)
            raise ValueError(
                f"data.sample_dataset: {self.data.sample_dataset!r} is a {sample_type} dataset but "
                f"problem_type is {self.problem_type!r}; allowed: {', '.join(allowed)}"
            )
        estimators = ESTIMATORS[self.problem_type]
        if self.train.estimator not in estimators:
            raise ValueError(
                f"train.estimator: {self.train.estimator!r} is not a {self.problem_type} estimator; "
                f"allowed: {', '.join(sorted(estimators))}"
            )
        check_hyperparameters(self.problem_type, self.train.estimator, self.train.hyperparameters)
        metric_names = METRIC_NAMES[self.problem_type]
        if self.gate.primary_metric not in metric_names:
            raise ValueError(
                f"gate.primary_metric: {self.gate.primary_metric!r} is not a {self.problem_type} metric; "
                f"allowed: {', '.join(metric_names)}"
            )
        return self

    @model_validator(mode="after")
    def _promotion_metrics(self) -> Params:
        allowed = METRIC_NAMES[self.problem_type]
        sections = {
            "min_metrics": (self.promotion.min_metrics, True),
            "max_metrics": (self.promotion.max_metrics, False),
            "compare_to_production": (self.promotion.compare_to_production, None),
        }
        for section, (names, higher) in sections.items():
            for name in names:
                if name not in allowed:
                    raise ValueError(
                        f"promotion.{section}: {name!r} is not a {self.problem_type} metric; "
                        f"allowed: {', '.join(allowed)}"
                    )
                if higher is not None and higher_is_better(name) != higher:
                    other = "max_metrics" if higher else "min_metrics"
                    raise ValueError(
                        f"promotion.{section}: {'lower' if higher else 'higher'} is better for {name!r}; "
                        f"bound it under promotion.{other}"
                    )
        return self


class ParamsError(UserError):
    """params.yaml is missing, not YAML, or does not match the schema; the message names each bad key."""


def _format_error(path: Path, error: ValidationError) -> str:
    lines = [f"{path}: {error.error_count()} invalid setting(s)"]
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"])
        if not key:  # cross-field checks name their keys in the message
            lines.append(f"  {item['msg'].removeprefix('Value error, ')}")
        elif item["type"] == "extra_forbidden":
            lines.append(
                f"  {key}: unknown key (misspelt? the comments in params.yaml list the allowed keys)"
            )
        elif item["type"] == "missing":
            lines.append(f"  {key}: required key is missing")
        elif item["type"] == "value_error":  # a model's own check: its message names the values
            lines.append(f"  {key}: {item['msg'].removeprefix('Value error, ')}")
        else:
            lines.append(f"  {key}: {item['msg']} (got {item['input']!r})")
    return "\n".join(lines)


def parse_params(raw: Any, source: Path = Path("params.yaml")) -> Params:
    if not isinstance(raw, dict):
        raise ParamsError(
            f"{source}: expected a mapping of sections at the top level, got {type(raw).__name__}"
        )
    try:
        return Params.model_validate(raw)
    except ValidationError as error:
        raise ParamsError(_format_error(source, error)) from None


def load_params(path: Path | str = "params.yaml") -> Params:
    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: not found (run from the project root)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ParamsError(f"{path}: not valid YAML: {error}") from None
    return parse_params(raw, path)


@dataclass(frozen=True)
class Paths:
    """Where each stage reads and writes, relative to the project root."""

    root: Path = Path()

    @property
    def sample(self) -> Path:
        return self.root / "data" / "sample" / "sample.csv"

    @property
    def validated(self) -> Path:
        return self.root / "data" / "interim" / "validated.parquet"

    @property
    def train(self) -> Path:
        return self.root / "data" / "processed" / "train.parquet"

    @property
    def test(self) -> Path:
        return self.root / "data" / "processed" / "test.parquet"

    @property
    def model(self) -> Path:
        return self.root / "models" / "model.joblib"

    @property
    def training_info(self) -> Path:
        return self.root / "models" / "training.json"

    @property
    def metadata(self) -> Path:
        return self.root / "models" / "metadata.json"

    @property
    def model_card(self) -> Path:
        return self.root / "models" / "model_card.md"

    @property
    def model_card_json(self) -> Path:
        return self.root / "models" / "model_card.json"

    @property
    def intended_use(self) -> Path:
        """The model card's intended use and limits: people write it, the `card` stage copies it verbatim."""
        return self.root / "docs" / "model_card_intended_use.md"

    @property
    def reference_profile(self) -> Path:
        return self.root / "models" / "reference_profile.npz"

    @property
    def monitoring(self) -> Path:
        return self.root / "reports" / "monitoring"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics" / "metrics.json"

    @property
    def plots(self) -> Path:
        return self.root / "plots"

    @property
    def params(self) -> Path:
        return self.root / "params.yaml"


def value_at(record: BaseModel, key: str, source: str) -> str:
    """The value at a dotted key (`data.path`, `metrics.f1`) of a validated record, as the shell reads it:
    text as it is, mappings and lists as JSON."""
    value: Any = record
    for depth, part in enumerate(key.split(".")):
        if isinstance(value, BaseModel) and part in type(value).model_fields:
            value = getattr(value, part)
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            where = ".".join(key.split(".")[:depth]) or "the top level"
            keys = list(type(value).model_fields) if isinstance(value, BaseModel) else list(value or {})
            raise UserError(f"{source}: no key {key!r}; keys at {where}: {', '.join(keys) or 'none'}")
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if isinstance(value, dict | list | tuple):
        return json.dumps(value)
    return str(value)


def main(argv: Sequence[str] | None = None) -> None:
    """`params`: validate params.yaml on its own (`make pipeline` runs this before `dvc repro`).
    `params KEY`: print one validated value, e.g. `params data.path` (for the workflows).

    DVC re-runs a stage only when the keys it lists change, so without this a misspelt extra key would go
    unnoticed until some stage happens to run.
    """
    parser = argparse.ArgumentParser(prog="params", description=main.__doc__)
    parser.add_argument("key", nargs="?", help="dotted key, e.g. data.path; omit to validate only")
    args = parser.parse_args(argv)
    params = load_params()
    if args.key:
        print(value_at(params, args.key, "params.yaml"))
        return
    print(f"params.yaml: valid ({params.problem_type}, estimator {params.train.estimator})")
