"""The `monitor` command: compare the configured current data with the reference profile.

Exit codes: 0 no alert, 1 alert: drift or decay in at least `monitor.alert.min_alerts` of the last
`monitor.alert.window` runs (monitor/window.py; default 1 of 1: this run) with `monitor.alert.mode` enforce
(warn: reported, exit 0; off: not evaluated), 2 error (missing, empty or incompatible data, unreadable profile
or metadata): one line on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import joblib
import pandas as pd

from ..config import AlertParams, DriftThresholds, Paths, ThresholdsError, load_params
from ..contracts import ContractError, ContractFileMissingError, ModelMetadata, read_metadata
from ..gate_mode import GateOutcome
from .columns import require_columns
from .decay import DecayResult, evaluate_decay
from .drift import DriftResult, detect_drift
from .errors import EmptyDataError, IncompatibleDataError, MonitorDataError, SourceNotFoundError
from .profile import PREDICTION, ReferenceProfile, load_profile
from .report import build_summary, to_html, to_json, to_markdown
from .sources import CHUNK_ROWS, iter_current, load_current, read_file, resolve_paths
from .streaming import StreamingDrift
from .window import AlertWindow, WindowRun, load_window, run_verdict, save_window

EXIT_OK, EXIT_ALERT, EXIT_ERROR = 0, 1, 2
ALERT_GATE = "Drift alert"


def load_metadata(path: str | Path) -> ModelMetadata:
    try:
        return read_metadata(Path(path))
    except ContractFileMissingError as exc:
        raise SourceNotFoundError(f"{exc} (run the pipeline or dvc pull)") from None
    except ContractError as exc:
        raise IncompatibleDataError(str(exc)) from None


def _as_thresholds(t: DriftThresholds | Mapping[str, Any] | None) -> DriftThresholds:
    if isinstance(t, DriftThresholds):
        return t
    return DriftThresholds.from_dict(t)


def _load_labels(labels: str | Path | pd.DataFrame) -> pd.DataFrame:
    if isinstance(labels, pd.DataFrame):
        return labels
    frames = [read_file(p) for p in resolve_paths(labels)]
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def add_model_predictions(current: pd.DataFrame, model_path: str | Path, names: list[str]) -> pd.DataFrame:
    """Tables without a `prediction` column get the model's predictions, so prediction drift is tested too."""
    if PREDICTION in current.columns or not Path(model_path).is_file():
        return current
    return _with_predictions(current, joblib.load(model_path), names)


def _with_predictions(current: pd.DataFrame, model: Any, names: list[str]) -> pd.DataFrame:
    if PREDICTION in current.columns:
        return current
    try:
        predictions = model.predict(current[names])
    except (ValueError, TypeError, KeyError) as exc:
        raise IncompatibleDataError(f"the model cannot predict the current data: {exc}") from exc
    return current.assign(**{PREDICTION: predictions})


def stream_drift(
    profile: ReferenceProfile,
    current_source: Any,
    thresholds: DriftThresholds,
    *,
    model_path: str | Path | None,
    window_days: float | None,
    now: datetime | None,
    chunk_rows: int = CHUNK_ROWS,
) -> DriftResult:
    """Drift of the current data read in chunks (memory bounded by the chunk, not by the window)."""
    names = profile.schema.names()
    model = None
    if model_path is not None and profile.prediction is not None and Path(model_path).is_file():
        model = joblib.load(model_path)
    drift = StreamingDrift(profile, thresholds)
    chunks = iter_current(
        current_source, window_days=window_days, now=now, columns=[*names, PREDICTION], chunk_rows=chunk_rows
    )
    for chunk in chunks:
        require_columns(chunk, names)
        drift.add(_with_predictions(chunk, model, names) if model is not None else chunk)
    if drift.n_rows == 0:
        within = f" in the last {window_days} day(s)" if window_days is not None else ""
        raise EmptyDataError(f"current data at {current_source} has no rows{within}")
    return drift.result()


def decide_alert(
    summary: Mapping[str, Any],
    alert: AlertParams,
    state: Path | None,
    run_url: str | None,
    warnings: TextIO,
) -> tuple[GateOutcome, AlertWindow]:
    """This run's verdict appended to the alert window (saved to `state` when given), read in its mode."""
    window = load_window(state, alert, warnings) if state else AlertWindow.empty(alert)
    window = window.append(WindowRun(str(summary["generated_at"]), run_url, run_verdict(summary)))
    if state:
        save_window(state, window)
    if alert.mode == "off":
        return GateOutcome.not_evaluated(ALERT_GATE, "monitor.alert.mode"), window
    return GateOutcome(ALERT_GATE, alert.mode, window.alert, window.summary), window


def run_monitor(
    profile_path: str | Path,
    current_source: Any,
    metadata_path: str | Path,
    labels: str | Path | pd.DataFrame | None = None,
    thresholds: DriftThresholds | Mapping[str, Any] | None = None,
    out_dir: str | Path = "reports/monitoring",
    *,
    model_path: str | Path | None = None,
    window_days: float | None = None,
    now: datetime | None = None,
    stderr: TextIO | None = None,
    alert: AlertParams | None = None,
    window_state: Path | None = None,
    run_url: str | None = None,
) -> int:
    """Drift (+ decay when labels are given); writes summary.json, summary.md and report.html to out_dir.

    The alert decides on this run's verdict and the earlier ones kept in `window_state` (none: this run only).
    Returns 0 (no alert, or not enforced), 1 (alert) or 2 (error, message on stderr).
    """
    err = stderr or sys.stderr
    try:
        verdict_thresholds = _as_thresholds(thresholds)
        meta = load_metadata(metadata_path)
        profile = load_profile(profile_path)
        meta_names = meta.feature_schema.names()
        if meta_names != profile.schema.names():
            raise IncompatibleDataError(
                "reference profile and metadata feature schemas differ "
                f"({len(profile.schema.names())} vs {len(meta_names)} features); "
                "rebuild the profile (dvc repro)"
            )
        decay: DecayResult | None = None
        if labels is None and not isinstance(current_source, pd.DataFrame):
            drift = stream_drift(
                profile,
                current_source,
                verdict_thresholds,
                model_path=model_path,
                window_days=window_days,
                now=now,
            )
        else:  # decay joins every logged prediction with its label: the window is read whole
            current = load_current(current_source, window_days=window_days, now=now)
            require_columns(current, meta_names)
            if model_path is not None and profile.prediction is not None:
                current = add_model_predictions(current, model_path, meta_names)
            drift = detect_drift(profile, current, verdict_thresholds)
            if labels is not None:
                decay = evaluate_decay(current, _load_labels(labels), meta, verdict_thresholds)
        summary = build_summary(
            drift,
            decay,
            model_version=meta.model_version,
            profile_created_at=profile.created_at,
            generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
            source="<DataFrame>" if isinstance(current_source, pd.DataFrame) else str(current_source),
        )
        outcome, window = decide_alert(summary, alert or AlertParams(), window_state, run_url, err)
        summary["alert"] = {**outcome.to_dict(), "window": window.to_dict()}
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.json").write_text(to_json(summary), encoding="utf-8")
        markdown = f"{to_markdown(summary, drift)}\n**{outcome.headline}**\n\n{window.markdown()}"
        (out / "summary.md").write_text(markdown, encoding="utf-8")
        (out / "report.html").write_text(to_html(summary, drift), encoding="utf-8")
    except (MonitorDataError, ThresholdsError, OSError) as exc:
        print(f"monitor: error: {exc}", file=err)
        return EXIT_ERROR
    status = summary["status"]
    print(f"monitor: {status}: {drift.n_drifted} of {drift.n_evaluated} features drifted; report in {out}")
    print(f"monitor: {outcome.headline}")
    return outcome.exit_code(EXIT_ALERT)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="monitor", description="Drift and performance decay of the deployed model (params.yaml: monitor)"
    )
    parser.add_argument(
        "--current", help="file, directory, glob or URL, read whole (default: monitor.current, windowed)"
    )
    parser.add_argument("--labels", help="labels file for decay (default: monitor.labels)")
    parser.add_argument("--out-dir", type=Path, help="default: reports/monitoring")
    parser.add_argument(
        "--window-state",
        type=Path,
        help="JSON file of the recent verdicts (the alert window), read and updated; "
        "default: window.json in the output folder",
    )
    parser.add_argument("--run-url", help="link of this CI run, shown in the alert window's history")
    parser.add_argument("--print-source", action="store_true", help="print the configured source and exit")
    args = parser.parse_args(argv)
    monitor = load_params().monitor
    paths = Paths()
    if args.print_source:
        print(monitor.current.source)
        return EXIT_OK
    return run_monitor(
        paths.reference_profile,
        args.current or monitor.current.source,
        paths.metadata,
        labels=args.labels or monitor.labels,
        thresholds=monitor.thresholds,
        out_dir=args.out_dir or paths.monitoring,
        model_path=paths.model,
        window_days=None if args.current else monitor.current.window_days,
        alert=monitor.alert,
        window_state=args.window_state or (args.out_dir or paths.monitoring) / "window.json",
        run_url=args.run_url,
    )
