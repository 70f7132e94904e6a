from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support import testkit
from tests.support.running import Running, api


@pytest.fixture
async def service() -> AsyncIterator[Running]:
    """The test kit's HTTP side with default settings."""
    async with api(testkit.spec) as running_service:
        yield running_service
