"""The overlay of an environment rendered with the image set by digest, and what the rollout acts on.

A temporary kustomization takes the overlay as its only resource and sets the image with kustomize's `images:`
(name -> digest), so the overlays in git never change per release. `kubectl kustomize` renders it (kubectl
carries kustomize); kustomize wants the resource as a relative path, so it is written relative to the
temporary folder.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..errors import UserError
from .kubectl import Kubectl

IMAGE_REFERENCE = re.compile(r"^(?P<name>[^@\s]+)@(?P<digest>sha256:[0-9a-f]{64})$")
MODEL_CONTAINER = "model"
SERVICE_PORT = "http"


@dataclass(frozen=True)
class Image:
    name: str
    digest: str

    @property
    def reference(self) -> str:
        return f"{self.name}@{self.digest}"


@dataclass(frozen=True)
class Target:
    """The Deployment the rollout waits for and the Service the smoke test goes through."""

    deployment: str
    service: str
    service_port: str
    namespace: str | None

    @property
    def where(self) -> str:
        return f"deployment/{self.deployment} in namespace {self.namespace or '(the context default)'}"


def parse_image(reference: str) -> Image:
    match = IMAGE_REFERENCE.match(reference)
    if not match:
        raise UserError(
            f"--image {reference!r} is not NAME@sha256:<64 hex digits>: deploy the pushed digest, never a tag"
        )
    return Image(match["name"], match["digest"])


def overlay_dir(overlays: Path, environment: str) -> Path:
    overlay = overlays / environment
    if not (overlay / "kustomization.yaml").is_file():
        known = sorted(p.parent.name for p in overlays.glob("*/kustomization.yaml"))
        raise UserError(
            f"no kustomize overlay for environment {environment!r} ({overlay}/kustomization.yaml); "
            f"environments with an overlay: {', '.join(known) or 'none'}"
        )
    return overlay


def kustomization(overlay: Path, folder: Path, image: Image) -> dict[str, Any]:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(overlay.resolve(), folder.resolve())],
        "images": [{"name": image.name, "digest": image.digest}],
    }


def render(kubectl: Kubectl, overlay: Path, image: Image) -> str:
    """The overlay's manifests with every container image named image.name pinned to image.digest."""
    with tempfile.TemporaryDirectory(prefix="rollout-") as folder:
        path = Path(folder) / "kustomization.yaml"
        path.write_text(yaml.safe_dump(kustomization(overlay, Path(folder), image), sort_keys=False))
        return kubectl.run("kustomize", folder)


def target(manifests: str, image: Image) -> Target:
    """The one Deployment (its `model` container must run image) and the one Service of the manifests."""
    documents = [d for d in yaml.safe_load_all(manifests) if isinstance(d, dict)]
    deployment = _only(documents, "Deployment")
    service = _only(documents, "Service")
    containers = deployment.get("spec", {}).get("template", {}).get("spec", {}).get("containers", [])
    images = {c.get("name"): c.get("image") for c in containers}
    if images.get(MODEL_CONTAINER) != image.reference:
        raise UserError(
            f"the rendered Deployment's container {MODEL_CONTAINER!r} runs {images.get(MODEL_CONTAINER)!r}, "
            f"not {image.reference}: the base must name the image {image.name} (kustomize sets it by name)"
        )
    ports = [p.get("name") or str(p.get("port")) for p in service.get("spec", {}).get("ports", [])]
    if not ports:
        raise UserError(f"the rendered Service {service['metadata']['name']} has no ports")
    return Target(
        deployment=deployment["metadata"]["name"],
        service=service["metadata"]["name"],
        service_port=SERVICE_PORT if SERVICE_PORT in ports else ports[0],
        namespace=deployment["metadata"].get("namespace"),
    )


def _only(documents: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [d for d in documents if d.get("kind") == kind]
    if len(found) != 1:
        names = ", ".join(d.get("metadata", {}).get("name", "?") for d in found) or "none"
        raise UserError(f"the rendered overlay must hold exactly one {kind}, it holds: {names}")
    return found[0]
