"""act-kit stand-in for iterative/setup-cml v2.0.1: checks the inputs like the real action fails, records them,
puts bin/cml on GITHUB_PATH."""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(os.environ.get("ACT_KIT_HOME", "/nonexistent")) / "lib"))
from kitstate import append_record, inputs

HERE = Path(__file__).resolve().parent


def main() -> int:
    given = inputs()
    version, vega = str(given.get("version") or "latest"), str(given.get("vega", "true"))
    append_record("setup-cml", {"version": version, "vega": vega})
    if vega.strip().lower() != "false":
        # What iterative/setup-cml#103 shows on ubuntu-24.04 (Node 22): canvas@2 has no prebuilt binary, builds
        # from source and fails; the un-awaited exec rejects and the action's node process exits 1.
        print("npm error Package pixman-1 was not found in the pkg-config search path.", file=sys.stderr)
        print("npm error gyp ERR! node -v v22.22.3", file=sys.stderr)
        print(
            "::error::The process '/usr/local/bin/npm' failed with exit code 1 "
            "(act-kit: setup-cml v2.0.1 installs canvas@2/vega unless `vega: false`; "
            "that fails on Node 22+, iterative/setup-cml#103)"
        )
        return 1
    if version.strip().lower() in ("", "latest"):
        print("::error::act-kit setup-cml: no CML version pinned; set `version:` (e.g. v0.20.6), not latest")
        return 1
    cml = HERE / "bin" / "cml"
    cml.chmod(0o755)
    with open(os.environ["GITHUB_PATH"], "a", encoding="utf-8") as path_file:
        path_file.write(f"{cml.parent}\n")
    print(f"act-kit setup-cml: cml stand-in (requested version {version}) at {cml}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
