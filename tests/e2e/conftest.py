from __future__ import annotations

import base64
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from aio_pika.abc import AbstractRobustConnection

from tests.support import cleanup, processes
from tests.support.running import wait_for

SERVICES = ("pipeline", "scheduler", "notifier", "talentpool")
# The AI-interview vendor whose webhooks the pipeline process accepts, with a Standard Webhooks
# secret made for this test run only (never stored anywhere).
VENDOR = "e2e-vendor"
VENDOR_SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
# Settings a service process needs beyond the run-wide environment (tests/support/environment).
SERVICE_ENVIRONMENT = {
    "pipeline": {"PIPELINE_VENDOR_SECRETS": json.dumps({VENDOR: [VENDOR_SECRET]})},
    # No quiet hours (equal ends), so what a test triggers is sent whatever the time of day.
    "notifier": {"NOTIFIER_DEFAULT_QUIET_START": "00:00", "NOTIFIER_DEFAULT_QUIET_END": "00:00"},
}


class Suite:
    def __init__(self, services: dict[str, processes.ServiceProcess]) -> None:
        self.services = services

    def url(self, name: str) -> str:
        return self.services[name].url

    async def all_ready(self, client: httpx.AsyncClient) -> bool:
        for service in self.services.values():
            assert service.alive(), f"{service.name} exited; see {service.log_path}"
            try:
                response = await client.get(f"{service.url}/readyz")
            except httpx.TransportError:
                return False
            if response.status_code != 200:
                return False
        return True


@pytest.fixture(scope="module")
async def suite(
    tmp_path_factory: pytest.TempPathFactory,
    admin_connection: asyncpg.Connection,
    amqp: AbstractRobustConnection,
) -> AsyncIterator[Suite]:
    log_dir: Path = tmp_path_factory.mktemp("service-logs")
    started: dict[str, processes.ServiceProcess] = {}
    for name in SERVICES:
        extra = dict(SERVICE_ENVIRONMENT.get(name, {}))
        if name in ("notifier", "talentpool"):
            # The notifier and the talent pool ask the pipeline for candidates' contacts.
            extra[f"{name.upper()}_PIPELINE_URL"] = started["pipeline"].url
        started[name] = processes.start(name, log_dir, **extra)
    try:
        yield Suite(started)
    finally:
        for service in started.values():
            service.stop()
        # The services kept working after the last test's cleanup until they stopped (events
        # still arriving, the dispatcher, timers): what they wrote or published meanwhile must
        # not leak into the tests that follow.
        await cleanup.clean(admin_connection, amqp)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


@pytest.fixture
async def ready_suite(suite: Suite, http: httpx.AsyncClient) -> Suite:
    await wait_for(lambda: suite.all_ready(http), timeout=60, what="all four services ready")
    return suite
