"""Bring the template's changes into this project as one reviewable change (`cli template-update`).

Run by `.github/workflows/template-update.yml` (which opens or updates ONE pull request with the result) and
by hand. It reads `.cruft.json` (written by `cruft create` or `cruft link`), asks cruft whether the template
moved, and if it did, runs `cruft update` on a copy of the committed files. The copy is not a git repository,
so cruft applies each hunk that fits and writes the hunks that conflict with local edits to `<file>.rej` files
instead of conflict markers: the pull request shows every clean change as a diff and lists each `.rej` file.
The release notes are the template's CHANGELOG.md sections newer than the release the project was on.
The module imports cruft (the dev extra); the CLI imports it only for this command.
"""

from __future__ import annotations

import argparse
import filecmp
import io
import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cruft

from ..errors import UserError

CRUFT_FILE = ".cruft.json"
RELEASE_TAG = re.compile(r"v\d+\.\d+\.\d+")
RELEASE_HEADING = re.compile(r"^## (?P<version>\d+\.\d+\.\d+)\b", re.MULTILINE)


@dataclass(frozen=True)
class TemplateLink:
    """Where the project's template lives and the template commit the project is on."""

    url: str
    commit: str


@dataclass(frozen=True)
class Update:
    before: TemplateLink
    after: TemplateLink
    changed: list[str]
    rejects: list[str]


def read_link(project: Path) -> TemplateLink | None:
    path = project / CRUFT_FILE
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    return TemplateLink(url=data["template"], commit=data["commit"])


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise UserError(f"git {' '.join(args)} failed in {cwd}: {result.stderr.strip()}")
    return result.stdout


def release_tags(url: str) -> list[str]:
    """The template's release tags (vX.Y.Z), oldest first."""
    listed = subprocess.run(
        ["git", "ls-remote", "--tags", "--refs", url, "v*"], capture_output=True, text=True, check=False
    )
    if listed.returncode != 0:
        raise UserError(f"cannot read the template's tags at {url}: {listed.stderr.strip()}")
    names = (line.rsplit("refs/tags/", 1)[-1] for line in listed.stdout.splitlines())
    return sorted(
        (n for n in names if RELEASE_TAG.fullmatch(n)), key=lambda n: tuple(map(int, n[1:].split(".")))
    )


def update_target(url: str, requested: str | None) -> str:
    """What to update to: the requested ref, else the template's latest release, else its default branch."""
    if requested:
        return requested
    tags = release_tags(url)
    return tags[-1] if tags else "HEAD"


def export_committed_files(project: Path, target: Path) -> None:
    """The files of HEAD (no .git, nothing untracked or ignored) into `target`."""
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=project, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")


def tracked_files(root: Path) -> set[str]:
    files = (path for path in root.rglob("*") if path.is_file() and ".git" not in path.parts)
    return {str(path.relative_to(root)) for path in files}


def copy_back(copy: Path, project: Path, committed: set[str]) -> list[str]:
    """Make the project's committed files what cruft left in the copy; return the paths that changed."""
    updated = tracked_files(copy)
    changed = sorted(
        name
        for name in updated
        if name not in committed or not filecmp.cmp(copy / name, project / name, shallow=False)
    )
    for name in changed:
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(copy / name, project / name)
    removed = sorted(committed - updated)
    for name in removed:
        (project / name).unlink(missing_ok=True)
    return sorted([*changed, *removed])


def run_cruft_update(copy: Path, checkout: str | None) -> None:
    if not cruft.update(project_dir=copy, checkout=checkout, skip_apply_ask=True):
        raise UserError("cruft update did not apply the template's changes: see its output above")


def update(project: Path, before: TemplateLink, checkout: str) -> Update | None:
    """None when the template did not move; else the update, applied to the project's files (uncommitted)."""
    if cruft.check(project_dir=project, checkout=checkout):
        return None
    committed = set(git(project, "ls-files", "-z").split("\0")) - {""}
    with tempfile.TemporaryDirectory(prefix="template-update-") as temporary:
        copy = Path(temporary) / project.name
        export_committed_files(project, copy)
        run_cruft_update(copy, checkout)
        after = read_link(copy)
        if after is None:
            raise UserError(f"cruft update removed {CRUFT_FILE}: the update cannot be described")
        changed = copy_back(copy, project, committed)
    return Update(before, after, changed, sorted(name for name in changed if name.endswith(".rej")))


def changelog_sections(changelog: str, since_version: str | None) -> str:
    """The sections above the one of `since_version` (the changelog lists the newest release first)."""
    headings = list(RELEASE_HEADING.finditer(changelog))
    end = next((h.start() for h in headings if h["version"] == since_version), len(changelog))
    start = headings[0].start() if headings else end
    return changelog[start:end].strip()


def release_notes(link_before: TemplateLink, link_after: TemplateLink) -> str:
    with tempfile.TemporaryDirectory(prefix="template-notes-") as temporary:
        clone = Path(temporary) / "template"
        clone_args = ["clone", "--quiet", "--filter=blob:none", "--no-checkout", link_after.url, str(clone)]
        git(Path(temporary), *clone_args)
        describe = ["git", "describe", "--tags", "--abbrev=0", "--match", "v[0-9]*", link_before.commit]
        described = subprocess.run(describe, cwd=clone, capture_output=True, text=True, check=False)
        since = described.stdout.strip().removeprefix("v") if described.returncode == 0 else None
        changelog = ["git", "show", f"{link_after.commit}:CHANGELOG.md"]
        shown = subprocess.run(changelog, cwd=clone, capture_output=True, text=True, check=False)
    if shown.returncode != 0:
        return "The template has no CHANGELOG.md at this commit."
    notes = changelog_sections(shown.stdout, since)
    origin = f"since {since}" if since else "(the project's release is not tagged: every section)"
    return f"Release notes {origin}:\n\n{notes}" if notes else f"No release notes {origin}."


def pull_request_body(result: Update, notes: str) -> str:
    before, after = result.before.commit[:12], result.after.commit[:12]
    lines = [
        f"Template update: `{before}` -> `{after}` ({result.after.url}).",
        "",
        notes,
        "",
    ]
    if result.rejects:
        lines += [
            "**Conflicts to resolve.** These hunks of the template's change did not apply to files you "
            "edited; each `.rej` file holds them. Apply them by hand (or drop them), delete the `.rej` "
            "files, then push:",
            "",
            *[f"- `{name}`" for name in result.rejects],
        ]
    else:
        lines.append("Every change applied cleanly.")
    lines += [
        "",
        f"{len(result.changed)} files changed. Run `make setup` and `make pipeline` locally if the lock or "
        "the pipeline changed; CI checks the rest.",
    ]
    return "\n".join(lines) + "\n"


def write_outputs(path: Path | None, **values: str) -> None:
    if path is None:
        return
    with path.open("a", encoding="utf-8") as output:
        output.writelines(f"{key}={value}\n" for key, value in values.items())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="template-update", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--checkout",
        help="template branch, tag or commit (default: its latest vX.Y.Z tag, else its default branch)",
    )
    parser.add_argument("--body", type=Path, required=True, help="write the pull request's text here")
    parser.add_argument("--github-output", type=Path, help="append status=... (and more) to this file")
    args = parser.parse_args(argv)
    project = Path.cwd()
    before = read_link(project)
    if before is None:
        message = (
            f"{CRUFT_FILE} not found: link the project to its template once with `cruft link <template URL> "
            "--checkout <the template commit it came from>`, then commit .cruft.json"
        )
        args.body.write_text(message + "\n", encoding="utf-8")
        print(message)
        write_outputs(args.github_output, status="unlinked")
        return 0
    target = update_target(before.url, args.checkout)
    result = update(project, before, target)
    if result is None:
        message = f"The project is on the template's {target}: nothing to update."
        args.body.write_text(message + "\n", encoding="utf-8")
        print(message)
        write_outputs(args.github_output, status="current")
        return 0
    notes = release_notes(result.before, result.after)
    args.body.write_text(pull_request_body(result, notes), encoding="utf-8")
    after = result.after.commit[:12]
    print(f"Updated to {after}: {len(result.changed)} files, {len(result.rejects)} with conflicts (.rej)")
    write_outputs(args.github_output, status="updated", rejects=str(len(result.rejects)), version=after)
    return 0
