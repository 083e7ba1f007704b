"""Every way people invoke the template generates the project, from any folder, and leaves nothing else behind.

Real commands in subprocesses, as a user types them: `cookiecutter` with a relative path, an absolute path or a git
URL (with `-o` elsewhere and `--config-file`), `cruft create`, `cruft update`, `cruft check` and `cruft link`. The
template under test is a throw-away git repository built from the current files (uncommitted changes included),
with a bare clone standing for the hosted repository.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import TEMPLATE_DIR

BIN = Path(sys.executable).parent
TEMPLATE_NAME = "mlops-template"
SLUG = "my-mlops-project"
CHANGED_README_LINE = "A line added to the template's README after the project was generated."
CHANGED_LICENSE_LINE = "A line added to the template's MIT licence after the project was generated."


@dataclass(frozen=True)
class TemplateRepo:
    """A git clone of the template (`workdir`, named like the repository) and its bare origin (`url`)."""

    workdir: Path
    bare: Path

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    def head(self) -> str:
        return git(self.workdir, "rev-parse", "HEAD").stdout.strip()


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)


def run(cwd: Path, *command: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a console script of the venv (`cookiecutter`, `cruft`) as a user would, from `cwd`."""
    result = subprocess.run(
        [str(BIN / command[0]), *command[1:]], cwd=cwd, capture_output=True, text=True, check=False, timeout=120
    )
    if ok:
        assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh HOME: no user cookiecutter config, replay or clone cache, and a git identity for commits."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Template Tests")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "tests@example.com")
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    return home


@pytest.fixture
def template(tmp_path: Path) -> TemplateRepo:
    """The current template files (tracked and new, not ignored) committed to a fresh repository and its bare clone."""
    workdir = tmp_path / "src" / TEMPLATE_NAME
    listed = git(TEMPLATE_DIR, "ls-files", "-z", "--cached", "--others", "--exclude-standard").stdout
    for name in filter(None, listed.split("\0")):
        source = TEMPLATE_DIR / name
        if source.is_file():
            (workdir / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, workdir / name)
    git(workdir, "init", "--quiet", "-b", "main")
    git(workdir, "add", "-A")
    git(workdir, "commit", "--quiet", "-m", "template")
    bare = tmp_path / f"{TEMPLATE_NAME}.git"
    git(tmp_path, "clone", "--quiet", "--bare", str(workdir), str(bare))
    git(workdir, "remote", "add", "origin", str(bare))
    return TemplateRepo(workdir, bare)


def folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_file(tmp_path: Path, **default_context: str) -> Path:
    """A cookiecutter user config keeping clones and replays under tmp_path (YAML: JSON is valid YAML)."""
    config = {
        "cookiecutters_dir": str(tmp_path / "cache" / "cookiecutters"),
        "replay_dir": str(tmp_path / "cache" / "replay"),
        "default_context": default_context,
    }
    path = tmp_path / "cookiecutter-config.yaml"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def assert_generated(project: Path, slug: str = SLUG) -> dict[str, object]:
    """The hooks ran: answers file written, only the chosen licence kept, git repository started on main."""
    assert project.is_dir(), f"no project at {project}"
    answers = json.loads((project / ".cookiecutter.json").read_text(encoding="utf-8"))
    assert answers["project_slug"] == slug
    assert not any(key.startswith("_") and key not in {"_template", "_checkout"} for key in answers), answers
    assert (project / "LICENSE").is_file() and not (project / "licenses").exists()
    assert git(project, "symbolic-ref", "--short", "HEAD").stdout.strip() == "main"
    return answers


def project_files(project: Path) -> set[str]:
    """The generated files, the project's own git repository aside."""
    files = (path.relative_to(project) for path in project.rglob("*") if path.is_file())
    return {str(path) for path in files if path.parts[0] != ".git"}


def entries(path: Path) -> list[str]:
    return sorted(child.name for child in path.iterdir())


def assert_template_untouched(template: TemplateRepo, *expected_status: str) -> None:
    status = git(template.workdir, "status", "--porcelain", "--untracked-files=normal").stdout.splitlines()
    assert status == list(expected_status), "the template checkout was changed"


def test_cookiecutter_dot_from_the_template_root(template: TemplateRepo) -> None:
    run(template.workdir, "cookiecutter", ".", "--no-input")
    assert_generated(template.workdir / SLUG)
    assert_template_untouched(template, f"?? {SLUG}/")


def test_cookiecutter_relative_path_from_a_sibling_folder(template: TemplateRepo) -> None:
    work = folder(template.workdir.parent / "work")
    run(work, "cookiecutter", f"../{TEMPLATE_NAME}", "--no-input")
    answers = assert_generated(work / SLUG)
    assert answers["_template"] == f"../{TEMPLATE_NAME}"
    assert entries(work) == [SLUG]
    assert_template_untouched(template)


def test_cookiecutter_relative_path_relative_output_and_config_file(tmp_path: Path, template: TemplateRepo) -> None:
    cwd = folder(tmp_path / "elsewhere" / "deep")
    config = config_file(tmp_path, project_name="Config Project")
    run(cwd, "cookiecutter", f"../../src/{TEMPLATE_NAME}", "--no-input", "-o", "../out", "--config-file", str(config))
    assert_generated(tmp_path / "elsewhere" / "out" / "config-project", slug="config-project")
    assert entries(tmp_path / "elsewhere") == ["deep", "out"]
    assert entries(cwd) == []
    assert entries(tmp_path / "elsewhere" / "out") == ["config-project"]
    assert_template_untouched(template)


def test_cookiecutter_absolute_path_with_output_elsewhere(tmp_path: Path, template: TemplateRepo) -> None:
    cwd, out = folder(tmp_path / "cwd"), tmp_path / "out"
    run(cwd, "cookiecutter", str(template.workdir), "--no-input", "-o", str(out), "project_name=Absolute Path")
    assert_generated(out / "absolute-path", slug="absolute-path")
    assert entries(out) == ["absolute-path"]
    assert entries(cwd) == []
    assert_template_untouched(template)


def test_cookiecutter_git_url(tmp_path: Path, template: TemplateRepo) -> None:
    cwd, out = folder(tmp_path / "cwd"), tmp_path / "out"
    config = config_file(tmp_path)
    run(cwd, "cookiecutter", template.url, "--no-input", "-o", str(out), "--config-file", str(config))
    answers = assert_generated(out / SLUG)
    assert answers["_template"] == template.url
    assert entries(out) == [SLUG]
    assert entries(cwd) == []
    # cookiecutter keeps its clone in cookiecutters_dir, as for any git template.
    assert entries(tmp_path / "cache" / "cookiecutters") == [TEMPLATE_NAME]


def test_cruft_create(tmp_path: Path, template: TemplateRepo) -> None:
    cwd, out = folder(tmp_path / "cwd"), folder(tmp_path / "out")
    run(cwd, "cruft", "create", template.url, "--no-input", "--output-dir", str(out))
    project = out / SLUG
    answers = assert_generated(project)
    # cruft turns a file:// URL into the repository's path, and records it as the template.
    state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert state["template"] == answers["_template"] == str(template.bare)
    assert state["commit"] == template.head()
    assert entries(out) == [SLUG]
    assert entries(cwd) == []
    run(project, "cruft", "check")
    # The same project as plain cookiecutter makes, plus cruft's state file.
    run(cwd, "cookiecutter", template.url, "--no-input", "-o", str(tmp_path / "plain"))
    plain = tmp_path / "plain" / SLUG
    assert project_files(project) == project_files(plain) | {".cruft.json"}
    for name in project_files(plain) - {".cookiecutter.json"}:
        assert (project / name).read_bytes() == (plain / name).read_bytes(), name
    plain_answers = json.loads((plain / ".cookiecutter.json").read_text(encoding="utf-8"))
    assert {k: v for k, v in answers.items() if k != "_template"} == {
        k: v for k, v in plain_answers.items() if k not in {"_template", "_checkout"}
    }
    # A fresh project has no difference from its template, whatever its own git repository holds.
    commit_all(project, "generated")
    git(project, "remote", "add", "origin", "https://github.com/acme/my-mlops-project.git")
    diff = run(project, "cruft", "diff", "--exit-code", ok=False)
    assert (diff.returncode, diff.stdout) == (0, ""), diff.stdout


def test_cruft_create_with_a_bad_answer_leaves_nothing(tmp_path: Path, template: TemplateRepo) -> None:
    cwd, out = folder(tmp_path / "cwd"), folder(tmp_path / "out")
    bad = json.dumps({"author_email": "ada.example.com"})
    result = run(
        cwd, "cruft", "create", template.url, "--no-input", "--output-dir", str(out), "--extra-context", bad, ok=False
    )
    assert result.returncode != 0
    assert entries(out) == [], "a half-made project was left behind"
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: Invalid answer")]
    assert errors == [
        "ERROR: Invalid answer for 'author_email': 'ada.example.com' is not allowed; "
        "allowed: an e-mail address of the form name@domain.tld."
    ], result.stderr
    assert entries(cwd) == []


def change_the_template(template: TemplateRepo) -> str:
    """Commit a change to a rendered file and to a file the post-generation hook moves; push it to the origin."""
    project_template = template.workdir / "{{cookiecutter.project_slug}}"
    for path, line in (
        (project_template / "README.md", CHANGED_README_LINE),
        (project_template / "licenses" / "MIT", CHANGED_LICENSE_LINE),
    ):
        path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")
    git(template.workdir, "commit", "--quiet", "-am", "change the template")
    git(template.workdir, "push", "--quiet", "origin", "main")
    return template.head()


def commit_all(project: Path, message: str) -> None:
    git(project, "add", "-A")
    git(project, "commit", "--quiet", "-m", message)


def assert_updated(project: Path, new_commit: str) -> None:
    """The change came in through the hooks (LICENSE, not licenses/MIT), nothing else changed, cruft is current."""
    assert (project / "README.md").read_text(encoding="utf-8").endswith(f"\n{CHANGED_README_LINE}\n")
    assert CHANGED_LICENSE_LINE in (project / "LICENSE").read_text(encoding="utf-8")
    status = git(project, "status", "--porcelain", "--untracked-files=all").stdout.splitlines()
    changed = sorted(line[3:] for line in status if not line.startswith("??"))
    assert (changed, len(status)) == ([".cruft.json", "LICENSE", "README.md"], 3), status
    assert json.loads((project / ".cruft.json").read_text(encoding="utf-8"))["commit"] == new_commit
    run(project, "cruft", "check")


def test_cruft_update_applies_a_template_change(tmp_path: Path, template: TemplateRepo) -> None:
    out = folder(tmp_path / "out")
    run(tmp_path, "cruft", "create", template.url, "--no-input", "--output-dir", str(out))
    project = out / SLUG
    commit_all(project, "generated")
    new_commit = change_the_template(template)

    stale = run(project, "cruft", "check", ok=False)
    assert stale.returncode != 0 and "out of date" in stale.stdout

    run(project, "cruft", "update", "--skip-apply-ask")
    assert_updated(project, new_commit)
    assert entries(out) == [SLUG]


def test_cruft_link_then_update_a_cookiecutter_project(tmp_path: Path, template: TemplateRepo) -> None:
    """What the generated README says to do with a project made by plain cookiecutter."""
    out = folder(tmp_path / "out")
    generated_at = template.head()
    run(
        tmp_path,
        "cookiecutter",
        template.url,
        "--no-input",
        "-o",
        str(out),
        "--config-file",
        str(config_file(tmp_path)),
        "author_name=Ada Lovelace",
    )
    project = out / SLUG
    commit_all(project, "generated")
    new_commit = change_the_template(template)

    answers = (project / ".cookiecutter.json").read_text(encoding="utf-8")
    run(project, "cruft", "link", template.url, "--checkout", generated_at, "--no-input", "--extra-context", answers)
    state = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert state["commit"] == generated_at
    assert state["context"]["cookiecutter"]["author_name"] == "Ada Lovelace"
    commit_all(project, "link to the template")

    run(project, "cruft", "update", "--skip-apply-ask")
    assert_updated(project, new_commit)
    assert "Ada Lovelace" in (project / "LICENSE").read_text(encoding="utf-8")
