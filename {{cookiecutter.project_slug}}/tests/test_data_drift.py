"""The report's "Data drift vs base" section: the monitor's tests on a PR's training data vs the base's."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package_name }}.config import Params, Paths, parse_params
from {{ cookiecutter.package_name }}.contracts import ModelMetadata, write_json_contract
from {{ cookiecutter.package_name }}.gates.data_drift import (
    DataVersion,
    compare_tables,
    data_drift_section,
    render_section,
)

from monitor_frames import make_frame, make_schema

SCHEMA = make_schema("classification")
BASE = DataVersion("data/base.csv", "0" * 32)
CURRENT = DataVersion("data/current.csv", "1" * 32)


def labelled(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    return frame.assign(target=np.random.default_rng(seed).integers(0, 2, len(frame)))


def section(base: pd.DataFrame, current: pd.DataFrame, params: Params) -> str:
    comparison = compare_tables((BASE, CURRENT), base, current, SCHEMA, params.monitor)
    return "\n".join(render_section(comparison, "origin/main"))


@pytest.fixture
def params(params_dict: dict[str, Any]) -> Params:
    """The project's params, training on data/table.csv."""
    params_dict["data"]["path"] = "data/table.csv"
    return parse_params(params_dict)


@pytest.fixture
def base() -> pd.DataFrame:
    return labelled(make_frame(800, seed=1), seed=1)


def row_of(markdown: str, column: str) -> str:
    """The first table row of `column` (the table of changed columns comes before the full one)."""
    return next(line for line in markdown.splitlines() if line.startswith(f"| `{column}`"))


def test_a_shifted_feature_drifts_with_its_effect_size(base: pd.DataFrame, params: Params) -> None:
    markdown = section(base, labelled(make_frame(800, seed=2, mean=0.8), seed=2), params)
    row = row_of(markdown, "x1")
    assert row.startswith("| `x1` | 🔴 drift | KS 0.")
    ks = float(row.split("KS ")[1].split(",")[0])
    assert ks >= 0.25, row
    assert f"ks {ks:.3f} >= 0.1" in row
    assert row_of(markdown, "colour").startswith("| `colour` | no drift | Cramér's V 0.")
    assert "🔴 **Data drift**: the data moved beyond the monitor's thresholds: 1 of 3 features" in markdown
    assert "| data | `data/base.csv` | `data/current.csv` |" in markdown
    assert f"| md5 | `{BASE.md5}` | `{CURRENT.md5}` |" in markdown
    assert "below alpha 0.05 and an effect size passes (KS ≥ 0.1, Cramér's V ≥ 0.1, PSI ≥ 0.1" in markdown
    assert markdown.endswith("Informational, not a gate: this section never fails the check.")


def test_a_new_category_is_named_with_its_share(base: pd.DataFrame, params: Params) -> None:
    markdown = section(base, labelled(make_frame(800, seed=2, new_cat_share=0.1), seed=2), params)
    row = row_of(markdown, "colour")
    assert row.startswith("| `colour` | 🔴 drift | Cramér's V ")
    assert "| `purple`: 0.1" in row and "new categories 0.1" in row


def test_a_missing_rate_change_is_reported(base: pd.DataFrame, params: Params) -> None:
    markdown = section(base, labelled(make_frame(800, seed=2, missing_x2=0.25), seed=2), params)
    row = row_of(markdown, "x2")
    assert row.startswith("| `x2` | 🔴 drift | KS ")
    assert "| 0.0% → 2" in row and "missing rate 0.000 -> 0.2" in row


def test_more_rows_of_the_same_distribution_change_the_row_count_only(
    base: pd.DataFrame, params: Params
) -> None:
    current = pd.concat([base, labelled(make_frame(400, seed=3), seed=3)], ignore_index=True)
    markdown = section(base, current, params)
    assert "🟢 **No drift**: the same distribution within the monitor's thresholds: 0 of 3" in markdown
    assert "| rows | 800 | 1200 (+400, +50.0%) |" in markdown
    assert "🔴" not in markdown
    assert "| `target` (target) | no drift | Cramér's V " in markdown


def test_a_label_shift_and_a_new_column_are_reported(base: pd.DataFrame, params: Params) -> None:
    current = base.assign(target=1, extra=1.0).drop(columns="x2")
    markdown = section(base, current, params)
    assert row_of(markdown, "target").startswith("| `target` (target) | 🔴 drift | ")
    assert "the target's distribution drifted" in markdown
    assert "Columns only in the base: `x2`; only in this PR: `extra`." in markdown


# --- the section of a report, from git and DVC ------------------------------------------------------------


def git(root: Path, *args: str) -> None:
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", *identity, *args], cwd=root, check=True, capture_output=True)


def dvc(root: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "dvc", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def repository(tmp_path: Path, params_dict: dict[str, Any], base: pd.DataFrame) -> Path:
    """A git + DVC repository whose `main` trains on data/table.csv (tracked with `dvc add`)."""
    git(tmp_path, "init", "--quiet", "--initial-branch=main")
    git(tmp_path, "commit", "--quiet", "--allow-empty", "--message", "Empty")
    dvc(tmp_path, "init", "--quiet")
    params_dict["data"]["path"] = "data/table.csv"
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params_dict), encoding="utf-8")
    (tmp_path / "data").mkdir()
    base.to_csv(tmp_path / "data" / "table.csv", index=False)
    dvc(tmp_path, "add", "--quiet", "data/table.csv")
    metadata = ModelMetadata(model_version="1", feature_schema=SCHEMA, model_sha256="0" * 64)
    Paths(tmp_path).metadata.parent.mkdir()
    write_json_contract(Paths(tmp_path).metadata, metadata)
    git(tmp_path, "add", "--all")
    git(tmp_path, "commit", "--quiet", "--message", "Base")
    return tmp_path


def report_section(repository: Path, params: Params, base: str = "main") -> str:
    return "\n".join(data_drift_section(base, Paths(repository), params))


def test_unchanged_data_gives_no_section(repository: Path, params: Params) -> None:
    assert report_section(repository, params) == ""


def test_changed_data_is_compared_with_the_base_from_the_dvc_cache(repository: Path, params: Params) -> None:
    table = repository / "data" / "table.csv"
    base_md5 = yaml.safe_load((repository / "data" / "table.csv.dvc").read_text())["outs"][0]["md5"]
    labelled(make_frame(800, seed=2, mean=0.8), seed=2).to_csv(table, index=False)
    dvc(repository, "add", "--quiet", "data/table.csv")
    current_md5 = yaml.safe_load((repository / "data" / "table.csv.dvc").read_text())["outs"][0]["md5"]
    markdown = report_section(repository, params)
    assert markdown.startswith("### Data drift vs base\n")
    assert "| data | `data/table.csv` | `data/table.csv` |" in markdown
    assert f"| md5 | `{base_md5}` | `{current_md5}` |" in markdown and base_md5 != current_md5
    assert "| rows | 800 | 800 (+0, +0.0%) |" in markdown
    assert row_of(markdown, "x1").startswith("| `x1` | 🔴 drift | KS ")


def test_a_base_whose_data_is_in_no_cache_or_remote_is_one_line(repository: Path, params: Params) -> None:
    labelled(make_frame(800, seed=2), seed=2).to_csv(repository / "data" / "table.csv", index=False)
    shutil.rmtree(repository / ".dvc" / "cache")
    lines = data_drift_section("main", Paths(repository), params)
    assert lines[:2] == ["### Data drift vs base", ""]
    assert lines[2].startswith(
        "Not computed: `data/table.csv` of `main` is neither in the DVC cache nor on the DVC remote ("
    )
    assert lines[2].endswith("`dvc push` on the base branch makes it available")
    assert lines[3:] == ["", "Informational, not a gate: this section never fails the check."]


def test_a_base_whose_data_is_only_on_the_remote_is_fetched_from_it(
    repository: Path, params: Params, tmp_path_factory: pytest.TempPathFactory
) -> None:
    dvc(repository, "remote", "add", "--default", "storage", str(tmp_path_factory.mktemp("remote")))
    git(repository, "commit", "--quiet", "--all", "--message", "A DVC remote")
    dvc(repository, "push", "--quiet")
    shutil.rmtree(repository / ".dvc" / "cache")  # a fresh CI checkout: git and the remote only
    labelled(make_frame(800, seed=2, mean=0.8), seed=2).to_csv(repository / "data" / "table.csv", index=False)
    markdown = report_section(repository, params)
    assert "| rows | 800 | 800 (+0, +0.0%) |" in markdown
    assert row_of(markdown, "x1").startswith("| `x1` | 🔴 drift | KS ")


def test_data_the_base_does_not_have_is_one_line(repository: Path, params: Params) -> None:
    git(repository, "rm", "--quiet", "--cached", "data/table.csv.dvc")
    git(repository, "commit", "--quiet", "--message", "The data leaves DVC")
    assert report_section(repository, params) == "\n".join(
        [
            "### Data drift vs base",
            "",
            "Not computed: `data/table.csv` is not on `main` (neither in git nor in its dvc.lock or a .dvc "
            "file): no base data to compare with",
            "",
            "Informational, not a gate: this section never fails the check.",
        ]
    )
    assert report_section(repository, params, "main~2").startswith(
        "### Data drift vs base\n\nNot computed: `main~2` has no params.yaml (a first PR?)"
    )


def test_a_table_kept_in_git_is_read_from_git(repository: Path, params: Params, base: pd.DataFrame) -> None:
    (repository / "data" / "table.csv.dvc").unlink()
    (repository / "data" / ".gitignore").unlink()
    git(repository, "add", "--all")
    git(repository, "commit", "--quiet", "--message", "The data in git")
    table = repository / "data" / "table.csv"
    base_md5 = hashlib.md5(table.read_bytes()).hexdigest()
    assert report_section(repository, params) == ""
    labelled(make_frame(400, seed=3), seed=3).to_csv(table, mode="a", header=False, index=False)
    markdown = report_section(repository, params)
    assert f"| md5 | `{base_md5}` | `{hashlib.md5(table.read_bytes()).hexdigest()}` |" in markdown
    assert "| rows | 800 | 1200 (+400, +50.0%) |" in markdown and "🟢 **No drift**" in markdown
