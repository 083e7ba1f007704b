"""Podman kit: a locally made Debian base image, image builds and throwaway containers.

No registry is reachable, so images are built FROM a base made here with debootstrap
(`ensure_base_image`). A Dockerfile names its base literally (`FROM python:3.11-slim`, the line
Dependabot reads): `ensure_python_slim` gives the local base that official name, as a labelled
stand-in (`STAND_IN_LABEL`), never the real image. Everything runs with
`--runtime runc --network host --pull=never` (scripts/install-system-deps.sh sets it up), so a
build finds the stand-in and never tries a registry.

A Dockerfile that must work on both python:3.11-slim and this base should call `python`
from PATH (official image: /usr/local/bin/python, ours: /usr/bin/python via python-is-python3)
and make its own venv (`python -m venv /opt/venv`, then use /opt/venv/bin/...): ours is
Debian's python, where a bare `pip install` into the system is refused (PEP 668).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

RUN_FLAGS = ["--runtime", "runc", "--network", "host", "--pull=never"]
STAND_IN_LABEL = "io.github.act-kit.stand-in"
# build_image labels each image with the ACT_KIT_SESSION it was built in (a test session sets it), so the session
# can remove what it built and nothing else; the kept bases say "kept" (images built FROM them inherit that).
SESSION_LABEL = "io.github.act-kit.session"
KEPT = "kept"
BASE_PACKAGES = ["python3", "python3-venv", "python-is-python3", "ca-certificates"]
DEBIAN_PYTHON = {"bookworm": "3.11"}


def podman_available() -> bool:
    return shutil.which("podman") is not None


def image_exists(tag: str) -> bool:
    return subprocess.run(["podman", "image", "exists", tag]).returncode == 0


def session_images(session: str) -> set[str]:
    """The ids of the images built with `build_image` while ACT_KIT_SESSION was `session` (none without podman)."""
    if not podman_available():
        return set()
    listing = subprocess.run(
        ["podman", "images", "--quiet", "--no-trunc", "--filter", f"label={SESSION_LABEL}={session}"],
        capture_output=True,
        text=True,
    )
    return set(listing.stdout.split())


def remove_session_images(session: str) -> list[str]:
    """Remove the images a session built (see `session_images`); returns those podman removed.

    Another session's images are never touched (each build is labelled with its own session), nor an image a
    container still uses (the test that runs the container owns it).
    """
    left = session_images(session) - _images_in_use()
    removed: list[str] = []
    while left:  # a parent goes once its children have: pass again while a pass removes something
        gone = {image for image in sorted(left) if _remove_image(image)}
        if not gone:
            break
        removed += sorted(gone)
        left = (left - gone) & session_images(session)
    return removed


def _images_in_use() -> set[str]:
    listing = subprocess.run(
        ["podman", "ps", "--all", "--no-trunc", "--format", "{{.ImageID}}"], capture_output=True, text=True
    )
    return {f"sha256:{image}" if not image.startswith("sha256:") else image for image in listing.stdout.split()}


def _remove_image(image: str) -> bool:
    return subprocess.run(["podman", "rmi", "--force", image], capture_output=True).returncode == 0


def apt_mirror() -> str:
    """The Debian mirror this machine's apt uses (deb822 or one-line sources)."""
    for path in sorted(Path("/etc/apt").glob("sources.list*")) + sorted(Path("/etc/apt/sources.list.d").glob("*")):
        if not path.is_file():
            continue
        for line in path.read_text().splitlines():
            words = line.split()
            if line.startswith("URIs:") and len(words) > 1 and words[1].rstrip("/").endswith("/debian"):
                return words[1]
            if line.startswith("deb ") and "debian-security" not in line:
                uri = next(w for w in words[1:] if "://" in w)
                if uri.rstrip("/").endswith("/debian"):
                    return uri
    return "http://deb.debian.org/debian"


def ensure_base_image(python_version: str = "3.11", suite: str = "bookworm") -> str:
    """Build (once) and return `localhost/mlops-base:<suite>-py<ver>`: Debian minbase + python3."""
    if DEBIAN_PYTHON.get(suite) != python_version:
        raise ValueError(f"Debian {suite} ships python {DEBIAN_PYTHON.get(suite)}, not {python_version}")
    tag = f"localhost/mlops-base:{suite}-py{python_version}"
    with open(Path(tempfile.gettempdir()) / "act-kit-base-image.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if image_exists(tag):
            return tag
        root = Path(tempfile.mkdtemp(prefix="act-kit-rootfs-"))
        try:
            subprocess.run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    f"--include={','.join(BASE_PACKAGES)}",
                    suite,
                    str(root),
                    apt_mirror(),
                ],
                check=True,
                capture_output=True,
            )
            # pip inside reaches PyPI the way the host does: same CA bundle; the host's other pip
            # settings (find-links, file:// extra indexes) point at host paths, so they are left out.
            shutil.copy("/etc/ssl/certs/ca-certificates.crt", root / "etc/ssl/certs/ca-certificates.crt")
            (root / "etc/pip.conf").write_text("[global]\ncert = /etc/ssl/certs/ca-certificates.crt\n")
            for junk in [
                "var/cache/apt/archives",
                "var/lib/apt/lists",
                "usr/share/doc",
                "usr/share/man",
                "usr/share/info",
            ]:
                shutil.rmtree(root / junk, ignore_errors=True)
                (root / junk).mkdir(parents=True, exist_ok=True)
            tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
            subprocess.run(
                [
                    "podman",
                    "import",
                    "--change",
                    "ENV LANG=C.UTF-8",
                    "--change",
                    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "--change",
                    'CMD ["python3"]',
                    "-",
                    tag,
                ],
                stdin=tar.stdout,
                check=True,
                capture_output=True,
            )
            if tar.wait() != 0:
                raise RuntimeError("tar of the rootfs failed")
        finally:
            shutil.rmtree(root, ignore_errors=True)
    return tag


def ensure_python_slim(python_version: str = "3.11") -> str:
    """`docker.io/library/python:<ver>-slim` in local storage: the debootstrap base under the official name.

    It is NOT the official image (Debian's python3 in /usr/bin, no /usr/local python): it carries the label
    STAND_IN_LABEL saying so, and reports must call it the local stand-in. A real image already stored under
    that name (no label) is refused rather than shadowed.
    """
    official = f"docker.io/library/python:{python_version}-slim"
    base = ensure_base_image(python_version)
    with open(Path(tempfile.gettempdir()) / "act-kit-base-image.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if image_exists(official):
            labels = image_config(official).get("Config", {}).get("Labels") or {}
            if STAND_IN_LABEL not in labels:
                raise RuntimeError(
                    f"{official} in podman storage is not the act-kit stand-in; remove it or build elsewhere"
                )
            return official
        context = Path(tempfile.mkdtemp(prefix="act-kit-python-slim-"))
        try:
            (context / "Containerfile").write_text(f"FROM {base}\n")
            note = f"act-kit stand-in for python:{python_version}-slim: {base} (Debian python3), not the official image"
            result = build_image(context, official, labels={STAND_IN_LABEL: note, SESSION_LABEL: KEPT})
        finally:
            shutil.rmtree(context, ignore_errors=True)
        if not result.ok:
            raise RuntimeError(f"tagging {base} as {official} failed:\n{result.output[-3000:]}")
    return official


@dataclass
class BuildResult:
    ok: bool
    returncode: int
    output: str
    tag: str
    image_id: str
    seconds: float


def build_image(
    context_dir: str | Path,
    tag: str,
    build_args: Mapping[str, str] | None = None,
    *,
    dockerfile: str | Path | None = None,
    extra_tags: Sequence[str] = (),
    labels: Mapping[str, str] | None = None,
    target: str | None = None,
    timeout: float = 1800,
) -> BuildResult:
    """`podman build` with no pulls; returns output and image id instead of raising."""
    cmd = ["podman", "build", "--runtime", "runc", "--network", "host", "--pull=never", "-t", tag]
    for extra in extra_tags:
        cmd += ["-t", extra]
    for key, value in (build_args or {}).items():
        cmd += ["--build-arg", f"{key}={value}"]
    session = {SESSION_LABEL: os.environ["ACT_KIT_SESSION"]} if os.environ.get("ACT_KIT_SESSION") else {}
    for key, value in (session | dict(labels or {})).items():
        cmd += ["--label", f"{key}={value}"]
    if dockerfile:
        cmd += ["-f", str(dockerfile)]
    if target:
        cmd += ["--target", target]
    start = time.monotonic()
    proc = subprocess.run([*cmd, str(context_dir)], capture_output=True, text=True, timeout=timeout)
    image_id = ""
    if proc.returncode == 0:
        image_id = subprocess.run(
            ["podman", "image", "inspect", "--format", "{{.Id}}", tag], capture_output=True, text=True
        ).stdout.strip()
    return BuildResult(
        proc.returncode == 0, proc.returncode, proc.stdout + proc.stderr, tag, image_id, time.monotonic() - start
    )


def image_size(tag: str) -> int:
    out = subprocess.run(
        ["podman", "image", "inspect", "--format", "{{.Size}}", tag], capture_output=True, text=True, check=True
    ).stdout
    return int(out.strip())


def image_config(tag: str) -> dict:
    out = subprocess.run(["podman", "image", "inspect", tag], capture_output=True, text=True, check=True).stdout
    return json.loads(out)[0]


@dataclass
class Container:
    name: str
    port: int | None

    def logs(self) -> str:
        proc = subprocess.run(["podman", "logs", self.name], capture_output=True, text=True)
        return proc.stdout + proc.stderr

    def running(self) -> bool:
        out = subprocess.run(
            ["podman", "inspect", "--format", "{{.State.Running}}", self.name], capture_output=True, text=True
        ).stdout
        return out.strip() == "true"

    def exec(self, *argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["podman", "exec", self.name, *argv], capture_output=True, text=True)


def wait_for_port(port: int, timeout: float = 60, container: Container | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(1)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        if container is not None and not container.running():
            raise RuntimeError(f"container exited before listening on {port}:\n{container.logs()}")
        time.sleep(0.3)
    logs = container.logs() if container else ""
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s\n{logs}")


@contextmanager
def run_container(
    tag: str,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
    *,
    command: Sequence[str] = (),
    options: Sequence[str] = (),
    wait_timeout: float = 60,
) -> Iterator[Container]:
    """Run `tag` detached on the host network; wait for `port` on 127.0.0.1; always removed.

    The process in the container must bind 127.0.0.1 (host network: it is the host's loopback).
    """
    name = f"act-kit-{uuid.uuid4().hex[:10]}"
    cmd = ["podman", "run", "-d", *RUN_FLAGS, "--name", name]
    for key, value in (env or {}).items():
        cmd += ["-e", f"{key}={value}"]
    container = Container(name, port)
    try:
        subprocess.run([*cmd, *options, tag, *command], check=True, capture_output=True, text=True)
        if port is not None:
            wait_for_port(port, wait_timeout, container)
        yield container
    finally:
        subprocess.run(["podman", "rm", "-f", "-t", "5", name], capture_output=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
