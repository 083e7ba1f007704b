"""upload-artifact / download-artifact stand-ins: $ACT_KIT_OUT/artifacts/<name>/ is the store."""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import os
import shutil
import sys
from pathlib import Path

from kitstate import append_record, inputs, out_dir, set_output

WORKSPACE = Path(os.environ.get("GITHUB_WORKSPACE") or os.getcwd())


def _expand(patterns: list[str], hidden: bool) -> list[Path]:
    files: set[Path] = set()
    excluded: set[Path] = set()
    for pattern in patterns:
        target = excluded if pattern.startswith("!") else files
        pattern = os.path.expanduser(pattern.lstrip("!"))
        full = str(WORKSPACE / pattern)
        for match in glob.glob(full, recursive=True, include_hidden=hidden) or []:
            p = Path(match)
            found = [p] if p.is_file() else [f for f in p.rglob("*") if f.is_file()]
            target.update(
                f
                for f in found
                if hidden
                or not any(part.startswith(".") for part in f.relative_to(p if p.is_dir() else p.parent).parts)
            )
    return sorted(files - excluded)


def upload() -> int:
    args = inputs()
    name = args.get("name") or "artifact"
    patterns = [p.strip() for p in str(args.get("path", "")).splitlines() if p.strip()]
    files = _expand(patterns, str(args.get("include-hidden-files")) == "true")
    if not files:
        mode = args.get("if-no-files-found") or "warn"
        msg = f"No files were found with the provided path: {' '.join(patterns)}. No artifacts will be uploaded."
        if mode == "error":
            print(f"::error::{msg}")
            return 1
        if mode == "warn":
            print(f"::warning::{msg}")
        return 0
    dest = out_dir() / "artifacts" / name
    if dest.exists():
        if str(args.get("overwrite")) != "true":
            print(
                "::error::Failed to CreateArtifact: Received non-retryable error: (409) Conflict: "
                "an artifact with this name already exists on the workflow run"
            )
            return 1
        shutil.rmtree(dest)
    # Like the real action: paths are stored relative to the least common ancestor.
    root = Path(os.path.commonpath([str(f.parent) for f in files]))
    digest = hashlib.sha256()
    for f in files:
        target = dest / f.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, target)
        digest.update(f.read_bytes())
    rel = [str(f.relative_to(root)) for f in files]
    append_record("artifacts", {"name": name, "files": rel, "retention-days": args.get("retention-days")})
    set_output("artifact-id", str(abs(hash(name)) % 10**9))
    set_output(
        "artifact-url",
        f"https://github.com/{os.environ.get('GITHUB_REPOSITORY', '')}/actions/runs/"
        f"{os.environ.get('GITHUB_RUN_ID', '0')}/artifacts/{name}",
    )
    set_output("artifact-digest", digest.hexdigest())
    print(f"act-kit upload-artifact: {name}: {len(files)} file(s) -> {dest}")
    return 0


def download() -> int:
    args = inputs()
    store = out_dir() / "artifacts"
    dest = (WORKSPACE / os.path.expanduser(args["path"])) if args.get("path") else WORKSPACE
    name = args.get("name") or ""
    if name:
        if not (store / name).is_dir():
            print(f"::error::Unable to download artifact(s): Artifact not found for name: {name}")
            return 1
        shutil.copytree(store / name, dest, dirs_exist_ok=True)
    else:
        names = sorted(p.name for p in store.iterdir()) if store.is_dir() else []
        if args.get("pattern"):
            names = [n for n in names if fnmatch.fnmatch(n, args["pattern"])]
        merge = str(args.get("merge-multiple")) == "true"
        for n in names:
            shutil.copytree(store / n, dest if merge else dest / n, dirs_exist_ok=True)
    set_output("download-path", str(dest))
    print(f"act-kit download-artifact: {name or 'all'} -> {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(upload() if sys.argv[1] == "upload" else download())
