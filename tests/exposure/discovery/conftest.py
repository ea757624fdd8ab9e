"""The discovery scenario's testbed (`area_discovery`), with Shodan paced for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from exposure.testbed.area_discovery import discovery_area
from exposure.testbed.runner import Testbed


@pytest_asyncio.fixture
async def tb() -> AsyncIterator[Testbed]:
    async with Testbed(discovery_area()) as testbed:
        assert testbed.shodan is not None
        testbed.shodan.rate_interval = 0.05
        yield testbed
