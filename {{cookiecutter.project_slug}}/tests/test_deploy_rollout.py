"""`cli rollout` against a stand-in kubectl (tests/fake_kubectl.py on PATH): render with the digest, apply,
wait, smoke-test, and the undo to the revision that was live when a step after the apply fails."""

from __future__ import annotations

import json
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.deploy import render

DIGEST = "sha256:" + "ab" * 32
IMAGE = f"ghcr.io/acme/demo@{DIGEST}"
FAKE_KUBECTL = Path(__file__).with_name("fake_kubectl.py")


class Cluster:
    """The fake kubectl's state: scenario, live revision, every call."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def set(self, **values: Any) -> None:
        self.path.write_text(json.dumps({**self.state, **values}))

    @property
    def state(self) -> dict[str, Any]:
        return json.loads(self.path.read_text())

    @property
    def calls(self) -> list[list[str]]:
        return self.state["calls"]

    def called(self, *prefix: str) -> list[list[str]]:
        return [call for call in self.calls if call[: len(prefix)] == list(prefix)]


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cluster:
    """A project folder with two overlays and a smoke request, kubectl on PATH, a Deployment at revision 3."""
    for environment in ("staging", "production"):
        overlay = tmp_path / "deploy" / "k8s" / "overlays" / environment
        overlay.mkdir(parents=True)
        (overlay / "kustomization.yaml").write_text("resources: [../../base]\n")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "smoke-request.json").write_text(json.dumps({"rows": [{"x": 1.0}, {"x": 2.0}]}))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    kubectl = bin_dir / "kubectl"
    kubectl.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_KUBECTL}" "$@"\n')
    kubectl.chmod(kubectl.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bin_dir}:{Path(sys.executable).parent}")
    monkeypatch.setenv("FAKE_KUBECTL_STATE", str(tmp_path / "cluster.json"))
    monkeypatch.chdir(tmp_path)
    state = Cluster(tmp_path / "cluster.json")
    state.path.write_text(
        json.dumps({"scenario": "healthy", "revision": 3, "calls": [], "model_version": "v7"})
    )
    return state


def rollout(environment: str = "staging", *extra: str) -> tuple[int, str]:
    args = ["rollout", "--environment", environment, "--image", IMAGE, "--model-version", "v7", *extra]
    with pytest.raises(SystemExit) as exit_:
        cli.main([*args, "--summary", "summary.md"])
    return int(exit_.value.code or 0), Path("summary.md").read_text() if Path("summary.md").exists() else ""


def test_success_applies_the_digest_waits_and_smoke_tests(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    code, summary = rollout("production")

    assert code == 0, capsys.readouterr().err
    ((_, folder),) = cluster.called("kustomize")
    applied = {document["kind"]: document for document in cluster.state["applied"]}
    (container,) = applied["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == IMAGE
    assert applied["Deployment"]["metadata"]["namespace"] == "demo-production"  # read from the manifests
    assert cluster.called("rollout", "status") == [
        ["rollout", "status", "deployment/demo", "--namespace", "demo-production", "--timeout=5m"]
    ]
    assert cluster.called("port-forward") == [
        ["port-forward", "service/demo", ":http", "--address", "127.0.0.1", "--namespace", "demo-production"]
    ]
    assert not cluster.called("rollout", "undo")
    assert not Path(folder).exists(), "the temporary kustomization is removed"
    assert "/predict answered 2 prediction(s) from model v7" in capsys.readouterr().out
    assert summary == (
        f"Deployed `{IMAGE}` (model v7) to **production**: deployment/demo in namespace demo-production, "
        "smoke test passed.\n"
    )


def test_the_temporary_kustomization_takes_the_overlay_and_sets_the_digest(
    cluster: Cluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, Any]] = []
    real = render.Kubectl.run

    def spy(self: render.Kubectl, *args: str, **kwargs: Any) -> str:
        if args[0] == "kustomize":
            folder = Path(args[1])
            seen.append(yaml.safe_load((folder / "kustomization.yaml").read_text()) | {"folder": folder})
        return real(self, *args, **kwargs)

    monkeypatch.setattr(render.Kubectl, "run", spy)
    assert rollout()[0] == 0
    (kustomization,) = seen
    assert kustomization["images"] == [{"name": "ghcr.io/acme/demo", "digest": DIGEST}]
    (resource,) = kustomization["resources"]
    assert not Path(resource).is_absolute()  # kustomize refuses absolute resource paths
    assert (kustomization["folder"] / resource).resolve() == Path("deploy/k8s/overlays/staging").resolve()


def test_failed_rollout_is_undone_to_the_live_revision_and_fails_loudly(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.set(scenario="rollout-fails")

    code, summary = rollout()

    assert code == 1
    assert cluster.called("rollout", "undo") == [
        ["rollout", "undo", "deployment/demo", "--namespace", "demo-staging", "--to-revision=3"]
    ]
    assert len(cluster.called("rollout", "status")) == 2, "the rollback is waited for"
    assert not cluster.called("port-forward")
    error = capsys.readouterr().err
    assert error.startswith("error: deploy to staging failed at rollout status: ")
    assert 'deployment "demo" exceeded its progress deadline' in error
    assert "rolled back deployment/demo in namespace demo-staging to revision 3 (ready again)" in error
    assert "fix: `kubectl describe deployment/demo --namespace demo-staging`" in error
    assert summary.startswith("**staging** not deployed: deploy to staging failed at rollout status")


def test_failed_smoke_test_is_undone(cluster: Cluster, capsys: pytest.CaptureFixture[str]) -> None:
    cluster.set(scenario="smoke-fails")

    code, _ = rollout()

    assert code == 1
    assert cluster.called("rollout", "undo") == [
        ["rollout", "undo", "deployment/demo", "--namespace", "demo-staging", "--to-revision=3"]
    ]
    error = capsys.readouterr().err
    assert "deploy to staging failed at smoke test: POST /predict answered HTTP 500" in error
    assert "the pods are ready but the service fails the request" in error


def test_wrong_model_in_the_answer_fails_the_smoke_test(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.set(model_version="v6")

    assert rollout()[0] == 1
    assert "the service runs model 'v6', not the deployed 'v7'" in capsys.readouterr().err
    assert cluster.called("rollout", "undo")


def test_failed_apply_is_not_undone(cluster: Cluster, capsys: pytest.CaptureFixture[str]) -> None:
    """An undo after an apply that changed nothing would roll back one model further than production."""
    cluster.set(scenario="apply-fails")

    assert rollout()[0] == 1
    assert not cluster.called("rollout")
    error = capsys.readouterr().err
    assert "failed at apply: " in error and "is forbidden" in error and "not rolled back" in error


def test_first_rollout_has_nothing_to_roll_back_to(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster.set(scenario="rollout-fails", revision=None)

    assert rollout()[0] == 1
    assert not cluster.called("rollout", "undo")
    assert "nothing to roll back to: this was the first rollout of deployment/demo" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "messages"),
    [
        (["--image", "ghcr.io/acme/demo:latest"], ["is not NAME@sha256:<64 hex digits>: deploy the pushed"]),
        (["--environment", "qa"], ["environment 'qa'", "environments with an overlay: production, staging"]),
        (["--request", "missing.json"], ["--request missing.json: ", "`cli request-example`"]),
    ],
)
def test_bad_arguments_name_what_is_allowed(
    cluster: Cluster, capsys: pytest.CaptureFixture[str], args: list[str], messages: list[str]
) -> None:
    base = {"--environment": "staging", "--image": IMAGE} | dict(zip(args[::2], args[1::2], strict=True))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["rollout", *[item for pair in base.items() for item in pair]])
    assert exit_.value.code == 2
    error = capsys.readouterr().err
    assert all(message in error for message in messages), error
    assert cluster.calls == [], "nothing reaches the cluster"


def test_an_overlay_whose_image_name_differs_is_refused_before_apply(
    cluster: Cluster, capsys: pytest.CaptureFixture[str]
) -> None:
    """kustomize silently leaves an image it does not find by name: the rollout checks the rendered one."""
    with pytest.raises(SystemExit) as exit_:
        cli.main(["rollout", "--environment", "staging", "--image", f"ghcr.io/other/demo@{DIGEST}"])
    assert exit_.value.code == 1
    assert "container 'model' runs 'ghcr.io/acme/demo'" in capsys.readouterr().err
    assert not cluster.called("apply")
