"""One lock for every answer: each configuration's requirements, its DVC remote plugin included, are pinned in
`requirements-lock.txt` at versions its pyproject allows (`make install` installs with the lock as constraints,
so a requirement the lock misses would float)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.helpers import CONFIGURATIONS, generate

REMOTE_PLUGIN = {"none": None, "local": None, "s3": "dvc-s3", "gs": "dvc-gs", "azure": "dvc-azure"}


def requirements(project: Path) -> dict[str, list[Requirement]]:
    """The project's requirements by group: `core` and each optional extra."""
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    groups = {"core": metadata["dependencies"], **metadata["optional-dependencies"]}
    return {group: [Requirement(line) for line in lines] for group, lines in groups.items()}


def locked_versions(project: Path, python_version: str) -> dict[str, str]:
    """Name -> pinned version, for the pins whose environment marker holds on `python_version`."""
    environment = {
        **default_environment(),
        "python_version": python_version,
        "python_full_version": f"{python_version}.0",
    }
    pins: dict[str, str] = {}
    for line in (project / "requirements-lock.txt").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        pin = Requirement(line)
        if pin.marker is None or pin.marker.evaluate(environment):
            pins[canonicalize_name(pin.name)] = str(pin.specifier).removeprefix("==")
    return pins


@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_lock_pins_every_requirement_of_the_configuration(tmp_path: Path, name: str) -> None:
    answers = CONFIGURATIONS[name]
    project = generate(tmp_path, answers)
    python_version = answers.get("python_version", "3.11")
    pins = locked_versions(project, python_version)
    unpinned = {
        f"{group}: {requirement}"
        for group, group_requirements in requirements(project).items()
        for requirement in group_requirements
        if not requirement.specifier.contains(pins.get(canonicalize_name(requirement.name), "0"), prereleases=True)
    }
    assert not unpinned, f"not pinned in requirements-lock.txt at an allowed version: {sorted(unpinned)}"


@pytest.mark.parametrize("remote", sorted(REMOTE_PLUGIN))
def test_the_remote_plugin_comes_with_the_train_extra(tmp_path: Path, remote: str) -> None:
    project = generate(tmp_path, {"dvc_remote": remote})
    train = {canonicalize_name(requirement.name) for requirement in requirements(project)["train"]}
    plugins = {plugin for plugin in REMOTE_PLUGIN.values() if plugin is not None}
    expected = {REMOTE_PLUGIN[remote]} - {None}
    assert train & plugins == expected


STORE_PLUGIN = {"none": None, "local": None, "s3": "s3fs", "gs": "gcsfs", "azure": "adlfs"}


@pytest.mark.parametrize("remote", sorted(STORE_PLUGIN))
def test_the_store_plugin_comes_with_the_serve_extra(tmp_path: Path, remote: str) -> None:
    """The image (core + serve) writes the prediction log to the configured cloud's store."""
    project = generate(tmp_path, {"dvc_remote": remote})
    serve = {canonicalize_name(requirement.name) for requirement in requirements(project)["serve"]}
    plugins = {plugin for plugin in STORE_PLUGIN.values() if plugin is not None}
    assert "fsspec" in serve
    assert serve & plugins == {STORE_PLUGIN[remote]} - {None}
