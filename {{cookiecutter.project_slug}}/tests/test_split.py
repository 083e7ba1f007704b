from __future__ import annotations

import pandas as pd

from {{ cookiecutter.package_name }}.config import SplitParams
from {{ cookiecutter.package_name }}.pipeline.split import split_table


def test_split_is_deterministic_and_sized(frame: pd.DataFrame, problem_type: str) -> None:
    params = SplitParams(test_size=0.25, random_state=7)
    first = split_table(frame, "target", problem_type, params)
    second = split_table(frame, "target", problem_type, params)
    pd.testing.assert_frame_equal(first[0], second[0])
    assert len(first[1]) == len(frame) // 4
    assert len(first[0]) + len(first[1]) == len(frame)


def test_classification_split_is_stratified(frame: pd.DataFrame, problem_type: str) -> None:
    if problem_type != "classification":
        frame["target"] = (frame["target"] > frame["target"].median()).astype(int)
    frame.loc[frame.index[:180], "target"] = 0  # imbalanced: 75% / 25% at most
    train, test = split_table(frame, "target", "classification", SplitParams(test_size=0.2, random_state=1))
    assert abs(train["target"].mean() - test["target"].mean()) < 0.03
