"""Gate modes: how a gate's verdict becomes the result of its check, one rule for every gate.

`enforce` fails the check when the gate fails (today's behaviour, the default), `warn` reports the failure
and never fails (a team introduces a gate without blocking work on day one), `off` does not evaluate the
gate. The PR regression gate (`gate.mode`, gates/report.py), the deploy gate (`promotion.mode`,
gates/promotion.py) and the drift alert (`monitor.alert.mode`, monitor/cli.py) all decide through
`GateOutcome`, so the report, the job summary and the exit code say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .config import GateMode

Outcome = Literal["passed", "failed", "warned", "off"]


@dataclass(frozen=True)
class GateOutcome:
    """A gate's verdict (`failed`, with its reason) read in its mode; an `off` gate was not evaluated."""

    gate: str
    mode: GateMode
    failed: bool
    message: str

    @classmethod
    def not_evaluated(cls, gate: str, setting: str) -> GateOutcome:
        return cls(gate, "off", False, f"not evaluated ({setting}: off in params.yaml)")

    @property
    def outcome(self) -> Outcome:
        if self.mode == "off":
            return "off"
        if not self.failed:
            return "passed"
        return "failed" if self.mode == "enforce" else "warned"

    @property
    def blocking(self) -> bool:
        return self.outcome == "failed"

    @property
    def headline(self) -> str:
        """One line for reports, job summaries and annotations, naming the mode that decided."""
        label = f"{self.gate} ({self.mode})"
        if self.outcome == "failed":
            return f"{label}: {self.message} — blocking"
        if self.outcome == "warned":
            return f"{label}: {self.message} — not blocking"
        if self.outcome == "passed":
            return f"{label}: passed: {self.message}"
        return f"{label}: {self.message}"

    def exit_code(self, failure_code: int) -> int:
        """failure_code only when the gate failed in enforce mode; 0 otherwise."""
        return failure_code if self.blocking else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "gate": self.gate,
            "mode": self.mode,
            "outcome": self.outcome,
            "blocking": self.blocking,
            "message": self.message,
            "headline": self.headline,
        }
