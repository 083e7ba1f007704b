"""The alert window: append, trim to the window, N of M, and a state file that can never crash the monitor."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.config import AlertParams
from {{ cookiecutter.package_name }}.monitor.window import (
    AlertWindow,
    WindowRun,
    load_window,
    run_verdict,
    save_window,
)

TWO_OF_THREE = AlertParams(window=3, min_alerts=2)
STATE = '{"format": "monitor-alert-window", "version": 1, "runs": %s}'


def run(day: int, verdict: str) -> WindowRun:
    return WindowRun(
        f"2026-11-{day:02d}T06:00:00+00:00", f"https://github.com/o/p/actions/runs/{day}", verdict
    )


def test_append_trims_to_the_window_and_counts_n_of_m() -> None:
    window = AlertWindow.empty(TWO_OF_THREE)
    alerts = []
    for day, verdict in enumerate(["drift", "ok", "drift", "ok", "ok", "decay", "drift and decay"], start=1):
        window = window.append(run(day, verdict))
        alerts.append(window.alert)
    assert alerts == [False, False, True, False, False, False, True]
    assert [r.verdict for r in window.runs] == ["ok", "decay", "drift and decay"]
    assert window.summary == "2 of the last 3 run(s) drifted or decayed (alert at 2 of 3)"


def test_one_of_one_alerts_on_every_drifted_run() -> None:
    window = AlertWindow.empty(AlertParams())
    assert window.append(run(1, "drift")).alert
    assert not window.append(run(1, "drift")).append(run(2, "warning")).alert


def test_saved_state_round_trips_and_a_smaller_window_trims_it(tmp_path: Path) -> None:
    state = tmp_path / "state" / "window.json"
    window = AlertWindow.empty(TWO_OF_THREE)
    for day, verdict in enumerate(["drift", "ok", "drift"], start=1):
        window = window.append(run(day, verdict))
    save_window(state, window)
    warnings = io.StringIO()
    assert load_window(state, TWO_OF_THREE, warnings) == window
    smaller = load_window(state, AlertParams(window=2, min_alerts=1), warnings)
    assert [r.verdict for r in smaller.runs] == ["ok", "drift"] and warnings.getvalue() == ""


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "Expecting property name"),
        ("[]", "not a monitor-alert-window file"),
        ('{"format": "monitor-alert-window", "version": 9, "runs": []}', "version 9"),
        (STATE % '[{"at": "2026-11-01"}]', "run_url"),
        (STATE % '[{"at": "2026-11-01", "run_url": null, "verdict": 2}]', "text"),
    ],
)
def test_an_unreadable_state_starts_a_fresh_window_with_a_warning(
    tmp_path: Path, content: str, reason: str
) -> None:
    state = tmp_path / "window.json"
    state.write_text(content)
    warnings = io.StringIO()
    window = load_window(state, TWO_OF_THREE, warnings)
    assert window == AlertWindow.empty(TWO_OF_THREE)
    [line] = warnings.getvalue().splitlines()
    assert line.startswith(f"monitor: warning: {state}: unreadable alert window (") and reason in line
    assert line.endswith("starting a fresh one")


def test_a_missing_state_is_a_fresh_window_without_a_warning(tmp_path: Path) -> None:
    warnings = io.StringIO()
    assert load_window(tmp_path / "none.json", TWO_OF_THREE, warnings).runs == ()
    assert warnings.getvalue() == ""


def test_history_newest_first_with_links() -> None:
    window = (
        AlertWindow.empty(TWO_OF_THREE).append(run(1, "drift")).append(WindowRun("2026-11-02", None, "ok"))
    )
    assert window.markdown().splitlines()[-2:] == [
        "| 2026-11-02 | local | 🟢 ok |",
        "| 2026-11-01T06:00:00+00:00 | [run](https://github.com/o/p/actions/runs/1) | 🔴 drift |",
    ]
    assert json.loads(window.to_json())["runs"][0]["verdict"] == "drift"


@pytest.mark.parametrize(
    ("drift", "decay", "verdict"),
    [
        ("drift", None, "drift"),
        ("ok", {"status": "decay"}, "decay"),
        ("drift", {"status": "decay"}, "drift and decay"),
        ("warning", {"status": "ok"}, "warning"),
        ("insufficient_data", None, "insufficient_data"),
    ],
)
def test_run_verdict(drift: str, decay: dict | None, verdict: str) -> None:
    assert run_verdict({"drift": {"status": drift}, "decay": decay}) == verdict
