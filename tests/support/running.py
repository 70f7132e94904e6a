"""Run a service's app in-process, with its lifespan (runtime) started."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi import FastAPI

from shared.clock import Clock
from shared.http.app import create_app
from shared.service import Runtime, ServiceSpec


@dataclass
class Running:
    app: FastAPI
    client: httpx.AsyncClient
    runtime: Runtime


@asynccontextmanager
async def running(
    spec: ServiceSpec, *, clock: Clock | None = None, ready: bool = True, **overrides: Any
) -> AsyncIterator[Running]:
    """The service with everything on (relay, consumer, timers) unless overridden."""
    settings = spec.settings_class(**overrides)
    app = create_app(spec, settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            if ready:
                await wait_for(lambda: _is_ready(client), timeout=20, what=f"{spec.name} ready")
            yield Running(app, client, app.state.runtime)


@asynccontextmanager
async def api(
    spec: ServiceSpec, *, clock: Clock | None = None, **overrides: Any
) -> AsyncIterator[Running]:
    """Only the HTTP side: no relay, consumer, timers or workers (fast, and nothing leaves the
    process)."""
    settings = {
        "run_relay": False,
        "run_consumers": False,
        "run_timers": False,
        "run_workers": False,
        **overrides,
    }
    async with running(spec, clock=clock, ready=False, **settings) as service:
        yield service


async def _is_ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def wait_for(
    condition: Callable[[], Awaitable[Any]], *, timeout: float = 10.0, what: str = "condition"
) -> Any:
    """Poll until ``condition`` returns something truthy; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = await condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.05)
