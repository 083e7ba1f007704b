"""The kit's `kubectl` (bin/kubectl) and azure/setup-kubectl stand-ins, run as the workflow steps run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from actkit.act import KIT_DIR, seed_cluster

KUBECTL = KIT_DIR / "bin" / "kubectl"
IMAGE = "ghcr.io/acme/demo"
OLD, NEW = IMAGE + "@sha256:" + "1" * 64, IMAGE + "@sha256:" + "2" * 64
BASE = {
    "kustomization.yaml": "resources: [deployment.yaml, service.yaml]\n",
    "deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: demo}
spec:
  selector: {matchLabels: {app: demo}}
  template:
    metadata: {labels: {app: demo}}
    spec:
      containers: [{name: model, image: ghcr.io/acme/demo, ports: [{name: http, containerPort: 8000}]}]
""",
    "service.yaml": """\
apiVersion: v1
kind: Service
metadata: {name: demo}
spec: {selector: {app: demo}, ports: [{name: http, port: 8000, targetPort: http}]}
""",
}


class Cluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = {
            **os.environ,
            "ACT_KIT_HOME": str(KIT_DIR),
            "ACT_KIT_OUT": str(root / "out"),
            "ACT_KIT_STATE": str(root / "state"),
            "ACT_KIT_HOST_PYTHON": sys.executable,
            "KUBECONFIG": str(root / "kubeconfig"),
        }
        (root / "kubeconfig").write_text("apiVersion: v1\nkind: Config\ncurrent-context: test\n")

    def kubectl(self, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(KUBECTL), *args], input=stdin, capture_output=True, text=True, env={**self.env, **env}, timeout=60
        )

    def manifests(self, image: str) -> str:
        overlay = self.root / "overlay"
        overlay.mkdir(exist_ok=True)
        for name, text in BASE.items():
            (overlay / name).write_text(text)
        kustomization = f"namespace: demo-staging\nimages: [{{name: {IMAGE}, digest: '{image.split('@')[1]}'}}]\n"
        (overlay / "kustomization.yaml").write_text(kustomization + BASE["kustomization.yaml"])
        rendered = self.kubectl("kustomize", str(overlay))
        assert rendered.returncode == 0, rendered.stderr
        return rendered.stdout

    def deploy(self, image: str) -> subprocess.CompletedProcess[str]:
        return self.kubectl("apply", "-f", "-", stdin=self.manifests(image))

    def revision(self) -> str:
        answer = self.kubectl("get", "deployment/demo", "-n", "demo-staging", "-o", "json", "--ignore-not-found")
        return json.loads(answer.stdout)["metadata"]["annotations"]["deployment.kubernetes.io/revision"]

    @property
    def calls(self) -> list[dict[str, Any]]:
        return json.loads((self.root / "out" / "kubectl.json").read_text())


@pytest.fixture
def cluster(tmp_path: Path) -> Cluster:
    return Cluster(tmp_path)


def status(cluster: Cluster) -> subprocess.CompletedProcess[str]:
    return cluster.kubectl("rollout", "status", "deployment/demo", "-n", "demo-staging", "--timeout=1m")


def test_kustomize_is_the_real_one_and_cluster_commands_need_a_kubeconfig(cluster: Cluster) -> None:
    assert f"image: {NEW}" in cluster.manifests(NEW) and "namespace: demo-staging" in cluster.manifests(NEW)
    refused = cluster.kubectl("get", "deployment/demo", "-o", "json", KUBECONFIG="")
    assert refused.returncode == 1 and "localhost:8080 was refused" in refused.stderr
    missing = cluster.kubectl("get", "deployment/demo", "-o", "json", KUBECONFIG=str(cluster.root / "nope"))
    assert missing.returncode == 1 and "no such file or directory" in missing.stderr


def test_apply_makes_revisions_and_undo_goes_back_to_the_one_named(cluster: Cluster) -> None:
    absent = cluster.kubectl("get", "deployment/demo", "-n", "demo-staging", "-o", "json")
    assert absent.returncode == 1 and 'deployments.apps "demo" not found' in absent.stderr
    ignored = cluster.kubectl("get", "deployment/demo", "-n", "demo-staging", "-o", "json", "--ignore-not-found")
    assert ignored.returncode == 0 and ignored.stdout == ""
    assert cluster.deploy(OLD).stdout.splitlines() == ["service/demo created", "deployment.apps/demo created"]
    assert cluster.deploy(OLD).stdout.splitlines() == ["service/demo unchanged", "deployment.apps/demo unchanged"]
    assert cluster.deploy(NEW).stdout.splitlines()[-1] == "deployment.apps/demo configured"
    assert cluster.revision() == "2" and status(cluster).stdout.strip() == 'deployment "demo" successfully rolled out'
    undo = cluster.kubectl("rollout", "undo", "deployment/demo", "-n", "demo-staging", "--to-revision=1")
    assert undo.stdout.strip() == "deployment.apps/demo rolled back"
    assert cluster.revision() == "3"  # the old ReplicaSet becomes the newest revision
    again = cluster.kubectl("rollout", "undo", "deployment/demo", "-n", "demo-staging", "--to-revision=1")
    assert again.returncode == 1 and "unable to find specified revision 1 in history" in again.stderr
    same = cluster.kubectl("rollout", "undo", "deployment/demo", "-n", "demo-staging", "--to-revision=3")
    assert "skipped rollback (current template already matches revision 3)" in same.stdout
    applied = [c for c in cluster.calls if c["args"][0] == "apply"]
    assert [o["images"] for o in applied[-1]["objects"] if o["kind"] == "Deployment"] == [{"model": NEW}]


def test_rollout_fails_scenario_fails_new_revisions_only(cluster: Cluster) -> None:
    seed_cluster(
        cluster.root / "state",
        scenarios={"demo-staging": "rollout-fails"},
        deployments=[{"namespace": "demo-staging", "name": "demo", "images": {"model": OLD}}],
    )
    cluster.deploy(NEW)
    failed = status(cluster)
    assert failed.returncode == 1 and 'error: deployment "demo" exceeded its progress deadline' in failed.stderr
    undo = cluster.kubectl("rollout", "undo", "deployment/demo", "-n", "demo-staging", "--to-revision=1")
    assert undo.returncode == 0
    assert status(cluster).returncode == 0


@pytest.fixture
def forwarded(cluster: Cluster, request: pytest.FixtureRequest) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    scenario, serve = request.param
    seed_cluster(cluster.root / "state", scenarios={"demo-staging": scenario}, serve=serve)
    cluster.deploy(NEW)
    command = [str(KUBECTL), "port-forward", "service/demo", ":http", "--address", "127.0.0.1", "-n", "demo-staging"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cluster.env)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Forwarding from 127.0.0.1:") and line.rstrip().endswith("-> 8000"), line
        yield f"http://127.0.0.1:{line.split(':')[1].split()[0]}", process
    finally:
        process.terminate()
        process.wait(timeout=20)


def get(url: str, attempts: int = 50) -> tuple[int, str]:
    for _ in range(attempts):
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered {url}")


SERVER = (
    "import http.server, os; "
    "http.server.HTTPServer(('127.0.0.1', int(os.environ['SERVE_PORT'])), "
    "http.server.SimpleHTTPRequestHandler).serve_forever()"
)


@pytest.mark.parametrize("forwarded", [("healthy", [sys.executable, "-c", SERVER])], indirect=True)
def test_port_forward_serves_the_seeded_service_and_stops_it(forwarded: tuple[str, subprocess.Popen[str]]) -> None:
    url, process = forwarded
    assert get(f"{url}/")[0] == 200
    process.terminate()
    assert process.wait(timeout=20) == 0
    with pytest.raises(AssertionError, match="nothing answered"):
        get(f"{url}/", attempts=3)


@pytest.mark.parametrize("forwarded", [("smoke-fails", None)], indirect=True)
def test_port_forward_in_the_smoke_fails_scenario_is_ready_but_fails_requests(
    forwarded: tuple[str, subprocess.Popen[str]],
) -> None:
    url, _ = forwarded
    assert get(f"{url}/health/ready") == (200, '{"status":"ready"}')
    assert get(f"{url}/predict")[0] == 500


def run_setup_kubectl(tmp_path: Path, version: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ACT_KIT_HOME": str(KIT_DIR),
        "ACT_KIT_OUT": str(tmp_path),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_PATH": str(tmp_path / "path"),
        "KIT_INPUTS": json.dumps({"version": version}),
    }
    return subprocess.run(
        [sys.executable, str(KIT_DIR / "lib" / "standins.py"), "setup-kubectl"], capture_output=True, text=True, env=env
    )


def test_setup_kubectl_checks_the_version_like_the_action(tmp_path: Path) -> None:
    bad = run_setup_kubectl(tmp_path, "1.x")
    assert bad.returncode == 1 and 'Invalid version format: "1.x"' in bad.stdout
    done = run_setup_kubectl(tmp_path, "v1.37.1")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "output").read_text() == f"kubectl-path={KUBECTL}\n"
    assert (tmp_path / "path").read_text() == f"{KUBECTL.parent}\n"
    assert json.loads((tmp_path / "setup-kubectl.json").read_text()) == [
        {"version": "v1.37.1", "resolved": "v1.37.1", "pinned": True}
    ]
