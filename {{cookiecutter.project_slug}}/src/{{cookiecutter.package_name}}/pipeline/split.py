"""Stage `split`: a deterministic train/test split, stratified on the target for classification."""

from __future__ import annotations

import pandas as pd
from sklearn.model_selection import train_test_split

from ..config import Paths, ProblemType, SplitParams, load_params


def split_table(
    df: pd.DataFrame, target: str, problem_type: ProblemType, params: SplitParams
) -> tuple[pd.DataFrame, pd.DataFrame]:
    stratify = df[target] if problem_type == "classification" else None
    train, test = train_test_split(
        df, test_size=params.test_size, random_state=params.random_state, stratify=stratify
    )
    return train.reset_index(drop=True), test.reset_index(drop=True)


def main() -> None:
    params = load_params()
    paths = Paths()
    train, test = split_table(
        pd.read_parquet(paths.validated), params.data.target, params.problem_type, params.split
    )
    paths.train.parent.mkdir(parents=True, exist_ok=True)
    train.to_parquet(paths.train, index=False)
    test.to_parquet(paths.test, index=False)
    print(f"split: {len(train)} train rows, {len(test)} test rows")
