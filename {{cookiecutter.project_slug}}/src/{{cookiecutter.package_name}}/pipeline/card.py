"""Stage `card`: the model card, models/model_card.md, and its JSON twin models/model_card.json.

Every fact in it is read from what the pipeline recorded: the model's metadata (version, lineage, metrics,
feature schema, MLflow run), params.yaml (the keys that decided the model, and the data contract) and the md5
of each file the model was made from. The md5 is computed from the file's bytes, as DVC 3 computes what it
records in dvc.lock, rather than read from dvc.lock: that file is rewritten while `dvc repro` runs, and a
workspace reproduced without DVC has none; the value is the same.

Intended use and limits are people's words: docs/model_card_intended_use.md, copied verbatim and never
written by the pipeline. While it is missing or still the template's placeholder, the card says so (and the
stage warns); it never makes the text up.

`card --image NAME --image-digest sha256:...` records the pushed image in the existing card (deploy.yml, after
the push). An image cannot contain its own digest: the card inside the image has none, the card the release
publishes (the `model-card` artifact) has it, and the attestation binds the image's digest to the card inside.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from ..config import Params, Paths, load_params
from ..contracts import (
    CardDataContract,
    CardFile,
    CardImage,
    CardIntendedUse,
    CardMlflowRun,
    ModelCard,
    ModelMetadata,
    read_metadata,
    read_model_card,
    write_json_contract,
)
from ..errors import UserError
from ..metric_rules import higher_is_better
from .lineage import file_md5

# The first line of the template's docs/model_card_intended_use.md: while it is there, nobody wrote the text.
PLACEHOLDER_MARK = "<!-- model-card: placeholder"
# The params.yaml sections that decide the model: its data, the split and the estimator.
DECISIVE_SECTIONS = ("problem_type", "data", "split", "train")


def read_intended_use(path: Path, shown_as: str) -> CardIntendedUse:
    """The user's section, verbatim, or why there is none (missing, empty or the template's placeholder)."""
    if not path.is_file():
        return CardIntendedUse(source=shown_as, status="missing")
    text = path.read_text(encoding="utf-8")
    if PLACEHOLDER_MARK in text:
        return CardIntendedUse(source=shown_as, status="placeholder")
    if not text.strip():
        return CardIntendedUse(source=shown_as, status="missing")
    return CardIntendedUse(source=shown_as, status="written", text=text)


def flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings as dotted keys (`train.hyperparameters.n_estimators`); empty mappings kept as {}."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat |= flatten(value, f"{dotted}.")
        else:
            flat[dotted] = value
    return flat


def decisive_params(params: Params) -> dict[str, Any]:
    return flatten(params.model_dump(mode="json", include=set(DECISIVE_SECTIONS)))


def parquet_rows(path: Path, column: str) -> int:
    """Rows of a Parquet table, reading one column (none at all reads as zero rows)."""
    return len(pd.read_parquet(path, columns=[column]))


def card_file(path: Path, root: Path, rows: int | None = None) -> CardFile:
    return CardFile(path=path.relative_to(root).as_posix(), md5=file_md5(path), rows=rows)


def data_files(params: Params, paths: Paths) -> tuple[CardFile, ...]:
    """The training table as given, and the train and test splits made from it."""
    return (
        card_file(paths.root / params.data.path, paths.root),
        card_file(paths.train, paths.root, parquet_rows(paths.train, params.data.target)),
        card_file(paths.test, paths.root, parquet_rows(paths.test, params.data.target)),
    )


def mlflow_run(metadata: ModelMetadata) -> CardMlflowRun:
    run_id = metadata.mlflow_run_id
    return CardMlflowRun(
        run_id=run_id,
        experiment_id=metadata.mlflow_experiment_id,
        model_uri=f"runs:/{run_id}/model" if run_id else None,
        registered_model_name=metadata.registered_model_name,
        registered_model_version=metadata.registered_model_version,
    )


def build_card(params: Params, paths: Paths, metadata: ModelMetadata) -> ModelCard:
    data = params.data
    return ModelCard(
        model_version=metadata.model_version,
        problem_type=metadata.feature_schema.problem_type,
        estimator=params.train.estimator,
        trained_at=metadata.trained_at,
        git_commit=metadata.git_commit,
        git_dirty=metadata.git_dirty,
        model_file=card_file(paths.model, paths.root),
        data=data_files(params, paths),
        params_md5=metadata.params_hash,
        params=decisive_params(params),
        metrics=metadata.metrics,
        data_contract=CardDataContract(
            source=data.path,
            target=data.target,
            min_rows=data.min_rows,
            declared_columns=data.columns,
            dropped_columns=tuple(data.drop),
        ),
        feature_schema=metadata.feature_schema,
        mlflow=mlflow_run(metadata),
        intended_use=read_intended_use(
            paths.intended_use, paths.intended_use.relative_to(paths.root).as_posix()
        ),
    )


def record_image(card: ModelCard, name: str, digest: str) -> ModelCard:
    """The card with the pushed image; a digest that is not `sha256:<64 hex>` is one UserError line."""
    try:
        image = CardImage(name=name, digest=digest)
    except ValidationError as error:
        fields = ", ".join(str(item["loc"][0]) for item in error.errors())
        raise UserError(
            f"image {name!r}@{digest!r}: invalid {fields} (allowed: a non-empty image name and a digest "
            "sha256:<64 lowercase hex digits>, as docker/build-push-action outputs it)"
        ) from None
    return card.model_copy(update={"image": image})


# --- the markdown twin -------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    """A value as one markdown table cell."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return "—" if math.isnan(value) else f"{value:.4g}"
    text = value if isinstance(value, str) else str(value)
    return text.replace("|", "\\|").replace("\n", " ")


def _number(value: float | None) -> str:
    return "—" if value is None or math.isnan(value) else f"{value:.4f}"


def metrics_lines(
    metrics: Mapping[str, float | None], base: Mapping[str, float] | None, base_label: str
) -> list[str]:
    """The test metrics; with the base's, side by side with the change and its direction."""
    if base is None:
        return ["| metric | value |", "|---|---:|", *(f"| {k} | {_number(v)} |" for k, v in metrics.items())]
    lines = [f"| metric | {base_label} | this model | Δ | |", "|---|---:|---:|---:|---|"]
    for name, value in metrics.items():
        before = base.get(name)
        if before is None or value is None or math.isnan(value) or math.isnan(before):
            lines.append(f"| {name} | {_number(before)} | {_number(value)} | — | |")
            continue
        delta = value - before
        better = (delta > 0) == higher_is_better(name)
        verdict = "same" if abs(delta) < 1e-9 else ("better" if better else "worse")
        lines.append(f"| {name} | {_number(before)} | {_number(value)} | {delta:+.4f} | {verdict} |")
    return lines


def intended_use_lines(intended: CardIntendedUse) -> list[str]:
    if intended.text is not None:
        return [intended.text.rstrip("\n")]
    state = (
        "does not exist (or is empty)"
        if intended.status == "missing"
        else "still holds the template's placeholder"
    )
    return [
        f"> **Not written yet.** `{intended.source}` {state}. Write there who may use this model, for what, "
        "and what it must not be used for, then re-run the pipeline: the card copies that file as it is and "
        "never writes this section itself."
    ]


def image_lines(card: ModelCard) -> list[str]:
    if card.image is None:
        return [
            "Not recorded here: an image cannot contain its own digest. The deploy workflow records it in "
            "the card it publishes with the release (`model-card` artifact), and attests this card for the "
            "image."
        ]
    return [f"`{card.image.name}@{card.image.digest}`"]


def render_markdown(
    card: ModelCard,
    *,
    base_metrics: Mapping[str, float] | None = None,
    base_label: str = "base",
    level: int = 1,
) -> str:
    """The card as markdown (title at heading `level`); with `base_metrics`, the metrics beside the base's."""
    title, section = "#" * level, "#" * (level + 1)
    dirty = " (with uncommitted changes)" if card.git_dirty else ""
    schema = card.feature_schema
    lines = [
        f"{title} Model card: {card.model_version}",
        "",
        f"{card.estimator} ({card.problem_type}, target `{schema.target}`), trained "
        f"{card.trained_at or 'at an unknown time'} from commit `{card.git_commit}`{dirty}.",
        "",
        f"{section} Intended use and limits",
        "",
        *intended_use_lines(card.intended_use),
        "",
        f"{section} Metrics (test set)",
        "",
        *metrics_lines(card.metrics, base_metrics, base_label),
        "",
        f"{section} Data version",
        "",
        "md5 of each file, as dvc.lock records it.",
        "",
        "| file | md5 | rows |",
        "|---|---|---:|",
        *(f"| `{f.path}` | `{f.md5}` | {_cell(f.rows)} |" for f in (*card.data, card.model_file)),
        "",
        f"{section} Params",
        "",
        f"params.yaml md5 `{card.params_md5 or 'unknown'}`; the keys that decided the model:",
        "",
        "| param | value |",
        "|---|---|",
        *(f"| `{key}` | `{_cell(value)}` |" for key, value in card.params.items()),
        "",
        f"{section} Data contract",
        "",
        *contract_lines(card),
        "",
        f"{section} Feature schema",
        "",
        "| feature | kind | dtype | nullable | categories seen |",
        "|---|---|---|---|---|",
        *(
            f"| `{_cell(f.name)}` | {f.kind} | {f.dtype} | {'yes' if f.nullable else 'no'} | "
            f"{_cell(', '.join(map(str, f.categories))) if f.categories is not None else '—'} |"
            for f in schema.features
        ),
        "",
        f"{section} MLflow run",
        "",
        *mlflow_lines(card.mlflow),
        "",
        f"{section} Image",
        "",
        *image_lines(card),
    ]
    return "\n".join(lines) + "\n"


def contract_lines(card: ModelCard) -> list[str]:
    contract, schema = card.data_contract, card.feature_schema
    declared = ", ".join(f"`{name}` ({kind})" for name, kind in contract.declared_columns.items())
    dropped = ", ".join(f"`{name}`" for name in contract.dropped_columns)
    lines = [
        f"- source: `{contract.source}`, at least {contract.min_rows} rows",
        f"- target: `{contract.target}`",
        f"- declared columns: {declared or 'none (kinds inferred from the data)'}",
        f"- dropped columns: {dropped or 'none'}",
    ]
    if schema.classes is not None:
        lines.append(f"- classes: {', '.join(f'`{c}`' for c in schema.classes)}")
    return lines


def mlflow_lines(run: CardMlflowRun) -> list[str]:
    if run.run_id is None:
        return ["No MLflow run recorded."]
    lines = [f"- run `{run.run_id}` (experiment `{run.experiment_id}`)", f"- model URI `{run.model_uri}`"]
    if run.registered_model_name:
        lines.append(
            f"- registered model `{run.registered_model_name}` version {run.registered_model_version}"
        )
    return lines


def write_card(card: ModelCard, paths: Paths) -> None:
    paths.model_card_json.parent.mkdir(parents=True, exist_ok=True)
    write_json_contract(paths.model_card_json, card)
    paths.model_card.write_text(render_markdown(card), encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> None:
    """`card`: write the model card from the pipeline's outputs (the dvc.yaml stage).
    `card --image NAME --image-digest sha256:...`: record the pushed image in the existing card."""
    parser = argparse.ArgumentParser(prog="card", description=main.__doc__)
    parser.add_argument("--image", help="the pushed image's name, e.g. ghcr.io/org/project")
    parser.add_argument(
        "--image-digest", help="its digest, sha256:<64 hex> (docker/build-push-action's output)"
    )
    args = parser.parse_args(argv)
    paths = Paths()
    if args.image is not None or args.image_digest is not None:
        if args.image is None or args.image_digest is None:
            parser.error("--image and --image-digest go together")
        card = record_image(read_model_card(paths.model_card_json), args.image, args.image_digest)
        write_card(card, paths)
        print(f"{paths.model_card_json}, {paths.model_card}: image {args.image}@{args.image_digest}")
        return
    card = build_card(load_params(paths.params), paths, read_metadata(paths.metadata))
    write_card(card, paths)
    print(f"{paths.model_card}, {paths.model_card_json}: model {card.model_version}")
    if card.intended_use.status != "written":
        state = "missing" if card.intended_use.status == "missing" else "still the template's placeholder"
        print(
            f"warning: the model card has no intended use: {card.intended_use.source} is {state}; "
            "write it (the card copies it verbatim)",
            file=sys.stderr,
        )
