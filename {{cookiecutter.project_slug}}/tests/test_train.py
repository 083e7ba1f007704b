from __future__ import annotations

from importlib.metadata import version

import pandas as pd

from {{ cookiecutter.package_name }}.estimators import make_estimator
from {{ cookiecutter.package_name }}.pipeline.features import infer_feature_schema
from {{ cookiecutter.package_name }}.pipeline.train import model_requirements, train_pipeline
from {{ cookiecutter.package_name }}.pipeline.validate import validate_table

from pipeline_params import data_params


def test_schema_and_pipeline_handle_numeric_and_categorical(frame: pd.DataFrame, problem_type: str) -> None:
    typed = validate_table(frame, data_params(), problem_type)
    schema = infer_feature_schema(typed, "target", problem_type)
    kinds = {f.name: (f.kind, f.nullable, f.categories) for f in schema.features}
    assert kinds == {
        "size": ("numeric", False, None),
        "weight": ("numeric", True, None),
        "colour": ("categorical", False, ("blue", "green", "red")),
    }
    pipeline = train_pipeline(
        typed, schema, make_estimator(problem_type, "random_forest", {"n_estimators": 20}, 0)
    )
    unseen = typed.drop(columns="target").head(3).assign(colour=["purple", None, "red"])
    assert len(pipeline.predict(unseen)) == 3  # unknown and missing categories do not break prediction
    assert pipeline.score(typed.drop(columns="target"), typed["target"]) > 0.6


def test_model_requirements_pin_what_the_model_is_made_of(frame: pd.DataFrame, problem_type: str) -> None:
    typed = validate_table(frame, data_params(), problem_type)
    schema = infer_feature_schema(typed, "target", problem_type)
    estimator = make_estimator(problem_type, "random_forest", {"n_estimators": 5}, 0)
    pipeline = train_pipeline(typed, schema, estimator)
    requirements = model_requirements(pipeline)
    expected = {f"{name}=={version(name)}" for name in ("scikit-learn", "skops", "numpy", "pandas", "scipy")}
    assert set(requirements) == expected and requirements == sorted(requirements)
