from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from notifier.app import spec as notifier_spec
from tests.support.running import Running, api, running


@pytest.fixture
async def notifier() -> AsyncIterator[Running]:
    """The whole service, consuming from its queue."""
    async with running(notifier_spec) as service:
        yield service


@pytest.fixture
async def notifier_http() -> AsyncIterator[Running]:
    """Only the HTTP side, for what needs no broker."""
    async with api(notifier_spec) as service:
        yield service
