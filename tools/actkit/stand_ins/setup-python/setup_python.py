"""act-kit stand-in for actions/setup-python: venv from the host python (see tools/actkit/README.md)."""

import json
import os
import subprocess
import sys
from pathlib import Path

HOST_PY = os.environ.get("ACT_KIT_HOST_PYTHON") or sys.executable


def main() -> int:
    requested = os.environ.get("KIT_REQ", "").strip()
    req_file = os.environ.get("KIT_REQ_FILE", "").strip()
    if not requested and req_file:
        requested = Path(req_file).read_text().split()[0]
    actual = subprocess.run(
        [HOST_PY, "-c", "import platform; print(platform.python_version())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    matches = not requested or actual == requested or actual.startswith(requested.rstrip(".x") + ".")
    if not matches:
        print(f"::warning::act-kit setup-python: requested {requested!r}, host python is {actual}")
        if os.environ.get("ACT_KIT_STRICT_PYTHON") == "1":
            print(f"::error::act-kit setup-python: python {requested} is not available")
            return 1
    temp = Path(os.environ.get("RUNNER_TEMP") or "/tmp")
    venv = temp / f"act-kit-python-{actual}"
    if not (venv / "bin" / "python").exists():
        subprocess.run([HOST_PY, "-m", "venv", str(venv)], check=True)
    with open(os.environ["GITHUB_PATH"], "a") as fh:
        fh.write(f"{venv / 'bin'}\n")
    with open(os.environ["GITHUB_ENV"], "a") as fh:
        fh.write(f"pythonLocation={venv}\nVIRTUAL_ENV={venv}\n")
    with open(os.environ["GITHUB_OUTPUT"], "a") as fh:
        fh.write(f"python-version={actual}\npython-path={venv / 'bin' / 'python'}\n")
    out = os.environ.get("ACT_KIT_OUT")
    if out:
        rec = Path(out) / "setup-python.json"
        data = json.loads(rec.read_text()) if rec.exists() else []
        data.append(
            {
                "requested": requested,
                "actual": actual,
                "matches": matches,
                "cache": os.environ.get("KIT_CACHE", ""),
                "venv": str(venv),
            }
        )
        rec.write_text(json.dumps(data, indent=2))
    print(f"act-kit setup-python: requested {requested or '(none)'} -> host python {actual} venv {venv}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
