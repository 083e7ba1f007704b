"""`cli template-update` against a small local cookiecutter template with releases: a clean change applies, a
change to a line the user edited becomes a `.rej` file, the release notes are the newer changelog sections."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cruft
import pytest

from {{ cookiecutter.package_name }}.github import template_update

# The small template's project folder (its name answer in Jinja braces), spelt to look like no template.
FOLDER = "{" * 2 + " cookiecutter" + ".name " + "}" * 2
IDENTITY = ["-c", "user.name=Tests", "-c", "user.email=tests@example.com"]


def git(cwd: Path, *args: str) -> str:
    command = ["git", *IDENTITY, *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=True).stdout


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def release(template: Path, version: str, files: dict[str, str]) -> None:
    write(template, files)
    git(template, "add", "-A")
    git(template, "commit", "--quiet", "-m", f"release {version}")
    git(template, "tag", f"v{version}")


@pytest.fixture
def template(tmp_path: Path) -> Path:
    root = tmp_path / "template"
    root.mkdir()
    git(root, "init", "--quiet", "-b", "main")
    release(root, "0.1.0", {
        "cookiecutter.json": json.dumps({"name": "demo"}),
        f"{FOLDER}/settings.txt": "alpha\nbeta\ngamma\n",
        f"{FOLDER}/notes.txt": "first notes\n",
        "CHANGELOG.md": "# Changelog\n\n## 0.1.0\nThe first release.\n",
    })  # fmt: skip
    return root


@pytest.fixture
def project(tmp_path: Path, template: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    cruft.create(str(template), output_dir=tmp_path / "projects", no_input=True)
    root = tmp_path / "projects" / "demo"
    git(root, "init", "--quiet", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "--quiet", "-m", "generated")
    monkeypatch.chdir(root)
    return root


def run(tmp_path: Path) -> tuple[dict[str, str], str]:
    body, output = tmp_path / "body.md", tmp_path / "output"
    output.unlink(missing_ok=True)
    assert template_update.main(["--body", str(body), "--github-output", str(output)]) == 0
    values = dict(line.split("=", 1) for line in output.read_text().splitlines())
    return values, body.read_text() if body.exists() else ""


def test_an_update_applies_what_fits_and_leaves_rej_files_for_conflicts(
    tmp_path: Path, template: Path, project: Path
) -> None:
    write(project, {"settings.txt": "alpha (the user's value)\nbeta\ngamma\n"})
    git(project, "commit", "--quiet", "-am", "the user's edit")
    release(template, "0.2.0", {
        f"{FOLDER}/settings.txt": "ALPHA\nbeta\ngamma\n",
        f"{FOLDER}/notes.txt": "second notes\n",
        f"{FOLDER}/added.txt": "a new file\n",
        "CHANGELOG.md": "# Changelog\n\n## 0.2.0\nUpdating: nothing to do.\n\n## 0.1.0\nThe first release.\n",
    })  # fmt: skip

    values, body = run(tmp_path)

    assert values == {"status": "updated", "rejects": "1", "version": git(template, "rev-parse", "HEAD")[:12]}
    assert (project / "settings.txt").read_text() == "alpha (the user's value)\nbeta\ngamma\n"
    assert "+ALPHA" in (project / "settings.txt.rej").read_text()
    assert (project / "notes.txt").read_text() == "second notes\n"
    assert (project / "added.txt").read_text() == "a new file\n"
    head = git(template, "rev-parse", "HEAD").strip()
    assert json.loads((project / ".cruft.json").read_text())["commit"] == head
    assert "Release notes since 0.1.0:\n\n## 0.2.0\nUpdating: nothing to do." in body
    assert "## 0.1.0" not in body
    assert "- `settings.txt.rej`" in body
    status = git(project, "status", "--porcelain").splitlines()
    assert status == [" M .cruft.json", " M notes.txt", "?? added.txt", "?? settings.txt.rej"]


def test_a_project_on_the_latest_commit_has_nothing_to_update(tmp_path: Path, project: Path) -> None:
    assert run(tmp_path)[0] == {"status": "current"}
    assert git(project, "status", "--porcelain") == ""


def test_a_project_without_cruft_json_is_told_how_to_link_it(tmp_path: Path, project: Path) -> None:
    (project / ".cruft.json").unlink()
    values, body = run(tmp_path)
    assert values == {"status": "unlinked"}
    assert body.startswith(".cruft.json not found: link the project to its template once with `cruft link")


def test_unreleased_template_commits_wait_for_a_release_unless_asked_for(
    tmp_path: Path, template: Path, project: Path
) -> None:
    write(template, {f"{FOLDER}/notes.txt": "work in progress\n"})
    git(template, "commit", "--quiet", "-am", "not released yet")
    assert run(tmp_path)[0] == {"status": "current"}
    body, output = tmp_path / "body.md", tmp_path / "output"
    assert (
        template_update.main(["--checkout", "main", "--body", str(body), "--github-output", str(output)]) == 0
    )
    assert (project / "notes.txt").read_text() == "work in progress\n"


def test_the_latest_release_is_the_highest_version_not_the_last_tag_listed(template: Path) -> None:
    for version in ("0.9.0", "0.10.0", "0.2.0"):
        git(template, "tag", f"v{version}")
    git(template, "tag", "v1-beta")
    assert template_update.update_target(str(template), None) == "v0.10.0"
    assert template_update.update_target(str(template), "main") == "main"
