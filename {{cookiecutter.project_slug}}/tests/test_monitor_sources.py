"""Current data: prediction-log JSON Lines, CSV and Parquet, windows and clear errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.monitor.errors import EmptyDataError, IncompatibleDataError, SourceNotFoundError
from {{ cookiecutter.package_name }}.monitor.sources import load_current


def write_log(path, n: int, start: datetime, day_step: float = 0.0, colour="red"):
    with path.open("w") as fh:
        for i in range(n):
            ts = (start + timedelta(days=day_step * i)).isoformat()
            fh.write(
                json.dumps(
                    {
                        "timestamp": ts,
                        "request_id": f"id{i}",
                        "row": 0,
                        "model_version": "v1",
                        "features": {"x1": float(i), "x2": None, "colour": colour},
                        "prediction": i % 2,
                        "probabilities": {"0": 0.4, "1": 0.6},
                    }
                )
                + "\n"
            )


def test_jsonl_directory_flattened(tmp_path):
    d = tmp_path / "logs"
    d.mkdir()
    now = datetime(2026, 11, 24, tzinfo=UTC)
    write_log(d / "predictions-a.jsonl", 5, now - timedelta(days=1))
    write_log(d / "predictions-b.jsonl", 3, now - timedelta(days=1), colour="blue")
    (d / "empty.jsonl").write_text("")
    df = load_current(str(d))
    assert len(df) == 8
    assert {
        "x1",
        "x2",
        "colour",
        "prediction",
        "request_id",
        "row",
        "timestamp",
        "model_version",
        "proba:0",
        "proba:1",
    } <= set(df.columns)
    assert df["x2"].isna().all()
    assert len(load_current(str(d / "*-b.jsonl"))) == 3


def test_time_window(tmp_path):
    now = datetime(2026, 11, 24, tzinfo=UTC)
    write_log(tmp_path / "p.jsonl", 10, now - timedelta(days=9), day_step=1.0)
    df = load_current(str(tmp_path / "p.jsonl"), window_days=3, now=now)
    assert len(df) == 4  # days -3 .. 0
    with pytest.raises(EmptyDataError, match="last 1"):
        load_current(str(tmp_path / "p.jsonl"), window_days=1, now=now - timedelta(days=30))


def test_csv_and_parquet(tmp_path):
    df = pd.DataFrame({"x1": [1.0, 2.0], "colour": ["a", "b"]})
    df.to_csv(tmp_path / "c.csv", index=False)
    assert load_current(str(tmp_path / "c.csv")).shape == (2, 2)
    df.to_parquet(tmp_path / "c.parquet")
    assert load_current(str(tmp_path / "c.parquet")).shape == (2, 2)
    with pytest.raises(IncompatibleDataError, match="time window"):
        load_current(str(tmp_path / "c.csv"), window_days=1)


def test_errors(tmp_path):
    with pytest.raises(SourceNotFoundError, match="not found"):
        load_current(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceNotFoundError, match="no data files"):
        load_current(str(tmp_path / "empty"))
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(EmptyDataError):
        load_current(str(tmp_path / "e.csv"))
    write_log(tmp_path / "bad.jsonl", 1, datetime(2026, 11, 24, tzinfo=UTC))
    with (tmp_path / "bad.jsonl").open("a") as fh:
        fh.write("not json\n")
    with pytest.raises(IncompatibleDataError, match=r"bad\.jsonl:2: invalid JSON"):
        load_current(str(tmp_path / "bad.jsonl"))
    (tmp_path / "old.jsonl").write_text('{"features": {"a": 1}}\n')
    with pytest.raises(IncompatibleDataError, match=r"old\.jsonl:1: .*timestamp: required field is missing"):
        load_current(str(tmp_path / "old.jsonl"))
