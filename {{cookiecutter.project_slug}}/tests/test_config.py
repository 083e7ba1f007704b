from __future__ import annotations

from typing import Any

import pytest

from {{ cookiecutter.package_name }}.config import ParamsError, load_params, parse_params

from helpers import PROJECT_ROOT


def test_shipped_params_are_valid() -> None:
    params = load_params(PROJECT_ROOT / "params.yaml")
    assert params.train.estimator in {"random_forest", "logistic_regression", "gradient_boosting", "ridge"}


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda p: p["train"].update(estimatr="x"), "train.estimatr: unknown key"),
        (lambda p: p.update(trian={}), "trian: unknown key"),
        (lambda p: p["split"].update(test_size="0.2"), "split.test_size"),
        (lambda p: p["split"].update(test_size=1.5), "split.test_size"),
        (lambda p: p["split"].pop("random_state"), "split.random_state: required key is missing"),
        (lambda p: p["data"].update(columns={"a": "text"}), "data.columns.a"),
        (lambda p: p["train"].update(estimator="svm"), "train.estimator: 'svm'"),
        (lambda p: p["train"]["hyperparameters"].update(n_estimatorz=3), "n_estimatorz not a hyperparameter"),
        (lambda p: p["train"]["hyperparameters"].update(n_estimators=-1), "'n_estimators' parameter"),
        (lambda p: p.update(problem_type="ranking"), "problem_type"),
        (
            lambda p: p["gate"].update(mode="block"),
            "gate.mode: Input should be 'enforce', 'warn' or 'off' (got 'block')",
        ),
        (
            lambda p: p["promotion"].update(mode="Warn"),
            "promotion.mode: Input should be 'enforce', 'warn' or 'off'",
        ),
        (
            lambda p: p["monitor"].update(alert={"mode": "of"}),
            "monitor.alert.mode: Input should be 'enforce'",
        ),
        (lambda p: p["monitor"].update(alert={"window": 0}), "monitor.alert.window"),
        (lambda p: p["monitor"].update(alert={"windows": 3}), "monitor.alert.windows: unknown key"),
        (
            lambda p: p["monitor"].update(alert={"window": 2, "min_alerts": 3}),
            "monitor.alert: min_alerts: 3 is more than the window of 2 run(s); allowed: 1 to 2",
        ),
    ],
)
def test_bad_params_name_the_key(params_dict: dict[str, Any], change: Any, named: str) -> None:
    change(params_dict)
    with pytest.raises(ParamsError) as error:
        parse_params(params_dict)
    assert named in str(error.value)


def test_gate_modes_default_to_enforce(params_dict: dict[str, Any]) -> None:
    """params.yaml files written before gate modes keep today's behaviour: enforced, alert on 1 of 1 runs."""
    for section in (params_dict["gate"], params_dict["promotion"], params_dict["monitor"]):
        section.pop("mode", None)
        section.pop("alert", None)
    params = parse_params(params_dict)
    assert (params.gate.mode, params.promotion.mode, params.monitor.alert.mode) == ("enforce",) * 3
    assert (params.monitor.alert.window, params.monitor.alert.min_alerts) == (1, 1)


def test_sample_dataset_must_match_problem_type(params_dict: dict[str, Any]) -> None:
    other = "diabetes" if params_dict["problem_type"] == "classification" else "iris"
    params_dict["data"]["sample_dataset"] = other
    with pytest.raises(ParamsError, match=f"data.sample_dataset: '{other}'"):
        parse_params(params_dict)


def test_missing_or_broken_file(tmp_path: Any) -> None:
    with pytest.raises(ParamsError, match="not found"):
        load_params(tmp_path / "params.yaml")
    (tmp_path / "params.yaml").write_text("a: [", encoding="utf-8")
    with pytest.raises(ParamsError, match="not valid YAML"):
        load_params(tmp_path / "params.yaml")
