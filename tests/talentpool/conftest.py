from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aio_pika.abc import AbstractRobustConnection

from shared.events.envelope import CloudEvent
from talentpool.app import spec as talentpool_spec
from tests.support.running import Running, api, running
from tests.talentpool.profiles_support import deliver_all


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


@pytest.fixture
def deliver_events(
    amqp: AbstractRobustConnection,
) -> Callable[..., Awaitable[None]]:
    """``await deliver_events(*events)``: publish CloudEvents (built with
    ``tests.talentpool.profiles_support``: ``AnApplication(...).applied()``, ``job_changed``...)
    as their producers do, and wait until the running talent pool has taken every one."""

    async def deliver(*events: CloudEvent) -> None:
        await deliver_all(amqp, *events)

    return deliver
