"""Stand-ins for docker/*, iterative/setup-dvc, attest-build-provenance, attest and create-pull-request.

Each is `python3 "$ACT_KIT_HOME/lib/standins.py" <name>` run from a composite action.yml with
KIT_INPUTS=${{ toJSON(inputs) }}. They record what they were given under $ACT_KIT_OUT and set
outputs shaped like the real actions' for the simple cases.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kitstate import (
    ACTIONS_PR_FORBIDDEN,
    append_record,
    event,
    github_state,
    inputs,
    lines,
    pr_creation_refused,
    pr_origin,
    repo,
    set_output,
)

Inputs = dict[str, Any]


def truthy(value: Any) -> bool:
    return str(value).strip().lower() == "true"


def setup_dvc(args: Inputs) -> int:
    found = shutil.which("dvc")
    version = args.get("version") or "latest"
    if found:
        print(f"act-kit setup-dvc: dvc already on PATH at {found}; not installing")
    else:
        spec = "dvc" if version == "latest" else f"dvc=={version}"
        print(f"act-kit setup-dvc: pip installing {spec} into {shutil.which('python')}")
        subprocess.run(["python", "-m", "pip", "install", "-q", spec], check=True)
    append_record("setup-dvc", {"version": version, "preinstalled": bool(found), "dvc": shutil.which("dvc")})
    return 0


def setup_buildx(args: Inputs) -> int:
    append_record("setup-buildx", {"inputs": args})
    for key, value in {
        "name": "act-kit-builder",
        "driver": "docker-container",
        "platforms": "linux/amd64",
        "endpoint": "act-kit",
        "status": "running",
    }.items():
        set_output(key, value)
    print("act-kit setup-buildx: recorded (no buildx; build-push uses podman when ACT_KIT_PODMAN=1)")
    return 0


def setup_qemu(args: Inputs) -> int:
    append_record("setup-qemu", {"inputs": args})
    set_output("platforms", "linux/amd64")
    print("act-kit setup-qemu: recorded (no emulation)")
    return 0


def docker_login(args: Inputs) -> int:
    registry = args.get("registry") or "docker.io"
    if not args.get("username") or not args.get("password"):
        print("::error::Username and password required")
        return 1
    append_record(
        "docker-login",
        {
            "registry": registry,
            "username": args["username"],
            "password_given": True,
            "logout": args.get("logout", "true"),
        },
    )
    print(f"Login Succeeded (act-kit stand-in; recorded {args['username']}@{registry})")
    return 0


def _sanitize(tag: str) -> str:
    tag = re.sub(r"[^a-zA-Z0-9._-]+", "-", tag)
    return tag.lstrip(".-")[:128]


def _attrs(spec: str) -> dict[str, str]:
    attrs = {}
    for part in spec.split(","):
        key, _, value = part.partition("=")
        attrs[key.strip()] = value.strip()
    return attrs


def compute_tags(
    tag_specs: list[str], ev_name: str, ref: str, sha: str, payload: dict[str, Any], flavor: dict[str, str]
) -> list[tuple[int, str]]:
    """(priority, tag) pairs for the tag types the template uses; others fail loudly."""
    result: list[tuple[int, str]] = []
    for spec in tag_specs:
        a = _attrs(spec)
        kind = a.get("type", "raw")
        if a.get("enable", "true") == "false":
            continue
        prefix, suffix = a.get("prefix", ""), a.get("suffix", "")
        if kind == "sha":
            prefix = a.get("prefix", "sha-")
            value, prio = sha if a.get("format") == "long" else sha[:7], 100
        elif kind == "raw":
            value, prio = a.get("value", ""), 200
        elif kind == "ref":
            prio = 600
            if a.get("event") == "branch" and ref.startswith("refs/heads/"):
                value = _sanitize(ref[len("refs/heads/") :])
            elif a.get("event") == "tag" and ref.startswith("refs/tags/"):
                value = _sanitize(ref[len("refs/tags/") :])
            elif a.get("event") == "pr" and ev_name.startswith("pull_request"):
                prefix = a.get("prefix", "pr-")
                value = str(payload.get("number") or payload.get("pull_request", {}).get("number"))
            else:
                continue
        elif kind == "semver":
            match = re.fullmatch(r"refs/tags/v?(\d+)\.(\d+)\.(\d+)(.*)", ref)
            if not match:
                continue
            major, minor, patch, rest = match.groups()
            pattern = a.get("pattern", "{{version}}")
            value = (
                pattern.replace("{{version}}", f"{major}.{minor}.{patch}{rest}")
                .replace("{{major}}", major)
                .replace("{{minor}}", minor)
                .replace("{{patch}}", patch)
            )
            prio = 900
        elif kind == "schedule":
            if ev_name != "schedule":
                continue
            value, prio = a.get("pattern", "nightly"), 1000
        else:
            print(f"::error::act-kit metadata-action: tag type {kind!r} not implemented ({spec})")
            sys.exit(1)
        result.append((int(a.get("priority", prio)), f"{prefix}{value}{suffix}"))
    latest = flavor.get("latest", "auto")
    if latest == "true" or (latest == "auto" and ref.startswith("refs/tags/") and result):
        result.append((1000 if latest == "true" else 900, "latest"))
    return result


def docker_metadata(args: Inputs) -> int:
    ev_name = os.environ.get("GITHUB_EVENT_NAME", "push")
    ref, sha = os.environ.get("GITHUB_REF", ""), os.environ.get("GITHUB_SHA", "0" * 40)
    payload = event()
    images = [i.split(",")[0].split("=")[-1] if "name=" in i else i for i in lines(args.get("images"))]
    specs = lines(args.get("tags")) or [
        "type=schedule",
        "type=ref,event=branch",
        "type=ref,event=tag",
        "type=ref,event=pr",
    ]
    flavor = {k: v for f in lines(args.get("flavor")) for k, v in [f.split("=", 1)]}
    pairs = compute_tags(specs, ev_name, ref, sha, payload, flavor)
    seen: list[str] = []
    for _, tag in sorted(pairs, key=lambda p: -p[0]):
        if tag not in seen:
            seen.append(tag)
    version = seen[0] if seen else ""
    full = [f"{img}:{t}" for img in images for t in seen] if images else seen
    repo_info = payload.get("repository", {})
    url = repo_info.get("html_url") or f"https://github.com/{repo()}"
    labels = {
        "org.opencontainers.image.title": repo_info.get("name") or repo().split("/")[-1],
        "org.opencontainers.image.description": repo_info.get("description") or "",
        "org.opencontainers.image.url": url,
        "org.opencontainers.image.source": url,
        "org.opencontainers.image.version": version,
        "org.opencontainers.image.created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "org.opencontainers.image.revision": sha,
        "org.opencontainers.image.licenses": (repo_info.get("license") or {}).get("spdx_id") or "",
    }
    for line in lines(args.get("labels")):
        key, _, value = line.partition("=")
        labels[key] = value
    sep_tags = args.get("sep-tags") or "\n"
    sep_labels = args.get("sep-labels") or "\n"
    label_lines = [f"{k}={v}" for k, v in labels.items()]
    doc = {"tags": full, "labels": labels, "annotations": [f"manifest:{line}" for line in label_lines]}
    set_output("version", version)
    set_output("tags", sep_tags.join(full))
    set_output("tag-names", "\n".join(seen))
    set_output("labels", sep_labels.join(label_lines))
    set_output("annotations", "\n".join(doc["annotations"]))
    set_output("json", json.dumps(doc))
    append_record("docker-metadata", {"inputs": args, "tags": full, "labels": labels, "version": version})
    print("act-kit metadata-action tags:\n  " + "\n  ".join(full))
    return 0


def build_push(args: Inputs) -> int:
    context = args.get("context") or "."
    file = args.get("file") or str(Path(context) / "Dockerfile")
    tags = lines(args.get("tags"))
    labels = dict(x.split("=", 1) for x in lines(args.get("labels")) if "=" in x)
    build_args = dict(x.split("=", 1) for x in lines(args.get("build-args")) if "=" in x)
    rec: dict[str, Any] = {
        "inputs": args,
        "context": context,
        "file": file,
        "tags": tags,
        "labels": labels,
        "build_args": build_args,
        "push": truthy(args.get("push")),
        "load": truthy(args.get("load")),
        "provenance": args.get("provenance"),
        "sbom": args.get("sbom"),
        "platforms": args.get("platforms"),
        "built": False,
    }
    if os.environ.get("ACT_KIT_PODMAN") == "1":
        sys.path.insert(0, str(Path(os.environ["ACT_KIT_HOME"])))
        from podman import build_image  # type: ignore[import-not-found]

        # Exactly the workflow's build args: the Dockerfile's FROM is found in local storage (--pull=never), e.g.
        # python:3.11-slim given by podman.ensure_python_slim to the local stand-in base.
        result = build_image(
            context,
            tags[0] if tags else "localhost/act-kit-build:latest",
            build_args,
            dockerfile=file,
            extra_tags=tags[1:],
            labels=labels,
            target=args.get("target") or None,
        )
        print(result.output[-20000:])
        rec.update(
            {
                "built": result.ok,
                "image_id": result.image_id,
                "build_seconds": result.seconds,
            }
        )
        if not result.ok:
            append_record("builds", rec)
            print("::error::buildx failed with: podman build failed (act-kit)")
            return 1
        digest = "sha256:" + result.image_id
    else:
        digest = "sha256:" + hashlib.sha256(json.dumps(rec, sort_keys=True).encode()).hexdigest()
        print("act-kit build-push: recorded only (set ACT_KIT_PODMAN=1 to really build); fake digest")
    rec["digest"] = digest
    append_record("builds", rec)
    if rec["push"]:
        for tag in tags:
            append_record("docker-push", {"tag": tag, "digest": digest, "by": "build-push-action"})
    set_output("imageid", digest)
    set_output("digest", digest)
    set_output("metadata", json.dumps({"containerimage.digest": digest, "image.name": ",".join(tags)}))
    return 0


def attestation_refusal() -> str | None:
    """GitHub's refusal to store an attestation, as the real action fails with it, or None when allowed.

    Attestations are stored for public repositories, and for private/internal ones only on GitHub Enterprise
    Cloud (ACT_KIT_GITHUB_PLAN=enterprise). The event's repository says which: `visibility`, else `private`;
    the kit's default event names neither and is a public repository.
    """
    repository = event().get("repository") or {}
    visibility = repository.get("visibility") or ("private" if repository.get("private") else "public")
    if visibility == "public" or os.environ.get("ACT_KIT_GITHUB_PLAN", "free") == "enterprise":
        return None
    owner = repository.get("owner") or {}
    if owner.get("type") == "Organization":
        reason = (
            f"Feature not available for the {owner.get('login')} organization. To enable this feature, please "
            "upgrade the billing plan, or make this repository public."
        )
    else:
        reason = (
            "Feature not available for user-owned private repositories. To enable this feature, please make "
            "this repository public."
        )
    return f"Failed to persist attestation: {reason} - https://docs.github.com/rest/repos/attestations#create-an-attestation"


def subject_error(args: Inputs) -> str | None:
    digest = args.get("subject-digest") or ""
    if not args.get("subject-path") and not (args.get("subject-name") and digest):
        return "One of subject-path or subject-digest/subject-name must be provided"
    if digest and not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        return f'subject-digest must be in the format "sha256:<hex-digest>" ({digest})'
    return None


def record_attestation(args: Inputs, **extra: Any) -> None:
    append_record(
        "attestations",
        {
            "subject-name": args.get("subject-name"),
            "subject-digest": args.get("subject-digest") or "",
            "subject-path": args.get("subject-path"),
            "push-to-registry": args.get("push-to-registry"),
            **extra,
        },
    )
    set_output("bundle-path", str(Path(os.environ.get("RUNNER_TEMP", "/tmp")) / "attestation.jsonl"))
    set_output("attestation-id", "1")
    set_output("attestation-url", f"https://github.com/{repo()}/attestations/1")


def attest(args: Inputs) -> int:
    error = subject_error(args)
    if error:
        print(f"::error::{error}")
        return 1
    refusal = attestation_refusal()
    if refusal:
        print(f"::error::Error: {refusal}")
        return 1
    record_attestation(args)
    return 0


def attest_input_error(args: Inputs) -> str | None:
    """actions/attest's first check of its inputs (src/detect.ts validateAttestationInputs, v4.1.0)."""
    kind, text, path = (args.get(key) or "" for key in ("predicate-type", "predicate", "predicate-path"))
    if args.get("sbom-path") and (kind or text or path):
        return "Cannot specify sbom-path together with predicate-type, predicate, or predicate-path"
    if (text or path) and not kind:
        return "predicate-type is required when using predicate or predicate-path"
    return None


def custom_predicate(args: Inputs) -> tuple[str, Any] | None:
    """(type, parsed predicate) as actions/attest reads it (src/predicate.ts, v4.1.0); None in provenance mode.

    ValueError with the action's message when neither or both of predicate/predicate-path are given, the file
    is missing or the predicate is not JSON."""
    kind, text, path = (args.get(key) or "" for key in ("predicate-type", "predicate", "predicate-path"))
    if not kind:
        return None
    if not (text or path):
        raise ValueError("One of predicate-path or predicate must be provided")
    if text and path:
        raise ValueError("Only one of predicate-path or predicate may be provided")
    if path:
        file = Path(os.environ.get("GITHUB_WORKSPACE", ".")) / path
        if not file.is_file():
            raise ValueError(f"predicate file not found: {path}")
        text = file.read_text(encoding="utf-8")
    try:
        return kind, json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"the predicate is not JSON: {error}") from None


def attest_generic(args: Inputs) -> int:
    """actions/attest: a provenance statement without predicate inputs, else the given predicate; checked in
    the action's order (inputs, subject, predicate, then GitHub storing it)."""
    error = attest_input_error(args) or subject_error(args)
    if error:
        print(f"::error::Error: {error}")
        return 1
    try:
        predicate = custom_predicate(args)
    except ValueError as failure:
        print(f"::error::Error: {failure}")
        return 1
    refusal = attestation_refusal()
    if refusal:
        print(f"::error::Error: {refusal}")
        return 1
    kind, body = predicate or ("https://slsa.dev/provenance/v1", None)
    record_attestation(args, **{"predicate-type": kind, "predicate": body})
    if truthy(args.get("push-to-registry")) and truthy(args.get("create-storage-record", "true")):
        set_output("storage-record-ids", "1")
    return 0


def same_repo(pr: dict[str, Any]) -> bool:
    return pr.get("head_repo", repo()) == repo()


def create_pull_request(args: Inputs) -> int:
    cwd = Path(os.environ.get("GITHUB_WORKSPACE", ".")) / (args.get("path") or "")
    add_paths = lines(args.get("add-paths")) or ["."]
    status = subprocess.run(
        ["git", "status", "--porcelain=v1", "-uall", "--", *add_paths],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    files = sorted(line[3:] for line in status.splitlines())
    branch = args.get("branch") or "create-pull-request/patch"
    base = args.get("base") or os.environ.get("GITHUB_REF_NAME") or "main"
    body = Path(args["body-path"]).read_text() if args.get("body-path") else (args.get("body") or "")
    title = args.get("title") or "Changes by create-pull-request action"
    rec: dict[str, Any] = {
        "branch": branch,
        "base": base,
        "title": title,
        "body": body,
        "commit-message": args.get("commit-message") or "[create-pull-request] automated change",
        "labels": lines(args.get("labels")),
        "files": files,
        "draft": args.get("draft"),
    }
    token = args.get("token") or ""
    with github_state() as state:
        existing = next(
            (p for p in state["prs"] if p.get("head") == branch and p["state"] == "open" and same_repo(p)),
            None,
        )
        refused = pr_creation_refused(state, token) if files else None
        if existing and refused == ACTIONS_PR_FORBIDDEN:
            refused = None  # updating the open PR is allowed; opening one is what the setting governs
        if refused:  # the real action pushes the branch, then the PR creation is refused
            append_record("create-pull-request", {**rec, "operation": "refused", "error": refused})
            print(f"::error::{refused}")
            return 1
        if not files:
            operation, number = "none", existing["number"] if existing else None
            if existing is None:
                print(f"Branch '{branch}' is not ahead of base '{base}' and will not be created")
        elif existing:
            operation, number = "updated", existing["number"]
            existing.update({"title": title, "body": body, "files": files})
            existing["edits"] += 1
        else:
            operation, number = "created", state["next_number"]
            state["next_number"] += 1
            state["prs"].append(
                {
                    "number": number,
                    "title": title,
                    "body": body,
                    "labels": rec["labels"],
                    "state": "open",
                    "comments": [],
                    "created_at": "",
                    "updated_at": "",
                    "edits": 0,
                    "head": branch,
                    "base": base,
                    "files": files,
                    "source": "create-pull-request",
                    **pr_origin(token),
                }
            )
            if branch not in state.setdefault("branches", ["main"]):
                state["branches"].append(branch)
    rec.update({"operation": operation, "number": number})
    append_record("create-pull-request", rec)
    if number is not None:
        set_output("pull-request-number", str(number))
        set_output("pull-request-url", f"https://github.com/{repo()}/pull/{number}")
    set_output("pull-request-operation", operation)
    set_output("pull-request-branch", branch)
    print(f"act-kit create-pull-request: {operation} #{number} with {len(files)} changed file(s)")
    return 0


KUBECTL_VERSION = re.compile(r"^v?(?P<major>\d+)\.(?P<minor>\d+)(?:\.(?P<patch>\d+))?$")


def setup_kubectl(args: Inputs) -> int:
    """azure/setup-kubectl v5.1.0: validates `version` like the action (src/run.ts); the kit's bin/kubectl is
    the kubectl it "installs" (kubectl-path, on GITHUB_PATH). Versions it would resolve online stay as given."""
    version = str(args.get("version") or "latest").strip()
    match = KUBECTL_VERSION.match(version)
    if version.lower() != "latest" and not match:
        print(
            f'::error::Invalid version format: "{version}". Version must be in "major.minor" or '
            '"major.minor.patch" format (e.g., "1.27" or "v1.27.15").'
        )
        return 1
    resolved = version if version.startswith("v") or not match else f"v{version}"
    pinned = bool(match and match["patch"])
    if not pinned:
        print(f"::warning::act-kit setup-kubectl: {version!r} is resolved online by the real action (not pinned)")
    kubectl = Path(os.environ["ACT_KIT_HOME"]) / "bin" / "kubectl"
    with open(os.environ["GITHUB_PATH"], "a") as fh:
        fh.write(f"{kubectl.parent}\n")
    set_output("kubectl-path", str(kubectl))
    append_record("setup-kubectl", {"version": version, "resolved": resolved, "pinned": pinned})
    return 0


def create_github_app_token(args: Inputs) -> int:
    """A fake installation token (not the run's GITHUB_TOKEN); fails without client-id/app-id or key like v3."""
    client_id = args.get("client-id") or args.get("app-id")
    if not client_id:
        print(
            "::error::The 'client-id' (or deprecated 'app-id') input must be set to a non-empty string. "
            "If using a secret or variable, ensure it is available in this workflow context."
        )
        return 1
    if not args.get("private-key"):
        print("::error::[@octokit/auth-app] privateKey option is required")
        return 1
    owner = args.get("owner") or repo().split("/")[0]
    token = "ghs_appkit" + hashlib.sha256(f"{client_id}:{owner}".encode()).hexdigest()[:30]
    print(f"::add-mask::{token}")
    permissions = {k.removeprefix("permission-"): v for k, v in args.items() if k.startswith("permission-") and v}
    append_record("app-tokens", {"client-id": client_id, "owner": owner, "permissions": permissions})
    set_output("token", token)
    set_output("installation-id", "1")
    set_output("app-slug", "act-kit-app")
    print(f"act-kit create-github-app-token: minted an installation token for {owner} ({client_id})")
    return 0


HANDLERS = {
    "setup-dvc": setup_dvc,
    "setup-buildx": setup_buildx,
    "setup-qemu": setup_qemu,
    "docker-login": docker_login,
    "docker-metadata": docker_metadata,
    "build-push": build_push,
    "attest-build-provenance": attest,
    "attest": attest_generic,
    "create-pull-request": create_pull_request,
    "create-github-app-token": create_github_app_token,
    "setup-kubectl": setup_kubectl,
}

if __name__ == "__main__":
    sys.exit(HANDLERS[sys.argv[1]](inputs()))
