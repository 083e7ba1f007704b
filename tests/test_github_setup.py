"""`make github-setup` of a generated project against the kit's gh stand-in (gh api recorded, repository faked).

Fast: instead of the project's virtualenv (`make setup`), the target runs with this venv's python (it has PyYAML,
the module's only dependency) and the project's src/ on PYTHONPATH: nothing is installed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from actkit.act import FAKE_TOKEN, KIT_DIR
from tests.helpers import generate

# The kit's lib/ holds stdlib-only scripts its stand-ins run directly, not a package.
sys.path.insert(0, str(KIT_DIR / "lib"))
from gh_api import UPGRADE, api_defaults
from kitstate import DEFAULT_LABELS, github_state

REPO = "owner/project"
CONFIGS = {"default": {}, "s3-server": {"dvc_remote": "s3", "mlflow_tracking": "server"}}


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {name: generate(tmp_path_factory.mktemp(name), answers) for name, answers in CONFIGS.items()}


class Run:
    """make github-setup in a project, with the kit's gh first on PATH and a fresh fake repository."""

    def __init__(self, project: Path, tmp: Path) -> None:
        self.project, self.out, self.state = project, tmp / "out", tmp / "state"
        with github_state(self.state) as state:
            api_defaults(state)

    def seed(self, **settings: Any) -> None:
        with github_state(self.state) as state:
            api_defaults(state).update(settings)

    def repository(self) -> dict[str, Any]:
        with github_state(self.state) as state:
            return json.loads(json.dumps(state))

    def __call__(self, *make_args: str, token: str = FAKE_TOKEN, venv: bool = True) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k not in {"GH_TOKEN", "GITHUB_TOKEN", "GH_REPO", "PYTHONPATH"}}
        env.update(
            {
                "PYTHONPATH": str(self.project / "src"),
                "PATH": f"{KIT_DIR / 'bin'}{os.pathsep}{env['PATH']}",
                "GH_TOKEN": token,
                "GITHUB_REPOSITORY": REPO,
                "ACT_KIT_OUT": str(self.out),
                "ACT_KIT_STATE": str(self.state),
            }
        )
        if self.out.exists():
            shutil.rmtree(self.out)
        bin_dir = [f"BIN={Path(sys.executable).parent}"] if venv else []
        command = ["make", "--no-print-directory", "github-setup", *bin_dir, *make_args]
        return subprocess.run(command, cwd=self.project, env=env, capture_output=True, text=True, check=False)

    def calls(self) -> list[dict[str, Any]]:
        path = self.out / "gh-api.json"
        return json.loads(path.read_text()) if path.exists() else []


@pytest.fixture
def run(projects: dict[str, Path], tmp_path: Path, request: pytest.FixtureRequest) -> Run:
    return Run(projects[getattr(request, "param", "default")], tmp_path)


def check_names(project: Path) -> list[str]:
    names = []
    for workflow in ("experiment.yml", "ci.yml"):
        jobs = yaml.safe_load((project / ".github" / "workflows" / workflow).read_text())["jobs"]
        names += [job.get("name", job_id) for job_id, job in jobs.items()]
    return names


FIRST_RUN = [
    ("GET", f"repos/{REPO}"),
    ("GET", f"repos/{REPO}/labels/model-drift"),
    ("POST", f"repos/{REPO}/labels"),
    ("GET", f"repos/{REPO}/labels/retraining"),
    ("POST", f"repos/{REPO}/labels"),
    ("GET", f"repos/{REPO}/labels/template-update"),
    ("POST", f"repos/{REPO}/labels"),
    *(
        call
        for environment in ("staging", "production")
        for call in [
            ("GET", f"repos/{REPO}/environments/{environment}"),
            ("PUT", f"repos/{REPO}/environments/{environment}"),
            ("GET", f"repos/{REPO}/environments/{environment}/deployment-branch-policies"),
            ("POST", f"repos/{REPO}/environments/{environment}/deployment-branch-policies"),
        ]
    ),
    ("GET", f"repos/{REPO}/actions/permissions/workflow"),
    ("GET", f"repos/{REPO}/branches/main/protection"),
    ("PUT", f"repos/{REPO}/branches/main/protection"),
    ("GET", f"repos/{REPO}/actions/secrets"),
    ("GET", f"repos/{REPO}/actions/variables"),
]
PERMISSIONS = ("PUT", f"repos/{REPO}/actions/permissions/workflow")
# Where a run that must change the workflow permissions makes the PUT: right after reading them.
AFTER_PERMISSIONS = FIRST_RUN.index(("GET", f"repos/{REPO}/actions/permissions/workflow")) + 1


def test_first_run_on_a_new_repository(run: Run) -> None:
    result = run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert [(c["method"], c["path"]) for c in run.calls()] == FIRST_RUN
    assert all(c["status"] < 400 or c["method"] == "GET" for c in run.calls())
    state = run.repository()
    assert state["label_info"] == {
        "model-drift": {"color": "d93f0b", "description": "monitor.yml: drift or decay of the model in production"},
        "retraining": {"color": "0e8a16", "description": "retrain.yml: a pull request with a retrained model"},
        "template-update": {
            "color": "1d76db",
            "description": "template-update.yml: the template's changes for this project",
        },
    }
    for environment in ("staging", "production"):  # each holds a cluster's KUBECONFIG: the default branch only
        policy = state["environments"][environment]
        assert policy["deployment_branch_policy"] == {"protected_branches": False, "custom_branch_policies": True}
        assert [(p["name"], p["type"]) for p in policy["branch_policies"]] == [("main", "branch")]
    protection = state["branch_protection"]["main"]
    names = check_names(run.project)
    assert names == ["train and report against the base", "lint and tests"]
    assert protection["required_status_checks"] == {
        "strict": True,
        "checks": [{"context": name, "app_id": 15368} for name in names],
    }
    assert protection["enforce_admins"] is False
    assert protection["required_pull_request_reviews"]["required_approving_review_count"] == 0
    missing = result.stdout.split("secrets still missing")[1]
    assert [line.split()[3] for line in missing.splitlines() if line.startswith("  gh secret set")] == ["RETRAIN_TOKEN"]


@pytest.mark.parametrize("run", ["s3-server"], indirect=True)
def test_s3_and_server_answers_need_their_secrets(run: Run) -> None:
    run.seed(
        secrets=["AWS_ACCESS_KEY_ID", "RETRAIN_APP_PRIVATE_KEY"],
        variables=["RETRAIN_APP_CLIENT_ID"],
        workflow_permissions={"default_workflow_permissions": "write", "can_approve_pull_request_reviews": True},
    )
    result = run()
    assert result.returncode == 0, result.stdout + result.stderr
    calls = [(c["method"], c["path"]) for c in run.calls()]
    assert calls == [*FIRST_RUN[:AFTER_PERMISSIONS], PERMISSIONS, *FIRST_RUN[AFTER_PERMISSIONS:]]
    assert run.calls()[AFTER_PERMISSIONS]["body"] == {
        "default_workflow_permissions": "read",
        "can_approve_pull_request_reviews": False,
    }
    assert run.repository()["workflow_permissions"]["default_workflow_permissions"] == "read"
    missing = result.stdout.split("secrets still missing")[1].splitlines()
    assert [line.strip() for line in missing if line.startswith("  ")] == [
        "gh secret set AWS_SECRET_ACCESS_KEY",
        "gh secret set MLFLOW_TRACKING_URI",
        "gh secret set MLFLOW_TRACKING_TOKEN",
    ]  # AWS_ACCESS_KEY_ID is set; the GitHub App pair replaces RETRAIN_TOKEN
    assert not any("secrets/" in path for _, path in calls)  # names only: no single secret is ever read


def test_second_run_changes_nothing(run: Run) -> None:
    assert run().returncode == 0
    before = run.repository()
    again = run()
    assert again.returncode == 0, again.stdout + again.stderr
    assert {c["method"] for c in run.calls()} == {"GET"}
    assert run.repository() == before
    assert "already" in again.stdout and "created" not in again.stdout


def test_existing_settings_are_completed_not_replaced(run: Run) -> None:
    run.seed(
        labels=[*DEFAULT_LABELS, "model-drift"],
        label_info={"model-drift": {"color": "ffffff", "description": "old"}},
        branch_protection={
            "main": {
                "required_status_checks": {"strict": False, "checks": [{"context": "codeql", "app_id": 57789}]},
                "enforce_admins": True,
                "required_pull_request_reviews": {"required_approving_review_count": 2},
                "restrictions": None,
            }
        },
    )
    assert run().returncode == 0
    calls = {(c["method"], c["path"]): c["body"] for c in run.calls() if c["method"] != "GET"}
    assert calls[("PATCH", f"repos/{REPO}/labels/model-drift")]["color"] == "d93f0b"
    assert ("PUT", f"repos/{REPO}/branches/main/protection") not in calls
    protection = run.repository()["branch_protection"]["main"]
    assert protection["required_status_checks"]["strict"] is True
    assert [c["context"] for c in protection["required_status_checks"]["checks"]] == [
        "codeql",
        *check_names(run.project),
    ]
    assert protection["required_pull_request_reviews"]["required_approving_review_count"] == 2  # the user's choice
    assert protection["enforce_admins"] is True


def test_dry_run_calls_nothing(run: Run) -> None:
    result = run("DRY_RUN=1")
    assert result.returncode == 0, result.stdout + result.stderr
    assert run.calls() == [] and not (run.out / "gh-calls.json").exists()
    planned = [line.split()[:2] for line in result.stdout.splitlines() if line.startswith("  ") and "repos/" in line]
    owner_repo = "your-github-org/my-mlops-project"  # from the answers: nothing is read from GitHub
    # A dry run cannot know the current permissions: it plans the PUT.
    writes = [*FIRST_RUN[:AFTER_PERMISSIONS], PERMISSIONS, *FIRST_RUN[AFTER_PERMISSIONS:]]
    assert planned == [[m, p.replace(REPO, owner_repo)] for m, p in writes if m != "GET"]
    assert "gh secret set RETRAIN_TOKEN" in result.stdout


def test_private_free_repository_gets_one_line_and_the_rest(run: Run) -> None:
    run.seed(repository={"default_branch": "main", "visibility": "private", "plan": "free", "branches": ["main"]})
    result = run()
    assert result.returncode != 0
    failures = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert failures == [
        f"FAILED branch protection of main: {UPGRADE} -> make the repository public or move it to a paid plan,"
        " then run make github-setup again"
    ]
    assert "Traceback" not in result.stderr
    state = run.repository()
    assert {"model-drift", "retraining"} <= set(state["labels"]) and "production" in state["environments"]
    assert "gh secret set RETRAIN_TOKEN" in result.stdout  # the secrets step still ran


def test_not_logged_in_is_one_line(run: Run) -> None:
    result = run(token="")
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if not line.startswith("make")]
    assert lines == [
        "FAILED reading the repository: gh is not logged in -> run it in the project's clone after"
        " `gh auth login` and a first `git push` (or pass REPO=OWNER/NAME)"
    ]


def test_without_the_project_virtualenv_says_make_setup(run: Run) -> None:
    assert not (run.project / ".venv").exists()
    result = run(venv=False)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if not re.match(r"make(\[\d+\])?: ", line)]
    assert lines == [
        ".venv/bin/python not found: make github-setup runs in the project's virtualenv; run make setup first"
    ]
    assert run.calls() == []
