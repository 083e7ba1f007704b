"""The suite's clean-up, for every test folder (tests/, tools/*/tests).

A full run installs a project per slow module (about 1 GB each) and builds serving images: a module's temporary
folders go once the module has passed (a failed module keeps them to look at) and the images the session built go
when it ends (each build is labelled with the session: ACT_KIT_SESSION), so disk use stays at a few modules' worth
instead of growing with the suite, and a session never removes another's images.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Generator, Iterator

import pytest

from actkit.podman import remove_session_images

MODULE_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    module = item.getparent(pytest.Module)
    if report.failed and module is not None:
        module.stash[MODULE_FAILED] = True
    return report


@pytest.fixture(scope="module", autouse=True)
def module_folders_removed_once_passed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """The temporary folders a module's tests and fixtures made go when the module is done, unless a test failed."""
    base = tmp_path_factory.getbasetemp()
    before = set(base.iterdir())
    yield
    if not request.node.stash.get(MODULE_FAILED, False):
        for folder in set(base.iterdir()) - before:
            shutil.rmtree(folder, ignore_errors=True)


def _is_controller(config: pytest.Config) -> bool:
    return not hasattr(config, "workerinput")  # pytest-xdist's workers have it; the one process that ends last not


def pytest_configure(config: pytest.Config) -> None:
    """One session id for the run: the controller sets it before xdist starts its workers, which inherit it."""
    if _is_controller(config):
        os.environ.setdefault("ACT_KIT_SESSION", uuid.uuid4().hex)


def pytest_sessionfinish(session: pytest.Session) -> None:
    if _is_controller(session.config):
        remove_session_images(os.environ["ACT_KIT_SESSION"])
