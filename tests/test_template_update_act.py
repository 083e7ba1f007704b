"""template-update.yml under act: a project generated from release v0.2.0 of a local template repository gets
the template's next release as ONE pull request (release notes, the clean changes, a `.rej` file for the line the
user also edited), updated in place on the next run; without a PR token the job stops and says which to set.
Slow: it installs the project's dev extra, then runs the real job."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from actkit.act import run_workflow, seed_state
from tests.helpers import bare_clone, commit, git, run, template_history, tool

pytestmark = pytest.mark.slow
WORKFLOW = ".github/workflows/template-update.yml"
PAT = {"RETRAIN_TOKEN": "github_pat_actkitfake"}
SLUG_DIR = "{{cookiecutter.project_slug}}"
README_LINE = "A line the template's next release adds to the generated README."
PARAMS_COMMENT = "# Every key is validated by src/"
NEXT_NOTES = "## 0.2.1\nUpdating: nothing to do; the README says more.\n\n"


def release(workdir: Path, version: str) -> None:
    identity = ["-c", "user.name=Template Test", "-c", "user.email=test@example.com"]
    git(workdir, "add", "-A")
    git(workdir, *identity, "commit", "--quiet", "--allow-empty", "-m", f"release {version}")
    git(workdir, "tag", f"v{version}")


def next_release(workdir: Path) -> None:
    """0.2.1: a line added to the README, the first line of params.yaml reworded, its changelog section."""
    readme = workdir / SLUG_DIR / "README.md"
    readme.write_text(readme.read_text() + f"\n{README_LINE}\n")
    params = workdir / SLUG_DIR / "params.yaml"
    params.write_text(params.read_text().replace(PARAMS_COMMENT, "# Every key (all of them) is validated by src/", 1))
    changelog = workdir / "CHANGELOG.md"
    text = changelog.read_text()
    first = text.index("\n## ") + 1
    changelog.write_text(text[:first] + NEXT_NOTES + text[first:])
    release(workdir, "0.2.1")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("template-update")
    workdir = template_history(root)
    for tag in git(workdir, "tag", "--list").split():  # this test's own release history, not the template's
        git(workdir, "tag", "--delete", tag)
    release(workdir, "0.2.0")
    url = bare_clone(workdir)
    projects = root / "projects"
    projects.mkdir()
    run(projects, tool("cruft"), "create", url, "--checkout", "v0.2.0", "--no-input")
    project = projects / "my-mlops-project"
    params = project / "params.yaml"
    params.write_text(
        params.read_text().replace(PARAMS_COMMENT, "# The user's own note. Every key is validated by src/")
    )
    commit(project, "generated from v0.2.0, with the user's note")
    run(project, "make", "install", f"PYTHON={sys.executable}", "EXTRAS=dev")
    next_release(workdir)
    git(workdir, "push", "--quiet", "--tags", url, "HEAD:main")
    return project, git(workdir, "rev-parse", "HEAD").strip()


def test_the_next_release_arrives_as_one_pull_request_with_notes_and_rej_files(
    project: tuple[Path, str], tmp_path: Path
) -> None:
    repo, head = project
    state = tmp_path / "github"
    seed_state(state)
    result = run_workflow(repo, WORKFLOW, "workflow_dispatch", {}, tmp_path / "first", state_dir=state, secrets=PAT)
    assert result.returncode == 0, result.output[-3000:]
    [pr] = result.prs
    assert (pr["head"], pr["labels"], pr["title"]) == (
        "template/update",
        ["template-update"],
        f"Update from the template ({head[:12]})",
    )
    assert "Release notes since 0.2.0:\n\n## 0.2.1\nUpdating: nothing to do; the README says more." in pr["body"]
    assert "## 0.2.0" not in pr["body"]
    assert "- `params.yaml.rej`" in pr["body"]
    assert {".cruft.json", "README.md", "params.yaml.rej"} <= set(pr["files"])
    assert "params.yaml" not in pr["files"], "the user's edited line must stay theirs"

    again = run_workflow(repo, WORKFLOW, "workflow_dispatch", {}, tmp_path / "second", state_dir=state, secrets=PAT)
    assert again.returncode == 0, again.output[-3000:]
    assert [(p["number"], p["state"]) for p in again.prs] == [(pr["number"], "open")]


def test_without_a_pr_token_the_job_says_which_to_set(project: tuple[Path, str], tmp_path: Path) -> None:
    repo, _ = project
    result = run_workflow(repo, WORKFLOW, "workflow_dispatch", {}, tmp_path / "run")
    assert result.returncode != 0
    assert "set the RETRAIN_TOKEN secret" in result.output
    assert result.prs == []
