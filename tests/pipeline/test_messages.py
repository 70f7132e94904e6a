"""Messages between a candidate and HR: one thread per application, read marks, unread counts,
and ``message_posted`` without the text."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, timedelta

import asyncpg
import pytest

from pipeline.app import spec as pipeline_spec
from shared.clock import ManualClock
from tests.pipeline.portal_support import (
    ADMIN,
    FRIDAY_EVENING,
    HR,
    OTHER_HR,
    bearer,
    issue_link,
    make_application,
    outbox,
)
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.support.tokens import auth

MESSAGE_POSTED = "pipeline.message_posted.v1"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(FRIDAY_EVENING.astimezone(UTC))


@pytest.fixture
async def portal(clock: ManualClock) -> AsyncIterator[Running]:
    async with api(pipeline_spec, clock=clock) as service:
        yield service


def z(moment: object) -> str:
    return str(moment).replace(" ", "T").replace("+00:00", "Z")


# The candidate's side


async def test_candidate_writes_and_hr_reads_it_in_the_thread(
    portal: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)

    posted = await portal.client.post(
        "/v1/portal/messages",
        json={"body": "  请问二面什么时候安排？  "},  # noqa: RUF001
        headers=bearer(issued["token"]),
    )

    assert posted.status_code == 201, posted.text
    message = posted.json()
    assert message["sender"] == "candidate"
    assert message["body"] == "请问二面什么时候安排？"  # noqa: RUF001
    assert message["read_at"] is None
    thread = await portal.client.get(
        f"/v1/applications/{arranged.application_id}/messages", headers=auth("hr", HR)
    )
    assert thread.status_code == 200
    [seen] = thread.json()["items"]
    assert seen["id"] == message["id"]
    assert seen["sender_kind"] == "candidate"
    assert seen["sender_id"] is None
    assert seen["application_id"] == str(arranged.application_id)


async def test_posting_emits_message_posted_without_the_text(
    portal: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)

    candidate = await portal.client.post(
        "/v1/portal/messages", json={"body": "secret text 1"}, headers=bearer(issued["token"])
    )
    hr = await portal.client.post(
        f"/v1/applications/{arranged.application_id}/messages",
        json={"body": "secret text 2"},
        headers=auth("hr", HR),
    )

    events = await outbox(db, MESSAGE_POSTED)
    assert [event["data"] for event in events] == [
        {
            "message_id": candidate.json()["id"],
            "application_id": str(arranged.application_id),
            "job_id": str(arranged.job_id),
            "candidate_id": str(arranged.candidate_id),
            "sender_kind": "candidate",
            "sender_id": None,
            "posted_at": z(clock.now()),
        },
        {
            "message_id": hr.json()["id"],
            "application_id": str(arranged.application_id),
            "job_id": str(arranged.job_id),
            "candidate_id": str(arranged.candidate_id),
            "sender_kind": "hr",
            "sender_id": HR,
            "posted_at": z(clock.now()),
        },
    ]
    assert all(event["subject"] == str(arranged.application_id) for event in events)
    assert "secret" not in str(events)


async def test_the_candidate_sees_hr_as_the_recruiter_without_their_identity(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)
    await portal.client.post(
        f"/v1/applications/{arranged.application_id}/messages",
        json={"body": "Tuesday 10:00?"},
        headers=auth("admin", ADMIN),
    )

    thread = await portal.client.get("/v1/portal/messages", headers=bearer(issued["token"]))

    [message] = thread.json()["items"]
    assert message["sender"] == "recruiter"
    assert set(message) == {"id", "sender", "body", "created_at", "read_at"}
    assert ADMIN not in thread.text


@pytest.mark.parametrize(
    "body",
    [{"body": ""}, {"body": "   "}, {"body": "x" * 4001}, {}, {"body": "hi", "to": "hr"}],
    ids=["empty", "blank", "too-long", "missing", "unknown-field"],
)
async def test_a_bad_message_is_refused_and_nothing_is_stored(
    portal: Running, db: asyncpg.Connection, body: dict[str, str]
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)

    from_candidate = await portal.client.post(
        "/v1/portal/messages", json=body, headers=bearer(issued["token"])
    )
    from_hr = await portal.client.post(
        f"/v1/applications/{arranged.application_id}/messages", json=body, headers=auth("hr", HR)
    )

    assert_problem(from_candidate, 422)
    assert_problem(from_hr, 422)
    assert await db.fetchval("SELECT count(*) FROM pipeline.messages") == 0
    assert await outbox(db, MESSAGE_POSTED) == []


async def test_a_message_of_4000_characters_is_accepted(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)

    response = await portal.client.post(
        "/v1/portal/messages", json={"body": "字" * 4000}, headers=bearer(issued["token"])
    )

    assert response.status_code == 201


async def test_a_candidates_retry_with_the_same_idempotency_key_posts_once(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)
    headers = {**bearer(issued["token"]), "Idempotency-Key": "retry-1"}

    first = await portal.client.post("/v1/portal/messages", json={"body": "hi"}, headers=headers)
    again = await portal.client.post("/v1/portal/messages", json={"body": "hi"}, headers=headers)
    other = await portal.client.post("/v1/portal/messages", json={"body": "hello"}, headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert_problem(other, 422)
    assert await db.fetchval("SELECT count(*) FROM pipeline.messages") == 1


async def test_the_thread_pages_newest_first(
    portal: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)
    for i in range(5):
        await portal.client.post(
            "/v1/portal/messages", json={"body": f"message {i}"}, headers=bearer(issued["token"])
        )
        clock.advance(timedelta(minutes=1))

    first = await portal.client.get(
        "/v1/portal/messages", params={"limit": 2}, headers=bearer(issued["token"])
    )
    cursor = first.json()["next_cursor"]
    second = await portal.client.get(
        "/v1/portal/messages",
        params={"limit": 2, "cursor": cursor},
        headers=bearer(issued["token"]),
    )
    third = await portal.client.get(
        "/v1/portal/messages",
        params={"limit": 2, "cursor": second.json()["next_cursor"]},
        headers=bearer(issued["token"]),
    )
    staff = await portal.client.get(
        f"/v1/applications/{arranged.application_id}/messages",
        params={"limit": 3},
        headers=auth("hr", HR),
    )

    bodies = [m["body"] for page in (first, second, third) for m in page.json()["items"]]
    assert bodies == [f"message {i}" for i in (4, 3, 2, 1, 0)]
    assert third.json()["next_cursor"] is None
    assert [m["body"] for m in staff.json()["items"]] == ["message 4", "message 3", "message 2"]


async def test_a_cursor_that_was_not_issued_is_refused(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)

    response = await portal.client.get(
        "/v1/portal/messages",
        params={"cursor": "bm90LWEtY3Vyc29y"},
        headers=bearer(issued["token"]),
    )

    assert_problem(response, 400, "invalid-cursor")


# Read marks and unread counts


async def test_each_side_marks_only_the_other_sides_messages_read(
    portal: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)
    await portal.client.post(
        "/v1/portal/messages", json={"body": "question"}, headers=bearer(issued["token"])
    )
    for text in ("answer 1", "answer 2"):
        await portal.client.post(
            f"/v1/applications/{arranged.application_id}/messages",
            json={"body": text},
            headers=auth("hr", HR),
        )

    by_candidate = await portal.client.post(
        "/v1/portal/messages/read", headers=bearer(issued["token"])
    )
    again = await portal.client.post("/v1/portal/messages/read", headers=bearer(issued["token"]))

    assert by_candidate.json() == {"marked": 2}
    assert again.json() == {"marked": 0}
    rows = await db.fetch("SELECT sender_kind, read_at FROM pipeline.messages")
    assert {(row["sender_kind"], row["read_at"] is not None) for row in rows} == {
        ("candidate", False),
        ("hr", True),
    }
    clock.advance(timedelta(minutes=5))
    by_hr = await portal.client.post(
        f"/v1/applications/{arranged.application_id}/messages/read", headers=auth("hr", HR)
    )
    assert by_hr.json() == {"marked": 1}
    candidate_read_at = await db.fetchval(
        "SELECT read_at FROM pipeline.messages WHERE sender_kind = 'candidate'"
    )
    assert candidate_read_at == clock.now()


async def test_unread_lists_threads_of_the_callers_jobs_longest_waiting_first(
    portal: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    older = await make_application(db)
    newer = await make_application(db)
    not_mine = await make_application(db, owners=(OTHER_HR,))
    all_read = await make_application(db)
    for arranged in (older, newer, not_mine, all_read):
        issued = await issue_link(portal.client, arranged.application_id, role="admin", sub=ADMIN)
        for text in ("one", "two"):
            await portal.client.post(
                "/v1/portal/messages", json={"body": text}, headers=bearer(issued["token"])
            )
        clock.advance(timedelta(minutes=10))
    await portal.client.post(
        f"/v1/applications/{all_read.application_id}/messages/read", headers=auth("hr", HR)
    )

    mine = await portal.client.get("/v1/messages/unread", headers=auth("hr", HR))
    everyone = await portal.client.get(
        "/v1/messages/unread", params={"limit": 2}, headers=auth("admin", ADMIN)
    )
    rest = await portal.client.get(
        "/v1/messages/unread",
        params={"limit": 2, "cursor": everyone.json()["next_cursor"]},
        headers=auth("admin", ADMIN),
    )

    assert mine.status_code == 200
    assert [(t["application_id"], t["unread"]) for t in mine.json()["items"]] == [
        (str(older.application_id), 2),
        (str(newer.application_id), 2),
    ]
    assert mine.json()["items"][0]["job_id"] == str(older.job_id)
    assert mine.json()["items"][0]["oldest_unread_at"] == z(FRIDAY_EVENING.astimezone(UTC))
    threads = [t["application_id"] for t in everyone.json()["items"] + rest.json()["items"]]
    assert threads == [
        str(older.application_id),
        str(newer.application_id),
        str(not_mine.application_id),
    ]
    assert rest.json()["next_cursor"] is None


# Who may use the staff routes


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("GET", "/messages", None),
        ("POST", "/messages", {"body": "hello"}),
        ("POST", "/messages/read", None),
    ],
    ids=["list", "post", "read"],
)
async def test_hr_not_owning_the_job_cannot_see_its_thread(
    portal: Running, db: asyncpg.Connection, method: str, suffix: str, body: object
) -> None:
    arranged = await make_application(db, owners=(OTHER_HR,))

    response = await portal.client.request(
        method,
        f"/v1/applications/{arranged.application_id}{suffix}",
        json=body,
        headers=auth("hr", HR),
    )

    assert_problem(response, 404, "not-found")
    assert await db.fetchval("SELECT count(*) FROM pipeline.messages") == 0


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/applications/{id}/messages", None),
        ("POST", "/v1/applications/{id}/messages", {"body": "hello"}),
        ("POST", "/v1/applications/{id}/messages/read", None),
        ("GET", "/v1/messages/unread", None),
    ],
    ids=["list", "post", "read", "unread"],
)
async def test_interviewers_and_anonymous_callers_cannot_use_the_staff_routes(
    portal: Running, db: asyncpg.Connection, method: str, path: str, body: object
) -> None:
    arranged = await make_application(db, owners=("interviewer-wu",))
    url = path.format(id=arranged.application_id)

    as_interviewer = await portal.client.request(
        method, url, json=body, headers=auth("interviewer", "interviewer-wu")
    )
    anonymous = await portal.client.request(method, url, json=body)

    assert_problem(as_interviewer, 403, "forbidden")
    assert_problem(anonymous, 401, "unauthorized")


async def test_a_candidates_link_does_not_open_the_staff_routes(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)

    response = await portal.client.get(
        f"/v1/applications/{arranged.application_id}/messages", headers=bearer(issued["token"])
    )

    assert_problem(response, 401)


async def test_messages_of_an_unknown_application_are_not_found(portal: Running) -> None:
    response = await portal.client.get(
        f"/v1/applications/{uuid.uuid4()}/messages", headers=auth("admin", ADMIN)
    )

    assert_problem(response, 404, "not-found")
