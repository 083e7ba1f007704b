"""The setup-uv stand-in under act: the lock's uv on PATH, its cache keyed on the lock, restored on an exact hit."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from actkit.act import ActResult, run_workflow

pytestmark = pytest.mark.slow

UV_VERSION = "0.13.9"
WORKFLOW = """\
name: uv
on: push
jobs:
  install:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1
      - uses: actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97
        with: {python-version: "3.11"}
      - id: uv
        uses: astral-sh/setup-uv@20cfd1bf945f4377ade1205e4dbc17946fc9a30d
        with:
          version-file: requirements-lock.txt
          enable-cache: true
          cache-dependency-glob: requirements-lock.txt
      - run: |
          test "$(command -v uv)" = "${{ steps.uv.outputs.uv-path }}"
          test "$(uv --version | cut -d' ' -f2)" = "${{ steps.uv.outputs.uv-version }}"
          case "$UV_CACHE_DIR" in "$RUNNER_TEMP"/setup-uv-cache) ;; *) echo "UV_CACHE_DIR=$UV_CACHE_DIR"; exit 1;; esac
          python -m venv .venv
          uv pip install --python .venv/bin/python -r requirements-lock.txt
          .venv/bin/python -c "import six"
          echo "hit=${{ steps.uv.outputs.cache-hit }} python=${{ steps.uv.outputs.python-version }}" > uv.txt
      - uses: actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f
        with: {name: uv, path: uv.txt}
"""


def make_repo(root: Path, lock: str, workflow: str = WORKFLOW) -> Path:
    repo = root / "repo"
    (repo / ".github/workflows").mkdir(parents=True)
    (repo / ".github/workflows/uv.yml").write_text(workflow)
    (repo / "requirements-lock.txt").write_text(lock)
    git = ["git", "-c", "user.email=kit@example.com", "-c", "user.name=kit", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "lock"], check=True)
    return repo


def push(repo: Path, out: Path, cache: Path) -> ActResult:
    return run_workflow(repo, ".github/workflows/uv.yml", "push", {"ref": "refs/heads/main"}, out, cache_dir=cache)


def test_locked_uv_on_path_and_its_cache_restored_on_the_same_lock_only(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, f"six==1.17.0\nuv=={UV_VERSION}\n")
    cache = tmp_path / "cache"
    first = push(repo, tmp_path / "run1", cache)
    assert first.ok, first.tail()
    assert (first.out_dir / "artifacts/uv/uv.txt").read_text() == "hit=false python=3.11.7\n"
    [restore, save] = first.records["setup-uv"]
    assert (restore["op"], restore["hit"], save["op"]) == ("restore", False, "save")
    assert restore["key"].startswith("setup-uv-2-x86_64-unknown-linux-gnu-") and save["key"] == restore["key"]

    second = push(repo, tmp_path / "run2", cache)
    assert second.ok, second.tail()
    assert (second.out_dir / "artifacts/uv/uv.txt").read_text() == "hit=true python=3.11.7\n"
    assert second.records["setup-uv"] == [{"op": "restore", "key": restore["key"], "hit": True}]  # hit: no save
    assert f"Cache hit occurred on key {restore['key']}, not saving cache." in second.output

    (repo / "requirements-lock.txt").write_text(f"six==1.16.0\nuv=={UV_VERSION}\n")
    subprocess.run(["git", "-C", str(repo), "commit", "-qam", "new lock"], check=True, env=GIT_IDENTITY)
    third = push(repo, tmp_path / "run3", cache)
    assert third.ok, third.tail()
    assert [(r["op"], r.get("hit")) for r in third.records["setup-uv"]] == [("restore", False), ("save", None)]
    assert third.records["setup-uv"][0]["key"] != restore["key"]


def test_a_version_it_cannot_pin_offline_fails_with_one_clear_error(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, "uv>=0.5\n")
    result = push(repo, tmp_path / "run", tmp_path / "cache")
    assert not result.ok
    assert (
        "::error::uv version '>=0.5': the act-kit stand-in is offline and installs an exact version only"
        in result.output
    )


GIT_IDENTITY = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "GIT_AUTHOR_NAME": "kit",
    "GIT_AUTHOR_EMAIL": "kit@example.com",
    "GIT_COMMITTER_NAME": "kit",
    "GIT_COMMITTER_EMAIL": "kit@example.com",
}
