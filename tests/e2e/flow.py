"""Steps of the slice, driven over HTTP against the running processes."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

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
