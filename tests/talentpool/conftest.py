from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from talentpool.app import spec as talentpool_spec
from tests.support.running import Running, api, running


@pytest.fixture
async def talentpool() -> AsyncIterator[Running]:
    """The whole service, consuming from its queue."""
    async with running(talentpool_spec) as service:
        yield service


@pytest.fixture
async def talentpool_http() -> AsyncIterator[Running]:
    """Only the HTTP side, for what needs no broker."""
    async with api(talentpool_spec) as service:
        yield service
