"""Merges ship, end to end: the serving image built for real with podman, and deploy.yml under act.

One generated project (installed, pipeline run, committed) and one image are shared by every test here.
Images build FROM python:3.11-slim as the Dockerfile says, which here is the kit's local stand-in base
(podman.ensure_python_slim: Debian's python under the official name), not the official image.
Slow: `.ci/run` runs them, `-m "not slow"` skips them.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from actkit.act import ActResult, run_workflow, seed_cluster
from actkit.podman import build_image, ensure_python_slim, free_port, image_config, image_size, run_container
from tests.helpers import build_serving_image, commit, installed_project, run

pytestmark = pytest.mark.slow
DEPLOY = ".github/workflows/deploy.yml"
PRODUCTION = "ghcr.io/your-github-org/my-mlops-project"  # github_owner and project_slug defaults
OURS = "localhost/ship-test-serve:latest"
SKIPPED = "Kubernetes deploy skipped: the repository variable K8S_DEPLOY is not `true`."
SERVE = [".venv/bin/python", "-m", "my_mlops_project.cli", "serve"]  # what the cluster stand-in runs for a Service
KUBERNETES = {"K8S_DEPLOY": "true"}
KUBECONFIG = {"KUBECONFIG": "apiVersion: v1"}  # the stand-in only needs the file: it is the cluster
NAIVE_DOCKERFILE = """\
FROM python:3.11-slim
WORKDIR /app
COPY . .
RUN python -m venv /opt/venv && /opt/venv/bin/pip install --constraint requirements-lock.txt ".[train,serve,dev]"
ENV PATH=/opt/venv/bin:$PATH
CMD ["python", "-m", "my_mlops_project.serve"]
"""


def podman(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=False)


def podman_stdout(*args: str) -> str:
    """podman's output, or the test fails with its exit code and what it said on stderr."""
    result = podman(*args)
    if result.returncode != 0 or not result.stdout:
        command = " ".join(args)
        pytest.fail(f"podman {command} exited {result.returncode}, stdout {result.stdout!r}: {result.stderr}")
    return result.stdout


@pytest.fixture(scope="module")
def base_image() -> str:
    """python:3.11-slim in podman storage: the local stand-in base (never the official image)."""
    return ensure_python_slim("3.11")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return installed_project(tmp_path_factory.mktemp("ship"))


@pytest.fixture(scope="module")
def metadata(project: Path) -> dict[str, Any]:
    return json.loads((project / "models" / "metadata.json").read_text())


@pytest.fixture(scope="module")
def image(project: Path, base_image: str) -> Iterator[str]:
    yield build_serving_image(project, OURS)
    podman("rmi", "--force", OURS, f"{PRODUCTION}:latest")


def wait_ready(url: str, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_image_serves_as_non_root_with_only_serving_packages(
    project: Path, image: str, metadata: dict[str, Any]
) -> None:
    config = image_config(image)["Config"]
    labels = config["Labels"]
    assert labels["org.opencontainers.image.version"] == metadata["model_version"]
    assert labels["org.opencontainers.image.revision"] == run(project, "git", "rev-parse", "HEAD").stdout.strip()
    assert labels["org.opencontainers.image.source"].endswith("/your-github-org/my-mlops-project")
    assert config["User"] == "10001:10001" and "8000/tcp" in config["ExposedPorts"]
    body = run(project, ".venv/bin/python", "-m", "my_mlops_project.cli", "request-example", "--rows", "3").stdout
    port = free_port()
    with run_container(image, port, {"SERVE_HOST": "127.0.0.1", "SERVE_PORT": str(port)}) as container:
        ready = wait_ready(f"http://127.0.0.1:{port}/health/ready")
        assert ready == {"status": "ready", "model_version": metadata["model_version"]}
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/predict", body.encode(), {"content-type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            prediction = json.loads(response.read())
        assert len(prediction["predictions"]) == 3 and prediction["model_version"] == metadata["model_version"]
        card_url = f"http://127.0.0.1:{port}/model-card"
        with urllib.request.urlopen(card_url, timeout=10) as response:
            card_markdown = response.read().decode()
        json_request = urllib.request.Request(card_url, headers={"accept": "application/json"})
        with urllib.request.urlopen(json_request, timeout=10) as response:
            card = json.loads(response.read())
        assert card_markdown == (project / "models" / "model_card.md").read_text()
        assert card == json.loads((project / "models" / "model_card.json").read_text())
        assert card["model_version"] == metadata["model_version"] and card["image"] is None
        assert container.exec("id", "-u").stdout.strip() == "10001"
        # podman stores OCI images, which drop HEALTHCHECK (docker keeps it): run its command from the Dockerfile.
        healthcheck = (project / "Dockerfile").read_text().split("HEALTHCHECK ", 1)[1].split("CMD ", 1)[1]
        assert container.exec(*json.loads(healthcheck.splitlines()[0])).returncode == 0
        missing = container.exec("python", "-c", "import mlflow")
        assert missing.returncode != 0 and "No module named 'mlflow'" in missing.stderr
        assert container.exec("python", "-c", "import dvc").returncode != 0
        assert container.exec("test", "-w", "/app/models").returncode != 0  # the model is read-only for the app


def test_image_is_well_under_half_a_naive_one(project: Path, image: str, base_image: str, tmp_path: Path) -> None:
    context = tmp_path / "naive"
    context.mkdir()
    for name in ("pyproject.toml", "requirements-lock.txt", "README.md", "LICENSE"):
        (context / name).write_bytes((project / name).read_bytes())
    subprocess.run(["cp", "-r", str(project / "src"), str(context / "src")], check=True)
    (context / "Dockerfile").write_text(NAIVE_DOCKERFILE)
    naive = "localhost/ship-test-naive:latest"
    try:
        result = build_image(context, naive)
        assert result.ok, result.output[-5000:]
        ours_mb, naive_mb = image_size(image) / 1e6, image_size(naive) / 1e6
    finally:
        podman("rmi", "--force", naive)
    print(f"\nimage sizes: ours {ours_mb:.0f} MB, naive single-stage with all extras {naive_mb:.0f} MB")
    assert ours_mb < 0.45 * naive_mb, (ours_mb, naive_mb)


def set_production(image: str, tmp_path: Path, **metrics: float) -> None:
    """Tag an image as the production one (`:latest`), optionally with other recorded metrics."""
    if metrics:
        recorded = json.loads(podman_stdout("run", "--rm", "--entrypoint", "cat", image, "/app/models/metadata.json"))
        recorded["metrics"].update(metrics)
        recorded["model_version"] = "production-before"
        context = tmp_path / "production"
        context.mkdir()
        (context / "metadata.json").write_text(json.dumps(recorded))
        (context / "Dockerfile").write_text(f"FROM {image}\nCOPY metadata.json /app/models/metadata.json\n")
        result = build_image(context, f"{PRODUCTION}:latest")
        assert result.ok, result.output[-3000:]
    else:
        assert podman("tag", image, f"{PRODUCTION}:latest").returncode == 0


def image_id(tag: str) -> str:
    return podman("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()


def repository(visibility: str = "public", owner_type: str = "User") -> dict[str, Any]:
    """The event's repository as GitHub sends it: visibility decides where attestations are stored."""
    return {
        "full_name": "your-github-org/my-mlops-project",
        "name": "my-mlops-project",
        "owner": {"login": "your-github-org", "type": owner_type},
        "default_branch": "main",
        "html_url": "https://github.com/your-github-org/my-mlops-project",
        "private": visibility != "public",
        "visibility": visibility,
    }


def deploy(project: Path, out: Path, visibility: str = "public", **kwargs: Any) -> ActResult:
    payload = {"ref": "refs/heads/main", "repository": repository(visibility)}
    return run_workflow(project, DEPLOY, "push", payload, out, repository="your-github-org/my-mlops-project", **kwargs)


def test_gate_blocks_a_model_below_the_bounds_or_worse_than_production(
    project: Path, image: str, tmp_path: Path
) -> None:
    clone = tmp_path / "blocked"
    run(project, "git", "clone", "--quiet", str(project), str(clone))
    params = yaml.safe_load((clone / "params.yaml").read_text())
    params["promotion"]["min_metrics"]["f1"] = 0.999
    (clone / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    commit(clone, "Demand an f1 the model does not reach")
    set_production(image, tmp_path, f1=0.9999)

    result = deploy(clone, tmp_path / "act")

    assert not result.ok
    assert result.failed_steps and "Deploy gate" in result.failed_steps[0], result.failed_steps
    assert "promotion blocked: f1 = " in result.output and "fails >= 0.999" in result.output
    assert "fails >= production 0.9999 - 0.01" in result.output, result.tail()
    assert result.builds == [] and not result.records.get("docker-push"), "nothing is built or pushed"


def with_cluster(project: Path, tmp_path: Path, **scenarios: str) -> tuple[Path, dict[str, str]]:
    """A clone of the project (its own deploy/k8s overlays), and the cluster stand-in seeded: each environment's
    namespace gets its scenario, and production already runs an older image (revision 1)."""
    clone = tmp_path / "with-cluster"
    run(project, "git", "clone", "--quiet", str(project), str(clone))
    namespaces = {environment: f"my-mlops-project-{environment}" for environment in ("staging", "production")}
    seed_cluster(
        tmp_path / "github",
        scenarios={namespaces[environment]: scenario for environment, scenario in scenarios.items()},
        serve=SERVE,
        deployments=[
            {
                "namespace": namespaces["production"],
                "name": "my-mlops-project",
                "images": {"model": f"{PRODUCTION}@sha256:{'0' * 64}"},
            }
        ],
    )
    return clone, namespaces


def kubectl_calls(result: ActResult, command: str) -> list[dict[str, Any]]:
    return [call for call in result.records.get("kubectl", []) if call["args"][0] == command]


def test_deploy_builds_smoke_tests_pushes_attests_moves_latest_then_rolls_out_staging_then_production(
    project: Path, image: str, base_image: str, tmp_path: Path
) -> None:
    set_production(image, tmp_path)  # same metrics as the candidate: not worse
    clone, namespaces = with_cluster(project, tmp_path, staging="healthy", production="healthy")
    sha = run(clone, "git", "rev-parse", "HEAD").stdout.strip()
    port = free_port()

    result = deploy(
        clone,
        tmp_path / "act",
        podman=True,
        state_dir=tmp_path / "github",
        vars={"SMOKE_TEST_PORT": str(port), **KUBERNETES},
        secrets=KUBECONFIG,
    )

    assert result.ok, result.tail(120)
    assert "promotion allowed: 3 check(s) passed" in result.output  # two bounds + not worse than production
    assert "| >= production " in result.output and "promotion blocked" not in result.output
    loaded, pushed = result.builds
    version = loaded["build_args"]["MODEL_VERSION"]
    immutable = {f"{PRODUCTION}:{sha}", f"{PRODUCTION}:{version}"}
    assert version != "production-before" and version.endswith(sha[:8])
    assert loaded["load"] and not loaded["push"] and loaded["built"] and set(loaded["tags"]) == immutable
    assert loaded["labels"]["org.opencontainers.image.version"] == version
    assert loaded["labels"]["org.opencontainers.image.revision"] == sha
    assert loaded["build_args"] == {"MODEL_VERSION": version, "REVISION": sha, "SOURCE": loaded["build_args"]["SOURCE"]}
    assert pushed["push"] and set(pushed["tags"]) == immutable
    assert pushed["provenance"] == "mode=max" and pushed["sbom"] == "true"
    pushes = [(record["tag"], record["digest"], record["by"]) for record in result.records["docker-push"]]
    assert sorted(pushes[:2]) == sorted((tag, pushed["digest"], "build-push-action") for tag in immutable)
    assert pushes[2:] == [(f"{PRODUCTION}:latest", pushed["digest"], "buildx imagetools create")]
    provenance, card = result.records["attestations"]
    assert provenance["subject-digest"] == card["subject-digest"] == pushed["digest"]
    # the card the image serves is the attested predicate; the release's card adds the digest
    bundled = json.loads((result.out_dir / "artifacts/model-bundle/model_card.json").read_text())
    assert card["predicate-type"] == "https://github.com/your-github-org/my-mlops-project/model-card/v1"
    assert card["predicate"] == bundled and bundled["image"] is None and bundled["model_version"] == version
    released = json.loads((result.out_dir / "artifacts/model-card/model_card.json").read_text())
    assert released == {**bundled, "image": {"name": PRODUCTION, "digest": pushed["digest"]}}
    assert f"`{PRODUCTION}@{pushed['digest']}`" in (result.out_dir / "artifacts/model-card/model_card.md").read_text()
    log = result.output
    smoke = log.index(f"smoke test passed: {version}")
    push = log.index("⭐ Run Main Push the tested image")  # each step's start
    attest = log.index("⭐ Run Main Attest the build provenance")
    latest = log.index("⭐ Run Main Move latest")
    attest_card = log.index("⭐ Run Main Attest the model card")
    assert smoke < push < attest < attest_card < latest, "smoke test, push, attestations, then production moves"
    assert log.index("production: /predict answered 1 prediction(s)") < latest, "after the production rollout"
    assert f'"model_version":"{version}"' in log  # the /predict response of the smoke test
    assert image_id(f"{PRODUCTION}:latest") == pushed["image_id"] != image_id(image)  # production is the new build
    assert SKIPPED not in log
    applies = kubectl_calls(result, "apply")
    assert [call["namespace"] for call in applies] == [None, None]  # the namespaces come from the manifests
    deployed = [(o["namespace"], o["images"]) for call in applies for o in call["objects"] if o["kind"] == "Deployment"]
    reference = f"{PRODUCTION}@{pushed['digest']}"
    assert deployed == [(namespaces["staging"], {"model": reference}), (namespaces["production"], {"model": reference})]
    assert [call["namespace"] for call in kubectl_calls(result, "port-forward")] == list(namespaces.values())
    assert not [call for call in kubectl_calls(result, "rollout") if call["args"][1] == "undo"]
    assert log.count(f"/predict answered 1 prediction(s) from model {version}") == 2  # the real service answered
    assert result.records["setup-kubectl"][0]["pinned"]


def test_refused_attestation_leaves_production_where_it_was(
    project: Path, image: str, base_image: str, tmp_path: Path
) -> None:
    """A private repository outside GitHub Enterprise Cloud that opted in anyway: GitHub refuses to store it."""
    set_production(image, tmp_path)
    before = image_id(f"{PRODUCTION}:latest")
    sha = run(project, "git", "rev-parse", "HEAD").stdout.strip()

    result = deploy(
        project,
        tmp_path / "act",
        visibility="private",
        podman=True,
        vars={"SMOKE_TEST_PORT": str(free_port()), "ATTEST_BUILD_PROVENANCE": "true"},
    )

    assert not result.ok
    # act lists the stand-in's inner step, then the workflow's step: the latter is the last failure
    assert result.failed_steps and result.failed_steps[-1] == "Main Attest the build provenance", result.failed_steps
    assert "Feature not available for user-owned private repositories" in result.output
    assert SKIPPED in result.output, "without K8S_DEPLOY the summary says so and how to enable it"
    assert "roll out to staging" not in result.output and not result.records.get("kubectl")
    pushed = {record["tag"] for record in result.records["docker-push"]}
    assert f"{PRODUCTION}:{sha}" in pushed and f"{PRODUCTION}:latest" not in pushed, pushed
    assert image_id(f"{PRODUCTION}:latest") == before, "production (latest) must not move"


def test_manual_run_on_a_feature_branch_ships_nothing(project: Path, tmp_path: Path) -> None:
    """workflow_dispatch runs on the branch it is started from: only the default branch may deploy."""
    clone = tmp_path / "feature"
    run(project, "git", "clone", "--quiet", str(project), str(clone))
    run(clone, "git", "checkout", "--quiet", "-b", "feature/try-a-model")
    (clone / "NOTES.md").write_text("an experiment not merged yet\n")
    commit(clone, "Work on a branch")  # act takes github.ref from HEAD's branch (main would share the commit)

    result = run_workflow(
        clone,
        DEPLOY,
        "workflow_dispatch",
        {"repository": repository()},
        tmp_path / "act",
        repository="your-github-org/my-mlops-project",
        inputs={"first_deploy": "true"},
    )

    assert result.ok, result.tail()
    assert "Set up job" not in result.output, "no job starts"
    assert result.builds == [] and not result.records.get("docker-push") and not result.artifacts


def test_a_failed_production_rollout_is_undone_and_fails_the_run(
    project: Path, image: str, base_image: str, tmp_path: Path
) -> None:
    set_production(image, tmp_path)
    before = image_id(f"{PRODUCTION}:latest")
    clone, namespaces = with_cluster(project, tmp_path, staging="healthy", production="rollout-fails")

    result = deploy(
        clone,
        tmp_path / "act",
        podman=True,
        state_dir=tmp_path / "github",
        vars={"SMOKE_TEST_PORT": str(free_port()), **KUBERNETES},
        secrets=KUBECONFIG,
    )

    assert not result.ok
    assert result.failed_steps[-1].startswith("Main Roll out"), result.failed_steps
    undo = [call["args"] for call in kubectl_calls(result, "rollout") if call["args"][1] == "undo"]
    production = ["--namespace", namespaces["production"]]
    assert undo == [["rollout", "undo", "deployment/my-mlops-project", *production, "--to-revision=1"]]
    assert "deploy to production failed at rollout status: " in result.output
    assert "exceeded its progress deadline" in result.output
    assert "rolled back deployment/my-mlops-project in namespace my-mlops-project-production to revision 1" in (
        result.output
    )
    assert "::error title=Deploy to production::" in result.output
    assert "staging: /predict answered 1 prediction(s)" in result.output, "staging was deployed first"
    assert [call["namespace"] for call in kubectl_calls(result, "port-forward")] == [namespaces["staging"]]
    assert f"{PRODUCTION}:latest" not in {record["tag"] for record in result.records["docker-push"]}
    assert image_id(f"{PRODUCTION}:latest") == before, "production (latest) is what the cluster still runs"
