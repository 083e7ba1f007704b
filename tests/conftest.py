"""Fixtures shared by the template's tests (helpers they import are in helpers.py; the clean-up in ../conftest.py)."""

from __future__ import annotations

import pytest

from tests.helpers import CONFIGURATIONS


@pytest.fixture(params=sorted(CONFIGURATIONS))
def configuration(request: pytest.FixtureRequest) -> tuple[str, dict[str, str]]:
    return request.param, CONFIGURATIONS[request.param]
