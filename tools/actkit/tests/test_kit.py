"""The act kit proves itself on a throwaway repository: stand-ins, recorded state, failures."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from actkit.act import AWS_ROLES_ENV, READONLY_TOKEN, ActResult, run_workflow, seed_state

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
      - run: |
          echo '{"model_version": "v1", "metrics": {"f1": 0.9}}' > "$RUNNER_TEMP/card.json"
      - id: card
        uses: actions/attest@59d89421af93a897026c735860bf21b6eb4f7b26
        with:
          subject-name: ghcr.io/owner/project
          subject-digest: ${{ steps.build.outputs.digest }}
          predicate-type: https://example.com/model-card/v1
          predicate-path: ${{ runner.temp }}/card.json
          push-to-registry: true
      - run: test "${{ steps.card.outputs.storage-record-ids }}" = 1 && test -n "${{ steps.card.outputs.bundle-path }}"
      - id: no-card
        continue-on-error: true
        uses: actions/attest@59d89421af93a897026c735860bf21b6eb4f7b26
        with:
          subject-name: ghcr.io/owner/project
          subject-digest: ${{ steps.build.outputs.digest }}
          predicate-type: https://example.com/model-card/v1
          predicate-path: absent.json
      - run: test "${{ steps.no-card.outcome }}" = failure
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
    seed_state(tmp_path / "out", can_approve_pull_request_reviews=True)  # its PR is opened with GITHUB_TOKEN
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
    provenance, card = result.records["attestations"]  # the missing predicate file attested nothing
    assert provenance["subject-digest"] == card["subject-digest"] == build["digest"]
    assert card["predicate-type"] == "https://example.com/model-card/v1"
    assert card["predicate"] == {"model_version": "v1", "metrics": {"f1": 0.9}}
    assert "::error::Error: predicate file not found: absent.json" in result.output
    (pr,) = result.prs
    assert (pr["head"], pr["title"], pr["files"]) == ("bot/retrain", "Retrain", ["params.txt"])


# GitHub's rules the kit enforces (tools/actkit/README.md, "GitHub's rules").

BESIDE = """\
name: beside
on: push
jobs:
  writer:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1
      - run: test "$(ls -A "$ACT_KIT_PROJECT/..")" = repo  # the project copy is alone in its folder
      - run: mkdir -p ../storage && echo x > ../storage/model  # a DVC "local" remote ../storage, say
        continue-on-error: true
"""


def test_writing_beside_the_workspace_fails_the_run(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"beside.yml": BESIDE})
    (tmp_path / "storage").mkdir()  # beside the real project: the run must not see it
    result = run_workflow(repo, ".github/workflows/beside.yml", "push", {}, tmp_path / "out")
    assert result.returncode != 0, result.tail()
    assert "a step wrote outside its workspace" in result.output
    assert "act-kit: FAILED: a job wrote outside its workspace" in result.output
    [record] = {r["path"] for r in result.records["outside-writes"]}
    assert record.endswith("/storage")
    assert "ls -A" not in " ".join(result.failed_steps)  # the copy was alone
    assert not (repo / "storage").exists() and (tmp_path / "storage").is_dir()


FRESH = """\
name: fresh
on: push
jobs:
  one:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1
      - run: echo one > from-one.txt && test -f data.txt
  two:
    needs: one
    runs-on: ubuntu-latest
    steps:
      - run: test -z "$(ls -A)"  # no checkout: an empty workspace
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1
      - run: test -f data.txt && test ! -e from-one.txt
"""


def test_each_job_starts_from_a_fresh_workspace(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"fresh.yml": FRESH})
    result = run_workflow(repo, ".github/workflows/fresh.yml", "push", {}, tmp_path / "out")
    assert result.ok, result.tail()
    assert "Job succeeded" in result.output.split("[fresh/two]", 1)[1]


SECRETS = """\
name: secrets
on: [pull_request, push]
jobs:
  show:
    runs-on: ubuntu-latest
    steps:
      - env:
          MY_SECRET: ${{ secrets.MY_SECRET }}
          TOKEN: ${{ github.token }}
        run: echo "secret=${MY_SECRET:-none} token=${TOKEN}" > "$ACT_KIT_OUT/seen.txt"  # act masks secrets in the log
      - env:
          GH_TOKEN: ${{ github.token }}
        run: gh issue create --title "from ${{ github.actor }}" --body x
"""


def seen(result: ActResult) -> str:
    return (result.out_dir / "seen.txt").read_text().strip()


def test_forks_and_dependabot_get_no_secrets_and_a_read_only_token(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"secrets.yml": SECRETS})
    workflow, secrets = ".github/workflows/secrets.yml", {"MY_SECRET": "s3cr3t"}

    def pr(owner: str) -> dict:
        head = {"ref": "feature", "repo": {"full_name": f"{owner}/project"}}
        return {"number": 5, "pull_request": {"head": head, "base": {"ref": "main"}}}

    same = run_workflow(repo, workflow, "pull_request", pr("owner"), tmp_path / "same", secrets=secrets)
    assert same.ok, same.tail()
    assert seen(same) == "secret=s3cr3t token=ghs_actkitfaketoken" and len(same.issues) == 1
    assert same.records["run"] == [{"secrets": ["GITHUB_TOKEN", "MY_SECRET"], "withheld": None}]

    fork = run_workflow(repo, workflow, "pull_request", pr("someone"), tmp_path / "fork", secrets=secrets)
    assert fork.returncode != 0
    assert seen(fork) == f"secret=none token={READONLY_TOKEN}"
    assert "HTTP 403: Resource not accessible by integration" in fork.output and fork.issues == []
    assert fork.records["run"][0]["withheld"] == "pull request from the fork someone/project"

    bot = run_workflow(
        repo,
        workflow,
        "push",
        {},
        tmp_path / "bot",
        secrets=secrets,
        actor="dependabot[bot]",
        dependabot_secrets={"MY_SECRET": "dependabot-only"},
    )
    assert bot.returncode != 0
    assert seen(bot) == f"secret=dependabot-only token={READONLY_TOKEN}" and bot.issues == []
    assert bot.records["run"][0]["withheld"] == "started by Dependabot"


PULL_REQUESTS = """\
name: prs
on: workflow_dispatch
jobs:
  open:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1
      - id: app
        if: vars.APP_CLIENT_ID != ''
        uses: actions/create-github-app-token@1b10c78c7865c340bc4f6099eb2f838309f1e8c3
        with:
          client-id: ${{ vars.APP_CLIENT_ID }}
          private-key: ${{ secrets.APP_KEY }}
      - run: echo changed > data.txt
      - uses: peter-evans/create-pull-request@5f6978faf089d4d20b00c7766989d076bb2fc7f1
        with:
          token: ${{ steps.app.outputs.token || github.token }}
          branch: bot/update
          title: Update
      - env:
          GH_TOKEN: ${{ steps.app.outputs.token || github.token }}
        run: gh pr create --title "By gh" --body x --head bot/other
"""


def test_github_token_opens_prs_only_when_allowed_and_they_trigger_nothing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"prs.yml": PULL_REQUESTS})
    workflow = ".github/workflows/prs.yml"
    refused = run_workflow(repo, workflow, "workflow_dispatch", {}, tmp_path / "refused")
    assert refused.returncode != 0 and refused.prs == []
    assert "GitHub Actions is not permitted to create or approve pull requests." in refused.output

    seed_state(tmp_path / "allowed", can_approve_pull_request_reviews=True)
    allowed = run_workflow(repo, workflow, "workflow_dispatch", {}, tmp_path / "allowed")
    assert allowed.ok, allowed.tail()
    assert [(p["head"], p["token"], p["triggers_workflows"]) for p in allowed.prs] == [
        ("bot/update", "github_token", False),
        ("bot/other", "github_token", False),
    ]

    no_key = run_workflow(repo, workflow, "workflow_dispatch", {}, tmp_path / "no-key", vars={"APP_CLIENT_ID": "Iv1"})
    assert no_key.returncode != 0 and "privateKey option is required" in no_key.output

    app_vars, app_secrets = {"APP_CLIENT_ID": "Iv1"}, {"APP_KEY": "k"}
    app = run_workflow(repo, workflow, "workflow_dispatch", {}, tmp_path / "app", vars=app_vars, secrets=app_secrets)
    assert app.ok, app.tail()
    assert [(p["token"], p["triggers_workflows"]) for p in app.prs] == [("other", True), ("other", True)]
    assert app.records["app-tokens"] == [{"client-id": "Iv1", "owner": "owner", "permissions": {}}]


DISPATCH = """\
name: dispatch
on: workflow_dispatch
jobs:
  run:
    runs-on: ubuntu-latest
    steps:
      - env:
          GH_TOKEN: ${{ github.token }}
        run: |
          gh workflow run dispatch.yml -f why=default
          gh workflow run dispatch.yml --ref v1 -f why=tag
          ! gh workflow run dispatch.yml --ref no-such-branch 2> err.txt
          grep -q "HTTP 422: No ref found for: no-such-branch" err.txt
          ! gh workflow run missing.yml 2> err.txt
          grep -q "could not find any workflows named missing.yml" err.txt
          ! gh pr list --json number,nope 2> err.txt
          grep -q 'Unknown JSON field: "nope"' err.txt
          gh pr list --head retrain/auto --json number,isCrossRepository,headRepositoryOwner \\
            --jq '.[] | "\\(.number) \\(.isCrossRepository) \\(.headRepositoryOwner.login)"'
"""


def test_gh_dispatch_carries_its_ref_and_json_fields_are_strict(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"dispatch.yml": DISPATCH})
    prs = [
        {"number": 4, "title": "Fork", "head": "retrain/auto", "base": "main", "head_repo": "someone/project"},
        {"number": 3, "title": "Ours", "head": "retrain/auto", "base": "main"},
    ]
    seed_state(tmp_path / "out", prs=prs, tags=["v1"])
    result = run_workflow(repo, ".github/workflows/dispatch.yml", "workflow_dispatch", {}, tmp_path / "out")
    assert result.ok, result.tail()
    assert [(d["ref"], d["inputs"]) for d in result.github["dispatches"]] == [
        ("main", {"why": "default"}),
        ("v1", {"why": "tag"}),
    ]
    assert "4 true someone" in result.output and "3 false owner" in result.output


CLOUD = """\
name: cloud
on: [pull_request]
permissions: {}
jobs:
  aws:
    runs-on: ubuntu-latest
    permissions: {id-token: write}
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1
      - id: aws
        uses: aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c
        with: {role-to-assume: "arn:aws:iam::123456789012:role/dvc", aws-region: eu-west-1}
      - run: echo "${AWS_ACCESS_KEY_ID}/${AWS_REGION}/${{ steps.aws.outputs.aws-account-id }}" > "$ACT_KIT_OUT/aws.txt"
  aws-without-permission:
    runs-on: ubuntu-latest
    steps:
      - uses: aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c
        with: {role-to-assume: "arn:aws:iam::123456789012:role/dvc", aws-region: eu-west-1}
  gcp:
    runs-on: ubuntu-latest
    permissions: {id-token: write}
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1
      - uses: google-github-actions/auth@7c6bc770dae815cd3e89ee6cdf493a5fab2cc093
        with:
          workload_identity_provider: projects/1/locations/global/workloadIdentityPools/p/providers/gh
          service_account: dvc@my-project.iam.gserviceaccount.com
      - run: |
          jq -r .type "$GOOGLE_APPLICATION_CREDENTIALS" > "$ACT_KIT_OUT/gcp.txt"
          case "$GOOGLE_APPLICATION_CREDENTIALS" in
            "$GITHUB_WORKSPACE"/gha-creds-*.json) echo in-workspace >> "$ACT_KIT_OUT/gcp.txt";;
          esac
  azure:
    runs-on: ubuntu-latest
    permissions: {id-token: write}
    steps:
      - uses: azure/login@f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca
        with: {client-id: c1, tenant-id: t1, subscription-id: s1}
"""


def test_cloud_sign_in_needs_the_jobs_oidc_token_which_forks_never_get(tmp_path: Path) -> None:
    repo = make_repo(tmp_path, {"cloud.yml": CLOUD})
    roles = {"arn:aws:iam::123456789012:role/dvc": {"access_key_id": "LOCALKEY", "secret_access_key": "local-secret"}}
    env = {AWS_ROLES_ENV: json.dumps(roles)}

    def pr(owner: str) -> dict:
        head = {"ref": "feature", "repo": {"full_name": f"{owner}/project"}}
        return {"number": 5, "pull_request": {"head": head, "base": {"ref": "main"}}}

    same = run_workflow(repo, ".github/workflows/cloud.yml", "pull_request", pr("owner"), tmp_path / "same", env=env)
    assert (
        same.failed_steps[-1] == "Main aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c"
    )
    assert "Could not load credentials from any providers" in same.output  # the job without id-token: write
    assert (same.out_dir / "aws.txt").read_text().strip() == "LOCALKEY/eu-west-1/123456789012"
    assert (same.out_dir / "gcp.txt").read_text().split() == ["external_account", "in-workspace"]
    assert [(r["oidc"], r["client_id"]) for r in same.records["azure-login"]] == [(True, "c1")]
    [signed_in] = [r for r in same.records["configure-aws-credentials"] if "failed" not in r]
    assert (signed_in["job"], signed_in["oidc"]) == ("aws", True)

    fork = run_workflow(repo, ".github/workflows/cloud.yml", "pull_request", pr("someone"), tmp_path / "fork", env=env)
    assert not (fork.out_dir / "aws.txt").exists() and not (fork.out_dir / "gcp.txt").exists()
    assert all(
        "failed" in r
        for name in ("configure-aws-credentials", "google-auth", "azure-login")
        for r in fork.records[name]
    ), fork.records
    assert "did not inject $ACTIONS_ID_TOKEN_REQUEST_TOKEN" in fork.output
    assert "Failed to fetch federated token from GitHub" in fork.output
