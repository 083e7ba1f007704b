"""The monitor read in chunks: the same verdicts and numbers as in memory, the date partitions of the window
only, one chunk in memory at a time."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import fsspec
import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.monitor.drift import detect_drift
from {{ cookiecutter.package_name }}.monitor.profile import build_profile
from {{ cookiecutter.package_name }}.monitor.sources import iter_current, load_current, resolve_paths
from {{ cookiecutter.package_name }}.monitor.streaming import detect_drift_streaming

from monitor_frames import make_frame, make_schema

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def chunks_of(frame: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    return [frame.iloc[start : start + size] for start in range(0, len(frame), size)]


def with_prediction(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    return frame.assign(prediction=np.random.default_rng(seed).integers(0, 2, len(frame)))


@pytest.mark.parametrize(
    ("n_reference", "n", "shift"),
    [
        (5_000, 800, {"mean": 0.1}),  # both small: scipy's exact KS on the kept values
        (20_000, 30_000, {}),
        (20_000, 30_000, {"mean": 0.3, "missing_x2": 0.2, "new_cat_share": 0.02}),
        (20_000, 30_000, {"scale": 1.05, "probs": [0.38, 0.3, 0.22, 0.1]}),  # borderline: p-values near alpha
    ],
)
@pytest.mark.parametrize("chunk_rows", [97, 10_000])
def test_streamed_verdicts_equal_the_in_memory_ones(
    n_reference: int, n: int, shift: dict, chunk_rows: int
) -> None:
    reference = make_frame(n_reference, 1, missing_x2=0.05)
    predictions = np.random.default_rng(0).integers(0, 2, n_reference)
    profile = build_profile(reference, make_schema(), predictions)
    current = with_prediction(make_frame(n, 2, **shift), 3)
    in_memory = detect_drift(profile, current).to_dict()
    streamed = detect_drift_streaming(profile, chunks_of(current, chunk_rows)).to_dict()
    assert streamed == in_memory


def test_a_profile_with_a_quantile_sketch_gives_the_same_numbers_too() -> None:
    reference = make_frame(50_000, 1)
    profile = build_profile(reference, make_schema(), max_exact=1000, sketch_size=500)
    assert not profile.columns["x1"].exact
    current = make_frame(40_000, 2, mean=0.05)
    streamed = detect_drift_streaming(profile, chunks_of(current, 3_000)).to_dict()
    assert streamed == detect_drift(profile, current).to_dict()


def write_partitioned_log(root: str, days: int, rows_per_day: int) -> pd.DataFrame:
    """A service-style log: date=YYYY-MM-DD/<writer>-<seq>.jsonl objects; returns the rows as one frame."""
    fs, base = fsspec.core.url_to_fs(root)
    frames = []
    for day in range(days):
        stamp = NOW - timedelta(days=day, hours=1)
        frame = make_frame(rows_per_day, 10 + day, mean=0.1 * day).assign(timestamp=stamp.isoformat())
        frames.append(frame)
        for part, piece in enumerate(chunks_of(frame, rows_per_day // 3 + 1)):
            records = [
                json.dumps(
                    {
                        "timestamp": row.timestamp,
                        "request_id": f"{day}-{part}-{index}",
                        "row": 0,
                        "model_version": "v1",
                        "features": {
                            "x1": row.x1,
                            "x2": None if np.isnan(row.x2) else row.x2,
                            "colour": row.colour,
                        },
                        "prediction": 0,
                    }
                )
                for index, row in enumerate(piece.itertuples())
            ]
            fs.pipe_file(
                f"{base}/date={stamp:%Y-%m-%d}/pod-{part:06d}.jsonl", ("\n".join(records) + "\n").encode()
            )
    return pd.concat(frames, ignore_index=True)


def test_only_the_partitions_of_the_window_are_read(tmp_path: Path) -> None:
    root = f"memory://{tmp_path.name}/predictions"
    write_partitioned_log(root, days=10, rows_per_day=60)
    fs, base = fsspec.core.url_to_fs(root)
    fs.pipe_file(f"{base}/date=2026-11-01/corrupt.jsonl", b"not json\n")  # outside every window below
    files = resolve_paths(f"{root}/*.jsonl", since=(NOW - timedelta(days=3)).date())
    assert {path.split("/")[-2] for path in files} == {f"date=2026-11-{day}" for day in (21, 22, 23, 24)}
    assert all(path.startswith("memory://") for path in files)
    streamed = pd.concat(iter_current(f"{root}/*.jsonl", window_days=3, now=NOW, chunk_rows=50))
    assert len(streamed) == 3 * 60
    assert len(load_current(f"{root}/*.jsonl", window_days=3, now=NOW)) == 3 * 60


def test_chunks_stay_bounded_and_cover_every_row(tmp_path: Path) -> None:
    root = f"memory://{tmp_path.name}/predictions"
    everything = write_partitioned_log(root, days=7, rows_per_day=90)
    sizes = [len(chunk) for chunk in iter_current(root, window_days=8, now=NOW, chunk_rows=100)]
    assert sum(sizes) == len(everything) and max(sizes) < 2 * 100 and len(sizes) >= 6


def test_the_log_on_a_store_gives_the_verdicts_of_its_local_copy(tmp_path: Path) -> None:
    root = f"memory://{tmp_path.name}/predictions"
    everything = write_partitioned_log(root, days=7, rows_per_day=400)
    profile = build_profile(make_frame(5_000, 1), make_schema())
    local = tmp_path / "copy"
    fsspec.filesystem("memory").get(root.removeprefix("memory:/"), str(local), recursive=True)
    assert sorted(path.name for path in local.iterdir())[0] == "date=2026-11-18"
    from_store = detect_drift_streaming(
        profile, iter_current(f"{root}/*.jsonl", window_days=7, now=NOW, chunk_rows=500)
    )
    from_copy = detect_drift(profile, load_current(f"{local}/*.jsonl", window_days=7, now=NOW))
    assert from_store.to_dict() == from_copy.to_dict()
    assert from_store.n_current_rows == len(everything)
    assert from_store.status == "drift"
