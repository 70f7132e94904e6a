from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from scheduler.app import spec as scheduler_spec
from tests.support.running import Running, api, running


@pytest.fixture
async def scheduler() -> AsyncIterator[Running]:
    """The whole service, consuming from its queue."""
    async with running(scheduler_spec) as service:
        yield service


@pytest.fixture
async def scheduler_http() -> AsyncIterator[Running]:
    """Only the HTTP side, for what needs no broker."""
    async with api(scheduler_spec) as service:
        yield service
