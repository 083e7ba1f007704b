"""One rule for every gate: what a verdict does in each mode (enforce, warn, off)."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package_name }}.config import GateMode
from {{ cookiecutter.package_name }}.gate_mode import GateOutcome


@pytest.mark.parametrize(
    ("mode", "failed", "outcome", "code", "headline"),
    [
        ("enforce", True, "failed", 3, "Regression gate (enforce): f1 worse — blocking"),
        ("enforce", False, "passed", 0, "Regression gate (enforce): passed: f1 worse"),
        ("warn", True, "warned", 0, "Regression gate (warn): f1 worse — not blocking"),
        ("warn", False, "passed", 0, "Regression gate (warn): passed: f1 worse"),
        ("off", True, "off", 0, "Regression gate (off): f1 worse"),
    ],
)
def test_a_verdict_in_each_mode(mode: GateMode, failed: bool, outcome: str, code: int, headline: str) -> None:
    result = GateOutcome("Regression gate", mode, failed, "f1 worse")
    assert (result.outcome, result.exit_code(3), result.headline) == (outcome, code, headline)
    assert result.to_dict()["blocking"] is (code != 0)


def test_an_off_gate_says_which_setting_turned_it_off() -> None:
    result = GateOutcome.not_evaluated("Deploy gate", "promotion.mode")
    assert result.headline == "Deploy gate (off): not evaluated (promotion.mode: off in params.yaml)"
    assert result.exit_code(1) == 0
