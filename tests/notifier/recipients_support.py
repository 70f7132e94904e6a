"""For the tests of recipients, chat robots and webhook endpoints: the notifier's HTTP side with
their routers mounted, and a way to count the statements a function runs."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import sqlalchemy as sa

from notifier.app import spec as notifier_spec
from notifier.endpoints.router import router as endpoints_router
from notifier.recipients.router import router as recipients_router
from notifier.robots.router import router as robots_router
from shared.crypto import Keyring, generate_key
from tests.support import environment
from tests.support.running import Running, running

# The app may already mount these routers (app.py is someone else's); add only what is missing.
SPEC = dataclasses.replace(
    notifier_spec,
    routers=[
        *notifier_spec.routers,
        *(
            router
            for router in (recipients_router, robots_router, endpoints_router)
            if router not in notifier_spec.routers
        ),
    ],
)

ADMIN = "admin-zhao"
HR = "hr-wang"


# A key added and made current, the run's original key kept for reading: a rotation under way.
NEW_KEY = "test-2"
ROTATED = {
    "pii_keys": {**environment.PII_KEYS, NEW_KEY: generate_key()},
    "pii_current_key": NEW_KEY,
}


@asynccontextmanager
async def notifier_api(**settings: Any) -> AsyncIterator[Running]:
    """The HTTP side only (no relay, consumers or timers), with settings overridden."""
    async with running(
        SPEC, ready=False, run_relay=False, run_consumers=False, run_timers=False, **settings
    ) as service:
        yield service


@contextmanager
def counting_statements(service: Running) -> Iterator[list[str]]:
    """The SQL statements run on the service's engine inside the block."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    engine = service.runtime.db.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def keyring_in(service: Running) -> Keyring:
    """The keyring the service seals with (as configured for it)."""
    return Keyring.from_settings(service.runtime.settings)
