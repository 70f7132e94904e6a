from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
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


async def _notifications(service: Running, **params: str) -> list[dict[str, Any]]:
    response = await service.client.get("/v1/notifications", params=params, headers=auth())
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_stage_change_owes_the_candidate_a_pending_notice(
    notifier: Running, amqp: AbstractRobustConnection
) -> None:
    application = AnApplication()
    event = application.moved(sequence=2, to_stage=ROUND_1, reason="Strong AI interview")

    await deliver(amqp, event)

    async def listed() -> list[dict[str, Any]]:
        return await _notifications(notifier, application_id=str(application.id))

    [notification] = await wait_for(listed, what="the notification")
    assert notification["kind"] == "stage_changed"
    assert notification["recipient_kind"] == "candidate"
    assert notification["status"] == "pending"
    assert notification["application_id"] == str(application.id)
    assert notification["candidate_id"] == str(application.candidate_id)
    assert notification["data"] == {
        "job_id": str(application.job_id),
        "transition": "move",
        "from_stage": "ai_interview",
        "to_stage": "round_1",
        "to_stage_kind": "interview",
        "occurred_at": event.data["occurred_at"].replace("Z", "+00:00"),
    }


async def test_redelivered_event_owes_only_one_notice(
    notifier: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    application = AnApplication()
    event = application.moved(sequence=2)
    handled, duplicates = consumed("notifier", "handled"), consumed("notifier", "duplicate")

    await asyncio.gather(deliver(amqp, event), deliver(amqp, event))

    async def both_taken() -> bool:
        return (
            consumed("notifier", "handled") + consumed("notifier", "duplicate")
            == handled + duplicates + 2
        )

    await wait_for(both_taken, what="both copies to be acknowledged")
    assert consumed("notifier", "duplicate") == duplicates + 1
    assert len(await _notifications(notifier, application_id=str(application.id))) == 1
    inbox = await db.fetch("SELECT event_id FROM notifier.inbox")
    assert [row["event_id"] for row in inbox] == [event.id]


async def test_every_distinct_stage_change_owes_its_own_notice(
    notifier: Running, amqp: AbstractRobustConnection
) -> None:
    application = AnApplication()
    other = AnApplication(candidate_id=application.candidate_id)
    for event in (
        application.moved(sequence=2, to_stage=ROUND_1),
        application.moved(sequence=3, from_stage=ROUND_1, to_stage=ROUND_2),
        other.moved(sequence=2, to_stage=OFFER),
    ):
        await deliver(amqp, event)

    async def three() -> list[dict[str, Any]] | None:
        found = await _notifications(notifier, candidate_id=str(application.candidate_id))
        return found if len(found) == 3 else None

    by_candidate = await wait_for(three, what="three notifications")
    by_application = await _notifications(notifier, application_id=str(application.id))
    assert sorted(n["data"]["to_stage"] for n in by_candidate) == ["offer", "round_1", "round_2"]
    assert sorted(n["data"]["to_stage"] for n in by_application) == ["round_1", "round_2"]
    assert await _notifications(notifier, application_id=str(uuid.uuid4())) == []


async def test_notifications_are_listed_newest_first_page_by_page(
    notifier: Running, amqp: AbstractRobustConnection
) -> None:
    application = AnApplication()
    for sequence in range(2, 7):
        await deliver(amqp, application.moved(sequence=sequence))

    async def five() -> bool:
        return len(await _notifications(notifier, application_id=str(application.id))) == 5

    await wait_for(five, what="five notifications")
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        params = {"application_id": str(application.id), "limit": "2"}
        if cursor:
            params["cursor"] = cursor
        response = await notifier.client.get("/v1/notifications", params=params, headers=auth())
        pages.append(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break

    assert [len(page) for page in pages] == [2, 2, 1]
    listed = [n for page in pages for n in page]
    assert len({n["id"] for n in listed}) == 5
    keys = [(n["created_at"], n["id"]) for n in listed]
    assert keys == sorted(keys, reverse=True)


async def test_notifications_need_a_bearer_token(notifier_http: Running) -> None:
    response = await notifier_http.client.get("/v1/notifications")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_interviewers_may_not_list_notifications(notifier_http: Running) -> None:
    response = await notifier_http.client.get(
        "/v1/notifications", headers=auth("interviewer", "iv-dan")
    )

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"application_id": "not-a-uuid"}, "application_id"),
        ({"candidate_id": "42"}, "candidate_id"),
    ],
)
async def test_bad_notification_query_is_refused_naming_the_parameter(
    notifier_http: Running, params: dict[str, str], field: str
) -> None:
    response = await notifier_http.client.get("/v1/notifications", params=params, headers=auth())

    assert response.status_code == 422
    assert [(e["location"], e["field"]) for e in response.json()["errors"]] == [("query", field)]


async def test_foreign_cursor_is_a_bad_request(notifier_http: Running) -> None:
    response = await notifier_http.client.get(
        "/v1/notifications", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=auth()
    )

    assert response.status_code == 400
    assert response.json()["type"] == "urn:recruiting:problem:invalid-cursor"
