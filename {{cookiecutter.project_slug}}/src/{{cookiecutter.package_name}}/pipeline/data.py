"""Stage `data`: write the bundled sample data set; also reads any table the pipeline is pointed at."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn import datasets

from ..config import Paths, load_params
from ..errors import UserError

SAMPLE_LOADERS: dict[str, Callable[..., Any]] = {
    "breast_cancer": datasets.load_breast_cancer,
    "iris": datasets.load_iris,
    "wine": datasets.load_wine,
    "diabetes": datasets.load_diabetes,
}
TABLE_READERS: dict[str, Callable[[Path], pd.DataFrame]] = {
    ".csv": pd.read_csv,
    ".parquet": pd.read_parquet,
    ".pq": pd.read_parquet,
}


class DataError(UserError):
    """The input table cannot be read or does not satisfy the data contract."""


def load_sample(name: str) -> pd.DataFrame:
    """A data set that scikit-learn ships (no download), with the label in a `target` column."""
    return SAMPLE_LOADERS[name](as_frame=True).frame


def read_table(path: Path) -> pd.DataFrame:
    reader = TABLE_READERS.get(path.suffix.lower())
    if reader is None:
        raise DataError(f"{path}: unsupported file type {path.suffix!r}; allowed: {', '.join(TABLE_READERS)}")
    if not path.is_file():
        raise DataError(
            f"{path}: file not found (set data.path in params.yaml; track your file with `dvc add`)"
        )
    try:
        return reader(path)
    except Exception as error:  # the readers raise many types; all mean the same to the user
        raise DataError(f"{path}: cannot be read as {path.suffix} ({error})") from error


def main() -> None:
    params = load_params()
    paths = Paths()
    paths.sample.parent.mkdir(parents=True, exist_ok=True)
    load_sample(params.data.sample_dataset).to_csv(paths.sample, index=False)
    print(f"wrote {paths.sample} ({params.data.sample_dataset})")
