"""The staging overlay, rendered as the deploy workflow renders it, run by `podman kube play` with the image built here.

podman runs the Deployment's pod with its securityContext (user, read-only root filesystem, no-new-privileges,
capabilities), volumes and limits. It does not run readiness probes, and turns a liveness probe into a `curl`
health check (no curl in the image; a named port becomes port 0), so the test plays the kubelet: it polls the
rendered probes' paths on the port they name. Images build FROM the kit's local python:3.11-slim stand-in.
Slow: `.ci/run` runs it, `-m "not slow"` skips it.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from actkit.podman import ensure_python_slim, free_port
from tests.helpers import build_serving_image, installed_project, run
from tests.kustomize import by_kind, render_overlay

pytestmark = pytest.mark.slow
PRODUCTION = "ghcr.io/your-github-org/my-mlops-project"  # the base's image: github_owner and project_slug defaults
LOCAL = "localhost/k8s-play-serve"


def podman(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", "--runtime", "runc", *args], capture_output=True, text=True, check=False)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return installed_project(tmp_path_factory.mktemp("kube-play"))


@pytest.fixture(scope="module")
def image(project: Path) -> Iterator[str]:
    ensure_python_slim("3.11")
    yield build_serving_image(project, f"{LOCAL}:latest")
    podman("rmi", "--force", f"{LOCAL}:latest")


@contextmanager
def kube_play(manifest: Path) -> Iterator[str]:
    """`podman kube play` the manifest; yields the model container's name; `podman kube down` whatever happens."""
    try:
        played = podman("kube", "play", str(manifest))
        assert played.returncode == 0, played.stderr[-3000:]
        pod = played.stdout.split("Pod:", 1)[1].split()[0]
        names = podman("ps", "--all", "--filter", f"pod={pod}", "--format", "{{.Names}}").stdout.split()
        (container,) = [name for name in names if name.endswith("-model")]
        yield container
    finally:
        down = podman("kube", "down", str(manifest))
    assert down.returncode == 0, down.stderr[-3000:]


def wait_for_probe(url: str, container: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=3) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{url} not ready after {timeout} s\n{podman('logs', container).stderr[-3000:]}")
        time.sleep(0.5)


def published_on_loopback(port: int) -> dict[str, Any]:
    """A patch publishing the container's `http` port on 127.0.0.1:<port> (the test's `kubectl port-forward`)."""
    container_port = "/spec/template/spec/containers/0/ports/0"
    return {
        "target": {"kind": "Deployment"},
        "patch": yaml.safe_dump(
            [
                {"op": "test", "path": f"{container_port}/name", "value": "http"},
                {"op": "add", "path": f"{container_port}/hostPort", "value": port},
                {"op": "add", "path": f"{container_port}/hostIP", "value": "127.0.0.1"},
            ]
        ),
    }


def test_staging_overlay_plays_ready_and_serves_as_non_root_on_a_read_only_root(
    project: Path, image: str, tmp_path: Path
) -> None:
    digest = podman("image", "inspect", "--format", "{{.Digest}}", image).stdout.strip()
    port = free_port()
    pinned = {"name": PRODUCTION, "newName": LOCAL, "digest": digest}
    text = render_overlay(project, "staging", tmp_path / "staging", [pinned], [published_on_loopback(port)])
    objects = by_kind([document for document in yaml.safe_load_all(text) if document])
    (spec,) = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert spec["image"] == f"{LOCAL}@{digest}"
    manifest = tmp_path / "staging.yaml"
    manifest.write_text(text)
    body = run(project, ".venv/bin/python", "-m", "my_mlops_project.cli", "request-example", "--rows", "3").stdout

    start = time.monotonic()
    with kube_play(manifest) as container:
        for probe in ("readinessProbe", "livenessProbe"):
            assert spec[probe]["httpGet"]["port"] == spec["ports"][0]["name"] == "http"
            wait_for_probe(f"http://127.0.0.1:{port}{spec[probe]['httpGet']['path']}", container)
        ready = time.monotonic() - start
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/predict", body.encode(), {"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert len(json.loads(response.read())["predictions"]) == 3

        assert podman("exec", container, "id", "-u").stdout.strip() == "10001"
        read_only = podman("exec", container, "touch", "/app/written")
        assert read_only.returncode != 0 and "Read-only file system" in read_only.stderr
        assert podman("exec", container, "touch", "/tmp/written").returncode == 0, "/tmp is an emptyDir"
        log_dir = next(item["value"] for item in spec["env"] if item["name"] == "SERVE_PREDICTION_LOG_DIR")
        logged = podman("exec", container, "sh", "-c", f"cat {log_dir}/*.jsonl").stdout.splitlines()
        assert len(logged) == 3, "the prediction log is written to its emptyDir"
        settings = json.loads(podman("inspect", container).stdout)[0]
        assert settings["HostConfig"]["ReadonlyRootfs"] is True
        assert "no-new-privileges" in settings["HostConfig"]["SecurityOpt"] and settings["EffectiveCaps"] in ([], None)
    assert podman("container", "exists", container).returncode != 0, "kube down removed it"
    print(
        f"\npod ready through its probes in {ready:.1f} s; played, checked and taken down in "
        f"{time.monotonic() - start:.1f} s"
    )
