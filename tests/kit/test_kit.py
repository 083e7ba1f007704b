"""The act kit proves itself on a throwaway repository: stand-ins, recorded state, failures."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from .act import ActResult, run_workflow

pytestmark = pytest.mark.slow

DEMO = """\
name: demo
on: [push, pull_request]
jobs:
  demo:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1
      - id: py
        uses: actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97
        with: {python-version: "3.11"}
      - id: cache
        uses: actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae
        with:
          path: .demo-cache
          key: demo-${{ hashFiles('data.txt') }}
          restore-keys: demo-
      - run: |
          mkdir -p .demo-cache
          [ -f .demo-cache/stamp ] || echo built > .demo-cache/stamp
          echo "python=${{ steps.py.outputs.python-version }} at $(command -v python)" > report.txt
      - uses: iterative/setup-cml@f12ea7685438c1fc438d50f77519b3860cf5fa98
        with: {vega: false, version: v0.20.6}
      - env:
          REPO_TOKEN: ${{ secrets.GITHUB_TOKEN }}
        run: |
          echo "# Report 1" > report.md && cml comment update report.md --watermark-title=demo --target=pr
          echo "# Report 2" > report.md && cml comment update report.md --watermark-title=demo --target=pr
      - uses: actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f
        with:
          name: report
          path: |
            report.md
            report.txt
      - env:
          GH_TOKEN: ${{ github.token }}
        run: |
          gh label create demo --force
          gh issue create --title "Demo" --body "cache-hit=${{ steps.cache.outputs.cache-hit }}" --label demo
          test "$(gh issue list --state open --label demo --json number --jq '.[0].number')" -ge 1
      - if: env.DEMO_FAIL == '1'
        run: exit 3
"""

DOCKER = """\
name: image
on: push
jobs:
  image:
    runs-on: ubuntu-latest
    permissions: {contents: read, packages: write, id-token: write, attestations: write}
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1
      - uses: docker/setup-qemu-action@96fe6ef7f33517b61c61be40b68a1882f3264fb8
      - uses: docker/setup-buildx-action@37fe631027851001ddb9b187196cc803df7f5f0e
      - uses: docker/login-action@4907a6ddec9925e35a0a9e82d7399ccc52663121
        with: {registry: ghcr.io, username: "${{ github.actor }}", password: "${{ secrets.GITHUB_TOKEN }}"}
      - id: meta
        uses: docker/metadata-action@dc802804100637a589fabce1cb79ff13a1411302
        with:
          images: ghcr.io/owner/project
          tags: |
            type=sha
            type=raw,value=latest
          labels: org.opencontainers.image.vendor=demo
      - id: build
        uses: docker/build-push-action@53b7df96c91f9c12dcc8a07bcb9ccacbed38856a
        with:
          context: .
          push: true
          tags: ${{ steps.meta.outputs.tags }}
          labels: ${{ steps.meta.outputs.labels }}
          build-args: |
            PYTHON_VERSION=3.11
          provenance: false
      - uses: actions/attest-build-provenance@a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32
        with:
          subject-name: ghcr.io/owner/project
          subject-digest: ${{ steps.build.outputs.digest }}
      - run: echo changed > params.txt
      - id: cpr
        uses: peter-evans/create-pull-request@5f6978faf089d4d20b00c7766989d076bb2fc7f1
        with: {branch: bot/retrain, title: Retrain, body: new params, commit-message: retrain}
      - run: test "${{ steps.cpr.outputs.pull-request-operation }}" = created
"""


def make_repo(root: Path, workflows: dict[str, str]) -> Path:
    repo = root / "repo"
    (repo / ".github/workflows").mkdir(parents=True)
    for name, text in workflows.items():
        (repo / ".github/workflows" / name).write_text(text)
    (repo / "data.txt").write_text("data\n")
    (repo / "Dockerfile").write_text('ARG BASE_IMAGE=python:3.11-slim\nFROM ${BASE_IMAGE}\nCMD ["python"]\n')
    git = ["git", "-c", "user.email=kit@example.com", "-c", "user.name=kit"]
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], check=True)
    subprocess.run([*git, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(repo), "commit", "-qm", "init"], check=True)
    return repo


def test_demo_workflow_twice_records_state_and_hits_cache(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"demo.yml": DEMO})
    state = tmp_path / "state"
    payload = {"number": 7}
    first = run_workflow(
        repo, ".github/workflows/demo.yml", "pull_request", payload, tmp_path / "run1", state_dir=state
    )
    assert first.ok, first.tail()
    assert [(c["target"], c["updates"]) for c in first.comments] == [("pr/7", 1)]
    assert first.comments[0]["body"] == "# Report 2\n"
    assert first.artifacts == {"report": ["report.md", "report.txt"]}
    assert "python=3.11" in (first.out_dir / "artifacts/report/report.txt").read_text()
    assert [i["body"] for i in first.issues] == ["cache-hit="]
    assert [c["op"] for c in first.records["cache"]] == ["restore", "save"]

    second = run_workflow(
        repo, ".github/workflows/demo.yml", "pull_request", payload, tmp_path / "run2", state_dir=state
    )
    assert second.ok, second.tail()
    assert [(c["target"], c["updates"]) for c in second.comments] == [("pr/7", 3)]  # still one comment
    assert [i["body"] for i in second.issues] == ["cache-hit=", "cache-hit=true"]
    assert [c["op"] for c in second.records["cache"]] == ["restore"]  # exact hit: no save
    assert second.artifacts == {"report": ["report.md", "report.txt"]}


def test_failing_step_fails_the_run(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"demo.yml": DEMO})
    result = run_workflow(
        repo, ".github/workflows/demo.yml", "pull_request", {"number": 3}, tmp_path / "out", env={"DEMO_FAIL": "1"}
    )
    assert result.returncode != 0
    assert result.failed_steps == ["Main exit 3"]
    assert [c["target"] for c in result.comments] == ["pr/3"]
    assert [c["op"] for c in result.records["cache"]] == ["restore"]  # post-if: success() skips save


def test_cml_pr_target_without_a_pr_fails(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"demo.yml": DEMO})
    result = run_workflow(repo, ".github/workflows/demo.yml", "push", {}, tmp_path / "out")
    assert result.returncode != 0
    assert "PR for commit sha" in result.output and result.comments == []


CML = """\
name: cml
on: pull_request
jobs:
  cml:
    runs-on: ubuntu-latest
    steps:
      - uses: iterative/setup-cml@f12ea7685438c1fc438d50f77519b3860cf5fa98
        with: {SETUP}
      - env:
          REPO_TOKEN: ${{ secrets.GITHUB_TOKEN }}
        run: |
          printf 'x' > plot.png
          printf '# Report\\n![plot](plot.png) ![gone](gone.png) ![web](https://example.com/a.png)\\n' > report.md
          cml comment update report.md --watermark-title=demo --target=pr FLAGS
"""


def run_cml(tmp_path: Path, setup: str, flags: str = "--no-publish") -> ActResult:
    repo = make_repo(tmp_path, {"cml.yml": CML.replace("SETUP", setup).replace("FLAGS", flags)})
    return run_workflow(repo, ".github/workflows/cml.yml", "pull_request", {"number": 5}, tmp_path / "out")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("version: v0.20.6", "failed with exit code 1"),  # vega defaults to true: iterative/setup-cml#103
        ("vega: true, version: v0.20.6", "iterative/setup-cml#103"),
        ("vega: false", "no CML version pinned"),
    ],
)
def test_setup_cml_fails_like_v2_on_current_runners(tmp_path: Path, setup: str, message: str) -> None:
    result = run_cml(tmp_path, setup)
    assert result.returncode != 0 and message in result.output
    assert result.comments == []


@pytest.mark.parametrize(
    ("flags", "assets", "broken"),
    [("--no-publish", [], ["plot.png", "gone.png"]), ("--publish", ["plot.png"], ["gone.png"])],
)
def test_cml_publishes_images_only_when_asked(tmp_path: Path, flags: str, assets: list, broken: list) -> None:
    result = run_cml(tmp_path, "vega: false, version: v0.20.6", flags)
    assert result.ok, result.tail()
    assert result.records["setup-cml"] == [{"version": "v0.20.6", "vega": "false"}]
    [comment] = result.comments
    assert (comment["assets"], comment["broken_images"]) == (assets, broken)
    assert [a["file"] for a in result.records.get("cml-assets", [])] == assets
    assert ("](https://asset.cml.dev/" in comment["body"]) is bool(assets)


def test_cml_refuses_to_publish_images_by_default(tmp_path: Path) -> None:
    result = run_cml(tmp_path, "vega: false, version: v0.20.6", flags="")
    assert result.returncode != 0 and "refusing to upload plot.png, gone.png" in result.output
    assert result.comments == [] and "cml-assets" not in result.records


def test_gh_without_token_fails_like_gh(tmp_path: Path) -> None:
    workflow = DEMO.replace("GH_TOKEN: ${{ github.token }}", "NOT_A_TOKEN: x")
    repo = make_repo(tmp_path, {"demo.yml": workflow})
    result = run_workflow(repo, ".github/workflows/demo.yml", "pull_request", {}, tmp_path / "out")
    assert result.returncode != 0
    assert "set the GH_TOKEN environment variable" in result.output


def test_docker_actions_are_recorded(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"image.yml": DOCKER})
    result = run_workflow(repo, ".github/workflows/image.yml", "push", {}, tmp_path / "out")
    assert result.ok, result.tail()
    sha = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    (build,) = result.builds
    # ordered by the real action's priorities: raw (200) before sha (100)
    assert build["tags"] == ["ghcr.io/owner/project:latest", f"ghcr.io/owner/project:sha-{sha[:7]}"]
    assert build["labels"]["org.opencontainers.image.vendor"] == "demo"
    assert build["labels"]["org.opencontainers.image.revision"] == sha.strip()
    assert build["push"] is True and build["provenance"] == "false" and build["built"] is False
    assert build["build_args"] == {"PYTHON_VERSION": "3.11"}
    (login,) = result.records["docker-login"]
    assert login == {"registry": "ghcr.io", "username": "owner", "password_given": True, "logout": "true"}
    assert "ghs_" not in (result.out_dir / "docker-login.json").read_text()
    assert result.records["attestations"][0]["subject-digest"] == build["digest"]
    (pr,) = result.prs
    assert (pr["head"], pr["title"], pr["files"]) == ("bot/retrain", "Retrain", ["params.txt"])
