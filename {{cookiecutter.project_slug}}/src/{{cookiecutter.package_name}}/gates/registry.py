"""The MLflow model registry (tracking server): aliases name what a PR trained and what is in production.

`train` registers every model it fits as a new version of the registered model (named after the MLflow
experiment), tagged with its lineage, and records that version in models/training.json and metadata.json.

- `registry alias challenger`: experiment.yml points `challenger` at the PR's version.
- `registry alias champion --image REF --card FILE`: deploy.yml, once the image is pushed, points `champion`
  at the version it shipped (tagged with the image) and logs the release's model card (with the image digest)
  into its run: the registry names what is in production, and its card.
- `registry champion-metadata --out FILE`: the champion's metadata.json (logged into its run by `evaluate`),
  which the deploy gate compares the candidate with. No champion yet: nothing is written (first deployment).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException
from pydantic import ValidationError

from ..config import Paths, load_params
from ..contracts import ModelMetadata, describe_errors, read_metadata, read_model_card, write_json_contract
from ..errors import UserError
from ..pipeline.tracking import METADATA_ARTIFACT, server_errors, start_experiment

CHALLENGER = "challenger"
CHAMPION = "champion"
CARD_ARTIFACTS = "model_card"  # the folder of the run's artifacts that holds the release's model card


class RegistryError(UserError):
    """The registry cannot answer: no registered version for this model, or a champion without metadata."""


def registered_version(metadata: ModelMetadata, source: Path) -> tuple[str, str]:
    """The registered model name and version that `train` recorded for this model."""
    if not (metadata.registered_model_name and metadata.registered_model_version):
        raise RegistryError(
            f"{source} names no registered model version: the model was trained without the tracking server "
            "(set mlflow.tracking: server in params.yaml and MLFLOW_TRACKING_URI, then run `make pipeline`)"
        )
    return metadata.registered_model_name, metadata.registered_model_version


def set_alias(
    client: MlflowClient, metadata: ModelMetadata, source: Path, alias: str, tags: Mapping[str, str]
) -> tuple[str, str]:
    """Tag the model's registered version and point `alias` at it; returns (model name, version)."""
    name, version = registered_version(metadata, source)
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    client.set_registered_model_alias(name, alias, version)
    return name, version


def log_model_card(client: MlflowClient, metadata: ModelMetadata, card_json: Path) -> None:
    """The model card (card_json and its markdown twin beside it) into the model's training run."""
    card = read_model_card(card_json)
    if card.model_version != metadata.model_version or metadata.mlflow_run_id is None:
        raise RegistryError(
            f"{card_json} is the card of model {card.model_version}; the metadata names "
            f"{metadata.model_version} (MLflow run {metadata.mlflow_run_id}): give the shipped model's card"
        )
    markdown = card_json.with_name(Paths().model_card.name)
    for path in (card_json, markdown):
        client.log_artifact(metadata.mlflow_run_id, str(path), CARD_ARTIFACTS)


def champion_version(client: MlflowClient, model_name: str) -> ModelVersion | None:
    """The version `champion` points at; None when the model or the alias does not exist yet."""
    try:
        model = client.get_registered_model(model_name)
    except MlflowException as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    if CHAMPION not in model.aliases:
        return None
    return client.get_model_version_by_alias(model_name, CHAMPION)


def champion_metadata(client: MlflowClient, model_name: str) -> ModelMetadata | None:
    """The metadata.json that `evaluate` logged into the champion's training run."""
    version = champion_version(client, model_name)
    if version is None:
        return None
    where = f"{model_name}@{CHAMPION} (version {version.version}, run {version.run_id})"
    try:
        recorded = mlflow.artifacts.load_dict(f"runs:/{version.run_id}/{METADATA_ARTIFACT}")
    except MlflowException as error:
        raise RegistryError(f"{where} has no {METADATA_ARTIFACT}: {str(error).splitlines()[0]}") from None
    try:
        return ModelMetadata.model_validate(recorded)
    except ValidationError as error:
        problems = describe_errors(error, ModelMetadata)
        raise RegistryError(f"{where}: invalid {METADATA_ARTIFACT}: {problems}") from None


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="registry", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    alias = commands.add_parser("alias", help="point an alias at this model's registered version")
    alias.add_argument("alias", choices=(CHALLENGER, CHAMPION))
    alias.add_argument("--metadata", type=Path, default=Paths().metadata, help="default: %(default)s")
    alias.add_argument("--image", help="the image that serves this model (tagged on the version)")
    alias.add_argument("--card", type=Path, help="a model card JSON (and its .md twin) to log into the run")
    champion = commands.add_parser("champion-metadata", help="write the champion's metadata.json")
    champion.add_argument("--out", type=Path, required=True, help="none written without a champion")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    params = load_params()
    if params.mlflow.tracking != "server":
        raise RegistryError("the registry needs a tracking server: mlflow.tracking is 'local' in params.yaml")
    uri = start_experiment(params.mlflow)
    client = MlflowClient()
    if args.command == "alias":
        metadata = read_metadata(args.metadata)
        tags = {"image": args.image} if args.image else {}
        with server_errors(uri, f"setting @{args.alias}"):
            if args.card:
                log_model_card(client, metadata, args.card)
            name, version = set_alias(client, metadata, args.metadata, args.alias, tags)
        print(f"{name} version {version} ({metadata.model_version}) is @{args.alias}")
        return
    with server_errors(uri, f"reading @{CHAMPION}"):
        production = champion_metadata(client, params.mlflow.experiment_name)
    if production is None:
        print(f"{params.mlflow.experiment_name} has no @{CHAMPION} yet: first deployment")
        return
    write_json_contract(args.out, production)
    print(f"production (@{CHAMPION}): {production.model_version}, written to {args.out}")
