from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.pipeline.data import DataError, load_sample, read_table


@pytest.mark.parametrize("name", ["breast_cancer", "iris", "wine", "diabetes"])
def test_samples_are_bundled_and_have_a_target(name: str) -> None:
    frame = load_sample(name)
    assert "target" in frame.columns
    assert len(frame) > 100


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_reads_csv_and_parquet(tmp_path: Path, frame: pd.DataFrame, suffix: str) -> None:
    path = tmp_path / f"table{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path, index=False)
    assert read_table(path).shape == frame.shape


def test_unsupported_and_missing_files_are_clear(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"unsupported file type '.xlsx'; allowed: .csv, .parquet"):
        read_table(tmp_path / "table.xlsx")
    with pytest.raises(DataError, match="file not found"):
        read_table(tmp_path / "absent.csv")
