"""No route of any service runs a dependency or its endpoint in the thread pool.

FastAPI runs a plain ``def`` dependency or endpoint in a worker thread: a thread hop on every
request, and requests waiting for a free thread under load. Everything our routes depend on is
cheap and non-blocking, so it is ``async def``."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

SERVICES = ["pipeline", "scheduler", "notifier", "talentpool"]


def _runs_in_thread(call: Any) -> bool:
    if inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call):
        return False
    method = getattr(call, "__call__", None)  # noqa: B004  (instances with async __call__)
    return not (inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method))


def _threaded(dependant: Dependant) -> set[str]:
    found: set[str] = set()
    for sub in dependant.dependencies:
        if sub.call is not None and _runs_in_thread(sub.call):
            found.add(f"{sub.call.__module__}.{getattr(sub.call, '__qualname__', sub.call)}")
        found |= _threaded(sub)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_and_dependency_is_async(service: str) -> None:
    app = importlib.import_module(f"{service}.app").create()
    routes = [route for route in app.routes if isinstance(route, APIRoute)]

    threaded = {
        f"{sorted(route.methods or ())} {route.path}": found
        for route in routes
        if (
            found := _threaded(route.dependant)
            | ({"endpoint"} if _runs_in_thread(route.endpoint) else set())
        )
    }

    assert routes
    assert threaded == {}
