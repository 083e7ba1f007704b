"""The suite's clean-up (../conftest.py): a passed module's folders go when it ends, a failed module's stay."""

from __future__ import annotations

import uuid

import pytest

from tests.helpers import TEMPLATE_DIR

pytest_plugins = ["pytester"]

MODULE = """\
import pytest

@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("{name}")
    (folder / "venv").mkdir()
    return folder

def test_one(project, tmp_path):
    assert {outcome}

def test_two(project):
    assert project.is_dir()
"""


def test_a_passed_modules_folders_go_a_failed_modules_stay(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ACT_KIT_SESSION", f"inner-{uuid.uuid4().hex}")  # the inner run removes its images only
    pytester.makeconftest((TEMPLATE_DIR / "conftest.py").read_text())
    pytester.makepyfile(
        test_passes=MODULE.format(name="passing-project", outcome="True"),
        test_fails=MODULE.format(name="failing-project", outcome="False"),
    )
    base = pytester.path / "base"
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", f"--basetemp={base}")
    result.assert_outcomes(passed=3, failed=1)
    left = sorted(path.name for path in base.iterdir() if not path.is_symlink())
    assert left == ["failing-project0", "test_one0"]  # the failed test's tmp_path; the passed ones' went at once
