"""Liveness, readiness and Prometheus metrics, the same on every service."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from shared.http.dependencies import RuntimeDep
from shared.http.errors import problem_response

router = APIRouter(tags=["operations"])


@router.get(
    "/livez",
    summary="The process is up",
    responses={200: {"content": {"application/json": {"example": {"status": "alive"}}}}},
)
async def livez() -> dict[str, str]:
    return {"status": "alive"}


@router.get(
    "/readyz",
    summary="Database, broker, consumer, relay and timers are all working",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {"status": "ready", "checks": {"database": True, "broker": True}}
                }
            }
        },
        503: {"description": "Not ready; `checks` says which part is down"},
    },
)
async def readyz(runtime: RuntimeDep) -> Response:
    checks = await runtime.readiness()
    if all(checks.values()):
        body: dict[str, Any] = {"status": "ready", "checks": checks}
        return Response(content=orjson.dumps(body), media_type="application/json")
    failing = ", ".join(name for name, ok in checks.items() if not ok)
    return problem_response(
        503,
        {
            "type": "urn:recruiting:problem:not-ready",
            "title": "Not ready",
            "status": 503,
            "detail": f"Not working: {failing}.",
            "checks": checks,
        },
        headers={"Retry-After": "5"},
    )


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    return Response(content=generate_latest(), media_type=CONTENT_TYPE_LATEST)
