"""The documentation site builds with `mkdocs build --strict`, and the commands its pages show in `bash` blocks run.

`console` blocks are the commands that need GitHub, a cloud account or minutes of work (the page says so);
everything else a page shows as a command is run here, in a temporary folder, with the template's path for
`path/to/mlops-template`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import TEMPLATE_DIR, users_environ

DOCS = TEMPLATE_DIR / "docs"
SOURCE = TEMPLATE_DIR / "build" / "docs" / "source"
FENCE = re.compile(r"^```(?P<language>[\w-]*)[^\n]*\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)
COMMAND_LANGUAGES = {"bash", "console"}
PLACEHOLDER = "path/to/mlops-template"


def build_site() -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(TEMPLATE_DIR / "scripts" / "build_docs.py")]
    return subprocess.run(command, cwd=TEMPLATE_DIR, capture_output=True, text=True, check=False)


def mkdocs_build() -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(TEMPLATE_DIR / "mkdocs.yml")]
    return subprocess.run(command, cwd=TEMPLATE_DIR, capture_output=True, text=True, check=False)


def bash_blocks(page: Path) -> list[str]:
    return [match["body"] for match in FENCE.finditer(page.read_text()) if match["language"] == "bash"]


def test_site_builds_strictly_and_a_broken_link_fails_it() -> None:
    built = build_site()
    assert built.returncode == 0, built.stdout + built.stderr
    site = TEMPLATE_DIR / "build" / "docs" / "site"
    for page in ("index.html", "loop/index.html", "project/workflows/index.html", "changelog/index.html"):
        assert (site / page).is_file(), page
    faq = SOURCE / "faq.md"
    faq.write_text(faq.read_text() + "\nSee [the missing page](missing.md).\n")
    broken = mkdocs_build()
    assert broken.returncode != 0
    assert "missing.md" in broken.stdout + broken.stderr


def test_every_command_block_says_whether_it_runs() -> None:
    unlabelled = {
        f"{page.name}: {match['body'].splitlines()[0]}"
        for page in DOCS.glob("*.md")
        for match in FENCE.finditer(page.read_text())
        if match["language"] in {"sh", "shell"}
        or (match["language"] == "" and match["body"].startswith(("make ", "pip ", "cookiecutter ", "cruft ")))
    }
    assert not unlabelled, (
        f"command blocks must be `bash` (run by this test) or `console` (not runnable here): {unlabelled}"
    )


@pytest.mark.parametrize("page", sorted(path.name for path in DOCS.glob("*.md") if bash_blocks(path)))
def test_bash_blocks_of_the_page_run(tmp_path: Path, page: str) -> None:
    env = {**users_environ(), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for block in bash_blocks(DOCS / page):
        script = block.replace(PLACEHOLDER, str(TEMPLATE_DIR))
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, f"{page}: {block}\n{result.stdout}\n{result.stderr}"
