"""Batch scoring (`score INPUT OUTPUT`): the service's bundle, column rules and prediction log on tables."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import fsspec
import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from {{ cookiecutter.package_name }}.contracts import PredictionRecord
from {{ cookiecutter.package_name }}.errors import UserError
from {{ cookiecutter.package_name }}.serve import batch
from {{ cookiecutter.package_name }}.serve.settings import get_settings

import serve_bundles

NAME = "classification-linear"  # numeric size, nullable numeric weight, nullable categorical colour


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return serve_bundles.build_bundle(tmp_path_factory.mktemp("bundle"), NAME)


@pytest.fixture(autouse=True)
def log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings from a clean environment, the prediction log in the test's folder, params.yaml absent."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SERVE_PREDICTION_LOG_DIR", str(tmp_path / "predlogs"))
    get_settings.cache_clear()
    yield tmp_path / "predlogs"
    get_settings.cache_clear()


def inputs(rows: int = 40) -> pd.DataFrame:
    problem_type, _, _, missing = serve_bundles.BUNDLES[NAME]
    frame = serve_bundles.training_frame(problem_type, missing).head(rows)
    return frame.assign(id=[f"c{index:03d}" for index in range(rows)])


def expected_output(model_dir: Path, frame: pd.DataFrame) -> pd.DataFrame:
    model = joblib.load(model_dir / "model.joblib")
    features = frame[["size", "weight", "colour"]]
    probabilities = model.predict_proba(features)
    return pd.DataFrame(
        {
            "id": frame["id"].to_numpy(),
            "prediction": model.predict(features),
            "proba:0": probabilities[:, 0],
            "proba:1": probabilities[:, 1],
        }
    )


def read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def score(model_dir: Path, *args: str) -> int:
    return batch.main([*args, "--model-dir", str(model_dir), "--id-column", "id"])


@pytest.mark.parametrize("output_name", ["out.csv", "out.parquet"])
@pytest.mark.parametrize("input_name", ["in.csv", "in.parquet"])
def test_exact_output(model_dir: Path, tmp_path: Path, input_name: str, output_name: str) -> None:
    frame = inputs()
    source = tmp_path / input_name
    frame.to_csv(source, index=False) if source.suffix == ".csv" else frame.to_parquet(source, index=False)
    assert score(model_dir, str(source), str(tmp_path / output_name), "--chunk-rows", "7") == 0
    pd.testing.assert_frame_equal(read(tmp_path / output_name), expected_output(model_dir, frame), rtol=1e-12)
    assert not (tmp_path / "out.rejects.csv").exists()
    assert not list(tmp_path.glob("*.partial"))


def test_bad_rows_are_reported_not_scored(
    model_dir: Path, tmp_path: Path, log_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = inputs(12).astype({"size": object, "colour": object})  # rows 10 and 11: colour missing, allowed
    frame.loc[3, "size"] = "abc"
    frame.loc[5, "colour"] = "purple"
    frame.loc[7, "size"] = None  # size had no missing values in training
    frame.loc[9, ["size", "colour"]] = ["1e999", "teal"]  # two problems, one row
    frame.to_csv(tmp_path / "in.csv", index=False)
    assert score(model_dir, "in.csv", "out.csv", "--chunk-rows", "5") == 1
    good = frame.drop(index=[3, 5, 7, 9]).astype({"size": float})
    pd.testing.assert_frame_equal(
        read(tmp_path / "out.csv"), expected_output(model_dir, good.reset_index(drop=True))
    )
    rejects = pd.read_csv(tmp_path / "out.rejects.csv", keep_default_na=False)
    assert rejects.to_dict(orient="list") == {
        "source": [str(tmp_path / "in.csv")] * 5,
        "row": [3, 5, 7, 9, 9],
        "id": ["c003", "c005", "c007", "c009", "c009"],
        "column": ["size", "colour", "size", "colour", "size"],
        "reason": [
            "not a number",
            "not a category seen in training (allowed: 'blue', 'green', 'red')",
            "null not allowed (no missing values in training)",
            "not a category seen in training (allowed: 'blue', 'green', 'red')",
            "not a finite number",
        ],
        "value": ["abc", "purple", "nan", "teal", "inf"],
    }
    out = capsys.readouterr().out
    assert "scored 8 of 12 rows from 1 file(s)" in out
    assert "rejected 4 row(s), not scored: every problem is in out.rejects.csv" in out
    logged = [
        PredictionRecord.model_validate_json(line)
        for path in log_dir.glob("predictions-*.jsonl")
        for line in path.read_text().splitlines()
    ]
    assert len(logged) == 8 and all(record.request_id.startswith("batch-") for record in logged)
    assert [record.features["size"] for record in logged] == good["size"].tolist()


def test_folder_and_glob_read_every_table_in_name_order(model_dir: Path, tmp_path: Path) -> None:
    frame = inputs(30)
    folder = tmp_path / "incoming"
    (folder / "day=2").mkdir(parents=True)
    frame.iloc[:10].to_parquet(folder / "a.parquet", index=False)
    frame.iloc[10:20].to_csv(folder / "b.csv", index=False)
    frame.iloc[20:].to_csv(folder / "day=2" / "c.csv.gz", index=False)
    (folder / "notes.txt").write_text("not a table")
    expected = expected_output(model_dir, frame)
    assert score(model_dir, str(folder), "all.parquet") == 0
    pd.testing.assert_frame_equal(read(tmp_path / "all.parquet"), expected, rtol=1e-12)
    assert score(model_dir, f"{folder}/*.*", "top.csv") == 0
    pd.testing.assert_frame_equal(read(tmp_path / "top.csv"), expected.head(20), rtol=1e-12)


def test_urls_in_and_out(model_dir: Path) -> None:
    """Any fsspec URL: here the in-memory filesystem (s3://, gs://, az:// take the same path)."""
    store = fsspec.filesystem("memory")
    frame = inputs(20)
    with store.open("/incoming/part-1.csv", "wb") as stream:
        stream.write(frame.iloc[:8].to_csv(index=False).encode())
    with store.open("/incoming/part-2.parquet", "wb") as stream:
        stream.write(frame.iloc[8:].to_parquet(index=False))
    try:
        assert score(model_dir, "memory://incoming/part-*", "memory://scores/today.parquet") == 0
        with store.open("/scores/today.parquet", "rb") as stream:
            scored = pd.read_parquet(stream)
        assert not store.exists("/scores/today.parquet.partial")
    finally:
        store.rm("/incoming", recursive=True)
        store.rm("/scores", recursive=True)
    pd.testing.assert_frame_equal(scored, expected_output(model_dir, frame), rtol=1e-12)


def test_id_columns_default_to_params_data_drop(model_dir: Path, tmp_path: Path) -> None:
    frame = inputs(5).assign(batch="b1")
    frame.to_csv(tmp_path / "in.csv", index=False)
    (tmp_path / "params.yaml").write_text((serve_bundles.PROJECT_ROOT / "params.yaml").read_text())
    assert batch.main(["in.csv", "no-ids.csv", "--model-dir", str(model_dir)]) == 0
    assert list(read(tmp_path / "no-ids.csv").columns) == ["prediction", "proba:0", "proba:1"]
    params = (tmp_path / "params.yaml").read_text().replace("drop: []", "drop: [id, batch, absent]")
    (tmp_path / "params.yaml").write_text(params)
    assert batch.main(["in.csv", "ids.csv", "--model-dir", str(model_dir)]) == 0
    assert list(read(tmp_path / "ids.csv").columns) == ["id", "batch", "prediction", "proba:0", "proba:1"]


@pytest.mark.parametrize(
    ("make_input", "args", "words"),
    [
        (lambda f: f.drop(columns="weight"), (), "in.csv: missing feature column(s) 'weight'"),
        (lambda f: f, ("--id-column", "customer"), "no id column(s) 'customer'"),
        (lambda f: f, ("--id-column", "size"), "'size' are features of the model"),
        (lambda f: f, ("--chunk-rows", "0"), "--chunk-rows 0: must be at least 1"),
    ],
)
def test_what_cannot_be_scored_is_one_line(
    model_dir: Path,
    tmp_path: Path,
    make_input: Callable[[pd.DataFrame], pd.DataFrame],
    args: tuple[str, ...],
    words: str,
) -> None:
    make_input(inputs(5)).to_csv(tmp_path / "in.csv", index=False)
    with pytest.raises(UserError, match=words.replace("(", r"\(").replace(")", r"\)")):
        batch.main(["in.csv", "out.csv", "--model-dir", str(model_dir), *args])
    assert not (tmp_path / "out.csv").exists() and not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize(
    ("location", "words"),
    [("absent.csv", "no such file"), ("in.txt", "not a table"), ("empty", "no .csv, .csv.gz, .parquet")],
)
def test_inputs_that_are_not_tables(tmp_path: Path, location: str, words: str) -> None:
    (tmp_path / "in.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match=words):
        batch.input_files(str(tmp_path / location))


ROWS_AT_SCALE = 1_000_000
# Runs the CLI, then writes the process's own peak resident memory (getrusage, KB on Linux) to argv[1].
PEAK_RSS = """
import resource, runpy, sys
out, sys.argv = sys.argv[1], ["cli", *sys.argv[2:]]
try:
    runpy.run_module("{{ cookiecutter.package_name }}.cli", run_name="__main__")
finally:
    open(out, "w").write(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


def score_in_child(tmp_path: Path, args: list[str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """`score ARGS` in a child process: its peak resident memory (MB), its wall time and its result."""
    env = dict(os.environ, SERVE_PREDICTION_LOG_DIR=str(tmp_path / "predlogs"))
    peak_file = tmp_path / "peak-rss-kb"
    command = [sys.executable, "-c", PEAK_RSS, str(peak_file), "score", *args]
    start = time.perf_counter()
    result = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=1200, check=False
    )
    seconds = time.perf_counter() - start
    return int(peak_file.read_text()) / 1024, seconds, result


def log_lines(folder: Path) -> int:
    return sum(1 for path in folder.glob("*.jsonl") for _ in path.open("rb"))


@pytest.mark.slow
def test_a_million_rows_in_bounded_memory(model_dir: Path, tmp_path: Path) -> None:
    """1M rows resampled from the training table (Parquet, 16 row groups) scored by the CLI in a child process
    whose peak memory stays far below the table's own size in memory; throughput printed."""
    problem_type, _, _, missing = serve_bundles.BUNDLES[NAME]
    training = serve_bundles.training_frame(problem_type, missing).drop(columns="target")
    rng = np.random.default_rng(0)
    frame = training.iloc[rng.integers(0, len(training), ROWS_AT_SCALE)].reset_index(drop=True)
    frame["weight"] += rng.normal(scale=0.1, size=ROWS_AT_SCALE)
    frame.loc[frame.sample(frac=0.001, random_state=0).index, "colour"] = "purple"  # rejected rows
    frame.insert(0, "id", np.arange(ROWS_AT_SCALE))
    table_mb = frame.memory_usage(deep=True).sum() / 2**20
    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "big.parquet", row_group_size=65_536
    )
    rejected = int((frame["colour"] == "purple").sum())
    frame.head(50_000).to_parquet(tmp_path / "small.parquet", index=False)
    del frame, training
    options = ["--model-dir", str(model_dir), "--id-column", "id"]
    baseline_mb, _, small = score_in_child(tmp_path, ["small.parquet", "small-out.parquet", *options])
    assert small.returncode == 1, small.stderr
    logged_before = log_lines(tmp_path / "predlogs")
    peak_mb, seconds, result = score_in_child(tmp_path, ["big.parquet", "scored.parquet", *options])
    assert result.returncode == 1, result.stderr  # rows rejected, the others scored
    scored = pq.read_metadata(tmp_path / "scored.parquet").num_rows
    assert scored == log_lines(tmp_path / "predlogs") - logged_before == ROWS_AT_SCALE - rejected
    assert len(pd.read_csv(tmp_path / "scored.rejects.csv")) == rejected
    rate = ROWS_AT_SCALE / seconds
    print(
        f"\nscore: {ROWS_AT_SCALE:,} rows in {seconds:.1f} s ({rate:,.0f} rows/s, prediction log on); "
        f"peak RSS {peak_mb:.0f} MB ({baseline_mb:.0f} MB on 50,000 rows); "
        f"the columns it reads, in memory at once: {table_mb:.0f} MB\n{result.stdout}"
    )
    growth = peak_mb - baseline_mb
    assert growth < 0.5 * table_mb, f"peak memory grew by {growth:.0f} MB from 50k to 1M rows"
