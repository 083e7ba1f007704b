"""Wire the GitHub repository to this project once: `make github-setup` (`DRY_RUN=1`: print the calls).

With the GitHub CLI (`gh api`) it creates the labels the workflows use, the `staging` and `production`
environments restricted to the default branch, read-only default token permissions for Actions, protection of
the default branch with the experiment and ci checks required, and lists the secrets still missing for this
project's answers. It looks before it writes, so a second run changes nothing; it never reads or prints a
secret value. What it needs comes from the project itself: the answers file (.cookiecutter.json: dvc_remote,
mlflow_tracking, github_owner, project_slug) and the workflow files. Why each setting: docs/github.md.
It runs in the project's virtualenv (`make setup` first).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from ..errors import UserError

ANSWERS_FILE = ".cookiecutter.json"
# deploy.yml's rollout jobs run in these; each holds its cluster's KUBECONFIG, so only the default branch may.
ENVIRONMENTS = ("staging", "production")
# The workflows whose jobs must pass before a merge; their check names are read from the files.
REQUIRED_WORKFLOWS = (".github/workflows/experiment.yml", ".github/workflows/ci.yml")
# Only GitHub Actions may report the required checks (a commit status of the same name from anyone with
# write access does not count).
GITHUB_ACTIONS_APP_ID = 15368
# A pull request is required, approvals are not: on a one-person repository the owner cannot approve their
# own pull requests (nor the retraining PR opened with their token). A team raises it to 1 (docs/github.md).
REQUIRED_APPROVALS = 0
LABELS = {
    "model-drift": ("d93f0b", "monitor.yml: drift or decay of the model in production"),
    "retraining": ("0e8a16", "retrain.yml: a pull request with a retrained model"),
    "template-update": ("1d76db", "template-update.yml: the template's changes for this project"),
}
REMOTE_SECRETS: dict[str, tuple[str, ...]] = {
    "none": (),
    "local": (),
    "s3": ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    "gs": ("GCP_SA_KEY",),
    "azure": ("AZURE_STORAGE_CONNECTION_STRING",),
}
TRACKING_SECRETS: dict[str, tuple[str, ...]] = {
    "local": (),
    "server": ("MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_TOKEN"),
}
# retrain.yml opens its pull request with a token of its own: a secret, or a GitHub App (variable + secret).
RETRAIN_TOKEN = "RETRAIN_TOKEN"
RETRAIN_APP_ID_VARIABLE = "RETRAIN_APP_CLIENT_ID"
RETRAIN_APP_KEY_SECRET = "RETRAIN_APP_PRIVATE_KEY"
# deploy.yml's staging and production jobs read a KUBECONFIG secret of their environment and run only with
# the repository variable K8S_DEPLOY=true (docs/deploy-kubernetes.md): an environment secret, not listed here.
KUBERNETES_ENVIRONMENT_SECRET = "KUBECONFIG"
WORKFLOW_PERMISSIONS = {"default_workflow_permissions": "read", "can_approve_pull_request_reviews": False}
UPGRADE_MESSAGE = "Upgrade to GitHub Pro"


class GhError(Exception):
    """A failed `gh` call: the HTTP status when there was one, and gh's message."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class Call:
    method: str
    endpoint: str
    body: dict[str, Any] | None = None

    def __str__(self) -> str:
        body = "" if self.body is None else " " + json.dumps(self.body, sort_keys=True)
        return f"{self.method} {self.endpoint}{body}"


# ---------------------------------------------------------------- what the project needs (pure)


def load_answers(project: Path) -> dict[str, Any]:
    path = project / ANSWERS_FILE
    if not path.is_file():
        raise UserError(f"no {ANSWERS_FILE} in {project.resolve()}: run it in the project's folder")
    return json.loads(path.read_text(encoding="utf-8"))


def secrets_needed(answers: dict[str, Any]) -> list[str]:
    """Repository secrets the workflows read for these answers (the retraining token comes on top)."""
    needed: list[str] = []
    for key, table in (("dvc_remote", REMOTE_SECRETS), ("mlflow_tracking", TRACKING_SECRETS)):
        value = answers.get(key)
        if value not in table:
            raise UserError(f"{ANSWERS_FILE}: {key} is {value!r}; expected one of {', '.join(table)}")
        needed += table[value]
    return needed


def job_names(text: str, source: str = "workflow") -> list[str]:
    """The check names a workflow's jobs report: each job's `name:`, else its id (as GitHub does)."""
    try:
        workflow = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark, problem = getattr(error, "problem_mark", None), getattr(error, "problem", None) or error
        where = f" (line {mark.line + 1})" if mark else ""
        raise UserError(f"{source}: not valid YAML{where}: {problem}") from None
    jobs = workflow.get("jobs") if isinstance(workflow, dict) else None
    if not isinstance(jobs, dict) or not jobs:
        raise UserError(f"{source}: no jobs found (expected a `jobs:` mapping of job ids to jobs)")
    names: list[str] = []
    for job_id, job in jobs.items():
        if not isinstance(job, dict):
            raise UserError(f"{source}: job {job_id} is not a mapping (expected `name:`, `runs-on:`, ...)")
        name = job.get("name", job_id)
        if not isinstance(name, str):
            raise UserError(f"{source}: job {job_id}: name is not a string ({name!r}); quote it")
        if "matrix" in (job.get("strategy") or {}):
            raise UserError(f"{source}: job {job_id} has a matrix; name its checks in the protection by hand")
        if "${" in name:
            raise UserError(f"{source}: job {job_id} has an expression in its name; give it a plain name")
        names.append(name)
    return names


def required_checks(project: Path) -> list[str]:
    checks: list[str] = []
    for workflow in REQUIRED_WORKFLOWS:
        path = project / workflow
        if not path.is_file():
            raise UserError(f"{workflow} not found in {project.resolve()}: it names the required checks")
        checks += job_names(path.read_text(encoding="utf-8"), workflow)
    return checks


def protection_body(checks: Sequence[str]) -> dict[str, Any]:
    return {
        "required_status_checks": {
            "strict": True,
            "checks": [{"context": name, "app_id": GITHUB_ACTIONS_APP_ID} for name in checks],
        },
        "enforce_admins": False,
        "required_pull_request_reviews": {
            "required_approving_review_count": REQUIRED_APPROVALS,
            "dismiss_stale_reviews": True,
        },
        "restrictions": None,
    }


def environment_body(current: dict[str, Any] | None) -> dict[str, Any]:
    """Deployments from selected branches only, keeping the reviewers and wait timer already set."""
    body: dict[str, Any] = {
        "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True}
    }
    for rule in (current or {}).get("protection_rules", []):
        if rule.get("type") == "wait_timer":
            body["wait_timer"] = rule["wait_timer"]
        elif rule.get("type") == "required_reviewers":
            body["prevent_self_review"] = rule.get("prevent_self_review", False)
            body["reviewers"] = [{"type": r["type"], "id": r["reviewer"]["id"]} for r in rule["reviewers"]]
    return body


def missing_secrets(needed: Sequence[str], secrets: set[str], variables: set[str]) -> list[str]:
    """The commands that set what is still missing (gh prompts for each value)."""
    lines = [f"gh secret set {name}" for name in needed if name not in secrets]
    app_id = RETRAIN_APP_ID_VARIABLE in variables
    if app_id and RETRAIN_APP_KEY_SECRET not in secrets and RETRAIN_TOKEN not in secrets:
        lines.append(f"gh secret set {RETRAIN_APP_KEY_SECRET} < app-private-key.pem")
    elif not app_id and RETRAIN_TOKEN not in secrets:
        lines.append(
            f"gh secret set {RETRAIN_TOKEN}   (or a GitHub App: gh variable set {RETRAIN_APP_ID_VARIABLE}"
            f" --body <client id> and gh secret set {RETRAIN_APP_KEY_SECRET} < app-private-key.pem)"
        )
    return lines


def hint(error: GhError) -> str:
    """What to do about a failed call, in a few words."""
    if error.status == 403 and UPGRADE_MESSAGE in error.message:
        return "make the repository public or move it to a paid plan, then run make github-setup again"
    if error.status == 401:
        return "run `gh auth login` (or `gh auth refresh`) and run it again"
    if error.status in (403, 404):
        return "this needs admin rights on the repository: run it as an owner (`gh auth status`: who you are)"
    return "see the message above, fix it and run make github-setup again"


# ---------------------------------------------------------------- talking to GitHub


class Gh:
    """`gh api` calls; `--repo` is passed to gh as GH_REPO (it fills {owner}/{repo})."""

    def __init__(self, repo: str | None = None) -> None:
        self.env = {**os.environ, **({"GH_REPO": repo} if repo else {})}

    def api(self, call: Call, jq: str | None = None, paginate: bool = False) -> Any:
        argv = ["gh", "api", "--method", call.method, call.endpoint]
        argv += ["--paginate"] if paginate else []
        argv += ["--jq", jq] if jq else []
        argv += ["--input", "-"] if call.body is not None else []
        stdin = json.dumps(call.body) if call.body is not None else None
        try:
            done = subprocess.run(
                argv, input=stdin, capture_output=True, text=True, env=self.env, check=False
            )
        except FileNotFoundError:
            raise GhError(None, "the GitHub CLI (gh) is not installed: https://cli.github.com") from None
        if done.returncode == 4:
            raise GhError(401, "gh is not logged in")
        if done.returncode:
            # gh prints `gh: <message> (HTTP <status>)` (the message may span lines) or `gh: HTTP <status>`
            status = re.search(r"\bHTTP (\d{3})\b", done.stderr)
            first = (done.stderr.strip() or f"gh exited {done.returncode}").splitlines()[0]
            message = re.sub(r"^gh: | \(HTTP \d{3}\)$", "", first)
            raise GhError(int(status.group(1)) if status else None, message)
        if jq:
            return done.stdout.splitlines()
        return json.loads(done.stdout) if done.stdout.strip() else None


class Setup:
    """Each step looks, then writes only what differs; a failed step is reported and the others still run."""

    def __init__(self, gh: Gh | None, repo: str, branch: str, checks: list[str], needed: list[str]) -> None:
        self.gh, self.repo, self.branch = gh, repo, branch
        self.checks, self.needed = checks, needed
        self.failed: list[str] = []

    @property
    def dry_run(self) -> bool:
        return self.gh is None

    def read(self, call: Call, absent: tuple[str, ...] = ("Not Found",)) -> Any:
        """The resource, or None when it does not exist (always None in a dry run: nothing is read)."""
        if self.gh is None:
            return None
        try:
            return self.gh.api(call)
        except GhError as error:
            if error.status == 404 and error.message in absent:
                return None
            raise

    def write(self, call: Call, done: str, what: str) -> None:
        if self.gh is None:
            print(f"  {call}")
            return
        self.gh.api(call)
        print(f"{what}: {done}")

    def step(self, what: str, action: Any) -> None:
        try:
            action()
        except GhError as error:
            line = f"FAILED {what}: {error.message} -> {hint(error)}"
            self.failed.append(line)
            print(line, file=sys.stderr, flush=True)

    def labels(self) -> None:
        for name, (color, description) in LABELS.items():
            endpoint = f"repos/{self.repo}/labels"
            current = self.read(Call("GET", f"{endpoint}/{quote(name, safe='')}"))
            wanted = {"color": color, "description": description}
            if current is None:
                self.write(Call("POST", endpoint, {"name": name, **wanted}), "created", f"label {name}")
            elif {k: current.get(k) for k in wanted} != wanted:
                call = Call("PATCH", f"{endpoint}/{quote(name, safe='')}", wanted)
                self.write(call, "colour and description updated", f"label {name}")
            else:
                print(f"label {name}: already set")

    def environment(self, name: str) -> None:
        endpoint = f"repos/{self.repo}/environments/{name}"
        current = self.read(Call("GET", endpoint))
        policy = (current or {}).get("deployment_branch_policy")
        if policy is None:
            done = "created" if current is None else "restricted to selected branches"
            self.write(Call("PUT", endpoint, environment_body(current)), done, f"environment {name}")
        else:
            print(f"environment {name}: already restricted ({json.dumps(policy, sort_keys=True)})")
        if policy is not None and not policy.get("custom_branch_policies"):
            return
        policies = self.read(Call("GET", f"{endpoint}/deployment-branch-policies")) or {}
        existing = {(p["name"], p.get("type", "branch")) for p in policies.get("branch_policies", [])}
        what = f"environment {name}: deployments from {self.branch}"
        if (self.branch, "branch") in existing:
            print(f"{what}: already allowed")
        else:
            body = {"name": self.branch, "type": "branch"}
            self.write(Call("POST", f"{endpoint}/deployment-branch-policies", body), "allowed", what)

    def workflow_permissions(self) -> None:
        endpoint = f"repos/{self.repo}/actions/permissions/workflow"
        current = self.read(Call("GET", endpoint)) or {}
        what = "Actions default token permissions"
        if {k: current.get(k) for k in WORKFLOW_PERMISSIONS} == WORKFLOW_PERMISSIONS:
            print(f"{what}: already read-only, no PR approvals")
        else:
            self.write(Call("PUT", endpoint, dict(WORKFLOW_PERMISSIONS)), "read-only, no PR approvals", what)

    def protection(self) -> None:
        endpoint = f"repos/{self.repo}/branches/{quote(self.branch, safe='')}/protection"
        what = f"branch protection of {self.branch}"
        current = self.read(Call("GET", endpoint), absent=("Branch not protected",))
        if current is None:
            done = "required: " + ", ".join(self.checks)
            self.write(Call("PUT", endpoint, protection_body(self.checks)), done, what)
            return
        status = current.get("required_status_checks") or {}
        checks = [
            {k: v for k, v in c.items() if k == "context" or (k == "app_id" and v is not None)}
            for c in status.get("checks", [])
        ]
        have = {c["context"] for c in checks}
        missing = [name for name in self.checks if name not in have]
        if not missing and status.get("strict"):
            print(f"{what}: already requires " + ", ".join(self.checks))
            return
        checks += [{"context": name, "app_id": GITHUB_ACTIONS_APP_ID} for name in missing]
        call = Call("PATCH", f"{endpoint}/required_status_checks", {"strict": True, "checks": checks})
        self.write(call, "required checks now include " + ", ".join(self.checks), what)

    def secrets(self) -> None:
        if self.gh is None:
            print("secrets these answers need (a real run lists the missing ones):")
            for line in missing_secrets(self.needed, set(), set()):
                print(f"  {line}")
            return
        endpoint = f"repos/{self.repo}/actions"
        names = self.gh.api(Call("GET", f"{endpoint}/secrets"), ".secrets[].name", paginate=True)
        variables = self.gh.api(Call("GET", f"{endpoint}/variables"), ".variables[].name", paginate=True)
        lines = missing_secrets(self.needed, set(names), set(variables))
        if not lines:
            print("secrets: none missing")
            return
        print("secrets still missing (each command asks for the value; nothing is printed):")
        for line in lines:
            print(f"  {line}")

    def run(self) -> int:
        if self.dry_run:
            print(f"dry run for {self.repo}, default branch {self.branch}: nothing is read or changed;")
            print("the calls a first run on a new repository makes:")
        self.step("labels", self.labels)
        for name in ENVIRONMENTS:
            self.step(f"environment {name}", partial(self.environment, name))
        self.step("Actions permissions", self.workflow_permissions)
        self.step(f"branch protection of {self.branch}", self.protection)
        self.step("secrets", self.secrets)
        print(
            "optional: required reviewers of production (Settings > Environments), 1 approval per pull"
            " request for a team: see docs/github.md"
        )
        return 1 if self.failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="github-setup", description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="print the API calls; read and change nothing")
    parser.add_argument("--repo", help="OWNER/NAME (default: the repository of this clone's git remote)")
    parser.add_argument("--project", type=Path, default=Path(), help="the project's folder (default: .)")
    args = parser.parse_args(argv)
    if args.repo is not None and not re.fullmatch(r"[\w.-]+/[\w.-]+", args.repo):
        raise UserError(f"--repo {args.repo!r}: expected OWNER/NAME")
    answers = load_answers(args.project)
    checks, needed = required_checks(args.project), secrets_needed(answers)
    if args.dry_run:
        repo = args.repo or f"{answers['github_owner']}/{answers['project_slug']}"
        return Setup(None, repo, "main", checks, needed).run()
    gh = Gh(args.repo)
    try:
        info = gh.api(Call("GET", "repos/{owner}/{repo}"))
    except GhError as error:
        print(
            f"FAILED reading the repository: {error.message} -> run it in the project's clone after"
            " `gh auth login` and a first `git push` (or pass REPO=OWNER/NAME)",
            file=sys.stderr,
        )
        return 1
    branch = info["default_branch"]
    print(f"repository {info['full_name']} ({info.get('visibility')}), default branch {branch}")
    return Setup(gh, info["full_name"], branch, checks, needed).run()
