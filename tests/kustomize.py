"""Render a generated project's kustomize overlays the way the deploy workflow does.

The workflow never edits the overlays: it renders a kustomization of its own over one, whose `images` entry sets
the image by digest. The tests do the same, adding patches only where a local run needs them.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import tool

OVERLAYS = ("staging", "production")


def overlay_dir(project: Path, overlay: str) -> Path:
    return project / "deploy" / "k8s" / "overlays" / overlay


def render_overlay(
    project: Path,
    overlay: str,
    workdir: Path,
    images: Sequence[dict[str, str]] = (),
    patches: Sequence[dict[str, Any]] = (),
) -> str:
    """`kubectl kustomize` of a kustomization in `workdir` over the project's overlay; the rendered YAML."""
    workdir.mkdir(parents=True, exist_ok=True)
    kustomization: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [os.path.relpath(overlay_dir(project, overlay), workdir)],  # kustomize refuses absolute
    }
    if images:
        kustomization["images"] = list(images)
    if patches:
        kustomization["patches"] = list(patches)
    (workdir / "kustomization.yaml").write_text(yaml.safe_dump(kustomization, sort_keys=False))
    result = subprocess.run([tool("kubectl"), "kustomize", str(workdir)], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.fail(f"kubectl kustomize {overlay_dir(project, overlay)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def by_kind(documents: Sequence[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The rendered objects by kind (each overlay has at most one of each)."""
    kinds = [document["kind"] for document in documents]
    assert len(kinds) == len(set(kinds)), kinds
    return {document["kind"]: document for document in documents}
