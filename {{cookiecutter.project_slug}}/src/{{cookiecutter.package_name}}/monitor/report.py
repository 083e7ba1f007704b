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
REF_COLOR = "#4c72b0"
CUR_COLOR = "#dd8452"


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


def fmt(v: Any, digits: int = 3) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if not isinstance(v, float):
        return str(v)
    if v != 0 and abs(v) < 10 ** (-digits):
        return f"{v:.2e}"
    return f"{v:.{digits}f}"


def _effect(c: ColumnDrift) -> str:
    if c.test == "ks":
        return f"KS D={fmt(c.statistic)}"
    if c.test == "chi2":
        s = f"V={fmt(c.cramers_v)}"
        if c.new_category_share:
            s += f", new={fmt(c.new_category_share)}"
        return s
    return "-"


def _columns(drift: DriftResult) -> list[ColumnDrift]:
    return drift.features + ([drift.prediction] if drift.prediction else [])


def _headline(summary: Mapping[str, Any]) -> list[str]:
    d = summary["drift"]
    lines = [
        f"Status: {summary['status'].upper()}",
        f"Dataset drift: {fmt(d['dataset_drift'])} ({d['n_drifted']} of {d['n_evaluated']} evaluated "
        f"features drifted, share {fmt(d['share_drifted'])}, "
        f"threshold {fmt(summary['thresholds']['share_threshold'])})",
        f"Prediction drift: {fmt(d['prediction_drift']) if d['prediction'] else 'not evaluated'}",
    ]
    if d["critical_drifted"]:
        lines.append("Critical features drifted: " + ", ".join(d["critical_drifted"]))
    dec = summary.get("decay")
    if dec is None:
        lines.append("Performance decay: not evaluated (no labels)")
    else:
        lines.append(
            f"Performance decay: {dec['status']} ({dec['n_labeled']} labelled rows"
            + (f"; decayed: {', '.join(dec['decayed_metrics'])}" if dec["decayed_metrics"] else "")
            + ")"
        )
    return lines


# ----------------------------------------------------------------------------- markdown


def _md_cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def to_markdown(summary: Mapping[str, Any], drift: DriftResult) -> str:
    out = ["# Drift monitoring report", ""]
    meta = [
        f"model version `{summary.get('model_version')}`",
        f"generated {summary.get('generated_at')}",
        f"{drift.n_current_rows} current rows",
    ]
    out += ["**" + line + "**  " if i == 0 else line + "  " for i, line in enumerate(_headline(summary))]
    out += [
        "",
        "_" + ", ".join(meta) + "_",
        "",
        "## Features",
        "",
        "| feature | kind | test | statistic | p-value (BH) | PSI | effect | missing ref → cur | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for c in _columns(drift):
        name = c.name + (" (prediction)" if c.role == "prediction" else "") + (" ★" if c.critical else "")
        out.append(
            "| "
            + " | ".join(
                _md_cell(x)
                for x in [
                    name,
                    c.kind,
                    c.test or "-",
                    fmt(c.statistic),
                    fmt(c.p_value_adj),
                    fmt(c.psi),
                    _effect(c),
                    f"{fmt(c.missing_rate_reference)} → {fmt(c.missing_rate_current)}",
                    ("**DRIFT**" if c.verdict == "drift" else c.verdict),
                ]
            )
            + " |"
        )
    drifted = [c for c in _columns(drift) if c.verdict == "drift"]
    if drifted:
        out += ["", "### Why", ""] + [f"- `{c.name}`: {'; '.join(c.reasons)}" for c in drifted]
    dec = summary.get("decay")
    if dec is not None:
        out += [
            "",
            "## Performance",
            "",
            f"{dec['status']} on {dec['n_labeled']} labelled rows. {dec['message']}".strip(),
            "",
        ]
        if dec["metrics"]:
            out += [
                "| metric | training | current | delta | tolerance | decayed |",
                "|---|---|---|---|---|---|",
            ]
            for m in dec["metrics"]:
                out.append(
                    f"| {m['name']} {'↑' if m['higher_is_better'] else '↓'} | {fmt(m['training'])} | "
                    f"{fmt(m['current'])} | {fmt(m['delta'])} | {fmt(m['tolerance'])} | "
                    f"{'**yes**' if m['decayed'] else 'no'} |"
                )
    return "\n".join(out) + "\n"


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
        f'<rect x="{x}" y="{y}" width="10" height="10" fill="{REF_COLOR}" fill-opacity="0.55"/>',
        f'<text x="{x + 14}" y="{y + 9}" class="lg">reference</text>',
        f'<rect x="{x + 90}" y="{y}" width="10" height="10" fill="{CUR_COLOR}" fill-opacity="0.55"/>',
        f'<text x="{x + 104}" y="{y + 9}" class="lg">current</text>',
    ]


def svg_histogram(
    edges: Sequence[float],
    ref: Sequence[float],
    cur: Sequence[float],
    title: str,
    width: int = 520,
    height: int = 220,
) -> str:
    """Overlaid reference/current histograms (proportions) as inline SVG."""
    ml, mr, mt, mb = 40, 10, 24, 30
    pw, ph = width - ml - mr, height - mt - mb
    top = max(max(ref, default=0), max(cur, default=0)) or 1.0
    k = len(ref)
    bw = pw / max(k, 1)
    body = [f'<rect x="{ml}" y="{mt}" width="{pw}" height="{ph}" fill="#fff" stroke="#ccc"/>']
    for series, color in ((ref, REF_COLOR), (cur, CUR_COLOR)):
        for i, v in enumerate(series):
            h = ph * v / top
            body.append(
                f'<rect x="{ml + i * bw:.2f}" y="{mt + ph - h:.2f}" width="{max(bw - 0.5, 0.5):.2f}" '
                f'height="{h:.2f}" fill="{color}" fill-opacity="0.55"/>'
            )
    for frac in (0.0, 0.5, 1.0):
        xv = edges[0] + frac * (edges[-1] - edges[0])
        body.append(
            f'<text x="{ml + frac * pw:.1f}" y="{height - 10}" text-anchor="middle" class="ax">'
            f"{fmt(float(xv), 2)}</text>"
        )
    body.append(f'<text x="{ml - 4}" y="{mt + 8}" text-anchor="end" class="ax">{fmt(float(top), 2)}</text>')
    body.append(f'<text x="{ml - 4}" y="{mt + ph}" text-anchor="end" class="ax">0</text>')
    body += _legend(ml + pw - 190, 6)
    return _svg_frame(width, height, body, title)


def svg_bars(
    categories: Sequence[str], ref: Sequence[float], cur: Sequence[float], title: str, width: int = 520
) -> str:
    """Horizontal paired bars (reference vs current proportion) per category."""
    row, ml, mr, mt = 22, 150, 60, 24
    height = mt + row * len(categories) + 10
    pw = width - ml - mr
    top = max(max(ref, default=0), max(cur, default=0)) or 1.0
    body: list[str] = []
    for i, (c, r, v) in enumerate(zip(categories, ref, cur, strict=False)):
        y = mt + i * row
        label = c if len(c) <= 22 else c[:21] + "…"
        body.append(
            f'<text x="{ml - 6}" y="{y + 14}" text-anchor="end" class="ax">{html.escape(label)}</text>'
        )
        body.append(f'<rect x="{ml}" y="{y + 2}" width="{pw * r / top:.2f}" height="8" fill="{REF_COLOR}"/>')
        body.append(f'<rect x="{ml}" y="{y + 11}" width="{pw * v / top:.2f}" height="8" fill="{CUR_COLOR}"/>')
        body.append(
            f'<text x="{ml + pw * max(r, v) / top + 4:.2f}" y="{y + 14}" class="ax">'
            f"{fmt(r, 2)} / {fmt(v, 2)}</text>"
        )
    body += _legend(ml, 6)
    return _svg_frame(width, height, body, title)


def plot_svg(c: ColumnDrift) -> str | None:
    p = c.plot
    if not p:
        return None
    if p["type"] == "histogram":
        return svg_histogram(p["edges"], p["reference"], p["current"], c.name)
    return svg_bars(p["categories"], p["reference"], p["current"], c.name)


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


def _esc(v: Any) -> str:
    return html.escape(str(v))


def to_html(summary: Mapping[str, Any], drift: DriftResult) -> str:
    status = summary["status"]
    head = _headline(summary)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<title>Drift monitoring report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Drift monitoring report</h1>",
        f'<p><span class="status {_esc(status)}">{_esc(status.upper())}</span></p><ul>',
    ]
    parts += [f"<li>{_esc(line)}</li>" for line in head[1:]]
    parts.append(
        f'</ul><p class="muted">model version {_esc(summary.get("model_version"))} · generated '
        f"{_esc(summary.get('generated_at'))} · {drift.n_current_rows} current rows · reference profile "
        f"{_esc(summary.get('profile_created_at'))}</p>"
    )
    parts += [
        "<h2>Features</h2><table><tr><th>feature</th><th>kind</th><th>test</th><th>statistic</th>"
        "<th>p-value (BH)</th><th>PSI</th><th>effect</th><th>missing ref → cur</th><th>verdict</th>"
        "<th>reasons</th></tr>"
    ]
    for c in _columns(drift):
        name = c.name + (" (prediction)" if c.role == "prediction" else "") + (" ★" if c.critical else "")
        parts.append(
            f"<tr><td>{_esc(name)}</td><td>{c.kind}</td><td>{c.test or '-'}</td><td>{fmt(c.statistic)}</td>"
            f"<td>{fmt(c.p_value_adj)}</td><td>{fmt(c.psi)}</td><td>{_esc(_effect(c))}</td>"
            f"<td>{fmt(c.missing_rate_reference)} → {fmt(c.missing_rate_current)}</td>"
            f'<td class="v {c.verdict}">{c.verdict}</td>'
            f'<td style="text-align:left">{_esc("; ".join(c.reasons))}</td></tr>'
        )
    parts.append("</table>")
    drifted = [c for c in _columns(drift) if c.verdict == "drift"]
    if drifted:
        parts.append('<h2>Drifted features: reference vs current</h2><div class="plots">')
        for c in drifted:
            svg = plot_svg(c)
            parts.append(
                f'<div class="plot"><h3>{_esc(c.name)}</h3>'
                + (svg if svg else '<p class="muted">no non-missing values to plot</p>')
                + f'<p class="muted">{_esc("; ".join(c.reasons))}</p></div>'
            )
        parts.append("</div>")
    dec = summary.get("decay")
    if dec is not None:
        parts.append(
            f"<h2>Performance</h2><p>{_esc(dec['status'])} on {dec['n_labeled']} labelled rows. "
            f"{_esc(dec['message'])}</p>"
        )
        if dec["metrics"]:
            parts.append(
                "<table><tr><th>metric</th><th>training</th><th>current</th><th>delta</th>"
                "<th>tolerance</th><th>decayed</th></tr>"
            )
            for m in dec["metrics"]:
                parts.append(
                    f"<tr><td>{_esc(m['name'])} {'↑' if m['higher_is_better'] else '↓'}</td>"
                    f"<td>{fmt(m['training'])}</td><td>{fmt(m['current'])}</td><td>{fmt(m['delta'])}</td>"
                    f"<td>{fmt(m['tolerance'])}</td><td>{'yes' if m['decayed'] else 'no'}</td></tr>"
                )
            parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
