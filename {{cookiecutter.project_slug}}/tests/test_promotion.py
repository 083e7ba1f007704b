"""The deploy gate: bounds, no regression against production, first deployment, params checks, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from {{ cookiecutter.package_name }}.config import ParamsError, PromotionParams, parse_params
from {{ cookiecutter.package_name }}.contracts import ModelMetadata
from {{ cookiecutter.package_name }}.gates.promotion import BLOCKED_EXIT_CODE, decide, main

GATE = PromotionParams(
    min_metrics={"f1": 0.9},
    max_metrics={"log_loss": 0.3},
    compare_to_production=["f1", "log_loss"],
    tolerance=0.01,
)


def metadata_dict(version: str, problem_type: str = "classification", **metrics: float) -> dict[str, Any]:
    schema = {
        "target": "target",
        "problem_type": problem_type,
        "classes": [0, 1] if problem_type == "classification" else None,
        "features": [{"name": "x", "kind": "numeric"}],
    }
    return {"model_version": version, "model_sha256": "0" * 64, "metrics": metrics, "feature_schema": schema}


def metadata(version: str, problem_type: str = "classification", **metrics: float) -> ModelMetadata:
    return ModelMetadata.model_validate(metadata_dict(version, problem_type, **metrics))


def test_first_deployment_checks_the_bounds_only() -> None:
    decision = decide(metadata("new", f1=0.91, log_loss=0.2), None, GATE)
    assert decision.promote and [c.metric for c in decision.checks] == ["f1", "log_loss"]
    assert "first deployment" in decision.notes[0]
    blocked = decide(metadata("new", f1=0.85, log_loss=0.2), None, GATE)
    assert not blocked.promote and blocked.message == "promotion blocked: f1 = 0.85 fails >= 0.9"


def test_not_worse_than_production_knows_the_direction() -> None:
    production = metadata("old", f1=0.95, log_loss=0.10)
    assert decide(metadata("new", f1=0.945, log_loss=0.105), production, GATE).promote  # within tolerance
    worse_f1 = decide(metadata("new", f1=0.93, log_loss=0.10), production, GATE)
    assert not worse_f1.promote and "f1 = 0.93 fails >= production 0.95 - 0.01" in worse_f1.message
    worse_loss = decide(metadata("new", f1=0.96, log_loss=0.2), production, GATE)
    assert not worse_loss.promote and "log_loss = 0.2 fails <= production 0.1 + 0.01" in worse_loss.message


def test_missing_metrics_and_other_problem_types() -> None:
    missing = decide(metadata("new", log_loss=0.1), None, GATE)
    assert not missing.promote and "f1 = missing" in missing.message
    production = metadata("old", "regression", rmse=50.0)
    decision = decide(metadata("new", f1=0.95, log_loss=0.1), production, GATE)
    assert decision.promote and "not comparable" in decision.notes[0]
    unrecorded = decide(metadata("new", f1=0.95, log_loss=0.1), metadata("old", f1=0.99), GATE)
    assert not unrecorded.promote  # f1 is compared and worse; log_loss was not recorded: noted
    assert any("recorded no log_loss" in note for note in unrecorded.notes)


@pytest.mark.parametrize(
    ("promotion", "message"),
    [
        ({"min_metrics": {"bogus": 1.0}}, "promotion.min_metrics: 'bogus' is not a"),
        ({"compare_to_production": ["nope"]}, "promotion.compare_to_production: 'nope' is not a"),
        ({"unknown": 1}, "promotion.unknown: unknown key"),
        ({"tolerance": -1}, "promotion.tolerance"),
    ],
)
def test_bad_promotion_params_name_the_key(
    params_dict: dict[str, Any], promotion: dict, message: str
) -> None:
    params_dict["promotion"] = promotion
    with pytest.raises(ParamsError, match=message):
        parse_params(params_dict)


def test_bounds_must_follow_the_direction(params_dict: dict[str, Any], problem_type: str) -> None:
    lower_better = "log_loss" if problem_type == "classification" else "rmse"
    params_dict["promotion"] = {"min_metrics": {lower_better: 1.0}}
    with pytest.raises(ParamsError, match=f"lower is better for '{lower_better}'.*promotion.max_metrics"):
        parse_params(params_dict)


def test_cli_exit_codes(tmp_path: Path, params_dict: dict[str, Any], problem_type: str) -> None:
    params = parse_params(params_dict).promotion
    good = {name: bound + 1 for name, bound in params.min_metrics.items()}
    good |= {name: bound - 1 for name, bound in params.max_metrics.items()}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params_dict))
    candidate, production = tmp_path / "candidate.json", tmp_path / "production.json"
    candidate.write_text(json.dumps(metadata_dict("new", problem_type, **good)))
    summary = tmp_path / "summary.md"
    argv = [
        "--candidate",
        str(candidate),
        "--params",
        str(tmp_path / "params.yaml"),
        "--summary",
        str(summary),
    ]
    assert main(argv) == 0
    assert "Deploy gate: promote" in summary.read_text()
    # Bounds the candidate misses in each direction: at least higher minimums, or lower maximums.
    params_dict["promotion"]["min_metrics"] = {name: good[name] + 10 for name in params.min_metrics}
    params_dict["promotion"]["max_metrics"] = {name: good[name] - 10 for name in params.max_metrics}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params_dict))
    assert params.min_metrics or params.max_metrics
    assert main(argv) == BLOCKED_EXIT_CODE
    production.write_text("not json")
    with pytest.raises(ValueError, match=r"production\.json: cannot read metadata JSON"):
        main([*argv, "--production", str(production)])


def test_module_entry_point_exits_1_with_the_reason(
    tmp_path: Path, params_dict: dict[str, Any], problem_type: str
) -> None:
    """What deploy.yml runs: `python -m <package>.cli promote`."""
    bounds = parse_params(params_dict).promotion
    metrics = {name: bound - 1 for name, bound in bounds.min_metrics.items()}  # below every minimum
    metrics |= {name: bound + 1 for name, bound in bounds.max_metrics.items()}  # above every maximum
    (tmp_path / "candidate.json").write_text(json.dumps(metadata_dict("new", problem_type, **metrics)))
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params_dict))
    result = subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.package_name }}.cli", "promote", "--candidate", "candidate.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == BLOCKED_EXIT_CODE, result.stderr
    assert result.stderr.startswith("error: promotion blocked: ") and "first deployment" in result.stdout


@pytest.mark.parametrize(
    ("mode", "code", "title", "stderr"),
    [
        ("enforce", BLOCKED_EXIT_CODE, "### Deploy gate: BLOCKED", "error: promotion blocked: "),
        (
            "warn",
            0,
            "### Deploy gate: BLOCKED, not enforced (warn mode): promoting anyway",
            "warning: Deploy gate (warn): promotion",
        ),
        ("off", 0, "### Deploy gate: off", ""),
    ],
)
def test_a_blocked_candidate_in_each_mode(
    tmp_path: Path,
    params_dict: dict[str, Any],
    problem_type: str,
    capsys: pytest.CaptureFixture[str],
    mode: str,
    code: int,
    title: str,
    stderr: str,
) -> None:
    bounds = parse_params(params_dict).promotion
    metrics = {name: bound - 1 for name, bound in bounds.min_metrics.items()}  # below every minimum
    metrics |= {name: bound + 1 for name, bound in bounds.max_metrics.items()}  # above every maximum
    (tmp_path / "candidate.json").write_text(json.dumps(metadata_dict("new", problem_type, **metrics)))
    params_dict["promotion"]["mode"] = mode
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params_dict))
    summary = tmp_path / "summary.md"
    argv = ["--candidate", str(tmp_path / "candidate.json"), "--params", str(tmp_path / "params.yaml")]
    assert main([*argv, "--summary", str(summary)]) == code
    report = summary.read_text()
    assert report.startswith(title + "\n")
    errors = capsys.readouterr().err
    assert errors.startswith(stderr) if stderr else errors == ""
    if mode == "warn":
        assert "— not blocking" in report and "| **fail** |" in report
    if mode == "off":
        assert "Deploy gate (off): not evaluated (promotion.mode: off in params.yaml)" in report
        assert "| **fail** |" not in report
