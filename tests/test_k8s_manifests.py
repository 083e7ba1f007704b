"""The Kubernetes manifests of every configuration: rendered with kustomize, valid, locked down, checkov-clean.

Each overlay is rendered as the deploy workflow renders it (a kustomization over it that sets the image by
digest), validated against the Kubernetes schemas in strict mode (unknown fields are errors) and scanned by
checkov, which runs from its own virtualenv (tests/requirements-checkov.txt: its pins clash with ours).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import CONFIGURATIONS, TEMPLATE_DIR, generate, isolated_tool, tool
from tests.kustomize import OVERLAYS, by_kind, render_overlay

# The oldest minor still in standard support at EKS, GKE and AKS when written, and the newest the validator knows.
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")
DIGEST = "sha256:" + "5eed" * 16
OWNER = "your-github-org"  # cookiecutter.json's default; no configuration changes it
CHECKOV_REQUIREMENTS = TEMPLATE_DIR / "tests" / "requirements-checkov.txt"
PRODUCTION_ONLY = {"HorizontalPodAutoscaler", "PodDisruptionBudget"}


@dataclass(frozen=True)
class Rendered:
    """One configuration's project and its overlays rendered with the image pinned, and without."""

    project: Path
    image: str
    pinned: dict[str, list[dict[str, Any]]]
    unpinned: dict[str, list[dict[str, Any]]]


def documents(text: str) -> list[dict[str, Any]]:
    return [document for document in yaml.safe_load_all(text) if document]


@pytest.fixture(scope="module")
def manifests_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every configuration's pinned overlays, one file each: what the validators read."""
    return tmp_path_factory.mktemp("rendered")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory, manifests_dir: Path) -> dict[str, Rendered]:
    start = time.monotonic()
    result = {}
    for name, answers in sorted(CONFIGURATIONS.items()):
        root = tmp_path_factory.mktemp(name)
        project = generate(root / "project", answers)
        image = f"ghcr.io/{OWNER}/{project.name}"
        pinned, unpinned = {}, {}
        for overlay in OVERLAYS:
            text = render_overlay(project, overlay, root / f"{overlay}-pinned", [{"name": image, "digest": DIGEST}])
            (manifests_dir / f"{name}-{overlay}.yaml").write_text(text)
            pinned[overlay] = documents(text)
            unpinned[overlay] = documents(render_overlay(project, overlay, root / overlay))
        result[name] = Rendered(project, image, pinned, unpinned)
    print(f"\n{len(result)} configurations generated and rendered in {time.monotonic() - start:.1f} s")
    return result


def deployment(objects: list[dict[str, Any]]) -> dict[str, Any]:
    return by_kind(objects)["Deployment"]


def model_container(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (container,) = deployment(objects)["spec"]["template"]["spec"]["containers"]
    return container


def dockerfile_setting(project: Path, pattern: str) -> tuple[str, ...]:
    """The groups of `pattern` in the project's Dockerfile (a line of it: re.MULTILINE)."""
    match = re.search(pattern, (project / "Dockerfile").read_text(), re.MULTILINE)
    assert match, pattern
    return match.groups()


def test_every_overlay_is_valid_kubernetes_in_strict_mode(rendered: dict[str, Rendered], manifests_dir: Path) -> None:
    files = sorted(str(path) for path in manifests_dir.glob("*.yaml"))
    assert len(files) == len(CONFIGURATIONS) * len(OVERLAYS)
    start = time.monotonic()
    for version in KUBERNETES_VERSIONS:
        command = [tool("kubernetes-validate"), "--strict", "--quiet", "-k", version, *files]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"against Kubernetes {version}:\n{result.stdout}{result.stderr}"
    print(
        f"\nkubernetes-validate --strict on {len(files)} files x {len(KUBERNETES_VERSIONS)} versions: "
        f"{time.monotonic() - start:.1f} s"
    )


def test_strict_validation_rejects_an_unknown_field(rendered: dict[str, Rendered], tmp_path: Path) -> None:
    objects = rendered["default"].pinned["staging"]
    model_container(objects)["readOnlyRootFileSystem"] = True  # misspelt: outside securityContext, wrong case
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump_all(objects))
    command = [tool("kubernetes-validate"), "--strict", "--quiet", "-k", KUBERNETES_VERSIONS[-1], str(broken)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode != 0 and "readOnlyRootFileSystem" in result.stdout + result.stderr


def test_checkov_fails_no_check(rendered: dict[str, Rendered], manifests_dir: Path) -> None:
    checkov = isolated_tool("checkov", CHECKOV_REQUIREMENTS)
    start = time.monotonic()
    command = [checkov, "--directory", str(manifests_dir), "--framework", "kubernetes", "--skip-download"]
    result = subprocess.run([*command, "--quiet", "--output", "json"], capture_output=True, text=True, check=False)
    report = json.loads(result.stdout)
    print(f"\ncheckov on {len(CONFIGURATIONS) * len(OVERLAYS)} rendered overlays: {time.monotonic() - start:.1f} s")
    failed = [
        f"{check['check_id']} {check['check_name']}: {check['resource']} in {Path(check['file_path']).name}"
        for check in report["results"]["failed_checks"]
    ]
    assert failed == [], "\n".join(failed)
    assert report["summary"]["passed"] > 100 and report["summary"]["skipped"] == 0, report["summary"]
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_deployment_runs_the_image_locked_down(rendered: dict[str, Rendered], name: str) -> None:
    project = rendered[name].project
    for overlay in OVERLAYS:
        objects = rendered[name].pinned[overlay]
        pod = deployment(objects)["spec"]["template"]["spec"]
        container = model_container(objects)
        user, group = dockerfile_setting(project, r"^USER (\d+):(\d+)$")
        ids = {"runAsNonRoot": True, "runAsUser": int(user), "runAsGroup": int(group)}
        assert pod["securityContext"] == {**ids, "fsGroup": int(group), "seccompProfile": {"type": "RuntimeDefault"}}
        assert container["securityContext"] == {
            **ids,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
        assert pod["automountServiceAccountToken"] is False
        assert container["name"] == "model"
        (port,) = map(int, dockerfile_setting(project, r"SERVE_PORT=(\d+)"))
        assert container["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
        assert container["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
        assert container["livenessProbe"]["httpGet"] == {"path": "/health/live", "port": "http"}
        resources = container["resources"]
        assert set(resources) == {"requests", "limits"}
        assert all(set(resources[kind]) == {"cpu", "memory"} for kind in resources)


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_writable_folders_are_empty_dirs(rendered: dict[str, Rendered], name: str) -> None:
    project = rendered[name].project
    (log_dir,) = dockerfile_setting(project, r"SERVE_PREDICTION_LOG_DIR=(\S+)")
    for overlay in OVERLAYS:
        objects = rendered[name].pinned[overlay]
        pod = deployment(objects)["spec"]["template"]["spec"]
        container = model_container(objects)
        mounts = {mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]}
        assert set(mounts) == {"/tmp", log_dir}
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        assert all("emptyDir" in volumes[volume] for volume in mounts.values())
        assert {"name": "SERVE_PREDICTION_LOG_DIR", "value": log_dir} in container["env"]


def test_grace_period_covers_the_shutdown_that_drains_the_prediction_log(rendered: dict[str, Rendered]) -> None:
    project = rendered["default"].project
    serve = project / "src" / "my_mlops_project" / "serve"
    in_flight = int(re.search(r"timeout_graceful_shutdown=(\d+)", (serve / "server.py").read_text()).group(1))
    close = re.search(r"def close\(self, timeout: float = ([\d.]+)\)", (serve / "prediction_log.py").read_text())
    drain = 2 * float(close.group(1))  # waits to enqueue the stop, then for the writer to finish
    for overlay in OVERLAYS:
        objects = rendered["default"].pinned[overlay]
        pod = deployment(objects)["spec"]["template"]["spec"]
        pre_stop = model_container(objects)["lifecycle"]["preStop"]["exec"]["command"]
        assert pre_stop[0] == "sleep"
        assert pod["terminationGracePeriodSeconds"] >= int(pre_stop[1]) + in_flight + drain + 5


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_image_is_set_by_digest_through_kustomize_only(rendered: dict[str, Rendered], name: str) -> None:
    image = rendered[name].image
    for overlay in OVERLAYS:
        assert model_container(rendered[name].pinned[overlay])["image"] == f"{image}@{DIGEST}"
        assert model_container(rendered[name].unpinned[overlay])["image"] == image, "no tag, latest least of all"
        assert deployment(rendered[name].pinned[overlay])["metadata"]["name"] == rendered[name].project.name
    for path in (rendered[name].project / "deploy").rglob("*.yaml"):
        for document in yaml.safe_load_all(path.read_text()):
            assert ":latest" not in json.dumps(document), path
            assert "images" not in document, f"{path}: the deploy workflow sets the digest, nothing pins one here"


def test_image_name_is_lowercased_as_the_registry_requires(tmp_path: Path) -> None:
    project = generate(tmp_path / "project", {"github_owner": "Acme-ML"})
    objects = documents(render_overlay(project, "staging", tmp_path / "staging"))
    assert model_container(objects)["image"] == "ghcr.io/acme-ml/my-mlops-project"
    workflow = (project / ".github" / "workflows" / "deploy.yml").read_text()
    assert "IMAGE: ghcr.io/acme-ml/my-mlops-project\n" in workflow, "the image the deploy workflow pushes"


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_production_autoscales_with_a_disruption_budget_and_staging_runs_one(
    rendered: dict[str, Rendered], name: str
) -> None:
    slug = rendered[name].project.name
    staging, production = (by_kind(rendered[name].pinned[overlay]) for overlay in OVERLAYS)
    assert set(staging) == {"Namespace", "Deployment", "Service", "NetworkPolicy"}
    assert set(production) == set(staging) | PRODUCTION_ONLY
    assert staging["Deployment"]["spec"]["replicas"] == 1
    assert "replicas" not in production["Deployment"]["spec"], "the autoscaler owns the count"
    autoscaler = production["HorizontalPodAutoscaler"]
    assert autoscaler["apiVersion"] == "autoscaling/v2"
    assert autoscaler["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": slug}
    replicas = autoscaler["spec"]["minReplicas"], autoscaler["spec"]["maxReplicas"]
    assert 2 <= replicas[0] < replicas[1], replicas
    assert production["PodDisruptionBudget"]["spec"]["maxUnavailable"] == 1
    for overlay, objects in zip(OVERLAYS, (staging, production), strict=True):
        namespace = f"{slug}-{overlay}"
        assert objects["Namespace"]["metadata"]["name"] == namespace
        assert objects["Namespace"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
        assert {item["metadata"].get("namespace") for kind, item in objects.items() if kind != "Namespace"} == {
            namespace
        }


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_selectors_pick_the_model_pods(rendered: dict[str, Rendered], name: str) -> None:
    objects = by_kind(rendered[name].pinned["production"])
    pod_labels = objects["Deployment"]["spec"]["template"]["metadata"]["labels"]
    selectors = [
        objects["Deployment"]["spec"]["selector"]["matchLabels"],
        objects["Service"]["spec"]["selector"],
        objects["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"],
        objects["NetworkPolicy"]["spec"]["podSelector"]["matchLabels"],
    ]
    assert all(selector and selector.items() <= pod_labels.items() for selector in selectors), selectors
    (service_port,) = objects["Service"]["spec"]["ports"]
    assert service_port["targetPort"] == "http"
    assert objects["NetworkPolicy"]["spec"]["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}]}]
