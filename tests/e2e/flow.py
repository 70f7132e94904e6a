"""Steps of the slice, driven over HTTP against the running processes."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import aio_pika
import asyncpg
import httpx
from aio_pika.abc import AbstractQueue, AbstractRobustConnection

from tests.support import environment
from tests.support.tokens import auth

HR = auth("hr", "hr-e2e")
STAGES = [
    {
        "key": "ai_interview",
        "kind": "ai_interview",
        "name_zh": "AI面试",
        "name_en": "AI interview",
        "sla_days": 2,
    },
    {
        "key": "first_evaluation",
        "kind": "evaluation",
        "name_zh": "初评",
        "name_en": "First evaluation",
        "sla_days": 2,
    },
    {
        "key": "round_2",
        "kind": "interview",
        "name_zh": "二面",
        "name_en": "Second round",
        "sla_days": 3,
        "notify_candidate": True,
    },
]


async def create_application(
    http: httpx.AsyncClient, pipeline: str, *, email: str, full_name: str
) -> dict[str, Any]:
    job = await http.post(
        f"{pipeline}/v1/jobs", json={"title": "Backend engineer", "stages": STAGES}, headers=HR
    )
    assert job.status_code == 201, job.text
    application = await http.post(
        f"{pipeline}/v1/jobs/{job.json()['id']}/applications",
        json={"candidate": {"full_name": full_name, "email": email}},
        headers=HR,
    )
    assert application.status_code == 201, application.text
    body: dict[str, Any] = application.json()
    return body


async def move(
    http: httpx.AsyncClient,
    pipeline: str,
    application: dict[str, Any],
    to_stage: str,
    *,
    version: int,
    correlation_id: str | None = None,
) -> dict[str, Any]:
    headers = {**HR, "If-Match": f'"{version}"'}
    if correlation_id:
        headers["X-Correlation-ID"] = correlation_id
    response = await http.post(
        f"{pipeline}/v1/applications/{application['id']}/transitions",
        json={"transition": "move", "to_stage": to_stage, "reason": "e2e"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def unique_email() -> str:
    return f"cand-{uuid.uuid4().hex[:10]}@example.com"


# Helpers of the scheduling and pipeline flows (test_scheduling_flow, test_pipeline_flow).

ADMIN = auth("admin", "admin-e2e")
OTHER_HR = auth("hr", "hr-e2e-other")


async def create_job(
    http: httpx.AsyncClient,
    pipeline: str,
    *,
    stages: Sequence[dict[str, Any]] = STAGES,
    headers: dict[str, str] = HR,
    **fields: Any,
) -> dict[str, Any]:
    response = await http.post(
        f"{pipeline}/v1/jobs",
        json={"title": "Backend engineer", "stages": list(stages), **fields},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def apply_to(
    http: httpx.AsyncClient, pipeline: str, job: dict[str, Any], *, full_name: str
) -> dict[str, Any]:
    response = await http.post(
        f"{pipeline}/v1/jobs/{job['id']}/applications",
        json={"candidate": {"full_name": full_name, "email": unique_email()}},
        headers=HR,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def body_when(
    http: httpx.AsyncClient,
    url: str,
    ok: Callable[[Any], bool] = lambda body: True,
    *,
    headers: dict[str, str] = HR,
) -> Any:
    """For ``wait_for``: the JSON body once the GET answers 200 and ``ok(body)`` holds."""
    response = await http.get(url, headers=headers)
    if response.status_code == 200 and ok(response.json()):
        return response.json()
    return None


async def scheduler_knows_job(
    http: httpx.AsyncClient, scheduler: str, job_id: str, *, headers: dict[str, str] = HR
) -> bool:
    """For ``wait_for``: the scheduler's jobs projection lets the caller see the job (its
    invitation board answers 200 rather than 404)."""
    response = await http.get(
        f"{scheduler}/v1/invitations/board", params={"job_id": job_id}, headers=headers
    )
    return response.status_code == 200


async def published_event(
    db: asyncpg.Connection, service: str, event_type: str, subject: str
) -> dict[str, Any] | None:
    """For ``wait_for``: the envelope of ``event_type`` about ``subject`` in the service's
    outbox, once its relay has marked it published."""
    row = await db.fetchrow(
        f"""SELECT payload, published_at FROM {service}.outbox
            WHERE event_type = $1 AND subject = $2 ORDER BY id LIMIT 1""",  # noqa: S608
        event_type,
        subject,
    )
    if row is None or row["published_at"] is None:
        return None
    payload = row["payload"]
    envelope: dict[str, Any] = json.loads(payload) if isinstance(payload, str) else payload
    return envelope


@contextlib.asynccontextmanager
async def listening(
    connection: AbstractRobustConnection, event_types: Sequence[str]
) -> AsyncIterator[AbstractQueue]:
    """A queue of the test's own, bound to the run's events exchange for ``event_types``:
    what the services publish through the broker, as any consumer would get it."""
    channel = await connection.channel()
    try:
        exchange = await channel.get_exchange(f"{environment.BROKER_NAMESPACE}.events")
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for event_type in event_types:
            await queue.bind(exchange, routing_key=event_type)
        yield queue
    finally:
        with contextlib.suppress(Exception):
            await channel.close()


async def received(
    queue: AbstractQueue, seen: list[dict[str, Any]], event_type: str, subject: str
) -> dict[str, Any] | None:
    """For ``wait_for``: take what has arrived in ``queue`` into ``seen``; the first message
    of ``event_type`` about ``subject`` (its decoded body), if any."""
    while (message := await queue.get(no_ack=True, fail=False)) is not None:
        assert isinstance(message, aio_pika.abc.AbstractIncomingMessage)
        seen.append({"routing_key": message.routing_key, "body": json.loads(message.body)})
    for item in seen:
        if item["routing_key"] == event_type and item["body"].get("subject") == subject:
            body: dict[str, Any] = item["body"]
            return body
    return None
