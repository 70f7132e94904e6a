"""Notifications owed because of events: one per (event, kind, recipient) however often the
event arrives, listed for the HR who own the job and for admins. The dispatcher is off here,
so what is owed stays pending (``test_dispatch.py`` sends it)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from notifier.app import spec as notifier_spec
from shared.events.pipeline import Actor, StageChangedV1, StageRef
from tests.notifier.dispatch_support import envelope, job_changed, stage_passed
from tests.support.broker import publish
from tests.support.problems import assert_problem
from tests.support.running import Running, running, wait_for
from tests.support.tokens import auth

ADMIN = auth("admin", "root")


@pytest.fixture
async def notifier() -> AsyncIterator[Running]:
    """Consuming from the broker, without sending anything."""
    async with running(notifier_spec, run_workers=False) as service:
        yield service


async def _send(amqp: AbstractRobustConnection, event: Any) -> None:
    await publish(
        amqp,
        event.model_dump_json(exclude_none=True).encode(),
        routing_key=event.type,
        message_type=event.type,
    )


async def _list(service: Running, headers: dict[str, str] = ADMIN, **params: str) -> list[Any]:
    response = await service.client.get("/v1/notifications", params=params, headers=headers)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


async def test_a_stage_the_candidate_is_told_about_owes_them_a_notice(
    notifier: Running, amqp: AbstractRobustConnection
) -> None:
    candidate, job = uuid.uuid4(), uuid.uuid4()
    event = stage_passed(candidate, job_id=job)
    await _send(amqp, event)

    [notification] = await wait_for(
        lambda: _list(notifier, application_id=event.data["application_id"]), what="the notice"
    )
    assert notification["kind"] == "stage_passed"
    assert (notification["recipient_kind"], notification["recipient_id"]) == (
        "candidate",
        str(candidate),
    )
    assert notification["status"] == "pending"
    assert notification["source_event_id"] == str(event.id)
    assert notification["data"] == {
        "from_stage": "ai_interview",
        "to_stage": "round_1",
        "to_stage_kind": "interview",
        "next_step_codes": ["confirm_interview_time"],
    }
    detail = await notifier.client.get(f"/v1/notifications/{notification['id']}", headers=ADMIN)
    assert detail.status_code == 200
    assert sorted(d["channel"] for d in detail.json()["deliveries"]) == ["email", "in_app"]


async def test_a_stage_the_candidate_is_not_told_about_owes_nothing(
    notifier: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    application = uuid.uuid4()
    silent = envelope(
        StageChangedV1(
            application_id=application,
            job_id=uuid.uuid4(),
            candidate_id=uuid.uuid4(),
            transition="move",
            from_stage=StageRef(key="screening", kind="screening"),
            to_stage=StageRef(key="round_1", kind="interview"),
            notify_candidate=False,
            actor=Actor(kind="hr", id="hr-alice"),
            occurred_at=datetime.now(UTC),
        ),
        subject=application,
    )
    await _send(amqp, silent)

    async def handled() -> bool:
        found = await db.fetchval(
            "SELECT count(*) FROM notifier.inbox WHERE event_id = $1", silent.id
        )
        return bool(found)

    await wait_for(handled, what="the event to be handled")
    assert await _list(notifier, application_id=str(application)) == []


async def test_an_event_delivered_twice_owes_one_notice(
    notifier: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    event = stage_passed(uuid.uuid4(), job_id=uuid.uuid4())
    await asyncio.gather(_send(amqp, event), _send(amqp, event))

    await wait_for(lambda: _list(notifier, application_id=event.data["application_id"]))
    await asyncio.sleep(0.3)
    assert len(await _list(notifier, application_id=event.data["application_id"])) == 1
    deliveries = await db.fetchval(
        "SELECT count(*) FROM notifier.deliveries d JOIN notifier.notifications n"
        " ON n.id = d.notification_id WHERE n.source_event_id = $1",
        event.id,
    )
    assert deliveries == 2


async def test_hr_see_the_notifications_of_their_jobs_only(
    notifier: Running, amqp: AbstractRobustConnection
) -> None:
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    await _send(amqp, job_changed(mine, owners=["hr-alice"]))
    await _send(amqp, job_changed(theirs, owners=["hr-bob"]))
    first = stage_passed(uuid.uuid4(), job_id=mine)
    second = stage_passed(uuid.uuid4(), job_id=theirs)
    await _send(amqp, first)
    await _send(amqp, second)

    async def both() -> list[Any] | None:
        found = await _list(notifier)
        return found if len(found) >= 2 else None

    await wait_for(both, what="both notices")
    seen = await _list(notifier, auth("hr", "hr-alice"))
    assert [n["job_id"] for n in seen] == [str(mine)]
    other = next(n for n in await _list(notifier) if n["job_id"] == str(theirs))
    response = await notifier.client.get(
        f"/v1/notifications/{other['id']}", headers=auth("hr", "hr-alice")
    )
    assert_problem(response, 404)


async def test_notifications_are_listed_newest_first_page_by_page(
    notifier: Running, amqp: AbstractRobustConnection
) -> None:
    candidate, job = uuid.uuid4(), uuid.uuid4()
    for _ in range(5):
        await _send(amqp, stage_passed(candidate, job_id=job))

    async def five() -> bool:
        return len(await _list(notifier, candidate_id=str(candidate))) == 5

    await wait_for(five, what="five notifications")
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        params = {"candidate_id": str(candidate), "limit": "2"}
        if cursor:
            params["cursor"] = cursor
        response = await notifier.client.get("/v1/notifications", params=params, headers=ADMIN)
        pages.append(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break

    assert [len(page) for page in pages] == [2, 2, 1]
    listed = [n for page in pages for n in page]
    keys = [(n["created_at"], n["id"]) for n in listed]
    assert keys == sorted(keys, reverse=True)


async def test_notifications_need_a_bearer_token(notifier: Running) -> None:
    response = await notifier.client.get("/v1/notifications")
    assert_problem(response, 401)
    assert response.headers["www-authenticate"] == "Bearer"


async def test_interviewers_and_services_may_not_list_notifications(notifier: Running) -> None:
    for headers in (auth("interviewer", "iv-dan"), auth("service", "scheduler")):
        assert_problem(await notifier.client.get("/v1/notifications", headers=headers), 403)
        assert_problem(
            await notifier.client.get(f"/v1/notifications/{uuid.uuid4()}", headers=headers), 403
        )


async def test_an_unknown_notification_is_not_found(notifier: Running) -> None:
    response = await notifier.client.get(f"/v1/notifications/{uuid.uuid4()}", headers=ADMIN)
    assert_problem(response, 404)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "201"}, "limit"),
        ({"application_id": "not-a-uuid"}, "application_id"),
        ({"candidate_id": "42"}, "candidate_id"),
        ({"status": "lost"}, "status"),
        ({"recipient_kind": "robotic"}, "recipient_kind"),
    ],
)
async def test_bad_notification_query_is_refused_naming_the_parameter(
    notifier: Running, params: dict[str, str], field: str
) -> None:
    response = await notifier.client.get("/v1/notifications", params=params, headers=ADMIN)
    body = assert_problem(response, 422)
    assert [(e["location"], e["field"]) for e in body["errors"]] == [("query", field)]


async def test_foreign_cursor_is_a_bad_request(notifier: Running) -> None:
    response = await notifier.client.get(
        "/v1/notifications", params={"cursor": "bm90LWEtY3Vyc29y"}, headers=ADMIN
    )
    assert_problem(response, 400, "invalid-cursor")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/deliveries"),
        ("GET", "/v1/deliveries/stats"),
        ("GET", f"/v1/deliveries/{uuid.uuid4()}"),
        ("POST", f"/v1/deliveries/{uuid.uuid4()}/resend"),
    ],
)
async def test_deliveries_need_a_staff_token(notifier: Running, method: str, path: str) -> None:
    assert_problem(await notifier.client.request(method, path), 401)
    for headers in (auth("interviewer", "iv-dan"), auth("service", "scheduler")):
        assert_problem(await notifier.client.request(method, path, headers=headers), 403)


async def test_a_bad_delivery_id_is_refused_naming_it(notifier: Running) -> None:
    response = await notifier.client.get("/v1/deliveries/not-a-uuid", headers=ADMIN)
    body = assert_problem(response, 422)
    assert [e["field"] for e in body["errors"]] == ["delivery_id"]
