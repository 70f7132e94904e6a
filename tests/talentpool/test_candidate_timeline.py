from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from aio_pika.abc import AbstractRobustConnection

from tests.pipeline.stage_changed_events import (
    OFFER,
    ROUND_1,
    ROUND_2,
    AnApplication,
    consumed,
    deliver,
)
from tests.support.running import Running, wait_for
from tests.support.tokens import auth

MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


async def _timeline(service: Running, candidate_id: uuid.UUID, **params: str) -> httpx.Response:
    return await service.client.get(
        f"/v1/candidates/{candidate_id}/timeline", params=params, headers=auth()
    )


async def _entries(service: Running, candidate_id: uuid.UUID, count: int) -> list[dict[str, Any]]:
    async def listed() -> list[dict[str, Any]] | None:
        response = await _timeline(service, candidate_id)
        if response.status_code != 200:
            return None
        items: list[dict[str, Any]] = response.json()["items"]
        return items if len(items) == count else None

    found: list[dict[str, Any]] = await wait_for(listed, what=f"{count} timeline entries")
    return found


async def test_stage_change_is_added_to_the_candidates_timeline(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    application = AnApplication()

    await deliver(
        amqp,
        application.moved(
            sequence=2, to_stage=ROUND_1, reason="Strong AI interview", occurred_at=MONDAY
        ),
    )

    [entry] = await _entries(talentpool, application.candidate_id, 1)
    assert entry["kind"] == "stage_changed"
    assert entry["application_id"] == str(application.id)
    assert entry["occurred_at"] == "2025-03-03T09:00:00Z"
    assert entry["data"] == {
        "job_id": str(application.job_id),
        "transition": "move",
        "from_stage": "ai_interview",
        "to_stage": "round_1",
        "reason": "Strong AI interview",
    }


async def test_timeline_spans_the_candidates_applications_newest_first_page_by_page(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    backend = AnApplication()
    frontend = AnApplication(candidate_id=backend.candidate_id)
    stranger = AnApplication()
    events = [
        backend.moved(sequence=2, to_stage=ROUND_1, occurred_at=MONDAY),
        frontend.moved(sequence=2, to_stage=ROUND_1, occurred_at=MONDAY + timedelta(days=1)),
        backend.moved(
            sequence=3, from_stage=ROUND_1, to_stage=ROUND_2, occurred_at=MONDAY + timedelta(2)
        ),
        frontend.moved(
            sequence=3, from_stage=ROUND_1, to_stage=OFFER, occurred_at=MONDAY + timedelta(3)
        ),
        stranger.moved(sequence=2, occurred_at=MONDAY + timedelta(days=4)),
    ]
    # Delivered out of order: the timeline is ordered by when things happened.
    for index in (3, 0, 4, 2, 1):
        await deliver(amqp, events[index])
    await _entries(talentpool, backend.candidate_id, 4)

    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        response = await _timeline(talentpool, backend.candidate_id, **params)
        assert response.status_code == 200
        pages.append(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break

    assert [len(page) for page in pages] == [3, 1]
    listed = [(entry["application_id"], entry["data"]["to_stage"]) for p in pages for entry in p]
    assert listed == [
        (str(frontend.id), "offer"),
        (str(backend.id), "round_2"),
        (str(frontend.id), "round_1"),
        (str(backend.id), "round_1"),
    ]


async def test_candidate_first_and_last_seen_follow_when_things_happened(
    talentpool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    application = AnApplication()
    # The later move is delivered first.
    for event in (
        application.moved(sequence=3, to_stage=OFFER, occurred_at=MONDAY + timedelta(days=2)),
        application.moved(sequence=2, to_stage=ROUND_1, occurred_at=MONDAY),
    ):
        await deliver(amqp, event)
    await _entries(talentpool, application.candidate_id, 2)

    candidate = await db.fetchrow(
        "SELECT first_seen_at, last_activity_at FROM talentpool.candidates WHERE id = $1",
        application.candidate_id,
    )

    assert candidate is not None
    assert candidate["first_seen_at"] == MONDAY
    assert candidate["last_activity_at"] == MONDAY + timedelta(days=2)


async def test_redelivered_event_is_on_the_timeline_once(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    application = AnApplication()
    event = application.moved(sequence=2)
    handled, duplicates = consumed("talentpool", "handled"), consumed("talentpool", "duplicate")

    await asyncio.gather(deliver(amqp, event), deliver(amqp, event))

    async def both_taken() -> bool:
        return (
            consumed("talentpool", "handled") + consumed("talentpool", "duplicate")
            == handled + duplicates + 2
        )

    await wait_for(both_taken, what="both copies to be acknowledged")
    assert consumed("talentpool", "duplicate") == duplicates + 1
    response = await _timeline(talentpool, application.candidate_id)
    assert len(response.json()["items"]) == 1


async def test_unknown_candidate_has_no_timeline(talentpool_http: Running) -> None:
    response = await _timeline(talentpool_http, uuid.uuid4())

    assert response.status_code == 404
    assert response.json()["type"] == "urn:recruiting:problem:not-found"


async def test_timeline_needs_a_bearer_token(talentpool_http: Running) -> None:
    response = await talentpool_http.client.get(f"/v1/candidates/{uuid.uuid4()}/timeline")

    assert response.status_code == 401


async def test_interviewers_may_not_read_timelines(talentpool_http: Running) -> None:
    response = await talentpool_http.client.get(
        f"/v1/candidates/{uuid.uuid4()}/timeline", headers=auth("interviewer", "iv-dan")
    )

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("path", "params", "location", "field"),
    [
        ("/v1/candidates/{id}/timeline", {"limit": "0"}, "query", "limit"),
        ("/v1/candidates/{id}/timeline", {"limit": "500"}, "query", "limit"),
        ("/v1/candidates/not-a-uuid/timeline", {}, "path", "candidate_id"),
    ],
)
async def test_bad_timeline_request_is_refused_naming_the_parameter(
    talentpool_http: Running, path: str, params: dict[str, str], location: str, field: str
) -> None:
    response = await talentpool_http.client.get(
        path.format(id=uuid.uuid4()), params=params, headers=auth()
    )

    assert response.status_code == 422
    assert [(e["location"], e["field"]) for e in response.json()["errors"]] == [(location, field)]
