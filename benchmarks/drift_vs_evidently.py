"""Benchmark: a generated project's drift monitor vs Evidently's DataDriftPreset (KS/chi-square and its defaults).

Not a test. `make bench-drift` in the template (a default project in build/bench), or
`python benchmarks/drift_vs_evidently.py PROJECT --sizes 100000` for a generated project set up with `make setup`
(the script continues with PROJECT/.venv's interpreter, in PROJECT: generated_project.enter).
Evidently needs pandas < 3, so it runs in its own virtualenv under PROJECT/build/ (ignored by git), created only
when asked: `make bench-drift BENCH_ARGS="--install-evidently"` (needs network or a package mirror). Without it,
only the project's timings and verdicts are printed. Every measured step is a subprocess under
/usr/bin/time (elapsed seconds, peak RSS), the same way for both tools. Data and outputs: PROJECT/build/bench-drift/.
"""

# One script, two interpreters (the project's and Evidently's venv): imports stay inside the steps that
# need them, and main() is a report printer. Paths are relative to the project: the working directory of the
# parent (after generated_project.enter) and of every child it starts.
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import generated_project

SCRIPT = Path(__file__).resolve()
BUILD = Path("build") / "bench-drift"
DATA = BUILD / "data"
EVIDENTLY_VENV = Path("build") / "evidently-venv"
EVID_PY = str(EVIDENTLY_VENV / "bin" / "python")
OURS_PY = sys.executable
EVIDENTLY_REQUIREMENTS = ("evidently>=0.7", "pandas<3", "pyarrow")


def package_name() -> str:
    return generated_project.package_name(Path.cwd())


def install_evidently() -> None:
    if not Path(EVID_PY).exists():
        subprocess.run([sys.executable, "-m", "venv", str(EVIDENTLY_VENV)], check=True)
    subprocess.run([EVID_PY, "-m", "pip", "install", "--quiet", *EVIDENTLY_REQUIREMENTS], check=True)


N_NUM, N_CAT = 20, 5
SHIFTED = {
    "n0": "mean +0.5sd",
    "n1": "mean +0.5sd",
    "n2": "mean +0.5sd",
    "n3": "variance x2",
    "c0": "proportions changed",
}
NEGLIGIBLE = {"n4": "mean +0.02sd"}
CATS = [f"cat_{i}" for i in range(6)]
P_BASE = [0.30, 0.25, 0.20, 0.12, 0.08, 0.05]
P_SHIFT = [0.10, 0.15, 0.20, 0.20, 0.15, 0.20]


def columns() -> tuple[list[str], list[str]]:
    return [f"n{i}" for i in range(N_NUM)], [f"c{i}" for i in range(N_CAT)]


def make_frame(n: int, seed: int, current: bool):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    nums, cats = columns()
    data = {}
    for i, c in enumerate(nums):
        loc, scale = float(i % 5), 1.0 + (i % 3)
        v = rng.normal(loc, scale, n)
        if current and c in ("n0", "n1", "n2"):
            v += 0.5 * scale
        if current and c == "n3":
            v = loc + (v - loc) * np.sqrt(2.0)
        if current and c == "n4":
            v += 0.02 * scale
        data[c] = v
    for c in cats:
        p = P_SHIFT if (current and c == "c0") else P_BASE
        data[c] = pd.Categorical.from_codes(rng.choice(len(CATS), n, p=p), categories=CATS).astype(str)
    return pd.DataFrame(data)


def paths(n: int) -> dict[str, Path]:
    d = DATA / str(n)
    return {
        "dir": d,
        "ref": d / "reference.parquet",
        "cur": d / "current.parquet",
        "meta": d / "metadata.json",
        "profile": d / "profile.npz",
    }


def generate(n: int) -> None:
    p = paths(n)
    if p["cur"].exists():
        return
    p["dir"].mkdir(parents=True, exist_ok=True)
    make_frame(n, 1000 + n % 97, False).to_parquet(p["ref"], index=False)
    make_frame(n, 2000 + n % 89, True).to_parquet(p["cur"], index=False)
    nums, cats = columns()
    feats = [{"name": c, "kind": "numeric", "dtype": "float64", "nullable": False, "categories": None} for c in nums]
    feats += [
        {"name": c, "kind": "categorical", "dtype": "object", "nullable": False, "categories": CATS} for c in cats
    ]
    meta = {
        "model_version": "bench",
        "model_sha256": "0" * 64,
        "metrics": {},
        "feature_schema": {
            "target": "target",
            "problem_type": "classification",
            "classes": [0, 1],
            "features": feats,
        },
    }
    p["meta"].write_text(json.dumps(meta))


# ----------------------------------------------------------------------------- child steps


def child_ours_profile(n: int) -> dict:
    import importlib

    import pandas as pd

    load_metadata = importlib.import_module(f"{package_name()}.monitor.cli").load_metadata
    profile_module = importlib.import_module(f"{package_name()}.monitor.profile")
    build_profile, save_profile = profile_module.build_profile, profile_module.save_profile
    p = paths(n)
    t = time.perf_counter()
    ref = pd.read_parquet(p["ref"])
    save_profile(build_profile(ref, load_metadata(p["meta"]).feature_schema), p["profile"])
    return {"seconds": time.perf_counter() - t}


def child_ours_run(n: int) -> dict:
    import importlib

    run_monitor = importlib.import_module(f"{package_name()}.monitor.cli").run_monitor
    p = paths(n)
    out = p["dir"] / "ours_out"
    t = time.perf_counter()
    code = run_monitor(p["profile"], p["cur"], p["meta"], out_dir=out)
    sec = time.perf_counter() - t
    s = json.loads((out / "summary.json").read_text())
    verdicts = {f["name"]: f["verdict"] == "drift" for f in s["drift"]["features"]}
    detail = {
        f["name"]: f"p={f['p_value_adj']:.1e} psi={f['psi']:.3f} "
        + (f"D={f['statistic']:.3f}" if f["test"] == "ks" else f"V={f['cramers_v']:.3f}")
        for f in s["drift"]["features"]
    }
    return {"seconds": sec, "exit_code": code, "verdicts": verdicts, "detail": detail}


def child_evidently(n: int, mode: str) -> dict:
    import pandas as pd
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    p = paths(n)
    nums, cats = columns()
    t = time.perf_counter()
    ref = pd.read_parquet(p["ref"])
    cur = pd.read_parquet(p["cur"])
    dd = DataDefinition(numerical_columns=nums, categorical_columns=cats)
    preset = DataDriftPreset(num_method="ks", cat_method="chisquare") if mode == "ks" else DataDriftPreset()
    snap = Report([preset]).run(
        Dataset.from_pandas(cur, data_definition=dd), Dataset.from_pandas(ref, data_definition=dd)
    )
    res = snap.dict()
    sec = time.perf_counter() - t
    verdicts, detail = {}, {}
    distance_words = ("wasserstein", "jensen", "psi", "k-l", "kl_div", "hellinger", "energy", "tvd")
    for m in res["metrics"]:
        cfg = m.get("config", {})
        if not cfg.get("type", "").endswith("ValueDrift"):
            continue
        method, thr, val = str(cfg.get("method")), float(cfg.get("threshold")), float(m["value"])
        is_distance = any(w in method.lower() for w in distance_words)
        verdicts[cfg["column"]] = (val >= thr) if is_distance else (val < thr)
        detail[cfg["column"]] = f"{method}={val:.3g} (thr {thr})"
    return {"seconds": sec, "verdicts": verdicts, "detail": detail}


# ----------------------------------------------------------------------------- parent


def verdict(drift: bool | None) -> str:
    return "n/a" if drift is None else ("DRIFT" if drift else "-")


def measure(python: str, args: list[str]) -> dict:
    """Run one child under /usr/bin/time: wall seconds and peak RSS of that process."""
    out_file = DATA / "child_result.json"
    cmd = ["/usr/bin/time", "-f", "%e %M", python, str(SCRIPT), ".", "--child", *args, "--out", str(out_file)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    tail = proc.stderr.strip().splitlines()
    if proc.returncode != 0:
        raise RuntimeError(f"child {args} failed:\n{proc.stderr[-3000:]}")
    wall, maxrss_kb = tail[-1].split()
    res = json.loads(out_file.read_text())
    res["wall"] = float(wall)
    res["peak_mb"] = int(maxrss_kb) / 1024
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("project", type=Path, help="a generated project set up with `make setup` (children: .)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument(
        "--evidently-modes",
        nargs="+",
        default=["ks", "default"],
        choices=["ks", "default"],
        help="which Evidently configurations to run (ks is the speed/memory baseline)",
    )
    ap.add_argument(
        "--install-evidently",
        action="store_true",
        help=f"create PROJECT/{EVIDENTLY_VENV} with {', '.join(EVIDENTLY_REQUIREMENTS)} first",
    )
    ap.add_argument("--child", nargs="+")
    ap.add_argument("--out")
    a = ap.parse_args()
    if a.child:
        kind, n = a.child[0], int(a.child[1])
        if kind == "ours_profile":
            res = child_ours_profile(n)
        elif kind == "ours_run":
            res = child_ours_run(n)
        else:
            res = child_evidently(n, a.child[2])
        Path(a.out).write_text(json.dumps(res))
        return
    generated_project.enter(a.project.resolve())
    if a.install_evidently:
        install_evidently()
    with_evidently = Path(EVID_PY).exists()
    if not with_evidently:
        print("Evidently is not installed (add --install-evidently): only this project's monitor is measured.\n")

    import platform

    print(
        f"machine: {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"columns: {N_NUM} numeric + {N_CAT} categorical; same n for reference and current"
    )
    print(
        "shifted: "
        + ", ".join(f"{k} ({v})" for k, v in SHIFTED.items())
        + "; negligible: "
        + ", ".join(f"{k} ({v})" for k, v in NEGLIGIBLE.items())
        + "; rest identical\n"
    )
    rows = []
    all_verdicts = {}
    for n in a.sizes:
        generate(n)
        prof = measure(OURS_PY, ["ours_profile", str(n)])
        ours = measure(OURS_PY, ["ours_run", str(n)])
        ev_ks = measure(EVID_PY, ["evidently", str(n), "ks"]) if with_evidently else None
        run_default = with_evidently and "default" in a.evidently_modes
        ev_def = measure(EVID_PY, ["evidently", str(n), "default"]) if run_default else None
        rows += [(n, "ours: build profile (once)", prof, None), (n, "ours: monitor run", ours, ev_ks)]
        if ev_ks:
            rows.append((n, "evidently ks+chisquare", ev_ks, ev_ks))
        if ev_def:
            rows.append((n, "evidently default", ev_def, ev_ks))
        all_verdicts[n] = (ours, ev_ks, ev_def)

    print(
        f"{'rows':>9}  {'tool':<28} {'run s':>8} {'proc wall s':>11} {'peak MB':>9} "
        f"{'speedup vs ev-ks':>17} {'mem vs ev-ks':>13}"
    )
    for n, name, r, base in rows:
        sp = f"{base['seconds'] / r['seconds']:.1f}x" if base else "-"
        mem = f"{r['peak_mb'] / base['peak_mb']:.2f}" if base else "-"
        print(f"{n:>9}  {name:<28} {r['seconds']:>8.2f} {r['wall']:>11.2f} {r['peak_mb']:>9.0f} {sp:>17} {mem:>13}")
    print(
        "\n'run s' = time inside the process (read parquet + tests + reports); 'proc wall s' includes "
        "interpreter start and imports; peak MB = max RSS of the process (/usr/bin/time %M)."
    )

    problems = []
    for n, (ours, ev_ks_run, ev_def_run) in all_verdicts.items():
        print(f"\nper-column verdicts at n={n} (ours exit code {ours['exit_code']}):")
        print(
            f"{'column':<7} {'expected':<22} {'ours':<6} {'ev-ks':<6} {'ev-def':<6}  "
            "ours detail / evidently ks / evidently default"
        )
        for col in ours["verdicts"]:
            exp = SHIFTED.get(col) or (NEGLIGIBLE.get(col) and "negligible " + NEGLIGIBLE[col]) or "stable"
            ev_ks = ev_ks_run or {"verdicts": {}, "detail": {}}
            ev_def = ev_def_run or {"verdicts": {}, "detail": {}}
            o, k = ours["verdicts"][col], ev_ks["verdicts"].get(col)
            d = ev_def["verdicts"].get(col)  # None: not run, or its result not parsed
            flag = ""
            if col in SHIFTED and not o:
                flag = "MISSED"
            elif col not in SHIFTED and o:
                flag = "FALSE ALARM"
            if col in SHIFTED or col not in NEGLIGIBLE:
                if col in SHIFTED and any(v is not None and v != o for v in (k, d)):
                    flag += " DISAGREE"
                if col not in SHIFTED and col not in NEGLIGIBLE and o and not (k or d):
                    flag += " (evidently raised none)"
            print(
                f"{col:<7} {exp:<22} {verdict(o):<6} {verdict(k):<6} {verdict(d):<6}  "
                f"{ours['detail'][col]} | "
                f"{ev_ks['detail'].get(col)} | {ev_def['detail'].get(col)}  {flag}"
            )
            if flag:
                problems.append(f"n={n} {col}: {flag.strip()}")
    print("\nproblems: " + ("; ".join(problems) if problems else "none (all clearly shifted detected, no false alarm)"))


if __name__ == "__main__":
    main()
