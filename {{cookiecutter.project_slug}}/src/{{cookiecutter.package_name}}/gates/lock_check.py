"""The dvc.lock policy: a branch commits the dvc.lock that its own pipeline run produced.

CI checks it before reproducing: a stage whose code, params or input data changed since dvc.lock was
written means the committed results (dvc.lock, metrics, plots) are not this branch's. Outputs that are
merely absent (no cache on this machine) are not a violation.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

STALE_DEP_STATES = frozenset({"modified", "new"})
STALE_STAGE_STATES = frozenset({"changed command", "changed checksum"})
UNLOCKED = "not in dvc.lock (never run, or changed on both sides of a merge): it must re-run"
FIX = (
    "Policy: a pull request commits the dvc.lock its pipeline produced.\n"
    "Fix: run `make pipeline` (dvc repro) locally, then commit dvc.lock, metrics/ and plots/ and push."
)


def stale_stages(status: Mapping[str, Any]) -> dict[str, list[str]]:
    """Per stage, why dvc.lock no longer matches (from `dvc status --json`); empty when it matches."""
    stale: dict[str, list[str]] = {}
    for stage, entries in status.items():
        reasons: list[str] = []
        for entry in entries:
            if isinstance(entry, str):
                reasons += [entry] if entry in STALE_STAGE_STATES else []
                continue
            for path, change in entry.get("changed deps", {}).items():
                if isinstance(change, dict):  # a params file: key -> state
                    reasons += [f"param {key} {state}" for key, state in change.items()]
                elif change in STALE_DEP_STATES:
                    reasons.append(f"{path} {change}")
        if reasons:
            stale[stage] = reasons
    return stale


def mark_unlocked(stale: dict[str, list[str]], locked: Iterable[str]) -> dict[str, list[str]]:
    """Stages with no entry in dvc.lock (never run, or left out by the merge driver) say so, not every dep."""
    locked = set(locked)
    return {stage: reasons if stage in locked else [UNLOCKED] for stage, reasons in stale.items()}


def describe(stale: Mapping[str, list[str]]) -> str:
    lines = ["dvc.lock does not match this branch for stage(s):"]
    lines += [f"  {stage}: {', '.join(reasons)}" for stage, reasons in stale.items()]
    return "\n".join([*lines, FIX])


def main() -> int:
    command = [sys.executable, "-m", "dvc", "status", "--json"]  # the DVC of this environment
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    lock = Path("dvc.lock")
    locked = (yaml.safe_load(lock.read_text()) or {}).get("stages", {}) if lock.exists() else {}
    stale = mark_unlocked(stale_stages(json.loads(result.stdout or "{}")), locked)
    if stale:
        print(describe(stale), file=sys.stderr)
        return 1
    print("dvc.lock matches the code, params and data of this branch.")
    return 0
