"""Outputs: JSON-serialisable summary dict, markdown summary, self-contained HTML report.

The HTML has inline CSS and inline SVG plots only: no external URL, script, font or image.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from .decay import DecayResult
from .drift import ColumnDrift, DriftResult

SUMMARY_FORMAT = "drift-monitor-summary"
SUMMARY_VERSION = 1
REFERENCE_COLOR = "#4c72b0"
CURRENT_COLOR = "#dd8452"


def overall_status(drift: DriftResult, decay: DecayResult | None) -> str:
    """ "alert" when drift or decay is found, else the drift status (ok / warning / insufficient_data)."""
    if drift.status == "drift" or (decay is not None and decay.status == "decay"):
        return "alert"
    return drift.status


def build_summary(
    drift: DriftResult,
    decay: DecayResult | None,
    *,
    model_version: str | None = None,
    profile_created_at: str | None = None,
    generated_at: str | None = None,
    source: str | None = None,
) -> dict[str, Any]:
    """Stable-key, JSON-serialisable summary."""
    return {
        "format": SUMMARY_FORMAT,
        "format_version": SUMMARY_VERSION,
        "generated_at": generated_at,
        "model_version": model_version,
        "profile_created_at": profile_created_at,
        "source": source,
        "status": overall_status(drift, decay),
        "drift": drift.to_dict(),
        "decay": decay.to_dict() if decay is not None else None,
        "thresholds": drift.thresholds.to_dict(),
    }


def to_json(summary: Mapping[str, Any]) -> str:
    return json.dumps(summary, indent=2, sort_keys=False, allow_nan=False, default=str)


# ----------------------------------------------------------------------------- formatting


def format_value(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, float):
        return str(value)
    if value != 0 and abs(value) < 10 ** (-digits):
        return f"{value:.2e}"
    return f"{value:.{digits}f}"


def _effect(column: ColumnDrift) -> str:
    if column.test == "ks":
        return f"KS D={format_value(column.statistic)}"
    if column.test == "chi2":
        effect = f"V={format_value(column.cramers_v)}"
        if column.new_category_share:
            effect += f", new={format_value(column.new_category_share)}"
        return effect
    return "-"


def _columns(drift: DriftResult) -> list[ColumnDrift]:
    return drift.features + ([drift.prediction] if drift.prediction else [])


def _display_name(column: ColumnDrift) -> str:
    role = " (prediction)" if column.role == "prediction" else ""
    return column.name + role + (" ★" if column.critical else "")


def _headline(summary: Mapping[str, Any]) -> list[str]:
    drift = summary["drift"]
    prediction_drift = format_value(drift["prediction_drift"]) if drift["prediction"] else "not evaluated"
    lines = [
        f"Status: {summary['status'].upper()}",
        f"Dataset drift: {format_value(drift['dataset_drift'])} ({drift['n_drifted']} of "
        f"{drift['n_evaluated']} evaluated features drifted, share {format_value(drift['share_drifted'])}, "
        f"threshold {format_value(summary['thresholds']['share_threshold'])})",
        f"Prediction drift: {prediction_drift}",
    ]
    if drift["critical_drifted"]:
        lines.append("Critical features drifted: " + ", ".join(drift["critical_drifted"]))
    decay = summary.get("decay")
    if decay is None:
        lines.append("Performance decay: not evaluated (no labels)")
    else:
        lines.append(
            f"Performance decay: {decay['status']} ({decay['n_labeled']} labelled rows"
            + (f"; decayed: {', '.join(decay['decayed_metrics'])}" if decay["decayed_metrics"] else "")
            + ")"
        )
    return lines


# ----------------------------------------------------------------------------- markdown


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(summary: Mapping[str, Any], drift: DriftResult) -> str:
    lines = ["# Drift monitoring report", ""]
    about = [
        f"model version `{summary.get('model_version')}`",
        f"generated {summary.get('generated_at')}",
        f"{drift.n_current_rows} current rows",
    ]
    lines += ["**" + line + "**  " if i == 0 else line + "  " for i, line in enumerate(_headline(summary))]
    lines += [
        "",
        "_" + ", ".join(about) + "_",
        "",
        "## Features",
        "",
        "| feature | kind | test | statistic | p-value (BH) | PSI | effect | missing ref → cur | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for column in _columns(drift):
        cells = [
            _display_name(column),
            column.kind,
            column.test or "-",
            format_value(column.statistic),
            format_value(column.p_value_adj),
            format_value(column.psi),
            _effect(column),
            f"{format_value(column.missing_rate_reference)} → {format_value(column.missing_rate_current)}",
            ("**DRIFT**" if column.verdict == "drift" else column.verdict),
        ]
        lines.append("| " + " | ".join(_markdown_cell(cell) for cell in cells) + " |")
    drifted = [column for column in _columns(drift) if column.verdict == "drift"]
    if drifted:
        lines += ["", "### Why", ""]
        lines += [f"- `{column.name}`: {'; '.join(column.reasons)}" for column in drifted]
    decay = summary.get("decay")
    if decay is not None:
        lines += [
            "",
            "## Performance",
            "",
            f"{decay['status']} on {decay['n_labeled']} labelled rows. {decay['message']}".strip(),
            "",
        ]
        if decay["metrics"]:
            lines += [
                "| metric | training | current | delta | tolerance | decayed |",
                "|---|---|---|---|---|---|",
            ]
            for metric in decay["metrics"]:
                lines.append(
                    f"| {metric['name']} {'↑' if metric['higher_is_better'] else '↓'} | "
                    f"{format_value(metric['training'])} | {format_value(metric['current'])} | "
                    f"{format_value(metric['delta'])} | {format_value(metric['tolerance'])} | "
                    f"{'**yes**' if metric['decayed'] else 'no'} |"
                )
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- SVG plots


def _svg_frame(width: int, height: int, body: list[str], title: str) -> str:
    return (
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{html.escape(title)}">'
        + "".join(body)
        + "</svg>"
    )


def _legend(x: int, y: int) -> list[str]:
    return [
        f'<rect x="{x}" y="{y}" width="10" height="10" fill="{REFERENCE_COLOR}" fill-opacity="0.55"/>',
        f'<text x="{x + 14}" y="{y + 9}" class="lg">reference</text>',
        f'<rect x="{x + 90}" y="{y}" width="10" height="10" fill="{CURRENT_COLOR}" fill-opacity="0.55"/>',
        f'<text x="{x + 104}" y="{y + 9}" class="lg">current</text>',
    ]


def svg_histogram(
    edges: Sequence[float],
    reference: Sequence[float],
    current: Sequence[float],
    title: str,
    width: int = 520,
    height: int = 220,
) -> str:
    """Overlaid reference/current histograms (proportions) as inline SVG."""
    left, right, top, bottom = 40, 10, 24, 30
    plot_width, plot_height = width - left - right, height - top - bottom
    largest = max(max(reference, default=0), max(current, default=0)) or 1.0
    bar_width = plot_width / max(len(reference), 1)
    body = [
        f'<rect x="{left}" y="{top}" width="{plot_width}" height="{plot_height}" fill="#fff" stroke="#ccc"/>'
    ]
    for series, color in ((reference, REFERENCE_COLOR), (current, CURRENT_COLOR)):
        for i, share in enumerate(series):
            bar_height = plot_height * share / largest
            body.append(
                f'<rect x="{left + i * bar_width:.2f}" y="{top + plot_height - bar_height:.2f}" '
                f'width="{max(bar_width - 0.5, 0.5):.2f}" height="{bar_height:.2f}" fill="{color}" '
                'fill-opacity="0.55"/>'
            )
    for fraction in (0.0, 0.5, 1.0):
        tick = edges[0] + fraction * (edges[-1] - edges[0])
        body.append(
            f'<text x="{left + fraction * plot_width:.1f}" y="{height - 10}" text-anchor="middle" class="ax">'
            f"{format_value(float(tick), 2)}</text>"
        )
    body.append(
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" class="ax">'
        f"{format_value(float(largest), 2)}</text>"
    )
    body.append(f'<text x="{left - 4}" y="{top + plot_height}" text-anchor="end" class="ax">0</text>')
    body += _legend(left + plot_width - 190, 6)
    return _svg_frame(width, height, body, title)


def svg_bars(
    categories: Sequence[str],
    reference: Sequence[float],
    current: Sequence[float],
    title: str,
    width: int = 520,
) -> str:
    """Horizontal paired bars (reference vs current proportion) per category."""
    row_height, left, right, top = 22, 150, 60, 24
    height = top + row_height * len(categories) + 10
    plot_width = width - left - right
    largest = max(max(reference, default=0), max(current, default=0)) or 1.0
    body: list[str] = []
    rows = zip(categories, reference, current, strict=False)
    for i, (category, reference_share, current_share) in enumerate(rows):
        y = top + i * row_height
        label = category if len(category) <= 22 else category[:21] + "…"
        body.append(
            f'<text x="{left - 6}" y="{y + 14}" text-anchor="end" class="ax">{html.escape(label)}</text>'
        )
        body.append(
            f'<rect x="{left}" y="{y + 2}" width="{plot_width * reference_share / largest:.2f}" height="8" '
            f'fill="{REFERENCE_COLOR}"/>'
        )
        body.append(
            f'<rect x="{left}" y="{y + 11}" width="{plot_width * current_share / largest:.2f}" height="8" '
            f'fill="{CURRENT_COLOR}"/>'
        )
        label_x = left + plot_width * max(reference_share, current_share) / largest + 4
        body.append(
            f'<text x="{label_x:.2f}" y="{y + 14}" class="ax">'
            f"{format_value(reference_share, 2)} / {format_value(current_share, 2)}</text>"
        )
    body += _legend(left, 6)
    return _svg_frame(width, height, body, title)


def plot_svg(column: ColumnDrift) -> str | None:
    plot = column.plot
    if not plot:
        return None
    if plot["type"] == "histogram":
        return svg_histogram(plot["edges"], plot["reference"], plot["current"], column.name)
    return svg_bars(plot["categories"], plot["reference"], plot["current"], column.name)


# ----------------------------------------------------------------------------- HTML

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:24px;color:#222}
h1{font-size:22px;margin:0 0 8px} h2{font-size:18px;margin-top:28px} h3{font-size:15px;margin:18px 0 6px}
.status{display:inline-block;padding:4px 10px;border-radius:4px;font-weight:600;color:#fff}
.alert,.drift{background:#c0392b}.ok,.no_drift{background:#2e8b57}.warning{background:#d68910}
.insufficient_data{background:#7f8c8d}
table{border-collapse:collapse;font-size:13px;margin-top:8px}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right} th{background:#f4f4f4}
td:first-child,th:first-child{text-align:left}
td.v{font-weight:600;text-align:center} td.v.drift{color:#fff} td.v.no_drift{color:#fff}
.plots{display:flex;flex-wrap:wrap;gap:18px} .plot{border:1px solid #eee;padding:8px}
.ax{font-size:10px;fill:#444} .lg{font-size:11px;fill:#222} .muted{color:#666;font-size:13px}
"""


def _escape(value: Any) -> str:
    return html.escape(str(value))


def to_html(summary: Mapping[str, Any], drift: DriftResult) -> str:
    status = summary["status"]
    head = _headline(summary)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Drift monitoring report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Drift monitoring report</h1>",
        f'<p><span class="status {_escape(status)}">{_escape(status.upper())}</span></p><ul>',
    ]
    parts += [f"<li>{_escape(line)}</li>" for line in head[1:]]
    parts.append(
        f'</ul><p class="muted">model version {_escape(summary.get("model_version"))} · generated '
        f"{_escape(summary.get('generated_at'))} · {drift.n_current_rows} current rows · reference profile "
        f"{_escape(summary.get('profile_created_at'))}</p>"
    )
    parts += [
        "<h2>Features</h2><table><tr><th>feature</th><th>kind</th><th>test</th><th>statistic</th>"
        "<th>p-value (BH)</th><th>PSI</th><th>effect</th><th>missing ref → cur</th><th>verdict</th>"
        "<th>reasons</th></tr>"
    ]
    for column in _columns(drift):
        parts.append(
            f"<tr><td>{_escape(_display_name(column))}</td><td>{column.kind}</td>"
            f"<td>{column.test or '-'}</td><td>{format_value(column.statistic)}</td>"
            f"<td>{format_value(column.p_value_adj)}</td><td>{format_value(column.psi)}</td>"
            f"<td>{_escape(_effect(column))}</td><td>{format_value(column.missing_rate_reference)} → "
            f"{format_value(column.missing_rate_current)}</td>"
            f'<td class="v {column.verdict}">{column.verdict}</td>'
            f'<td style="text-align:left">{_escape("; ".join(column.reasons))}</td></tr>'
        )
    parts.append("</table>")
    drifted = [column for column in _columns(drift) if column.verdict == "drift"]
    if drifted:
        parts.append('<h2>Drifted features: reference vs current</h2><div class="plots">')
        for column in drifted:
            svg = plot_svg(column)
            parts.append(
                f'<div class="plot"><h3>{_escape(column.name)}</h3>'
                + (svg if svg else '<p class="muted">no non-missing values to plot</p>')
                + f'<p class="muted">{_escape("; ".join(column.reasons))}</p></div>'
            )
        parts.append("</div>")
    decay = summary.get("decay")
    if decay is not None:
        parts.append(
            f"<h2>Performance</h2><p>{_escape(decay['status'])} on {decay['n_labeled']} labelled rows. "
            f"{_escape(decay['message'])}</p>"
        )
        if decay["metrics"]:
            parts.append(
                "<table><tr><th>metric</th><th>training</th><th>current</th><th>delta</th>"
                "<th>tolerance</th><th>decayed</th></tr>"
            )
            for metric in decay["metrics"]:
                parts.append(
                    f"<tr><td>{_escape(metric['name'])} {'↑' if metric['higher_is_better'] else '↓'}</td>"
                    f"<td>{format_value(metric['training'])}</td><td>{format_value(metric['current'])}</td>"
                    f"<td>{format_value(metric['delta'])}</td><td>{format_value(metric['tolerance'])}</td>"
                    f"<td>{'yes' if metric['decayed'] else 'no'}</td></tr>"
                )
            parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
