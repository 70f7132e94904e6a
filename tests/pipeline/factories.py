"""Request bodies and API calls the pipeline tests arrange their state with."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import httpx

from tests.support import database
from tests.support.tokens import auth

HR = "hr-alice"

# A template with two interview stages in the middle, so moves into, between and out of
# interview stages can all be made.
STAGES: list[dict[str, Any]] = [
    {
        "key": "ai_interview",
        "kind": "ai_interview",
        "name_zh": "AI面试",
        "name_en": "AI interview",
        "sla_days": 2,
    },
    {
        "key": "round_1",
        "kind": "interview",
        "name_zh": "一面",
        "name_en": "First round",
        "sla_days": 3,
    },
    {
        "key": "round_2",
        "kind": "interview",
        "name_zh": "二面",
        "name_en": "Second round",
        "sla_days": 3,
    },
    {"key": "offer", "kind": "offer", "name_zh": "录用", "name_en": "Offer", "sla_days": 5},
]
STAGE_KEYS = [stage["key"] for stage in STAGES]


def job_body(
    title: str = "Backend engineer",
    *,
    stages: Sequence[dict[str, Any]] | None = STAGES,
    owner_ids: Sequence[str] = (),
    **fields: Any,
) -> dict[str, Any]:
    """A job's body; ``stages=None`` leaves the stages out (to use a template)."""
    body: dict[str, Any] = {
        "title": title,
        "department": "Platform",
        "location": "Shanghai",
        "owner_ids": list(owner_ids),
        **fields,
    }
    if stages is not None:
        body["stages"] = list(stages)
    return body


async def ensure_release_policy(job_type: str = "basic", *, mode: str = "immediate") -> None:
    """A release policy for ``job_type`` (a job needs one); tests empty every table after
    each test, so a policy seeded by a migration would not survive."""
    connection = await asyncpg.connect(database.test_dsn())
    try:
        await connection.execute(
            """INSERT INTO pipeline.release_policies
                   (job_type, mode, approver_ids, updated_by, updated_at)
               VALUES ($1, $2, '{}', 'tests', now())
               ON CONFLICT (job_type) DO NOTHING""",
            job_type,
            mode,
        )
    finally:
        await connection.close()


async def create_job(
    client: httpx.AsyncClient,
    *,
    hr: str = HR,
    title: str = "Backend engineer",
    job_type: str = "basic",
    **fields: Any,
) -> dict[str, Any]:
    await ensure_release_policy(job_type)
    response = await client.post(
        "/v1/jobs", json=job_body(title, job_type=job_type, **fields), headers=auth("hr", hr)
    )
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()
    return job


async def create_template(
    client: httpx.AsyncClient,
    *,
    hr: str = HR,
    name: str = "Engineering",
    stages: Sequence[dict[str, Any]] = STAGES,
) -> dict[str, Any]:
    response = await client.post(
        "/v1/stage-templates",
        json={"name": name, "stages": list(stages)},
        headers=auth("hr", hr),
    )
    assert response.status_code == 201, response.text
    template: dict[str, Any] = response.json()
    return template


def application_body(
    email: str = "li.lei@example.com",
    name: str = "Li Lei",
    *,
    phone: str | None = None,
    locale: str | None = None,
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"full_name": name, "email": email}
    if phone is not None:
        candidate["phone"] = phone
    if locale is not None:
        candidate["locale"] = locale
    return {"candidate": candidate}


async def apply(
    client: httpx.AsyncClient,
    job_id: str,
    *,
    email: str = "li.lei@example.com",
    hr: str = HR,
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/jobs/{job_id}/applications", json=application_body(email), headers=auth("hr", hr)
    )
    assert response.status_code == 201, response.text
    application: dict[str, Any] = response.json()
    return application


async def transition(
    client: httpx.AsyncClient,
    application_id: str,
    body: dict[str, Any],
    *,
    if_match: str | None = None,
    hr: str = HR,
) -> httpx.Response:
    headers = auth("hr", hr)
    if if_match is not None:
        headers["If-Match"] = if_match
    return await client.post(
        f"/v1/applications/{application_id}/transitions", json=body, headers=headers
    )
