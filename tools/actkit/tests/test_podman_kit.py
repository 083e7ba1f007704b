"""The podman kit proves itself: base image, build, run, curl; and build-push via act for real."""

from __future__ import annotations

import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest

from actkit.act import run_workflow
from actkit.podman import (
    RUN_FLAGS,
    SESSION_LABEL,
    STAND_IN_LABEL,
    build_image,
    ensure_base_image,
    ensure_python_slim,
    free_port,
    image_config,
    image_exists,
    image_size,
    remove_session_images,
    run_container,
)

pytestmark = pytest.mark.slow

DOCKERFILE = """\
FROM python:3.11-slim
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --no-cache-dir six==1.16.0
USER 10001
ENV PORT=8765
CMD ["sh", "-c", "exec /opt/venv/bin/python -m http.server --bind 127.0.0.1 ${PORT}"]
"""

WORKFLOW = """\
name: image
on: push
jobs:
  image:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1
      - id: meta
        uses: docker/metadata-action@dc802804100637a589fabce1cb79ff13a1411302
        with: {images: localhost/kit-act-demo, tags: type=sha}
      - uses: docker/build-push-action@53b7df96c91f9c12dcc8a07bcb9ccacbed38856a
        with: {context: ., load: true, push: false, tags: "${{ steps.meta.outputs.tags }}"}
      - id: push
        uses: docker/build-push-action@53b7df96c91f9c12dcc8a07bcb9ccacbed38856a
        with: {context: ., push: true, tags: "${{ steps.meta.outputs.tags }}"}
      - env: {DIGEST: "${{ steps.push.outputs.digest }}"}
        run: |
          unknown=$(printf 'sha256:%064d' 0)
          ! docker buildx imagetools create --tag localhost/kit-act-demo:latest "localhost/kit-act-demo@${unknown}"
          docker buildx imagetools create --tag localhost/kit-act-demo:latest "localhost/kit-act-demo@${DIGEST}"
      - run: |
          docker run -d --name "$NAME" -p "$PORT:$PORT" -e PORT="$PORT" "${{ steps.meta.outputs.tags }}"
          for _ in $(seq 60); do curl -fsS "http://127.0.0.1:$PORT/" > /dev/null && break; sleep 0.5; done
          curl -fsS "http://127.0.0.1:$PORT/" > /dev/null
          docker logs "$NAME"
          docker rm -f "$NAME"
"""


def test_base_image_build_run_and_curl(tmp_path: Path) -> None:
    assert ensure_base_image("3.11") == "localhost/mlops-base:bookworm-py3.11"
    slim = ensure_python_slim("3.11")
    assert slim == "docker.io/library/python:3.11-slim"
    labels = image_config(slim)["Config"]["Labels"]
    assert "not the official image" in labels[STAND_IN_LABEL]  # never to be taken for the real one
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    tag = f"localhost/kit-demo:{uuid.uuid4().hex[:8]}"
    result = build_image(tmp_path, tag)
    try:
        assert result.ok, result.output[-3000:]
        assert 0 < image_size(tag) < 400_000_000
        port = free_port()
        with run_container(tag, port, {"PORT": str(port)}) as container:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
                assert response.status == 200
            assert container.exec("id", "-u").stdout.strip() == "10001"
        names = subprocess.run(
            ["podman", "ps", "-a", "--format", "{{.Names}}"], capture_output=True, text=True
        ).stdout.split()
        assert container.name not in names
    finally:
        subprocess.run(["podman", "rmi", "-f", tag], capture_output=True)


def test_a_session_removes_the_images_it_built_but_one_in_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bases = {ensure_python_slim("3.11"), ensure_base_image("3.11")}
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\nLABEL made=by-this-test\n")
    (tmp_path / "Dockerfile.used").write_text("FROM python:3.11-slim\nLABEL made=by-this-test used=yes\n")
    (tmp_path / "Dockerfile.other").write_text("FROM python:3.11-slim\nLABEL made=by-another-session\n")
    made, used, other = (f"localhost/kit-session:{uuid.uuid4().hex[:8]}" for _ in range(3))
    session = f"test-{uuid.uuid4().hex}"
    monkeypatch.setenv("ACT_KIT_SESSION", f"other-{uuid.uuid4().hex}")
    assert build_image(tmp_path, other, dockerfile=tmp_path / "Dockerfile.other").ok
    monkeypatch.setenv("ACT_KIT_SESSION", session)
    assert build_image(tmp_path, made).ok
    assert build_image(tmp_path, used, dockerfile=tmp_path / "Dockerfile.used").ok
    assert image_config(made)["Config"]["Labels"][SESSION_LABEL] == session
    container = subprocess.run(["podman", "create", *RUN_FLAGS, used, "true"], capture_output=True, text=True)
    try:
        removed = remove_session_images(session)
        assert not image_exists(made) and image_exists(used) and image_exists(other), removed
        assert all(image_exists(base) for base in bases)
    finally:
        subprocess.run(["podman", "rm", "-f", container.stdout.strip()], capture_output=True)
        subprocess.run(["podman", "rmi", "-f", made, used, other], capture_output=True)


def test_build_push_action_builds_with_podman_under_act(tmp_path: Path) -> None:
    ensure_python_slim("3.11")
    repo = tmp_path / "repo"
    (repo / ".github/workflows").mkdir(parents=True)
    (repo / ".github/workflows/image.yml").write_text(WORKFLOW)
    (repo / "Dockerfile").write_text(DOCKERFILE)
    git = ["git", "-c", "user.email=kit@example.com", "-c", "user.name=kit", "-C", str(repo)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "init"], check=True)
    name = f"kit-smoke-{uuid.uuid4().hex[:8]}"
    result = run_workflow(
        repo,
        ".github/workflows/image.yml",
        "push",
        {},
        tmp_path / "out",
        podman=True,
        env={"NAME": name, "PORT": str(free_port())},
    )
    try:
        assert result.ok, result.tail(60)
        build, push = result.builds
        assert build["built"] is True and build["load"] is True
        assert build["build_args"] == {} and "injected_build_args" not in build  # exactly the workflow's
        assert push["push"] is True and push["built"] is True
        moved = [r for r in result.records["docker-push"] if r["by"] == "buildx imagetools create"]
        assert [(r["tag"], r["digest"]) for r in moved] == [("localhost/kit-act-demo:latest", push["digest"])]
        assert "not found (act-kit: never pushed in this run)" in result.output  # an unknown digest is refused
        latest = subprocess.run(
            ["podman", "image", "inspect", "--format", "{{.Id}}", "localhost/kit-act-demo:latest"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        assert latest == push["image_id"]
        assert '"GET / HTTP/1.1" 200' in result.output  # `docker logs` through the shim
    finally:
        subprocess.run(["podman", "rm", "-f", name], capture_output=True)
        for build in result.builds:
            subprocess.run(["podman", "rmi", "-f", *build["tags"]], capture_output=True)
        subprocess.run(["podman", "rmi", "-f", "localhost/kit-act-demo:latest"], capture_output=True)
