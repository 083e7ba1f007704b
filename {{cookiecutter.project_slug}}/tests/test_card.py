"""The `card` stage on a small trained model: lineage, params, metrics, schema, and the user's own words."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import joblib
import pandas as pd
import pytest
from dvc_data.hashfile.hash import file_md5 as dvc_file_md5

from {{ cookiecutter.package_name }}.config import Paths, load_params
from {{ cookiecutter.package_name }}.contracts import TrainingRun, read_metadata, write_json_contract
from {{ cookiecutter.package_name }}.errors import UserError
from {{ cookiecutter.package_name }}.estimators import make_estimator
from {{ cookiecutter.package_name }}.pipeline import card, split, validate
from {{ cookiecutter.package_name }}.pipeline.evaluate import build_metadata, evaluate_model
from {{ cookiecutter.package_name }}.pipeline.features import infer_feature_schema
from {{ cookiecutter.package_name }}.pipeline.lineage import file_md5
from {{ cookiecutter.package_name }}.pipeline.train import train_pipeline

from helpers import PROJECT_ROOT

DIGEST = "sha256:" + "ab" * 32
INTENDED_USE = (
    "# Who may use it\n\nTriage only — never the final decision.  \n\n| group | limit |\n|---|---|\n"
    "| under 18 | not covered |\n\n<!-- kept as written -->\n"
)


@pytest.fixture
def trained(project: Path) -> Paths:
    """The project's validate and split stages, then a model fitted and evaluated as train/evaluate do
    (without MLflow: a run id stands in for the one `train` records)."""
    validate.main()
    split.main()
    paths, params = Paths(), load_params()
    train, test = pd.read_parquet(paths.train), pd.read_parquet(paths.test)
    schema = infer_feature_schema(train, params.data.target, params.problem_type)
    estimator = make_estimator(
        params.problem_type, params.train.estimator, params.train.hyperparameters, params.train.random_state
    )
    pipeline = train_pipeline(train, schema, estimator)
    paths.model.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(pipeline, paths.model)
    run = TrainingRun(
        model_version="20260101.000000-abcdef12",
        git_commit="abcdef12" * 5,
        git_dirty=False,
        data_hash=file_md5(paths.root / params.data.path),
        params_hash=file_md5(paths.params),
        trained_at="2026-01-01T00:00:00+00:00",
        mlflow_run_id="0123456789abcdef",
        mlflow_experiment_id="7",
        feature_schema=schema,
    )
    write_json_contract(
        paths.metadata, build_metadata(run, evaluate_model(pipeline, test, schema).metrics, paths)
    )
    return paths


def card_json(paths: Paths) -> dict:
    return json.loads(paths.model_card_json.read_text(encoding="utf-8"))


def test_card_holds_the_lineage_params_metrics_and_schema(trained: Paths) -> None:
    card.main([])

    written = card_json(trained)
    metadata = read_metadata(trained.metadata)
    files = {item["path"]: item for item in written["data"]}
    assert list(files) == ["data/table.csv", "data/processed/train.parquet", "data/processed/test.parquet"]
    for path, item in files.items():
        assert item["md5"] == dvc_file_md5(str(trained.root / path))  # what dvc.lock records for it
    assert files["data/table.csv"]["md5"] == metadata.data_hash
    assert files["data/processed/train.parquet"]["rows"] == len(pd.read_parquet(trained.train))
    assert files["data/processed/test.parquet"]["rows"] == len(pd.read_parquet(trained.test))
    assert written["model_file"] == {
        "path": "models/model.joblib",
        "md5": dvc_file_md5(str(trained.model)),
        "rows": None,
    }
    trees = load_params().train.hyperparameters["n_estimators"]  # params.yaml's, whatever the user set
    assert written["params"]["train.hyperparameters.n_estimators"] == trees
    assert written["params"]["split.test_size"] == 0.2 and written["params"]["data.path"] == "data/table.csv"
    assert not {key for key in written["params"] if key.startswith(("gate.", "monitor.", "promotion."))}
    assert written["metrics"] == metadata.metrics and written["metrics"]
    assert written["feature_schema"] == metadata.feature_schema.model_dump(mode="json")
    assert written["mlflow"]["model_uri"] == "runs:/0123456789abcdef/model"
    assert written["data_contract"]["target"] == "target" and written["image"] is None

    markdown = trained.model_card.read_text(encoding="utf-8")
    assert markdown.startswith("# Model card: 20260101.000000-abcdef12\n")
    assert f"| `data/table.csv` | `{metadata.data_hash}` | — |" in markdown
    assert f"| `train.hyperparameters.n_estimators` | `{trees}` |" in markdown
    first_metric, value = next(iter(metadata.metrics.items()))
    assert f"| {first_metric} | {value:.4f} |" in markdown
    assert "| `colour` | categorical | object | no | blue, green, red |" in markdown
    assert "- model URI `runs:/0123456789abcdef/model`" in markdown
    assert "an image cannot contain its own digest" in markdown


def test_intended_use_is_copied_verbatim_and_never_written(trained: Paths) -> None:
    trained.intended_use.parent.mkdir(parents=True, exist_ok=True)
    trained.intended_use.write_text(INTENDED_USE, encoding="utf-8")

    card.main([])
    card.main([])  # a re-run (dvc repro after another change) keeps the file and the copy as they are

    assert trained.intended_use.read_text(encoding="utf-8") == INTENDED_USE
    intended = card_json(trained)["intended_use"]
    assert intended == {
        "source": "docs/model_card_intended_use.md",
        "status": "written",
        "text": INTENDED_USE,
    }
    markdown = trained.model_card.read_text(encoding="utf-8")
    assert "## Intended use and limits\n\n" + INTENDED_USE.rstrip("\n") + "\n\n## Metrics" in markdown
    assert "Not written yet" not in markdown


def test_the_templates_placeholder_or_no_file_is_reported_not_invented(
    trained: Paths, capsys: pytest.CaptureFixture[str]
) -> None:
    trained.intended_use.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "docs" / "model_card_intended_use.md", trained.intended_use)

    card.main([])

    assert card_json(trained)["intended_use"] == {
        "source": "docs/model_card_intended_use.md",
        "status": "placeholder",
        "text": None,
    }
    markdown = trained.model_card.read_text(encoding="utf-8")
    assert (
        "> **Not written yet.** `docs/model_card_intended_use.md` still holds the template's placeholder."
        in markdown
    )
    assert "Intended use**: who uses" not in markdown  # the placeholder's own text is not copied in
    assert "warning: the model card has no intended use" in capsys.readouterr().err

    trained.intended_use.unlink()
    card.main([])
    assert card_json(trained)["intended_use"]["status"] == "missing"
    assert "`docs/model_card_intended_use.md` does not exist (or is empty)" in trained.model_card.read_text()


def test_the_pushed_image_is_recorded_in_both_files(trained: Paths) -> None:
    card.main([])
    before = card_json(trained)

    card.main(["--image", "ghcr.io/org/project", "--image-digest", DIGEST])

    after = card_json(trained)
    assert after.pop("image") == {"name": "ghcr.io/org/project", "digest": DIGEST}
    assert after == {key: value for key, value in before.items() if key != "image"}
    assert f"`ghcr.io/org/project@{DIGEST}`" in trained.model_card.read_text(encoding="utf-8")


@pytest.mark.parametrize("digest", ["sha256:abc", "ab" * 32, "sha512:" + "ab" * 32])
def test_a_bad_digest_is_one_line_and_leaves_the_card(trained: Paths, digest: str) -> None:
    card.main([])
    before = trained.model_card_json.read_bytes()

    with pytest.raises(UserError, match=r"invalid digest \(allowed: .*sha256:<64 lowercase hex digits>"):
        card.main(["--image", "ghcr.io/org/project", "--image-digest", digest])

    assert trained.model_card_json.read_bytes() == before


def test_image_and_digest_go_together(trained: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        card.main(["--image-digest", DIGEST])
    assert "--image and --image-digest go together" in capsys.readouterr().err
