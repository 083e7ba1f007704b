"""The dvc.lock merge driver: stage by stage, both-sides changes left to re-run, outputs by side, bad YAML."""

from __future__ import annotations

import copy
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from {{ cookiecutter.package_name }}.gates.lock_check import UNLOCKED, mark_unlocked
from {{ cookiecutter.package_name }}.gates.lock_merge import main, merge_output_file, merge_stages

CLI = [sys.executable, "-m", "{{ cookiecutter.package_name }}.cli", "merge-lock"]


def stage(deps: dict[str, str], outs: dict[str, str], **params: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"cmd": "python -m pkg.cli step"}
    entry["deps"] = [{"path": path, "md5": md5, "size": 1} for path, md5 in deps.items()]
    if params:
        entry["params"] = {"params.yaml": params}
    entry["outs"] = [{"path": path, "md5": md5, "size": 1} for path, md5 in outs.items()]
    return entry


def base_stages() -> dict[str, Any]:
    return {
        "split": stage({"data.csv": "d0"}, {"train.parquet": "s0"}, test_size=0.2),
        "train": stage({"train.parquet": "s0"}, {"model.joblib": "m0"}, n_estimators=100, min_samples_leaf=1),
        "evaluate": stage({"model.joblib": "m0"}, {"metrics.json": "e0"}),
    }


def retrained(stages: dict[str, Any], model: str, metrics: str, **params: Any) -> dict[str, Any]:
    """Stages after changing train params on a branch and running the pipeline."""
    changed = copy.deepcopy(stages)
    changed["train"]["params"]["params.yaml"].update(params)
    changed["train"]["outs"][0]["md5"] = model
    changed["evaluate"]["deps"][0]["md5"] = model
    changed["evaluate"]["outs"][0]["md5"] = metrics
    return changed


def write_lock(path: Path, stages: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump({"schema": "2.0", "stages": stages}, sort_keys=False))
    return path


def test_stages_changed_on_one_side_take_that_side() -> None:
    base = base_stages()
    theirs = retrained(base, "m1", "e1", n_estimators=50)
    merged, rerun = merge_stages(base, base, theirs)
    assert (merged, rerun) == (theirs, [])
    assert merge_stages(base, theirs, base) == (theirs, [])


def test_stages_changed_on_both_sides_leave_the_lock_to_re_run() -> None:
    base = base_stages()
    ours = retrained(base, "m1", "e1", n_estimators=50)
    theirs = retrained(base, "m2", "e2", min_samples_leaf=5)
    merged, rerun = merge_stages(base, ours, theirs)
    assert rerun == ["train", "evaluate"]
    assert merged == {"split": base["split"]}


def test_a_stage_made_from_a_re_run_output_is_left_out_too() -> None:
    """Both sides changed the split; only ours re-trained: ours' train entry was made from ours' split, and
    evaluate from that model."""
    base = base_stages()
    ours = copy.deepcopy(base)
    theirs = copy.deepcopy(base)
    ours["split"]["outs"][0]["md5"] = ours["train"]["deps"][0]["md5"] = "s1"
    theirs["split"]["outs"][0]["md5"] = "s2"
    theirs["split"]["params"]["params.yaml"]["test_size"] = 0.3
    merged, rerun = merge_stages(base, ours, theirs)
    assert rerun == ["split", "train", "evaluate"]
    assert merged == {}


def test_check_lock_names_the_stages_left_out_of_the_lock() -> None:
    stale = {"split": ["param split.test_size modified"], "train": ["params.yaml new", "train.py modified"]}
    assert mark_unlocked(stale, ["split", "evaluate"]) == {"split": stale["split"], "train": [UNLOCKED]}


def test_a_stage_added_on_each_side_keeps_both(tmp_path: Path) -> None:
    base = base_stages()
    ours = {**base, "profile": stage({"model.joblib": "m0"}, {"profile.npz": "p0"})}
    theirs = {**base, "explain": stage({"model.joblib": "m0"}, {"shap.json": "x0"})}
    paths = [
        write_lock(tmp_path / name, stages) for name, stages in (("O", base), ("A", ours), ("B", theirs))
    ]
    assert main([str(path) for path in paths]) == 0
    merged = yaml.safe_load(paths[1].read_text())
    assert merged == {"schema": "2.0", "stages": {**ours, "explain": theirs["explain"]}}


def test_invalid_yaml_is_a_conflict_with_a_clear_message(tmp_path: Path) -> None:
    base = write_lock(tmp_path / "O", base_stages())
    ours = write_lock(tmp_path / "A", base_stages())
    theirs = tmp_path / "B"
    theirs.write_text("schema: '2.0'\nstages:\n  train: [unclosed\n")
    before = ours.read_text()
    result = subprocess.run(
        [*CLI, str(base), str(ours), str(theirs)], capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "error: dvc.lock of theirs is not valid YAML (line 4); resolve it by hand or run `make pipeline`"
    ]
    assert ours.read_text() == before


@pytest.mark.parametrize(
    ("ancestor", "ours", "theirs", "merged", "resolved"),
    [(b"0", b"0", b"1", b"1", True), (b"0", b"1", b"0", b"1", True), (b"0", b"1", b"2", b"1", False)],
)
def test_generated_outputs_take_the_side_that_changed_them(
    tmp_path: Path, ancestor: bytes, ours: bytes, theirs: bytes, merged: bytes, resolved: bool
) -> None:
    paths = [tmp_path / "O", tmp_path / "A", tmp_path / "B"]
    for path, content in zip(paths, (ancestor, ours, theirs), strict=True):
        path.write_bytes(content)
    assert merge_output_file(*paths) is resolved
    assert paths[1].read_bytes() == merged


def git(repo: Path, *args: str) -> str:
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    return subprocess.run(
        ["git", *identity, *args], cwd=repo, capture_output=True, text=True, check=True
    ).stdout


def test_git_merge_with_the_drivers_has_no_conflict(tmp_path: Path) -> None:
    """Two branches re-trained: the merge commits cleanly, dvc.lock without the stages to re-run."""
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    attributes = Path(__file__).resolve().parents[1] / ".gitattributes"
    (tmp_path / ".gitattributes").write_text(attributes.read_text())
    driver = " ".join(shlex.quote(part) for part in CLI)
    git(tmp_path, "config", "merge.dvclock.driver", f"{driver} %O %A %B")
    git(tmp_path, "config", "merge.dvcoutput.driver", f"{driver} --output %O %A %B")
    (tmp_path / "metrics").mkdir()
    base = base_stages()

    def save(stages: dict[str, Any], metrics: str, message: str) -> None:
        write_lock(tmp_path / "dvc.lock", stages)
        (tmp_path / "metrics" / "metrics.json").write_text(metrics)
        git(tmp_path, "add", "-A")
        git(tmp_path, "commit", "--quiet", "-m", message)

    save(base, '{"f1": 0.8}\n', "base")
    git(tmp_path, "checkout", "--quiet", "-b", "fewer-trees")
    save(retrained(base, "m1", "e1", n_estimators=50), '{"f1": 0.81}\n', "fewer trees")
    git(tmp_path, "checkout", "--quiet", "-b", "bigger-leaves", "main")
    save(retrained(base, "m2", "e2", min_samples_leaf=5), '{"f1": 0.79}\n', "bigger leaves")
    git(tmp_path, "checkout", "--quiet", "fewer-trees")
    git(tmp_path, "merge", "--quiet", "--no-edit", "bigger-leaves")
    assert git(tmp_path, "status", "--porcelain") == ""
    assert yaml.safe_load((tmp_path / "dvc.lock").read_text())["stages"] == {"split": base["split"]}
    assert (tmp_path / "metrics" / "metrics.json").read_text() == '{"f1": 0.81}\n'
