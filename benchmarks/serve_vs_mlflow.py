"""Benchmark: a generated project's service against `mlflow models serve` on its trained model.

    make bench-serve  [BENCH_ARGS="--duration 8"]   (the template's Makefile: a default project in build/bench)
    python benchmarks/serve_vs_mlflow.py PROJECT [--duration 8]   (PROJECT set up, its pipeline run)

It runs with the project's interpreter (PROJECT/.venv) in the project's folder (generated_project.enter).

Both servers serve the same fitted pipeline (models/model.joblib; MLflow gets a copy saved with
mlflow.sklearn.save_model in a temporary folder) with one worker on 127.0.0.1. A load generator in a
separate process (threads, keep-alive connections) drives each for a fixed time per scenario: single-row
requests with 1 and 8 clients, and 1000-row batches with 1 client. Our service is measured on both of its
endpoints: /predict (its own body) and /invocations with the very bodies MLflow gets (MLflow's scoring protocol,
`dataframe_split`). Printed: throughput, p50/p99 latency, start-up time (spawn to the first 200 from the health
URL), memory (RSS of the server's process tree), the ratios ours/MLflow with the targets of /invocations
(1000 rows >= 3x MLflow's throughput, one row >= 10x, p99 <= 1/5 of MLflow's), the in-process ceiling
(one-row model.predict calls per second, and the fast path), and the command that made the figures.
"""

from __future__ import annotations

import argparse
import http.client
import importlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

import generated_project

SCRIPT = Path(__file__).resolve()
SCENARIOS = (("1row_c1", "single", 1), ("1row_c8", "single", 8), ("1000rows_c1", "batch", 1))
BATCH_ROWS = 1000
# scenario -> (least throughput ratio, largest p99 ratio) of ours /invocations against MLflow (issue 12's targets)
TARGETS = {"1row_c1": (10.0, 0.2), "1row_c8": (10.0, 0.2), "1000rows_c1": (3.0, 0.2)}


def loadgen(url: str, body_file: str, clients: int, duration: float, warmup: float, max_requests: int) -> dict:
    """Runs in its own process: `clients` threads POST the body in a loop; latencies after the warm-up."""
    host, port = url.split("//")[1].split("/", maxsplit=1)[0].split(":")
    path = "/" + url.split("//")[1].split("/", 1)[1]
    body = Path(body_file).read_bytes()
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    start = time.perf_counter()
    measure_from, end = start + warmup, start + warmup + duration
    lock = threading.Lock()
    budget = [max_requests]

    def worker(k: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        while time.perf_counter() < end:
            with lock:
                if budget[0] <= 0:
                    break
                budget[0] -= 1
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
            except OSError:
                status = -1
                conn.close()
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
            t1 = time.perf_counter()
            if t0 >= measure_from:
                if status == 200:
                    latencies[k].append(t1 - t0)
                else:
                    errors[k] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = min(time.perf_counter(), end) - measure_from
    ordered = sorted(x for per_client in latencies for x in per_client)
    n = len(ordered)

    def percentile(p: float) -> float:
        return ordered[min(n - 1, int(p * n))] * 1e3 if n else float("nan")

    return {
        "ok": n,
        "errors": sum(errors),
        "rps": n / elapsed if elapsed > 0 else float("nan"),
        "p50_ms": percentile(0.50),
        "p99_ms": percentile(0.99),
        "mean_ms": statistics.fmean(ordered) * 1e3 if n else float("nan"),
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_tree_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, from /proc (Linux)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    tree, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent and child not in tree]
        tree.update(children)
        frontier.extend(children)
    total = 0
    for member in tree:
        try:
            for line in Path(f"/proc/{member}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total / 2**20


class Server:
    """A server process in its own session, stopped (with its workers) on exit; `endpoints`: name -> (URL, bodies)."""

    def __init__(
        self, name: str, command: list[str], env: dict[str, str], health: str, endpoints: dict[str, tuple[str, dict]]
    ) -> None:
        self.name, self.command, self.env, self.health, self.endpoints = name, command, env, health, endpoints
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in __exit__)
        self.startup_s = float("nan")

    def __enter__(self) -> Server:
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            self.command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        while time.perf_counter() - t0 < 180:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"{self.name} exited {self.proc.returncode}:\n{self.log.read().decode()[-3000:]}")
            try:
                with urllib.request.urlopen(self.health, timeout=1) as response:
                    if response.status == 200:
                        self.startup_s = time.perf_counter() - t0
                        return self
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"{self.name}: {self.health} not ready after 180 s")

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()


def run_load(url: str, body: bytes, clients: int, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    body_file = tmp / f"body-{len(body)}-{clients}.json"
    body_file.write_bytes(body)
    command = [sys.executable, str(SCRIPT), "--loadgen", url, str(body_file), str(clients), str(args.duration)]
    result = subprocess.run(
        [*command, "1.0", str(args.max_requests)],
        capture_output=True,
        text=True,
        check=False,
        timeout=args.duration + 120,
    )
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return json.loads(result.stdout)


def calls_per_second(call: Any, duration: float = 3.0) -> float:
    call()
    count, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < duration:
        call()
        count += 1
    return count / (time.perf_counter() - t0)


def print_row(result: dict[str, Any]) -> None:
    print(
        f"{result['server']:7s} startup {result['startup_s']:5.2f} s  RSS {result['rss_mb']:6.1f} MB "
        f"(idle {result['rss_mb_idle']:.1f})"
    )
    for endpoint in result["endpoints"]:
        print(f"  {endpoint}")
        for label, _, _ in SCENARIOS:
            r = result["endpoints"][endpoint][label]
            print(
                f"    {label:12s} {r['rps']:8.1f} req/s  p50 {r['p50_ms']:7.2f} ms  p99 {r['p99_ms']:7.2f} ms  "
                f"ok {r['ok']:6d}  errors {r['errors']}"
            )
    sys.stdout.flush()


def print_ratios(ours: dict[str, Any], mlflow: dict[str, Any]) -> None:
    """Ratios ours/MLflow per endpoint of ours; /invocations (the same bodies as MLflow's) against the targets."""
    theirs = mlflow["endpoints"]["/invocations"]
    for endpoint, results in ours["endpoints"].items():
        print(f"ratios ours {endpoint} / mlflow /invocations:")
        for label, _, _ in SCENARIOS:
            o, m = results[label], theirs[label]
            throughput, p99 = o["rps"] / m["rps"], o["p99_ms"] / m["p99_ms"]
            verdict = ""
            if endpoint == "/invocations":
                least, most = TARGETS[label]
                met = throughput >= least and p99 <= most
                verdict = f"   target throughput >= x{least:g}, p99 <= x{most:g}: {'met' if met else 'MISSED'}"
            print(
                f"    {label:12s} throughput x{throughput:.2f}   p50 x{o['p50_ms'] / m['p50_ms']:.3f}   "
                f"p99 x{p99:.3f}{verdict}"
            )
    print(f"    startup x{ours['startup_s'] / mlflow['startup_s']:.2f}   RSS x{ours['rss_mb'] / mlflow['rss_mb']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path, help="a generated project, set up (make setup), its pipeline run")
    parser.add_argument("--model-dir", type=Path, default=Path("models"), help="relative to the project")
    parser.add_argument(
        "--table", type=Path, default=Path("data/processed/test.parquet"), help="relative to the project"
    )
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per scenario, after 1 s warm-up")
    parser.add_argument("--max-requests", type=int, default=200_000, help="hard cap per scenario")
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument(
        "--prediction-log",
        choices=("on", "off"),
        default="on",
        help="our service's prediction log (MLflow keeps none): on, as deployed, or off to compare like for like",
    )
    args = parser.parse_args()
    project = args.project.resolve()
    generated_project.enter(project)
    # The project's interpreter from here on: its packages (MLflow, pandas, the project itself) can be imported.
    import joblib
    import mlflow.sklearn
    import pandas as pd
    from mlflow.models import infer_signature

    package = generated_project.package_name(project)
    load_bundle = importlib.import_module(f"{package}.serve.bundle").load_bundle
    predict_module = importlib.import_module(f"{package}.serve.predict")
    request_body = importlib.import_module(f"{package}.serve.request_example").request_body

    predictor = predict_module.prepare_predictor(load_bundle(args.model_dir))
    model = joblib.load(args.model_dir / "model.joblib")
    schema = predictor.bundle.metadata.feature_schema
    names = schema.names()
    table = pd.read_parquet(args.table)
    one, batch = table[names].head(1), table[names].sample(BATCH_ROWS, replace=True, random_state=0)
    ours = {
        "single": json.dumps(request_body(one, schema)).encode(),
        "batch": json.dumps(request_body(batch, schema, BATCH_ROWS)).encode(),
    }
    theirs = {
        "single": json.dumps({"dataframe_split": json.loads(one.to_json(orient="split", index=False))}).encode(),
        "batch": json.dumps({"dataframe_split": json.loads(batch.to_json(orient="split", index=False))}).encode(),
    }
    row = next(iter(json.loads(ours["single"])["rows"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ceiling = {
            "sklearn": calls_per_second(lambda: model.predict(one)),
            "fast_path": calls_per_second(lambda: predict_module.predict(predictor, [list(row.values())])),
        }
    print(f"command: {' '.join(sys.argv)}")
    print(
        f"model {predictor.bundle.model_version} ({schema.problem_type}, {len(names)} features, "
        f"{type(model[-1]).__name__}); {os.cpu_count()} cpus; python {sys.version.split()[0]}; "
        f"{args.duration:g} s per scenario after 1 s warm-up; load generator in a separate process; "
        f"our prediction log {args.prediction_log}\n"
    )

    venv_bin = str(Path(sys.executable).parent)
    env = dict(os.environ, MLFLOW_DISABLE_TELEMETRY="true", DO_NOT_TRACK="true", PYTHONUNBUFFERED="1")
    env["PATH"] = venv_bin + os.pathsep + env.get("PATH", "")
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as directory:
        tmp = Path(directory)
        port = free_port()
        servers = [
            Server(
                "ours",
                [sys.executable, "-m", f"{package}.serve", "--port", str(port)],
                dict(
                    env,
                    SERVE_MODEL_DIR=str(args.model_dir.resolve()),
                    SERVE_PREDICTION_LOG_DIR=str(tmp / "predictions"),
                    SERVE_WORKERS="1",
                    SERVE_PREDICTION_LOG_ENABLED=str(args.prediction_log == "on").lower(),
                    SERVE_LOG_LEVEL="warning",
                ),
                f"http://127.0.0.1:{port}/health/ready",
                {
                    "/predict": (f"http://127.0.0.1:{port}/predict", ours),
                    "/invocations": (f"http://127.0.0.1:{port}/invocations", theirs),
                },
            )
        ]
        if not args.no_mlflow:
            saved = tmp / "mlflow-model"
            mlflow.sklearn.save_model(
                model,
                str(saved),
                serialization_format="cloudpickle",
                signature=infer_signature(table[names].head(5), model.predict(table[names].head(5))),
            )
            port = free_port()
            mlflow_command = [str(Path(venv_bin) / "mlflow"), "models", "serve", "-m", str(saved)]
            servers.append(
                Server(
                    "mlflow",
                    [
                        *mlflow_command,
                        "--env-manager",
                        "local",
                        "-w",
                        "1",
                        "-h",
                        "127.0.0.1",
                        "-p",
                        str(port),
                    ],
                    env,
                    f"http://127.0.0.1:{port}/ping",
                    {"/invocations": (f"http://127.0.0.1:{port}/invocations", theirs)},
                )
            )
        for server in servers:
            with server:
                result: dict[str, Any] = {"server": server.name, "startup_s": server.startup_s, "endpoints": {}}
                result["rss_mb_idle"] = rss_tree_mb(server.proc.pid)  # type: ignore[union-attr]
                for endpoint, (url, bodies) in server.endpoints.items():
                    result["endpoints"][endpoint] = {
                        label: run_load(url, bodies[kind], clients, args, tmp) for label, kind, clients in SCENARIOS
                    }
                result["rss_mb"] = rss_tree_mb(server.proc.pid)  # type: ignore[union-attr]
            results[server.name] = result
            print_row(result)

    print(
        f"\nin-process ceiling, one row: sklearn model.predict {ceiling['sklearn']:.0f} calls/s; "
        f"the service's {predictor.serving_path} path {ceiling['fast_path']:.0f} calls/s"
    )
    if "mlflow" in results:
        print_ratios(results["ours"], results["mlflow"])
    rps = results["ours"]["endpoints"]["/predict"]["1row_c8"]["rps"]
    print(
        f"ours /predict 1row_c8 = {rps / ceiling['fast_path'] * 100:.0f}% of its in-process "
        f"{predictor.serving_path} path, "
        f"{rps / ceiling['sklearn'] * 100:.0f}% of one-row sklearn predict calls"
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--loadgen":
        url, body_file, clients, duration, warmup, max_requests = sys.argv[2:8]
        print(json.dumps(loadgen(url, body_file, int(clients), float(duration), float(warmup), int(max_requests))))
    else:
        main()
