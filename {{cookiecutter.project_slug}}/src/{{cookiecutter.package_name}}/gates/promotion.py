"""The deploy gate: may the candidate model (models/metadata.json) replace the model in production?

A candidate is promoted when its test metrics meet the absolute bounds of `promotion` in params.yaml and,
when a model is already in production, are not worse than the metrics that model recorded in its own
metadata.json by more than `promotion.tolerance`. The first deployment (no production model) is checked
against the bounds only. deploy.yml reads production's metadata.json from the image currently tagged
`latest` (see docs/workflows.md). `promotion.mode` (gate_mode.py): enforce blocks, warn reports a blocked
candidate and ships it, off does not evaluate the gate.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import GateMode, Paths, PromotionParams, load_params
from ..contracts import ContractFileMissingError, ModelMetadata, read_metadata
from ..gate_mode import GateOutcome
from ..metric_rules import Tolerance, compare_to_reference, higher_is_better

BLOCKED_EXIT_CODE = 1
GATE_NAME = "Deploy gate"


@dataclass(frozen=True)
class Check:
    metric: str
    rule: str  # ">= 0.9", "<= 70.0", "not worse than production 0.95 (tolerance 0.01)"
    value: float | None
    passed: bool


@dataclass(frozen=True)
class Decision:
    promote: bool
    checks: tuple[Check, ...]
    notes: tuple[str, ...]

    @property
    def message(self) -> str:
        failed = [f"{c.metric} = {_number(c.value)} fails {c.rule}" for c in self.checks if not c.passed]
        if failed:
            return "promotion blocked: " + "; ".join(failed)
        return f"promotion allowed: {len(self.checks)} check(s) passed"

    def outcome(self, mode: GateMode) -> GateOutcome:
        return GateOutcome(GATE_NAME, mode, not self.promote, self.message)

    def markdown(self, candidate_version: str, production_version: str | None, mode: GateMode) -> str:
        outcome = self.outcome(mode)
        verdict = "promote" if self.promote else "BLOCKED"
        if outcome.outcome == "warned":
            verdict = "BLOCKED, not enforced (warn mode): promoting anyway"
        lines = [
            f"### Deploy gate: {verdict}",
            "",
            outcome.headline,
            "",
            f"Candidate `{candidate_version}`; production: "
            + (f"`{production_version}`" if production_version else "none (first deployment)"),
            "",
            "| metric | candidate | rule | result |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {c.metric} | {_number(c.value)} | {c.rule} | {'pass' if c.passed else '**fail**'} |"
            for c in self.checks
        ]
        lines += [f"\n{note}" for note in self.notes]
        return "\n".join(lines) + "\n"


def _number(value: float | None) -> str:
    return "missing" if value is None else f"{value:.6g}"


def decide(
    candidate: ModelMetadata, production: ModelMetadata | None, promotion: PromotionParams
) -> Decision:
    """Pure decision from the two models' metadata (production None: first deployment) and the params."""
    metrics = candidate.metrics
    checks = [
        Check(name, f">= {bound:g}", metrics.get(name), metrics.get(name, float("-inf")) >= bound)
        for name, bound in promotion.min_metrics.items()
    ]
    checks += [
        Check(name, f"<= {bound:g}", metrics.get(name), metrics.get(name, float("inf")) <= bound)
        for name, bound in promotion.max_metrics.items()
    ]
    notes: list[str] = []
    if production is None:
        notes.append("No model in production: first deployment, checked against the bounds only.")
    elif production.feature_schema.problem_type != candidate.feature_schema.problem_type:
        notes.append(
            f"The production model is a {production.feature_schema.problem_type} model: "
            "its metrics are not comparable."
        )
    else:
        recorded = production.metrics
        for name in promotion.compare_to_production:
            if recorded.get(name) is None:
                notes.append(f"The production model recorded no {name}: not compared.")
                continue
            checks.append(_production_check(name, metrics.get(name), recorded[name], promotion.tolerance))
    return Decision(all(c.passed for c in checks), tuple(checks), tuple(notes))


def _production_check(name: str, value: float | None, production: float, tolerance: float) -> Check:
    """Not worse than production by more than the tolerance; a missing or NaN value fails."""
    if higher_is_better(name):
        rule = f">= production {production:.6g} - {tolerance:g}"
    else:
        rule = f"<= production {production:.6g} + {tolerance:g}"
    passed = (
        value is not None
        and compare_to_reference(name, value, production, Tolerance(absolute=tolerance)).acceptable
    )
    return Check(name, rule, value, passed)


def read_candidate(path: Path) -> ModelMetadata:
    try:
        return read_metadata(path)
    except ContractFileMissingError as error:
        raise ContractFileMissingError(f"{error} (run `make pipeline`)") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="promote", description=__doc__.splitlines()[0])
    parser.add_argument("--candidate", type=Path, default=Paths().metadata, help="default: %(default)s")
    parser.add_argument(
        "--production",
        type=Path,
        help="metadata.json of the model in production; omit for the first deployment",
    )
    parser.add_argument("--params", type=Path, default=Paths().params, help="default: %(default)s")
    parser.add_argument("--summary", type=Path, help="append the decision as markdown to this file")
    args = parser.parse_args(argv)
    promotion = load_params(args.params).promotion
    candidate = read_candidate(args.candidate)
    production = read_metadata(args.production) if args.production else None
    if promotion.mode == "off":
        outcome = GateOutcome.not_evaluated(GATE_NAME, "promotion.mode")
        report = f"### Deploy gate: off\n\n{outcome.headline}\n"
    else:
        decision = decide(candidate, production, promotion)
        outcome = decision.outcome(promotion.mode)
        production_version = production.model_version if production else None
        report = decision.markdown(candidate.model_version, production_version, promotion.mode)
    print(report)
    if args.summary:
        with args.summary.open("a", encoding="utf-8") as stream:
            stream.write(report)
    if outcome.blocking:
        print(f"error: {outcome.message}", file=sys.stderr)
    elif outcome.outcome == "warned":  # deploy.yml turns this line into a warning annotation
        print(f"warning: {outcome.headline}", file=sys.stderr)
    else:
        print(outcome.headline)
    return outcome.exit_code(BLOCKED_EXIT_CODE)
