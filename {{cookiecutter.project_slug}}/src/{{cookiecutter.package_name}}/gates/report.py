"""The pull-request report: metrics, params, data and plots of this branch against a base revision.

Pure functions build the comparison and the markdown; `main()` gathers the inputs from git and DVC, so the
same report runs in CI (posted by CML) and locally (`make report`). Into the output folder go `report.md`
(private: charts GitHub draws from the text, no image links, so it also renders in a job summary), the PNGs of
both sides, `images.md` (the PNGs side by side, for repositories that opt in to publishing them), `gate.json`
(the verdict in its mode: `outcome` is passed, failed, warned or off) and `gate.txt` (its one-line headline).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import GateParams, Paths, load_params
from ..contracts import ContractFileMissingError, read_model_card, read_training_run
from ..gate_mode import GateOutcome
from ..metric_rules import Tolerance, compare_to_reference, higher_is_better
from ..pipeline import card as model_card
from ..pipeline.plots import PLOT_SPECS, PlotSpec, render
from .charts import metric_change_chart, plot_section
from .data_drift import data_drift_section

# Distinct from 1 (a crash) and 2 (bad input), so CI can tell "the model got worse" from "the report broke".
GATE_FAILED_EXIT_CODE = 3
GATE_NAME = "Regression gate"
SAME = 1e-9


@dataclass(frozen=True)
class MetricRow:
    name: str
    base: float | None
    current: float | None

    @property
    def delta(self) -> float | None:
        if self.base is None or self.current is None:
            return None
        return self.current - self.base

    @property
    def verdict(self) -> str:
        if self.base is None:
            return "new"
        if self.current is None:
            return "removed"
        delta = self.delta or 0.0
        if abs(delta) <= SAME:
            return "same"
        return "better" if (delta > 0) == higher_is_better(self.name) else "worse"


@dataclass(frozen=True)
class GateResult:
    passed: bool
    metric: str
    tolerance: float
    message: str


def compare_metrics(base: Mapping[str, float] | None, current: Mapping[str, float]) -> list[MetricRow]:
    """One row per metric on either side, in the order of the current metrics, then removed ones."""
    base = base or {}
    names = list(current) + [name for name in base if name not in current]
    return [MetricRow(name, base.get(name), current.get(name)) for name in names]


def check_gate(rows: Sequence[MetricRow], gate: GateParams) -> GateResult:
    """Fail when the primary metric is worse than base by more than the tolerance (in its own units)."""
    row = next((r for r in rows if r.name == gate.primary_metric), None)
    name, tolerance = gate.primary_metric, gate.tolerance
    if row is None or row.current is None:
        return GateResult(False, name, tolerance, f"primary metric `{name}` was not produced by this branch")
    if row.base is None:
        return GateResult(
            True, name, tolerance, f"no `{name}` on the base yet (first run): nothing to compare"
        )
    comparison = compare_to_reference(name, row.current, row.base, Tolerance(absolute=tolerance))
    direction = "higher" if comparison.higher_is_better else "lower"
    summary = (
        f"`{name}` {row.base:.4f} → {row.current:.4f} ({comparison.delta:+.4f}; {direction} is better, "
        f"tolerance {tolerance:g})"
    )
    if comparison.worse:
        return GateResult(
            False, name, tolerance, f"{summary}: worse than the base by more than the tolerance"
        )
    return GateResult(True, name, tolerance, summary)


def gate_outcome(rows: Sequence[MetricRow], gate: GateParams) -> GateOutcome:
    """The regression gate read in `gate.mode`: an `off` gate is not evaluated."""
    if gate.mode == "off":
        return GateOutcome.not_evaluated(GATE_NAME, "gate.mode")
    result = check_gate(rows, gate)
    return GateOutcome(GATE_NAME, gate.mode, not result.passed, result.message)


def _number(value: float | None) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"


GATE_STATUS = {
    "passed": "✅ **Gate passed**",
    "failed": "❌ **Gate failed**: this change makes the model worse",
    "warned": "⚠️ **Gate failed, not blocking** (warn mode): this change makes the model worse",
    "off": "⚪ **Gate off**",
}

VERDICT_MARKS = {
    "better": "🟢 better",
    "worse": "🔴 worse",
    "same": "⚪ same",
    "new": "🆕 new",
    "removed": "⚫ removed",
}


def metrics_table(rows: Sequence[MetricRow], base_label: str) -> list[str]:
    lines = [f"| metric | {base_label} | this PR | Δ | |", "|---|---:|---:|---:|---|"]
    for row in rows:
        delta = "—" if row.delta is None else f"{row.delta:+.4f}"
        lines.append(
            f"| {row.name} | {_number(row.base)} | {_number(row.current)} | {delta} | "
            f"{VERDICT_MARKS[row.verdict]} |"
        )
    return lines


def params_table(changes: Mapping[str, Mapping[str, Any]]) -> list[str]:
    if not changes:
        return ["No parameter changed."]
    lines = ["| param | base | this PR |", "|---|---|---|"]
    lines += [
        f"| `{key}` | `{change.get('old')}` | `{change.get('new')}` |" for key, change in changes.items()
    ]
    return lines


def data_lines(changes: Mapping[str, Sequence[Mapping[str, str]]]) -> list[str]:
    listed = [
        (kind, item["path"])
        for kind in ("added", "modified", "deleted", "renamed")
        for item in changes.get(kind, [])
    ]
    if not listed:
        return ["No DVC-tracked data or artifact changed."]
    return [f"- {kind}: `{path}`" for kind, path in listed]


def metric_changes(rows: Sequence[MetricRow]) -> list[tuple[str, float]]:
    """Change against the base in % of the base, signed so that positive is better (non-zero bases only)."""
    changes = []
    for row in rows:
        if row.base is None or row.current is None or abs(row.base) <= SAME:
            continue
        if not (math.isfinite(row.base) and math.isfinite(row.current)):
            continue
        sign = 1.0 if higher_is_better(row.name) else -1.0
        changes.append((row.name, sign * 100 * (row.current - row.base) / abs(row.base)))
    return changes


def render_markdown(
    *,
    rows: Sequence[MetricRow],
    gate: GateOutcome,
    params: Mapping[str, Mapping[str, Any]],
    data: Mapping[str, Sequence[Mapping[str, str]]],
    plots: Sequence[str],
    base_label: str,
    run_link: str | None = None,
    data_drift: Sequence[str] = (),
) -> str:
    """The report; `plots` are markdown blocks (charts, tables) without image links: it renders anywhere."""
    lines = [f"## Experiment report: this PR vs `{base_label}`", "", GATE_STATUS[gate.outcome], ""]
    lines += [gate.headline, ""]
    if run_link:
        lines += [f"MLflow run: {run_link}", ""]
    lines += ["### Metrics (test set)", "", *metrics_table(rows, base_label), ""]
    changes = metric_changes(rows)
    if changes:
        lines += [metric_change_chart(changes), ""]
    lines += ["### Params changed", "", *params_table(params), ""]
    lines += ["### Data and artifacts changed (`dvc diff`)", "", *data_lines(data), ""]
    if data_drift:
        lines += [*data_drift, ""]
    lines += [
        "### Plots",
        "",
        f"In the charts, blue is this PR and grey is `{base_label}`.",
        "",
    ]
    for block in plots:
        lines += [block, ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def model_card_section(rows: Sequence[MetricRow], base_label: str, paths: Paths) -> str:
    """This branch's model card, collapsed, its metrics beside the base's (a line saying why if none)."""
    try:
        card = read_model_card(paths.model_card_json)
    except ContractFileMissingError:
        return f"\n### Model card\n\nNo `{paths.model_card_json}`: the pipeline's `card` stage writes it.\n"
    base = {row.name: row.base for row in rows if row.base is not None}
    status = card.intended_use.status
    flag = "" if status == "written" else f" ⚠️ intended use {status} (`{card.intended_use.source}`)"
    body = model_card.render_markdown(card, base_metrics=base or None, base_label=base_label, level=4)
    return (
        f"\n<details><summary><b>Model card</b> {card.model_version}{flag}</summary>\n\n{body}\n</details>\n"
    )


def images_markdown(images: Sequence[tuple[str, str | None, str]], base_label: str) -> str:
    """The PNGs side by side: only for a comment whose images are published (`cml comment --publish`)."""
    lines = ["### Plots (images)", "", f"| {base_label} | this PR |", "|---|---|"]
    for title, base_image, image in images:
        base_cell = f"![{title} ({base_label})]({base_image})" if base_image else "no plot on base"
        lines.append(f"| {base_cell} | ![{title} (this PR)]({image}) |")
    return "\n".join(lines) + "\n"


# --- gathering the inputs from git and DVC ------------------------------------------------------------


def _git_show(rev: str, path: str) -> str | None:
    result = subprocess.run(["git", "show", f"{rev}:{path}"], capture_output=True, text=True, check=False)
    return result.stdout if result.returncode == 0 else None


def _dvc_json(*args: str) -> dict[str, Any]:
    command = [sys.executable, "-m", "dvc", *args, "--json"]  # the DVC of this environment
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout or "{}")


def base_metrics(rev: str, paths: Paths) -> dict[str, float] | None:
    text = _git_show(rev, paths.metrics.as_posix())
    return None if text is None else json.loads(text)


PlotFrames = list[tuple[PlotSpec, pd.DataFrame, pd.DataFrame | None]]


def plot_frames(rev: str, problem_type: str, paths: Paths) -> PlotFrames:
    """Each plot's data on this branch (the workspace CSV) and on the base (its committed CSV, if any)."""
    frames = []
    for spec in PLOT_SPECS[problem_type]:
        csv = paths.plots / f"{spec.name}.csv"
        base_text = _git_show(rev, csv.as_posix())
        base = None if base_text is None else pd.read_csv(StringIO(base_text))
        frames.append((spec, pd.read_csv(csv), base))
    return frames


def render_images(frames: PlotFrames, out: Path) -> list[tuple[str, str | None, str]]:
    """Full-size PNGs of both sides into out: (title, base image or None, image) per plot."""
    rendered = []
    for spec, current, base in frames:
        render(spec, current, out / f"{spec.name}.png")
        base_image = None
        if base is not None:
            base_image = f"{spec.name}_base.png"
            render(spec, base, out / base_image)
        rendered.append((spec.title, base_image, f"{spec.name}.png"))
    return rendered


def mlflow_run_link(paths: Paths) -> str | None:
    uri = os.environ.get("MLFLOW_TRACKING_URI", "")
    if not uri.startswith(("http://", "https://")) or not paths.training_info.is_file():
        return None
    training = read_training_run(paths.training_info)
    run, experiment = training.mlflow_run_id, training.mlflow_experiment_id
    return f"{uri.rstrip('/')}/#/experiments/{experiment}/runs/{run}" if run and experiment else None


def build_report(base: str, out: Path, paths: Paths | None = None) -> GateOutcome:
    paths = paths or Paths()
    params = load_params(paths.params)
    out.mkdir(parents=True, exist_ok=True)
    current = json.loads(paths.metrics.read_text(encoding="utf-8"))
    rows = compare_metrics(base_metrics(base, paths), current)
    gate = gate_outcome(rows, params.gate)
    frames = plot_frames(base, params.problem_type, paths)
    markdown = render_markdown(
        rows=rows,
        gate=gate,
        base_label=base,
        params=_dvc_json("params", "diff", base).get(paths.params.name, {}),
        data=_dvc_json("diff", base),
        plots=["\n".join(plot_section(spec, current, base_frame)) for spec, current, base_frame in frames],
        run_link=mlflow_run_link(paths),
        data_drift=data_drift_section(base, paths, params),
    )
    markdown += model_card_section(rows, base, paths)
    (out / "report.md").write_text(markdown, encoding="utf-8")
    (out / "images.md").write_text(images_markdown(render_images(frames, out), base), encoding="utf-8")
    verdict = {**gate.to_dict(), "metric": params.gate.primary_metric, "tolerance": params.gate.tolerance}
    (out / "gate.json").write_text(json.dumps(verdict, indent=2) + "\n", encoding="utf-8")
    (out / "gate.txt").write_text(gate.headline + "\n", encoding="utf-8")
    return gate


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Report this branch's experiment against a base revision.")
    parser.add_argument("--base", default="main", help="git revision to compare with (default: main)")
    parser.add_argument("--out", type=Path, default=Path("reports/experiment"), help="output folder")
    parser.add_argument(
        "--gate",
        action="store_true",
        help=f"exit {GATE_FAILED_EXIT_CODE} when the regression gate fails in enforce mode (gate.mode)",
    )
    args = parser.parse_args(argv)
    gate = build_report(args.base, args.out)
    print((args.out / "report.md").read_text(encoding="utf-8"))
    return gate.exit_code(GATE_FAILED_EXIT_CODE) if args.gate else 0
