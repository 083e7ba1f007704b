"""The suite's clean-up, for every test folder (tests/, tools/*/tests).

A full run installs a project per slow module (about 1 GB each) and builds serving images: a module's temporary
folders go once the module has passed (a failed module keeps them to look at) and the images the session built go
when it ends, so disk use stays at a few modules' worth instead of growing with the suite.
"""

from __future__ import annotations

import shutil
from collections.abc import Generator, Iterator

import pytest

from actkit.podman import image_ids, remove_images_since

MODULE_FAILED = pytest.StashKey[bool]()
IMAGES_BEFORE = pytest.StashKey[set[str]]()


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


def pytest_sessionstart(session: pytest.Session) -> None:
    if _is_controller(session.config):
        session.config.stash[IMAGES_BEFORE] = image_ids()


def pytest_sessionfinish(session: pytest.Session) -> None:
    before = session.config.stash.get(IMAGES_BEFORE, None)
    if _is_controller(session.config) and before is not None:
        remove_images_since(before)
