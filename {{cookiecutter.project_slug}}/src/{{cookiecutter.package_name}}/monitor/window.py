"""The alert window: the monitor's recent verdicts, so that one drifted batch does not page anyone.

Each run appends its verdict to a small JSON state file (monitor.yml keeps it in the Actions cache, per
branch); the drift alert (issue, retraining) is raised only when at least `monitor.alert.min_alerts` of the
last `monitor.alert.window` runs drifted or decayed. A missing state starts a fresh window; an unreadable one
too, with a warning: the state is a convenience, never a reason for the monitor to fail.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TextIO

from ..config import AlertParams

STATE_FORMAT = "monitor-alert-window"
STATE_VERSION = 1
ALERTING = frozenset({"drift", "decay", "drift and decay"})


@dataclass(frozen=True)
class WindowRun:
    """One monitor run: when (ISO time), its CI run's link (None when run by hand) and its verdict."""

    at: str
    run_url: str | None
    verdict: str

    @property
    def alerting(self) -> bool:
        return self.verdict in ALERTING

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WindowRun:
        at, run_url, verdict = data["at"], data["run_url"], data["verdict"]
        if not isinstance(at, str) or not isinstance(verdict, str) or not isinstance(run_url, str | None):
            raise TypeError(f"a run needs text at, verdict and run_url, got {dict(data)!r}")
        return cls(at, run_url, verdict)


def run_verdict(summary: Mapping[str, Any]) -> str:
    """The run's verdict from the monitor's summary: drift, decay, drift and decay, or the drift status."""
    drifted = summary["drift"]["status"] == "drift"
    decayed = (summary.get("decay") or {}).get("status") == "decay"
    if drifted and decayed:
        return "drift and decay"
    if drifted or decayed:
        return "drift" if drifted else "decay"
    return str(summary["drift"]["status"])


@dataclass(frozen=True)
class AlertWindow:
    """The last `size` runs, oldest first; it alerts when at least `min_alerts` of them drifted or decayed."""

    runs: tuple[WindowRun, ...]
    size: int
    min_alerts: int

    @classmethod
    def empty(cls, params: AlertParams) -> AlertWindow:
        return cls((), params.window, params.min_alerts)

    def append(self, run: WindowRun) -> AlertWindow:
        return AlertWindow((*self.runs, run)[-self.size :], self.size, self.min_alerts)

    @property
    def alerting_runs(self) -> int:
        return sum(run.alerting for run in self.runs)

    @property
    def alert(self) -> bool:
        return self.alerting_runs >= self.min_alerts

    @property
    def summary(self) -> str:
        return (
            f"{self.alerting_runs} of the last {len(self.runs)} run(s) drifted or decayed "
            f"(alert at {self.min_alerts} of {self.size})"
        )

    def markdown(self) -> str:
        lines = ["### Alert window", "", self.summary + ".", "", "| date | run | verdict |", "|---|---|---|"]
        for run in reversed(self.runs):  # newest first
            link = f"[run]({run.run_url})" if run.run_url else "local"
            mark = "🔴" if run.alerting else "🟢"
            lines.append(f"| {run.at} | {link} | {mark} {run.verdict} |")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {"size": self.size, "min_alerts": self.min_alerts, "runs": [asdict(run) for run in self.runs]}

    def to_json(self) -> str:
        state = {"format": STATE_FORMAT, "version": STATE_VERSION, "runs": self.to_dict()["runs"]}
        return json.dumps(state, indent=2) + "\n"


def load_window(path: Path, params: AlertParams, warnings: TextIO) -> AlertWindow:
    """The window kept in `path`, trimmed to the configured size; missing or unreadable: a fresh window."""
    window = AlertWindow.empty(params)
    if not path.is_file():
        return window
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
            raise ValueError(f"not a {STATE_FORMAT} file")
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"version {state.get('version')!r}, this monitor reads {STATE_VERSION}")
        runs = [WindowRun.from_dict(run) for run in state["runs"]]
    except (OSError, ValueError, TypeError, KeyError) as exc:
        print(
            f"monitor: warning: {path}: unreadable alert window ({exc}); starting a fresh one", file=warnings
        )
        return window
    for run in runs:
        window = window.append(run)
    return window


def save_window(path: Path, window: AlertWindow) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(window.to_json(), encoding="utf-8")
