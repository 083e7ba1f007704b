"""`gh api` of the gh stand-in: strict routes, gh's field rules and error output, recorded calls and state."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

KIT = Path(__file__).resolve().parents[1]
GH = KIT / "bin" / "gh"
# lib/ holds stdlib-only scripts the stand-ins run directly, not a package: its folder goes on the path.
sys.path.insert(0, str(KIT / "lib"))
from gh_api import UPGRADE, api_defaults  # noqa: E402
from kitstate import github_state  # noqa: E402


class GhApi:
    """`gh api ...` of the stand-in in a fresh fake repository: call it; `out` and `state` are its folders."""

    def __init__(self, tmp_path: Path) -> None:
        self.out = tmp_path / "out"
        self.state = tmp_path / "state"
        self.env = {
            "PATH": os.environ["PATH"],
            "GH_TOKEN": "ghs_test",
            "GITHUB_REPOSITORY": "owner/project",
            "ACT_KIT_OUT": str(self.out),
            "ACT_KIT_STATE": str(self.state),
        }

    def __call__(self, *args: str, stdin: str | None = None, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(GH), "api", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env={**self.env, **extra},
        )


@pytest.fixture
def gh(tmp_path: Path) -> GhApi:
    return GhApi(tmp_path)


def calls(out: Path) -> list[dict[str, Any]]:
    return json.loads((out / "gh-api.json").read_text())


def test_unknown_endpoint_fails_like_gh(gh) -> None:
    result = gh("repos/owner/project/hooks")
    assert result.returncode == 1
    assert result.stderr == "gh: Not Found (HTTP 404)\n"
    assert json.loads(result.stdout)["message"] == "Not Found"
    other_repo = gh("repos/someone/else")
    assert other_repo.returncode == 1 and "(HTTP 404)" in other_repo.stderr
    assert [(c["method"], c["path"], c["status"]) for c in calls(gh.out)] == [
        ("GET", "repos/owner/project/hooks", 404),
        ("GET", "repos/someone/else", 404),
    ]


def test_needs_a_token(gh) -> None:
    result = gh("repos/owner/project", GH_TOKEN="")
    assert result.returncode == 4 and "GH_TOKEN" in result.stderr


def test_placeholders_and_jq(gh) -> None:
    result = gh("repos/{owner}/{repo}", "--jq", '.default_branch + " " + .visibility')
    assert result.returncode == 0, result.stderr
    assert result.stdout == "main public\n"
    renamed = gh("repos/{owner}/{repo}", "--jq", ".full_name", GH_REPO="team/other")
    assert renamed.stdout == "team/other\n"


def test_fields_are_typed_and_nested_and_make_a_post(gh) -> None:
    result = gh(
        "repos/owner/project/labels",
        "-f",
        "name=model-drift",
        "-f",
        "color=d93f0b",
        "-F",
        "description=@-",
        stdin="drift found",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"name": "model-drift", "color": "d93f0b", "description": "drift found"}
    env = gh(
        "-X", "PUT", "repos/owner/project/environments/production",
        "-F", "deployment_branch_policy[protected_branches]=false",
        "-F", "deployment_branch_policy[custom_branch_policies]=true",
        "-F", "wait_timer=5", "-F", "reviewers[]",
    )  # fmt: skip
    assert env.returncode == 0, env.stderr
    assert calls(gh.out)[-1]["body"] == {
        "deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True},
        "wait_timer": 5,
        "reviewers": [],
    }
    duplicate = gh("repos/owner/project/labels", "-f", "name=model-drift")
    assert duplicate.returncode == 1 and duplicate.stderr == "gh: Validation Failed (HTTP 422)\n"


def test_input_body_and_environment_branch_policies(gh) -> None:
    bad = gh(
        "-X",
        "PUT",
        "repos/owner/project/environments/production",
        "--input",
        "-",
        stdin=json.dumps({"deployment_branch_policy": {"protected_branches": True, "custom_branch_policies": True}}),
    )
    assert bad.returncode == 1 and "(HTTP 422)" in bad.stderr
    policy = {"deployment_branch_policy": {"protected_branches": False, "custom_branch_policies": True}}
    assert (
        gh(
            "-X", "PUT", "repos/owner/project/environments/production", "--input", "-", stdin=json.dumps(policy)
        ).returncode
        == 0
    )
    endpoint = "repos/owner/project/environments/production/deployment-branch-policies"
    first = gh(endpoint, "--input", "-", stdin='{"name": "main", "type": "branch"}')
    again = gh(endpoint, "--input", "-", stdin='{"name": "main", "type": "branch"}')
    assert json.loads(first.stdout) == json.loads(again.stdout) == {"id": 1, "name": "main", "type": "branch"}
    assert [c["status"] for c in calls(gh.out)[-2:]] == [200, 303]  # GitHub's See Other to the existing policy
    listed = gh(endpoint, "--jq", ".branch_policies[].name")
    assert listed.stdout == "main\n"


def test_branch_protection_rules(gh) -> None:
    endpoint = "repos/owner/project/branches/main/protection"
    missing = gh(endpoint)
    assert missing.returncode == 1 and missing.stderr == "gh: Branch not protected (HTTP 404)\n"
    incomplete = gh("-X", "PUT", endpoint, "--input", "-", stdin='{"enforce_admins": false}')
    assert incomplete.returncode == 1 and "(HTTP 422)" in incomplete.stderr
    body = {
        "required_status_checks": {"strict": True, "contexts": ["ci"], "checks": [{"context": "ci"}]},
        "enforce_admins": False,
        "required_pull_request_reviews": {"required_approving_review_count": 0},
        "restrictions": None,
    }
    both = gh("-X", "PUT", endpoint, "--input", "-", stdin=json.dumps(body))
    assert both.returncode == 1 and "(HTTP 422)" in both.stderr  # contexts and checks together: GitHub refuses
    del body["required_status_checks"]["contexts"]
    assert gh("-X", "PUT", endpoint, "--input", "-", stdin=json.dumps(body)).returncode == 0
    read = gh(endpoint, "--jq", "[.required_status_checks.contexts[], .enforce_admins.enabled] | @json")
    assert json.loads(read.stdout) == ["ci", False]
    assert gh("repos/owner/project/branches/nope/protection").stderr == "gh: Branch not found (HTTP 404)\n"


def test_private_free_repository_has_no_branch_protection(gh) -> None:
    with github_state(gh.state) as state:
        api_defaults(state)["repository"]["visibility"] = "private"
    result = gh("repos/owner/project/branches/main/protection")
    assert result.returncode == 1 and result.stderr == f"gh: {UPGRADE} (HTTP 403)\n"


def test_secrets_and_variables_are_names_only(gh) -> None:
    with github_state(gh.state) as state:
        api_defaults(state)["secrets"] = ["RETRAIN_TOKEN", "AWS_ACCESS_KEY_ID"]
    result = gh("repos/owner/project/actions/secrets", "--paginate", "--jq", ".secrets[].name")
    assert result.stdout == "RETRAIN_TOKEN\nAWS_ACCESS_KEY_ID\n"
    assert gh("repos/owner/project/actions/variables", "--jq", ".total_count").stdout == "0\n"
    write = gh("-X", "PUT", "repos/owner/project/actions/secrets")
    assert write.returncode == 1 and "(HTTP 404)" in write.stderr


def test_workflow_permissions(gh) -> None:
    endpoint = "repos/owner/project/actions/permissions/workflow"
    assert json.loads(gh(endpoint).stdout) == {
        "default_workflow_permissions": "read",
        "can_approve_pull_request_reviews": False,
    }
    bad = gh("-X", "PUT", endpoint, "-f", "default_workflow_permissions=admin")
    assert bad.returncode == 1 and "(HTTP 422)" in bad.stderr
    ok = gh(
        "-X", "PUT", endpoint, "-f", "default_workflow_permissions=write", "-F", "can_approve_pull_request_reviews=true"
    )
    assert ok.returncode == 0 and ok.stdout == ""  # 204 No Content
    assert json.loads(gh(endpoint).stdout)["default_workflow_permissions"] == "write"
