"""`gh api` of the act-kit gh stand-in: a strict fake of the GitHub REST endpoints the template uses.

Only the routes below exist; any other path (or another repository than the fake one) answers 404 like
GitHub, and gh's own behaviour on errors is kept: the JSON body on stdout, `gh: <message> (HTTP <status>)`
on stderr, exit 1 (cli/cli pkg/cmd/api/api.go). Every call is recorded in $ACT_KIT_OUT/gh-api.json as
{method, path, body, status}; the repository settings live in the fake repository state (github.json).

Routes (R = the fake repository, GH_REPO or GITHUB_REPOSITORY):
  GET repos/R                                   repository (default_branch, visibility, private)
  GET|POST repos/R/labels, GET|PATCH repos/R/labels/NAME
  GET repos/R/environments, GET|PUT repos/R/environments/ENV
  GET|POST repos/R/environments/ENV/deployment-branch-policies
  GET|PUT repos/R/actions/permissions/workflow
  GET|PUT repos/R/branches/B/protection, PATCH repos/R/branches/B/protection/required_status_checks
  GET repos/R/actions/secrets, GET repos/R/actions/variables   (names only; values are never kept)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from kitstate import append_record, github_state

UPGRADE = "Upgrade to GitHub Pro or make this repository public to enable this feature."
DOCS = "https://docs.github.com/rest"


class HTTPError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"message": message, "documentation_url": DOCS, "status": str(status), **extra}


def not_found(message: str = "Not Found") -> HTTPError:
    return HTTPError(404, message)


def invalid(message: str) -> HTTPError:
    return HTTPError(422, f"Invalid request.\n\n{message}")


def api_defaults(state: dict[str, Any]) -> dict[str, Any]:
    """The repository-settings part of the fake state (added to states written before it existed)."""
    state.setdefault(
        "repository", {"default_branch": "main", "visibility": "public", "plan": "free", "branches": ["main"]}
    )
    state.setdefault("label_info", {})
    state.setdefault("environments", {})
    state.setdefault("branch_protection", {})
    state.setdefault(
        "workflow_permissions", {"default_workflow_permissions": "read", "can_approve_pull_request_reviews": False}
    )
    state.setdefault("secrets", [])
    state.setdefault("variables", [])
    return state


# ---------------------------------------------------------------- request parsing (gh's -f/-F/--input rules)


def typed(value: str) -> Any:
    """-F conversion: true/false/null and integers become JSON; @file reads the file (- = stdin)."""
    if value in ("true", "false"):
        return value == "true"
    if value == "null":
        return None
    if re.fullmatch(r"-?\d+", value):
        return int(value)
    if value.startswith("@"):
        return sys.stdin.read() if value == "@-" else Path(value[1:]).read_text()
    return value


def put_field(body: dict[str, Any], key: str, value: Any, has_value: bool) -> None:
    """`a[b][c]=v` nests, `a[]=v` appends to an array, `a[]` alone is an empty array."""
    match = re.fullmatch(r"([^\[\]]+)((?:\[[^\[\]]*\])*)", key)
    if not match:
        sys.exit(f"gh stand-in: invalid key: {key!r}")
    parts = [match.group(1), *re.findall(r"\[([^\[\]]*)\]", match.group(2))]
    node: Any = body
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt = None if last else parts[i + 1]
        if part == "":
            if not last:
                sys.exit(f"gh stand-in: unsupported key (arrays of objects): {key!r}")
            if has_value:
                node.append(value)
            return
        if last:
            node[part] = value
        else:
            node = node.setdefault(part, [] if nxt == "" else {})


def parse(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="gh api")
    p.add_argument("endpoint")
    p.add_argument("-X", "--method")
    p.add_argument("-f", "--raw-field", action="append", default=[])
    p.add_argument("-F", "--field", action="append", default=[])
    p.add_argument("-H", "--header", action="append", default=[])
    p.add_argument("--input")
    p.add_argument("-q", "--jq")
    p.add_argument("--paginate", action="store_true")
    p.add_argument("--silent", action="store_true")
    return p.parse_args(argv)


def request(args: argparse.Namespace, repo: str) -> tuple[str, str, Any]:
    owner, name = repo.split("/", 1)
    path = args.endpoint.lstrip("/").replace("{owner}", owner).replace("{repo}", name)
    fields: dict[str, Any] = {}
    for raw, items in ((True, args.raw_field), (False, args.field)):
        for item in items:
            key, sep, value = item.partition("=")
            put_field(fields, key, value if raw else typed(value), bool(sep))
    body: Any = fields or None
    if args.input:
        text = sys.stdin.read() if args.input == "-" else Path(args.input).read_text()
        body = json.loads(text) if text.strip() else None
        if fields:
            sys.exit("gh stand-in: fields with --input go to the query string; not supported")
    method = (args.method or ("POST" if fields or args.input else "GET")).upper()
    if args.paginate and method != "GET":
        sys.exit("the `--paginate` option is not supported for non-GET requests")
    return method, path.split("?", 1)[0], body


# ---------------------------------------------------------------- routes


def repository(state: dict[str, Any], repo: str) -> dict[str, Any]:
    info = state["repository"]
    return {
        "full_name": repo,
        "name": repo.split("/", 1)[1],
        "owner": {"login": repo.split("/", 1)[0]},
        "default_branch": info["default_branch"],
        "visibility": info["visibility"],
        "private": info["visibility"] != "public",
    }


def label_json(state: dict[str, Any], name: str) -> dict[str, Any]:
    info = state["label_info"].get(name, {})
    return {"name": name, "color": info.get("color", "ededed"), "description": info.get("description", "")}


def labels(state: dict[str, Any], method: str, body: Any, name: str | None) -> tuple[int, Any]:
    if name is None:
        if method == "GET":
            return 200, [label_json(state, n) for n in state["labels"]]
        if method == "POST":
            body = body or {}
            if not body.get("name"):
                raise invalid('"name" wasn\'t supplied.')
            if body["name"] in state["labels"]:
                raise HTTPError(422, "Validation Failed", errors=[{"resource": "Label", "code": "already_exists"}])
            state["labels"].append(body["name"])
            state["label_info"][body["name"]] = {k: body[k] for k in ("color", "description") if k in body}
            return 201, label_json(state, body["name"])
        raise not_found()
    if name not in state["labels"]:
        raise not_found()
    if method == "GET":
        return 200, label_json(state, name)
    if method == "PATCH":
        info = state["label_info"].setdefault(name, {})
        info.update({k: v for k, v in (body or {}).items() if k in ("color", "description")})
        return 200, label_json(state, name)
    raise not_found()


def environment_json(name: str, env: dict[str, Any]) -> dict[str, Any]:
    rules = []
    if env.get("wait_timer"):
        rules.append({"type": "wait_timer", "wait_timer": env["wait_timer"]})
    if env.get("reviewers"):
        rules.append(
            {
                "type": "required_reviewers",
                "prevent_self_review": env.get("prevent_self_review", False),
                "reviewers": [{"type": r["type"], "reviewer": {"id": r["id"]}} for r in env["reviewers"]],
            }
        )
    if env.get("deployment_branch_policy"):
        rules.append({"type": "branch_policy"})
    return {"name": name, "protection_rules": rules, "deployment_branch_policy": env.get("deployment_branch_policy")}


def environments(state: dict[str, Any], method: str, body: Any, name: str | None, rest: str) -> tuple[int, Any]:
    envs = state["environments"]
    if name is None:
        if method == "GET":
            items = [environment_json(n, e) for n, e in envs.items()]
            return 200, {"total_count": len(items), "environments": items}
        raise not_found()
    name = unquote(name)
    if rest == "":
        if method == "GET":
            if name not in envs:
                raise not_found()
            return 200, environment_json(name, envs[name])
        if method == "PUT":
            body = body or {}
            unknown = set(body) - {"wait_timer", "prevent_self_review", "reviewers", "deployment_branch_policy"}
            if unknown:
                raise invalid(f"unknown keys: {sorted(unknown)}")
            policy = body.get("deployment_branch_policy")
            if policy is not None and (
                set(policy) != {"protected_branches", "custom_branch_policies"}
                or policy["protected_branches"] == policy["custom_branch_policies"]
            ):
                raise invalid("deployment_branch_policy: exactly one of protected_branches, custom_branch_policies")
            env = envs.setdefault(name, {"branch_policies": [], "next_policy_id": 1})
            env.update(body)
            return 200, environment_json(name, env)
        raise not_found()
    if rest == "/deployment-branch-policies":
        env = envs.get(name)
        if env is None:
            raise not_found()
        custom = (env.get("deployment_branch_policy") or {}).get("custom_branch_policies")
        if method == "GET":
            items = env["branch_policies"]
            return 200, {"total_count": len(items), "branch_policies": items}
        if method == "POST":
            if not custom:
                raise not_found()
            body = body or {}
            kind = body.get("type", "branch")
            if not body.get("name") or kind not in ("branch", "tag"):
                raise invalid("name (string) and type (branch|tag)")
            for policy in env["branch_policies"]:
                if policy["name"] == body["name"] and policy["type"] == kind:
                    return 303, policy  # GitHub: 303 to the existing policy, which gh follows
            policy = {"id": env["next_policy_id"], "name": body["name"], "type": kind}
            env["next_policy_id"] += 1
            env["branch_policies"].append(policy)
            return 200, policy
    raise not_found()


def workflow_permissions(state: dict[str, Any], method: str, body: Any) -> tuple[int, Any]:
    if method == "GET":
        return 200, state["workflow_permissions"]
    if method == "PUT":
        body = body or {}
        if body.get("default_workflow_permissions", "read") not in ("read", "write") or not isinstance(
            body.get("can_approve_pull_request_reviews", False), bool
        ):
            raise invalid("default_workflow_permissions: read|write; can_approve_pull_request_reviews: boolean")
        state["workflow_permissions"].update(body)
        return 204, None
    raise not_found()


def protection_json(rules: dict[str, Any]) -> dict[str, Any]:
    checks = rules["required_status_checks"]
    out = dict(rules)
    if checks is not None:
        out["required_status_checks"] = {
            "strict": checks["strict"],
            "contexts": [c["context"] for c in checks["checks"]],
            "checks": checks["checks"],
        }
    out["enforce_admins"] = {"enabled": bool(rules["enforce_admins"])}
    return out


def status_checks(body: dict[str, Any], require_both: bool) -> dict[str, Any]:
    has_checks, has_contexts = "checks" in body, "contexts" in body
    if require_both and ("strict" not in body or has_checks == has_contexts):
        raise invalid("required_status_checks: strict and exactly one of contexts, checks")
    if has_checks:
        checks = [{"context": c["context"], "app_id": c.get("app_id", -1)} for c in body["checks"]]
    else:
        checks = [{"context": c, "app_id": -1} for c in body.get("contexts", [])]
    return {"strict": bool(body.get("strict")), "checks": checks}


def protection(state: dict[str, Any], method: str, body: Any, branch: str, rest: str) -> tuple[int, Any]:
    info = state["repository"]
    if info["visibility"] != "public" and info.get("plan", "free") == "free":
        raise HTTPError(403, UPGRADE)
    if branch not in info["branches"]:
        raise not_found("Branch not found")
    current = state["branch_protection"].get(branch)
    if rest == "":
        if method == "GET":
            if current is None:
                raise not_found("Branch not protected")
            return 200, protection_json(current)
        if method == "PUT":
            body = body or {}
            missing = [
                k
                for k in ("required_status_checks", "enforce_admins", "required_pull_request_reviews", "restrictions")
                if k not in body
            ]
            if missing:
                raise invalid(f"missing required keys: {missing}")
            rules = dict(body)
            if body["required_status_checks"] is not None:
                rules["required_status_checks"] = status_checks(body["required_status_checks"], True)
            state["branch_protection"][branch] = rules
            return 200, protection_json(rules)
    elif rest == "/required_status_checks" and method == "PATCH":
        if current is None:
            raise not_found("Branch not protected")
        merged = status_checks(body or {}, False)
        if "strict" not in (body or {}) and current.get("required_status_checks"):
            merged["strict"] = current["required_status_checks"]["strict"]
        current["required_status_checks"] = merged
        return 200, protection_json(current)["required_status_checks"]
    raise not_found()


def names(state: dict[str, Any], key: str) -> tuple[int, Any]:
    items = [
        {"name": n, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"} for n in state[key]
    ]
    return 200, {"total_count": len(items), key: items}


def get_only(method: str, read: Callable[[], tuple[int, Any]]) -> tuple[int, Any]:
    if method != "GET":
        raise not_found()
    return read()


def route(state: dict[str, Any], repo: str, method: str, path: str, body: Any) -> tuple[int, Any]:
    prefix = f"repos/{repo}"
    if path.lower() != prefix.lower() and not path.lower().startswith(prefix.lower() + "/"):
        raise not_found()
    sub = path[len(prefix) :]
    table: list[tuple[str, Callable[..., tuple[int, Any]]]] = [
        (r"", lambda m: get_only(method, lambda: (200, repository(state, repo)))),
        (r"/labels(?:/(?P<name>[^/]+))?", lambda m: labels(state, method, body, m["name"] and unquote(m["name"]))),
        (
            r"/environments(?:/(?P<name>[^/]+)(?P<rest>/deployment-branch-policies)?)?",
            lambda m: environments(state, method, body, m["name"], m["rest"] or ""),
        ),
        (r"/actions/permissions/workflow", lambda m: workflow_permissions(state, method, body)),
        (
            r"/branches/(?P<branch>[^/]+)/protection(?P<rest>/required_status_checks)?",
            lambda m: protection(state, method, body, unquote(m["branch"]), m["rest"] or ""),
        ),
        (r"/actions/secrets", lambda m: get_only(method, lambda: names(state, "secrets"))),
        (r"/actions/variables", lambda m: get_only(method, lambda: names(state, "variables"))),
    ]
    for pattern, handler in table:
        match = re.fullmatch(pattern, sub)
        if match:
            return handler(match)
    raise not_found()


def output(data: Any, jq: str | None) -> None:
    text = json.dumps(data)
    if not jq:
        print(text)
        return
    if not shutil.which("jq"):
        sys.exit("gh stand-in: --jq needs the jq binary on PATH")
    out = subprocess.run(["jq", "-r", jq], input=text, capture_output=True, text=True)
    sys.stdout.write(out.stdout)
    sys.stderr.write(out.stderr)
    if out.returncode:
        sys.exit(out.returncode)


def main(argv: list[str], default_repo: str) -> None:
    args = parse(argv)
    repo = os.environ.get("GH_REPO") or default_repo
    method, path, body = request(args, repo)
    with github_state() as state:
        api_defaults(state)
        try:
            status, data = route(state, repo, method, path, body)
        except HTTPError as error:
            status, data = error.status, error.body
        append_record("gh-api", {"method": method, "path": path, "body": body, "status": status})
    if status >= 400:
        print(json.dumps(data))
        print(f"gh: {data['message']} (HTTP {status})", file=sys.stderr)
        sys.exit(1)
    if data is not None and not args.silent:
        output(data, args.jq)
