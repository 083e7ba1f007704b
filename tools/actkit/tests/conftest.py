"""Registers the `slow` marker for the kit's own tests (harmless if registered elsewhere too)."""

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: runs act/podman end to end (tens of seconds or more)")
