"""Roll the serving image out to one Kubernetes environment, or roll it back and say why.

`python -m <package>.cli rollout --environment staging --image ghcr.io/owner/project@sha256:<digest>`

1. render deploy/k8s/overlays/<environment> with the image set by digest (render.py, kustomize);
2. read the revision of the Deployment that is live now (the one to go back to);
3. `kubectl apply -f -` the rendered manifests;
4. `kubectl rollout status` of the Deployment (names and namespace read from the manifests);
5. smoke-test the Service with a real row through `kubectl port-forward` (smoke.py).
Any failure after the apply runs `kubectl rollout undo --to-revision=<live revision>` (that exact revision:
a plain undo after an apply that changed nothing would go one model further back) and waits for it. The run
then fails with one message naming the environment, the step and the fix. KUBECONFIG names the cluster.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UserError
from .kubectl import Kubectl, KubectlError, namespace_args
from .render import Image, Target, overlay_dir, parse_image, render, target
from .smoke import SmokeTestError, smoke_test

OVERLAYS = Path("deploy/k8s/overlays")
SMOKE_REQUEST = Path("models/smoke-request.json")
REVISION = "deployment.kubernetes.io/revision"
DOCS = "docs/deploy-kubernetes.md"


@dataclass(frozen=True)
class Release:
    environment: str
    image: Image
    model_version: str | None
    timeout: str


class StepError(Exception):
    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason


class RolloutError(Exception):
    """The rollout failed; the message names the environment, the step, the rollback and the fix."""


def fix_for(step: str, release: Release, where: Target | None) -> str:
    inspect = ""
    if where:
        name = f"deployment/{where.deployment} {' '.join(namespace_args(where.namespace))}".strip()
        inspect = f"`kubectl describe {name}` and `kubectl logs {name}`"
    fixes = {
        "render": f"fix deploy/k8s/overlays/{release.environment} (`kubectl kustomize` renders it locally)",
        "cluster access": f"check the {release.environment} environment's KUBECONFIG or cloud login ({DOCS})",
        "apply": "fix what the cluster refused in the manifests, then re-run the deploy workflow",
        "rollout status": f"{inspect} show why the new pods are not ready (image pull, probes, resources)",
        "smoke test": f"the pods are ready but the service fails the request: {inspect}",
    }
    return fixes[step]


def live_revision(kubectl: Kubectl, where: Target) -> str | None:
    """The Deployment's current revision, None when it does not exist yet (first rollout)."""
    args = ["get", f"deployment/{where.deployment}", *namespace_args(where.namespace), "-o", "json"]
    answer = kubectl.run(*args, "--ignore-not-found")
    if not answer.strip():
        return None
    annotations: dict[str, Any] = json.loads(answer).get("metadata", {}).get("annotations") or {}
    return annotations.get(REVISION)


def roll_back(kubectl: Kubectl, where: Target, revision: str | None, timeout: str) -> str:
    """Undo to `revision` and wait for it; what happened, in words."""
    if revision is None:
        return (
            f"nothing to roll back to: this was the first rollout of {where.where}; "
            "it stays as it is for inspection"
        )
    name, ns = f"deployment/{where.deployment}", namespace_args(where.namespace)
    try:
        kubectl.run("rollout", "undo", name, *ns, f"--to-revision={revision}")
        kubectl.run("rollout", "status", name, *ns, f"--timeout={timeout}")
    except KubectlError as error:
        return f"the rollback to revision {revision} of {where.where} ALSO FAILED: {error}"
    return f"rolled back {where.where} to revision {revision} (ready again)"


def deploy(kubectl: Kubectl, release: Release, overlay: Path, body: dict[str, Any]) -> tuple[Target, str]:
    """Render, apply, wait, smoke-test; undo on failure after the apply. (target, smoke-test account)."""
    try:
        manifests = render(kubectl, overlay, release.image)
        where = target(manifests, release.image)
    except (KubectlError, UserError) as error:
        raise failure(release, None, StepError("render", str(error)), "nothing was applied") from error
    try:
        before = live_revision(kubectl, where)
    except KubectlError as error:
        raise failure(
            release, where, StepError("cluster access", str(error)), "nothing was applied"
        ) from error
    print(f"{release.environment}: {where.where} is at revision {before or '(none: first rollout)'}")
    try:
        print(kubectl.run("apply", "-f", "-", stdin=manifests).strip())
    except KubectlError as error:
        # Not undone: the Deployment may not have changed, and an undo would then go back one model further.
        outcome = "not rolled back (the apply failed, so the live revision may be unchanged)"
        raise failure(release, where, StepError("apply", str(error)), outcome) from error
    try:
        account = verify(kubectl, release, where, body)
    except StepError as step:
        raise failure(release, where, step, roll_back(kubectl, where, before, release.timeout)) from step
    return where, account


def verify(kubectl: Kubectl, release: Release, where: Target, body: dict[str, Any]) -> str:
    ns = namespace_args(where.namespace)
    try:
        status = kubectl.run(
            "rollout", "status", f"deployment/{where.deployment}", *ns, f"--timeout={release.timeout}"
        )
    except KubectlError as error:
        raise StepError("rollout status", str(error)) from error
    print(status.strip())
    try:
        with kubectl.port_forward(f"service/{where.service}", where.service_port, where.namespace) as url:
            return smoke_test(url, body, release.model_version)
    except (KubectlError, SmokeTestError) as error:
        raise StepError("smoke test", str(error)) from error


def failure(release: Release, where: Target | None, step: StepError, outcome: str) -> RolloutError:
    return RolloutError(
        f"deploy to {release.environment} failed at {step.step}: {step.reason}\n"
        f"{outcome}\n"
        f"fix: {fix_for(step.step, release, where)}"
    )


def summary_line(release: Release, where: Target | None, error: RolloutError | None) -> str:
    model = f" (model {release.model_version})" if release.model_version else ""
    if error is None and where is not None:
        deployed = f"Deployed `{release.image.reference}`{model} to **{release.environment}**"
        return f"{deployed}: {where.where}, smoke test passed.\n"
    headline, outcome = str(error).splitlines()[:2]
    return f"**{release.environment}** not deployed: {headline}; {outcome}.\n"


def read_request(path: Path) -> dict[str, Any]:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise UserError(
            f"--request {path}: {error} (the deploy gate writes it with `cli request-example`)"
        ) from error
    if not isinstance(body, dict) or not body.get("rows"):
        raise UserError(f"--request {path} holds no rows: write it with `cli request-example --out {path}`")
    return body


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rollout", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--environment", required=True, help="an overlay under --overlays: staging, production"
    )
    parser.add_argument("--image", required=True, help="NAME@sha256:<digest> (the pushed image, by digest)")
    parser.add_argument("--model-version", help="the smoke test checks the service answers with this model")
    parser.add_argument("--request", type=Path, default=SMOKE_REQUEST, help="default: %(default)s")
    parser.add_argument("--overlays", type=Path, default=OVERLAYS, help="default: %(default)s")
    parser.add_argument("--timeout", default="5m", help="of each rollout status wait (default: %(default)s)")
    parser.add_argument("--kubectl", default="kubectl", help="the kubectl binary (default: from PATH)")
    parser.add_argument("--summary", type=Path, help="append what was deployed where to this markdown file")
    args = parser.parse_args(argv)
    release = Release(args.environment, parse_image(args.image), args.model_version, args.timeout)
    overlay = overlay_dir(args.overlays, args.environment)
    body = read_request(args.request)
    where, error = None, None
    try:
        where, account = deploy(Kubectl(args.kubectl), release, overlay, body)
        print(f"{release.environment}: {account}")
    except RolloutError as failed:
        error = failed
        print(f"error: {failed}", file=sys.stderr)
    if args.summary:
        with args.summary.open("a", encoding="utf-8") as stream:
            stream.write(summary_line(release, where, error))
    return 1 if error else 0
