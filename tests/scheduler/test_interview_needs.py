from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from aio_pika.abc import AbstractRobustConnection

from scheduler.app import spec as scheduler_spec
from shared.clock import ManualClock
from shared.events.envelope import CloudEvent
from tests.pipeline.stage_changed_events import (
    AI_INTERVIEW,
    OFFER,
    ROUND_1,
    ROUND_2,
    AnApplication,
    consumed,
    deliver,
)
from tests.support.running import Running, running, wait_for
from tests.support.tokens import auth

MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


async def _need(service: Running, application: AnApplication) -> httpx.Response:
    return await service.client.get(f"/v1/interview-needs/{application.id}", headers=auth())


async def _handled(service: Running, amqp: AbstractRobustConnection, *events: CloudEvent) -> None:
    """Deliver the events one after another, each acknowledged before the next is sent, so
    the order the scheduler sees them in is the order given."""
    for event in events:
        before = consumed("scheduler", "handled")
        await deliver(amqp, event)

        async def taken(before: float = before) -> bool:
            return consumed("scheduler", "handled") > before

        await wait_for(taken, what=f"event {event.sequence} to be handled")


async def _need_with(
    service: Running, application: AnApplication, **expected: Any
) -> dict[str, Any]:
    async def matches() -> dict[str, Any] | None:
        response = await _need(service, application)
        if response.status_code != 200:
            return None
        need: dict[str, Any] = response.json()
        return need if all(need[k] == v for k, v in expected.items()) else None

    found: dict[str, Any] = await wait_for(matches, what=f"an interview need with {expected}")
    return found


async def test_entering_an_interview_stage_opens_a_need(
    scheduler: Running, amqp: AbstractRobustConnection
) -> None:
    application = AnApplication()

    await deliver(amqp, application.moved(sequence=2, to_stage=ROUND_1, occurred_at=MONDAY))

    need = await _need_with(scheduler, application, status="open")
    assert need["application_id"] == str(application.id)
    assert need["job_id"] == str(application.job_id)
    assert need["candidate_id"] == str(application.candidate_id)
    assert need["stage_key"] == "round_1"
    assert need["application_version"] == 2
    assert need["opened_at"] == "2025-03-03T09:00:00Z"


async def test_moving_on_to_a_stage_that_is_no_interview_withdraws_the_need(
    scheduler: Running, amqp: AbstractRobustConnection
) -> None:
    application = AnApplication()

    await _handled(
        scheduler,
        amqp,
        application.moved(sequence=2, to_stage=ROUND_1),
        application.moved(sequence=3, from_stage=ROUND_1, to_stage=OFFER),
    )

    need = (await _need(scheduler, application)).json()
    assert need["status"] == "withdrawn"
    assert need["application_version"] == 3
    assert need["stage_key"] == "round_1"


async def test_moving_from_one_interview_stage_to_another_keeps_the_need_open(
    scheduler: Running, amqp: AbstractRobustConnection
) -> None:
    application = AnApplication()

    await _handled(
        scheduler,
        amqp,
        application.moved(sequence=2, to_stage=ROUND_1, occurred_at=MONDAY),
        application.moved(
            sequence=3,
            from_stage=ROUND_1,
            to_stage=ROUND_2,
            occurred_at=MONDAY + timedelta(days=1),
        ),
    )

    need = (await _need(scheduler, application)).json()
    assert (need["status"], need["stage_key"], need["application_version"]) == (
        "open",
        "round_2",
        3,
    )
    assert need["opened_at"] == "2025-03-04T09:00:00Z"


async def test_returning_to_an_interview_stage_reopens_a_withdrawn_need(
    scheduler: Running, amqp: AbstractRobustConnection
) -> None:
    application = AnApplication()

    await _handled(
        scheduler,
        amqp,
        application.moved(sequence=2, to_stage=ROUND_1),
        application.moved(sequence=3, from_stage=ROUND_1, to_stage=OFFER),
        application.moved(sequence=4, from_stage=OFFER, to_stage=ROUND_2),
    )

    need = (await _need(scheduler, application)).json()
    assert (need["status"], need["stage_key"], need["application_version"]) == (
        "open",
        "round_2",
        4,
    )


async def test_older_event_arriving_after_a_newer_one_is_ignored(
    scheduler: Running, amqp: AbstractRobustConnection
) -> None:
    application = AnApplication()

    await _handled(
        scheduler,
        amqp,
        application.moved(sequence=2, to_stage=ROUND_1),
        application.moved(sequence=4, from_stage=ROUND_2, to_stage=OFFER),
        # Version 3 was delayed (say, by a retry) and arrives last: it must not reopen the need.
        application.moved(sequence=3, from_stage=ROUND_1, to_stage=ROUND_2),
    )

    need = (await _need(scheduler, application)).json()
    assert (need["status"], need["stage_key"], need["application_version"]) == (
        "withdrawn",
        "round_1",
        4,
    )


async def test_older_interview_event_arriving_after_the_application_moved_on_opens_nothing(
    scheduler: Running, amqp: AbstractRobustConnection
) -> None:
    application = AnApplication()

    await _handled(
        scheduler,
        amqp,
        application.moved(sequence=3, from_stage=ROUND_1, to_stage=OFFER),
        application.moved(sequence=2, from_stage=AI_INTERVIEW, to_stage=ROUND_1),
    )

    assert (await _need(scheduler, application)).status_code == 404


async def test_older_withdrawal_does_not_close_a_newer_need(
    scheduler: Running, amqp: AbstractRobustConnection
) -> None:
    application = AnApplication()

    await _handled(
        scheduler,
        amqp,
        application.moved(sequence=4, from_stage=OFFER, to_stage=ROUND_2),
        application.moved(sequence=3, from_stage=ROUND_1, to_stage=OFFER),
    )

    need = (await _need(scheduler, application)).json()
    assert (need["status"], need["stage_key"], need["application_version"]) == (
        "open",
        "round_2",
        4,
    )


async def test_stage_that_is_no_interview_creates_no_need(
    scheduler: Running, amqp: AbstractRobustConnection
) -> None:
    application = AnApplication()

    await _handled(
        scheduler, amqp, application.moved(sequence=2, from_stage=AI_INTERVIEW, to_stage=OFFER)
    )

    response = await _need(scheduler, application)
    assert response.status_code == 404
    assert response.json()["type"] == "urn:recruiting:problem:not-found"
    listed = await scheduler.client.get("/v1/interview-needs", headers=auth())
    assert listed.json()["items"] == []


async def test_redelivered_event_has_one_effect(
    amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    clock = ManualClock(MONDAY)
    application = AnApplication()
    event = application.moved(sequence=2, to_stage=ROUND_1, occurred_at=MONDAY)
    async with running(scheduler_spec, clock=clock) as scheduler:
        await _handled(scheduler, amqp, event)
        first = (await _need(scheduler, application)).json()
        clock.advance(timedelta(hours=1))
        duplicates = consumed("scheduler", "duplicate")

        await deliver(amqp, event)

        async def skipped() -> bool:
            return consumed("scheduler", "duplicate") == duplicates + 1

        await wait_for(skipped, what="the copy to be recognised")
        again = (await _need(scheduler, application)).json()

    assert again == first
    assert again["updated_at"] == "2025-03-03T09:00:00Z"
    inbox = await db.fetchval("SELECT count(*) FROM scheduler.inbox WHERE event_id = $1", event.id)
    # One inbox row per handler of stage_changed (invitations handle it too).
    assert inbox == len(scheduler_spec.handlers.for_type(event.type))


async def test_needs_are_listed_oldest_first_and_filtered_by_status(
    scheduler: Running, amqp: AbstractRobustConnection
) -> None:
    applications = [AnApplication() for _ in range(5)]
    withdrawn = applications[1]

    async def listed(**params: str) -> list[str]:
        seen: list[str] = []
        cursor: str | None = None
        while True:
            query = {**params, "limit": "2", **({"cursor": cursor} if cursor else {})}
            response = await scheduler.client.get(
                "/v1/interview-needs", params=query, headers=auth()
            )
            assert response.status_code == 200, response.text
            assert len(response.json()["items"]) <= 2
            seen += [need["application_id"] for need in response.json()["items"]]
            cursor = response.json()["next_cursor"]
            if cursor is None:
                return seen

    async def five_open() -> bool:
        return len(await listed(status="open")) == 5

    # Opened on five consecutive days, delivered in another order.
    for day in (3, 0, 4, 1, 2):
        await deliver(
            amqp,
            applications[day].moved(
                sequence=2, to_stage=ROUND_1, occurred_at=MONDAY + timedelta(days=day)
            ),
        )
    await wait_for(five_open, what="five open needs")
    await _handled(scheduler, amqp, withdrawn.moved(sequence=3, to_stage=OFFER))

    assert await listed() == [str(a.id) for a in applications]
    assert await listed(status="open") == [str(a.id) for a in applications if a != withdrawn]
    assert await listed(status="withdrawn") == [str(withdrawn.id)]


async def test_interview_needs_need_a_bearer_token(scheduler_http: Running) -> None:
    listed = await scheduler_http.client.get("/v1/interview-needs")
    one = await scheduler_http.client.get(f"/v1/interview-needs/{uuid.uuid4()}")

    assert listed.status_code == one.status_code == 401


async def test_interviewers_may_not_read_interview_needs(scheduler_http: Running) -> None:
    headers = auth("interviewer", "iv-dan")

    listed = await scheduler_http.client.get("/v1/interview-needs", headers=headers)
    one = await scheduler_http.client.get(f"/v1/interview-needs/{uuid.uuid4()}", headers=headers)

    assert listed.status_code == one.status_code == 403


async def test_unknown_application_has_no_need(scheduler_http: Running) -> None:
    response = await scheduler_http.client.get(
        f"/v1/interview-needs/{uuid.uuid4()}", headers=auth()
    )

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "bogus"}, "status"), ({"limit": "0"}, "limit"), ({"limit": "201"}, "limit")],
)
async def test_bad_interview_need_query_is_refused_naming_the_parameter(
    scheduler_http: Running, params: dict[str, str], field: str
) -> None:
    response = await scheduler_http.client.get("/v1/interview-needs", params=params, headers=auth())

    assert response.status_code == 422
    assert [(e["location"], e["field"]) for e in response.json()["errors"]] == [("query", field)]


async def test_malformed_application_id_is_refused(scheduler_http: Running) -> None:
    response = await scheduler_http.client.get("/v1/interview-needs/42", headers=auth())

    assert response.status_code == 422
    assert [(e["location"], e["field"]) for e in response.json()["errors"]] == [
        ("path", "application_id")
    ]
