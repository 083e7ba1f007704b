"""The setup-uv stand-in's post step when two jobs save the same key at once: one saves, the other warns as the
real action does when GitHub's cache refuses the reservation, and neither job fails. Fast: the post step alone."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from actkit.act import KIT_DIR

sys.path.insert(0, str(KIT_DIR / "lib"))  # the stand-ins' stdlib scripts, run directly, not a package
import setup_uv

KEY = "setup-uv-2-x86_64-unknown-linux-gnu-debian-12-3.11.7-abc-extras-serve"


@pytest.fixture
def job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "runner" / "setup-uv-cache"
    (cache / "wheels").mkdir(parents=True)
    (cache / "wheels" / "a.whl").write_text("wheel")
    for name, value in {
        "STATE_SETUP_UV_CACHE_ENABLED": "true",
        "STATE_SETUP_UV_CACHE_KEY": KEY,
        "STATE_SETUP_UV_CACHE_PATH": str(cache),
        "RUNNER_TEMP": str(tmp_path / "runner"),
        "ACT_KIT_CACHE_DIR": str(tmp_path / "store"),
        "ACT_KIT_OUT": str(tmp_path / "out"),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("STATE_SETUP_UV_CACHE_MATCHED", raising=False)
    (tmp_path / "out").mkdir()
    return cache


def test_the_second_of_two_jobs_saving_one_key_warns_and_succeeds(
    job: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = shutil.copytree

    def other_job_saves_first(source: Any, target: Any, **kwargs: Any) -> Any:
        # copytree recurses through the module attribute: only the outer call races
        monkeypatch.setattr(setup_uv.shutil, "copytree", copy)
        result = copy(source, target, **kwargs)
        copy(Path(target), setup_uv.store_entry(KEY, job), dirs_exist_ok=True)  # the other job's save
        (setup_uv.store_entry(KEY, job) / "meta.json").write_text("{}")
        return result

    monkeypatch.setattr(setup_uv.shutil, "copytree", other_job_saves_first)
    setup_uv.post()
    assert "Unable to reserve cache with key" in capsys.readouterr().out
    entry = setup_uv.store_entry(KEY, job)
    assert sorted(path.name for path in entry.parent.iterdir()) == [entry.name]  # no staging folder left


def test_a_free_key_is_saved(job: Path, capsys: pytest.CaptureFixture[str]) -> None:
    setup_uv.post()
    assert f"uv cache saved with key: {KEY}" in capsys.readouterr().out
    assert (setup_uv.store_entry(KEY, job) / "files" / "wheels" / "a.whl").read_text() == "wheel"
