"""The monitor end to end: exit codes and reports of run_monitor, the `profile` stage and the `monitor`
command reading params.yaml."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import joblib
import pandas as pd
import pytest
import yaml
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.config import AlertParams, GateMode
from {{ cookiecutter.package_name }}.contracts import ModelMetadata, write_json_contract
from {{ cookiecutter.package_name }}.monitor import profile as profile_stage
from {{ cookiecutter.package_name }}.monitor.cli import run_monitor
from {{ cookiecutter.package_name }}.monitor.profile import build_profile, save_profile
from {{ cookiecutter.package_name }}.pipeline.features import build_preprocessor, infer_feature_schema
from {{ cookiecutter.package_name }}.pipeline.lineage import file_sha256

from monitor_frames import make_frame, make_schema


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, str, str]:
    meta = ModelMetadata(
        model_version="test-1",
        model_sha256="0" * 64,
        metrics={"accuracy": 0.9, "f1": 0.9, "roc_auc": 0.95},
        feature_schema=make_schema(),
    )
    meta_path = tmp_path / "metadata.json"
    write_json_contract(meta_path, meta)
    ref = make_frame(5000, 1)
    prof = build_profile(ref, make_schema(), reference_predictions=(ref["x1"] > 0).astype(int))
    return tmp_path, save_profile(prof, tmp_path / "profile.npz"), str(meta_path)


def _csv(tmp_path: Path, df: pd.DataFrame, name: str = "cur.csv") -> str:
    df.to_csv(tmp_path / name, index=False)
    return str(tmp_path / name)


def test_exit_0_no_drift(setup: tuple[Path, str, str]) -> None:
    tmp, prof, meta = setup
    cur = make_frame(3000, 2)
    cur["prediction"] = (cur["x1"] > 0).astype(int)
    out = tmp / "out0"
    assert run_monitor(prof, _csv(tmp, cur), meta, out_dir=out) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["status"] == "ok" and s["drift"]["n_drifted"] == 0
    assert (out / "summary.md").exists() and (out / "report.html").exists()


def test_exit_1_drift_and_html_self_contained(setup: tuple[Path, str, str]) -> None:
    tmp, prof, meta = setup
    cur = make_frame(3000, 2, mean=1.0, probs=[0.1, 0.1, 0.1, 0.7])
    cur["prediction"] = (cur["x1"] > 0).astype(int)
    out = tmp / "out1"
    assert run_monitor(prof, _csv(tmp, cur), meta, out_dir=out) == 1
    s = json.loads((out / "summary.json").read_text())
    drifted = s["drift"]["drifted_features"]
    assert set(drifted) == {"x1", "colour"} and s["drift"]["prediction_drift"]
    html = (out / "report.html").read_text()
    for bad in ("http://", "https://", "//cdn", "<script", "<link"):
        assert bad not in html
    assert html.count("<svg") == len(drifted) + 1  # one inline plot per drifted column and the prediction
    md = (out / "summary.md").read_text()
    assert "| x1 |" in md and "**DRIFT**" in md and "Status: ALERT" in md


def test_exit_1_decay(setup: tuple[Path, str, str]) -> None:
    tmp, prof, meta = setup
    cur = make_frame(400, 2)
    cur["prediction"] = (cur["x1"] > 0).astype(int)
    cur["request_id"] = [f"r{i}" for i in range(len(cur))]
    labels = pd.DataFrame({"request_id": cur["request_id"], "target": 1 - cur["prediction"]})  # all wrong
    out = tmp / "outd"
    code = run_monitor(prof, _csv(tmp, cur), meta, labels=_csv(tmp, labels, "labels.csv"), out_dir=out)
    assert code == 1
    s = json.loads((out / "summary.json").read_text())
    assert s["decay"]["status"] == "decay" and "accuracy" in s["decay"]["decayed_metrics"]
    assert s["drift"]["status"] == "ok"


@pytest.mark.parametrize("case", ["missing_file", "empty", "missing_column", "bad_profile", "bad_threshold"])
def test_exit_2_errors(setup: tuple[Path, str, str], case: str) -> None:
    tmp, prof, meta = setup
    err = io.StringIO()
    cur = make_frame(100, 2)
    kw: dict[str, Any] = {}
    if case == "missing_file":
        src, msg = str(tmp / "nope.csv"), "not found"
    elif case == "empty":
        src, msg = _csv(tmp, cur.iloc[:0]), "no rows"
    elif case == "missing_column":
        src, msg = _csv(tmp, cur.drop(columns=["x2"])), "'x2'"
    elif case == "bad_profile":
        src, msg = _csv(tmp, cur), "profile"
        (tmp / "bad.npz").write_bytes(b"garbage")
        prof = str(tmp / "bad.npz")
    else:
        src, msg = _csv(tmp, cur), "nonsense"
        kw["thresholds"] = {"alpha": 0.05, "nonsense": 1}
    assert run_monitor(prof, src, meta, out_dir=tmp / "o", stderr=err, **kw) == 2
    lines = err.getvalue().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("monitor: error:") and msg in lines[0]
    assert not (tmp / "o" / "summary.json").exists()


@pytest.fixture
def trained(project: Path, frame: pd.DataFrame, problem_type: str) -> Path:
    """The scratch project with what the pipeline leaves before `profile`: train split, model, metadata."""
    schema = infer_feature_schema(frame, "target", problem_type)
    features = frame.drop(columns="target")
    estimator = LogisticRegression() if problem_type == "classification" else Ridge()
    model = Pipeline([("pre", build_preprocessor(schema)), ("estimator", estimator)]).fit(
        features, frame["target"]
    )
    (project / "data" / "processed").mkdir(parents=True)
    frame.to_parquet(project / "data" / "processed" / "train.parquet")
    (project / "models").mkdir()
    joblib.dump(model, project / "models" / "model.joblib")
    sha256 = file_sha256(project / "models" / "model.joblib")
    metadata = ModelMetadata(model_version="t", model_sha256=sha256, feature_schema=schema)
    write_json_contract(project / "models" / "metadata.json", metadata)
    return project


def run_cli(*argv: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(list(argv))
    return int(exit_info.value.code or 0)


def set_monitor_params(project: Path, **current: Any) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["monitor"]["current"] = current
    (project / "params.yaml").write_text(yaml.safe_dump(params))


def test_profile_stage_then_monitor_command(
    trained: Path, frame: pd.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    profile_stage.main()
    profile = profile_stage.load_profile(trained / "models" / "reference_profile.npz")
    assert profile.n_rows == len(frame) and set(profile.columns) == {"size", "weight", "colour"}
    assert profile.prediction is not None and profile.params["psi_bins"] == 10

    current = trained / "data" / "current"
    current.mkdir()
    set_monitor_params(trained, kind="files", path="data/current", glob="*.csv", window_days=None)
    batch = frame.drop(columns="target").sample(frac=1.0, random_state=1)
    batch.to_csv(current / "batch.csv", index=False)
    assert run_cli("monitor") == 0
    summary = json.loads((trained / "reports" / "monitoring" / "summary.json").read_text())
    assert summary["status"] == "ok" and summary["drift"]["prediction"] is not None  # the model predicted

    batch.assign(size=batch["size"] + 3).to_csv(current / "batch.csv", index=False)
    assert run_cli("monitor") == 1
    summary = json.loads((trained / "reports" / "monitoring" / "summary.json").read_text())
    assert summary["status"] == "alert" and "size" in summary["drift"]["drifted_features"]
    assert (trained / "reports" / "monitoring" / "report.html").read_text().count("<svg") >= 1

    capsys.readouterr()
    assert run_cli("monitor", "--current", "data/none/*.csv") == 2
    assert "monitor: error: no data files" in capsys.readouterr().err
    batch.drop(columns="colour").to_csv(current / "batch.csv", index=False)
    assert run_cli("monitor") == 2
    assert "'colour' from the feature schema is missing" in capsys.readouterr().err


def test_monitor_params_are_strict(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    params = yaml.safe_load((trained / "params.yaml").read_text())
    params["monitor"]["thresholds"]["alpah"] = 0.1
    params["monitor"]["current"]["kind"] = "kafka"
    (trained / "params.yaml").write_text(yaml.safe_dump(params))
    assert run_cli("monitor") == 2
    err = capsys.readouterr().err
    assert "monitor.thresholds.alpah: unknown key" in err and "monitor.current.kind" in err


def _drifted(tmp: Path) -> str:
    cur = make_frame(3000, 2, mean=1.0, probs=[0.1, 0.1, 0.1, 0.7])
    cur["prediction"] = (cur["x1"] > 0).astype(int)
    return _csv(tmp, cur, "drifted.csv")


@pytest.mark.parametrize(
    ("mode", "code", "outcome"), [("enforce", 1, "failed"), ("warn", 0, "warned"), ("off", 0, "off")]
)
def test_drift_alert_in_each_mode(
    setup: tuple[Path, str, str], mode: GateMode, code: int, outcome: str
) -> None:
    tmp, prof, meta = setup
    out = tmp / f"out-{mode}"
    alert = AlertParams(mode=mode)
    assert run_monitor(prof, _drifted(tmp), meta, out_dir=out, alert=alert) == code
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "alert" and summary["alert"]["outcome"] == outcome
    window = "1 of the last 1 run(s) drifted or decayed (alert at 1 of 1)"
    headline = {
        "enforce": f"**Drift alert (enforce): {window} — blocking**",
        "warn": f"**Drift alert (warn): {window} — not blocking**",
        "off": "**Drift alert (off): not evaluated (monitor.alert.mode: off in params.yaml)**",
    }[mode]
    assert headline in (out / "summary.md").read_text()


def test_the_alert_waits_for_two_of_three_drifted_runs(setup: tuple[Path, str, str]) -> None:
    tmp, prof, meta = setup
    clean = make_frame(3000, 3)
    clean["prediction"] = (clean["x1"] > 0).astype(int)
    batches = {"drift": _drifted(tmp), "ok": _csv(tmp, clean, "clean.csv")}
    state, alert = tmp / "cache" / "window.json", AlertParams(window=3, min_alerts=2)
    codes = []
    for number, batch in enumerate(["drift", "ok", "drift", "ok", "ok"]):
        url = f"https://github.com/o/p/actions/runs/{number}"
        kw: dict[str, Any] = {"alert": alert, "window_state": state, "run_url": url}
        codes.append(run_monitor(prof, batches[batch], meta, out_dir=tmp / f"o{number}", **kw))
    assert codes == [0, 0, 1, 0, 0]
    history = (tmp / "o2" / "summary.md").read_text().split("### Alert window")[1]
    assert "2 of the last 3 run(s) drifted or decayed (alert at 2 of 3)" in history
    assert [line.split(" | ")[1:] for line in history.splitlines() if "actions/runs" in line] == [
        ["[run](https://github.com/o/p/actions/runs/2)", "🔴 drift |"],
        ["[run](https://github.com/o/p/actions/runs/1)", "🟢 ok |"],
        ["[run](https://github.com/o/p/actions/runs/0)", "🔴 drift |"],
    ]


def test_a_corrupted_window_state_warns_and_starts_fresh(setup: tuple[Path, str, str]) -> None:
    tmp, prof, meta = setup
    state = tmp / "window.json"
    state.write_text("\x00garbage")
    err = io.StringIO()
    assert run_monitor(prof, _drifted(tmp), meta, out_dir=tmp / "o", stderr=err, window_state=state) == 1
    assert "unreadable alert window" in err.getvalue()
    assert len(json.loads(state.read_text())["runs"]) == 1
