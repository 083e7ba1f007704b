"""What ties a model to the exact code, data and params that produced it."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

UNKNOWN = "unknown"


def file_md5(path: Path) -> str:
    """md5 of a file's bytes: the hash DVC records for it in dvc.lock."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _git(*args: str, cwd: Path) -> str | None:
    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return result.stdout.strip()


def git_commit(cwd: Path = Path()) -> str:
    return _git("rev-parse", "HEAD", cwd=cwd) or UNKNOWN


def git_dirty(cwd: Path = Path()) -> bool:
    """Uncommitted changes to anything but dvc.lock (which `dvc repro` itself rewrites while it runs)."""
    status = _git("status", "--porcelain", "--", ".", ":(exclude)dvc.lock", cwd=cwd)
    return bool(status)
