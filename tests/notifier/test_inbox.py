"""The in-app inbox: staff read their own with their bearer token, a candidate theirs with a
signed inbox token the candidate portal's back-end asks for; marks only move forward and are
announced; nobody sees or marks anyone else's messages."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from notifier.tracking.links import Unsubscribe
from shared.clock import ManualClock
from tests.notifier.tracking_support import (
    SENT_AT,
    add_delivery,
    add_notification,
    delivery,
    delivery_events,
    notification_status,
    sent_delivery,
    signer_of,
    status_changes,
    tracking_api,
)
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth

HR = "hr-wang"
ADMIN = "admin-zhao"
AS_HR = auth("hr", HR)
AS_ADMIN = auth("admin", ADMIN)
AS_PORTAL = auth("service", "candidate-portal", scopes=("notifications:inbox",))
CANDIDATE = "0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"
OTHER_CANDIDATE = "0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7c"
LINKS = "/v1/candidate-inbox-links"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def api(clock: ManualClock) -> AsyncIterator[Running]:
    async with tracking_api(clock=clock) as service:
        yield service


async def in_app(
    db: asyncpg.Connection,
    recipient: tuple[str, str],
    *,
    minutes_after: int = 0,
    subject: str = "面试安排",
    body: str = "您的面试已安排。",
    **fields: Any,
) -> uuid.UUID:
    _, delivery_id = await sent_delivery(
        db,
        channel="in_app",
        recipient=recipient,
        status=fields.pop("status", "delivered"),
        subject=subject,
        body=body,
        created_at=SENT_AT + timedelta(minutes=minutes_after),
        **fields,
    )
    return delivery_id


async def candidate_token(api: Running, candidate: str = CANDIDATE, **body: Any) -> str:
    response = await api.client.post(
        LINKS, json={"candidate_id": candidate, **body}, headers=AS_ADMIN
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def ids(response: Any) -> list[str]:
    return [item["id"] for item in response.json()["items"]]


# Staff: listing


async def test_staff_see_their_own_in_app_messages_newest_first(
    api: Running, db: asyncpg.Connection
) -> None:
    older = await in_app(db, ("staff", HR), subject="第一条", body="正文一")
    newer = await in_app(db, ("staff", HR), minutes_after=5, status="sent", subject="第二条")
    # Not in the inbox: someone else's, another channel, not rendered yet, cancelled.
    await in_app(db, ("staff", "hr-li"), minutes_after=10)
    await sent_delivery(db, channel="email", recipient=("staff", HR))
    await in_app(db, ("staff", HR), minutes_after=11, status="queued")
    await in_app(db, ("staff", HR), minutes_after=12, status="cancelled")

    response = await api.client.get("/v1/inbox", headers=AS_HR)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert ids(response) == [str(newer), str(older)]
    assert body["next_cursor"] is None
    first = body["items"][1]
    assert (first["subject"], first["body"], first["kind"]) == (
        "第一条",
        "正文一",
        "interview_invitation",
    )
    assert (first["engagement"], first["unread"], first["read_at"]) == ("none", True, None)
    assert first["notification_id"] is not None


async def test_the_inbox_pages_with_a_cursor(api: Running, db: asyncpg.Connection) -> None:
    made = [await in_app(db, ("staff", HR), minutes_after=i) for i in range(5)]

    first = await api.client.get("/v1/inbox", params={"limit": 2}, headers=AS_HR)
    cursor = first.json()["next_cursor"]
    second = await api.client.get("/v1/inbox", params={"limit": 2, "cursor": cursor}, headers=AS_HR)
    third = await api.client.get(
        "/v1/inbox", params={"limit": 2, "cursor": second.json()["next_cursor"]}, headers=AS_HR
    )

    newest_first = [str(i) for i in reversed(made)]
    assert ids(first) + ids(second) + ids(third) == newest_first
    assert third.json()["next_cursor"] is None


async def test_a_cursor_not_issued_by_the_inbox_is_a_400(api: Running) -> None:
    response = await api.client.get("/v1/inbox", params={"cursor": "bm9wZQ"}, headers=AS_HR)

    assert_problem(response, 400, "invalid-cursor")


async def test_unread_shows_only_what_was_neither_read_nor_clicked(
    api: Running, db: asyncpg.Connection
) -> None:
    untouched = await in_app(db, ("staff", HR))
    seen = await in_app(db, ("staff", HR), minutes_after=1, engagement="seen")
    await in_app(db, ("staff", HR), minutes_after=2, engagement="read")
    await in_app(db, ("staff", HR), minutes_after=3, engagement="clicked")

    response = await api.client.get("/v1/inbox", params={"unread": "true"}, headers=AS_HR)

    assert ids(response) == [str(seen), str(untouched)]
    everything = await api.client.get("/v1/inbox", headers=AS_HR)
    assert len(ids(everything)) == 4


async def test_an_admin_has_an_inbox_of_their_own(api: Running, db: asyncpg.Connection) -> None:
    mine = await in_app(db, ("staff", ADMIN))
    await in_app(db, ("staff", HR))

    response = await api.client.get("/v1/inbox", headers=AS_ADMIN)

    assert ids(response) == [str(mine)]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/inbox"),
        ("POST", "/v1/inbox/read-all"),
        ("POST", f"/v1/inbox/{uuid.uuid4()}/seen"),
        ("POST", f"/v1/inbox/{uuid.uuid4()}/read"),
    ],
)
async def test_the_staff_inbox_needs_a_staff_token(api: Running, method: str, path: str) -> None:
    assert_problem(await api.client.request(method, path), 401, "unauthorized")
    for headers in (auth("service", "scheduler"), AS_PORTAL):
        response = await api.client.request(method, path, headers=headers)
        assert_problem(response, 403, "forbidden")


# Staff: marking


async def test_marking_seen_records_it_once_and_announces_it(
    api: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    delivery_id = await in_app(db, ("staff", HR))
    notification_id = (await delivery(db, delivery_id))["notification_id"]

    response = await api.client.post(f"/v1/inbox/{delivery_id}/seen", headers=AS_HR)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    item = response.json()
    assert (item["id"], item["engagement"], item["unread"]) == (str(delivery_id), "seen", True)
    assert datetime.fromisoformat(item["seen_at"]) == clock.now()
    assert await notification_status(db, notification_id) == "engaged"
    events = await delivery_events(db, delivery_id)
    assert [(e["type"], e["value"], e["source"]) for e in events] == [
        ("engagement", "seen", "inbox")
    ]
    [change] = await status_changes(db)
    assert (change["delivery_id"], change["channel"], change["engagement"]) == (
        str(delivery_id),
        "in_app",
        "seen",
    )
    assert (change["recipient_kind"], change["recipient_id"]) == ("staff", HR)

    again = await api.client.post(f"/v1/inbox/{delivery_id}/seen", headers=AS_HR)

    assert again.status_code == 200
    assert again.json() == item
    assert len(await status_changes(db)) == 1


async def test_seen_after_read_changes_nothing(api: Running, db: asyncpg.Connection) -> None:
    delivery_id = await in_app(db, ("staff", HR))

    read = await api.client.post(f"/v1/inbox/{delivery_id}/read", headers=AS_HR)
    seen = await api.client.post(f"/v1/inbox/{delivery_id}/seen", headers=AS_HR)

    assert read.status_code == 200
    assert (read.json()["engagement"], read.json()["unread"]) == ("read", False)
    assert read.json()["read_at"] is not None
    assert seen.status_code == 200
    assert seen.json() == read.json()
    assert [c["engagement"] for c in await status_changes(db)] == ["read"]
    assert (await delivery(db, delivery_id))["seen_at"] is None


async def test_someone_elses_or_no_such_item_is_not_found(
    api: Running, db: asyncpg.Connection
) -> None:
    theirs = await in_app(db, ("staff", "hr-li"))
    candidates = await in_app(db, ("candidate", CANDIDATE))
    _, email = await sent_delivery(db, channel="email", recipient=("staff", HR))
    queued = await in_app(db, ("staff", HR), status="queued")

    for delivery_id in (theirs, candidates, email, queued, uuid.uuid4()):
        for action in ("seen", "read"):
            response = await api.client.post(f"/v1/inbox/{delivery_id}/{action}", headers=AS_HR)
            assert_problem(response, 404, "not-found")

    assert await status_changes(db) == []
    assert (await delivery(db, theirs))["engagement"] == "none"


async def test_an_item_id_that_is_not_a_uuid_is_a_422(api: Running) -> None:
    response = await api.client.post("/v1/inbox/not-an-id/read", headers=AS_HR)

    body = assert_problem(response, 422)
    assert body["errors"][0]["field"] == "delivery_id"


async def test_read_all_marks_every_unread_message_of_the_caller_only(
    api: Running, db: asyncpg.Connection
) -> None:
    unread = [await in_app(db, ("staff", HR), minutes_after=i) for i in range(3)]
    seen = await in_app(db, ("staff", HR), minutes_after=4, engagement="seen")
    already = await in_app(db, ("staff", HR), minutes_after=5, engagement="read")
    theirs = await in_app(db, ("staff", "hr-li"))

    response = await api.client.post("/v1/inbox/read-all", headers=AS_HR)

    assert response.status_code == 200
    assert response.json() == {"marked": 4}
    for delivery_id in [*unread, seen]:
        assert (await delivery(db, delivery_id))["engagement"] == "read"
    assert (await delivery(db, already))["engagement"] == "read"
    assert (await delivery(db, theirs))["engagement"] == "none"
    changes = await status_changes(db)
    assert sorted(c["delivery_id"] for c in changes) == sorted(str(d) for d in [*unread, seen])

    again = await api.client.post("/v1/inbox/read-all", headers=AS_HR)

    assert again.json() == {"marked": 0}
    assert len(await status_changes(db)) == 4
    listed = await api.client.get("/v1/inbox", params={"unread": "true"}, headers=AS_HR)
    assert listed.json()["items"] == []


# Candidate inbox tokens


async def test_an_admin_mints_a_candidate_inbox_token_that_opens_that_inbox(
    api: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    mine = await in_app(db, ("candidate", CANDIDATE))
    await in_app(db, ("candidate", OTHER_CANDIDATE))
    await in_app(db, ("staff", HR))

    minted = await api.client.post(
        LINKS, json={"candidate_id": CANDIDATE, "expires_in_minutes": 30}, headers=AS_ADMIN
    )

    assert minted.status_code == 200, minted.text
    assert minted.headers["cache-control"] == "no-store"
    link = minted.json()
    assert link["candidate_id"] == CANDIDATE
    assert datetime.fromisoformat(link["expires_at"]) == clock.now() + timedelta(minutes=30)
    listed = await api.client.get("/v1/candidate-inbox", headers=bearer(link["token"]))
    assert listed.status_code == 200, listed.text
    assert listed.headers["cache-control"] == "no-store"
    assert ids(listed) == [str(mine)]


async def test_the_candidate_portal_back_end_mints_tokens_with_its_scope(api: Running) -> None:
    response = await api.client.post(LINKS, json={"candidate_id": CANDIDATE}, headers=AS_PORTAL)

    assert response.status_code == 200
    assert response.json()["token"]


async def test_who_may_not_mint_a_candidate_inbox_token(api: Running) -> None:
    body = {"candidate_id": CANDIDATE}

    assert_problem(await api.client.post(LINKS, json=body), 401, "unauthorized")
    for headers in (
        AS_HR,
        auth("interviewer", "int-ivan"),
        auth("service", "another-service", scopes=("notifications:webhooks",)),
        auth("hr", HR, scopes=("notifications:inbox",)),
    ):
        response = await api.client.post(LINKS, json=body, headers=headers)
        assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"candidate_id": "not-a-uuid"}, "candidate_id"),
        ({}, "candidate_id"),
        ({"candidate_id": CANDIDATE, "expires_in_minutes": 0}, "expires_in_minutes"),
        ({"candidate_id": CANDIDATE, "expires_in_minutes": 7 * 24 * 60 + 1}, "expires_in_minutes"),
        ({"candidate_id": CANDIDATE, "scope": "all"}, "scope"),
    ],
)
async def test_a_bad_token_request_is_a_422_naming_the_field(
    api: Running, body: dict[str, Any], field: str
) -> None:
    response = await api.client.post(LINKS, json=body, headers=AS_ADMIN)

    problem = assert_problem(response, 422)
    assert [error["field"] for error in problem["errors"]] == [field]


# Candidate inbox


async def test_a_candidate_marks_seen_and_read_and_reads_all(
    api: Running, db: asyncpg.Connection
) -> None:
    first = await in_app(db, ("candidate", CANDIDATE))
    second = await in_app(db, ("candidate", CANDIDATE), minutes_after=1)
    third = await in_app(db, ("candidate", CANDIDATE), minutes_after=2)
    headers = bearer(await candidate_token(api))

    seen = await api.client.post(f"/v1/candidate-inbox/{first}/seen", headers=headers)
    read = await api.client.post(f"/v1/candidate-inbox/{second}/read", headers=headers)
    unread = await api.client.get("/v1/candidate-inbox", params={"unread": "true"}, headers=headers)
    read_all = await api.client.post("/v1/candidate-inbox/read-all", headers=headers)

    assert seen.status_code == 200
    assert seen.json()["engagement"] == "seen"
    assert read.status_code == 200
    assert read.json()["engagement"] == "read"
    assert ids(unread) == [str(third), str(first)]
    assert read_all.json() == {"marked": 2}
    changes = await status_changes(db)
    assert [(c["delivery_id"], c["engagement"]) for c in changes] == [
        (str(first), "seen"),
        (str(second), "read"),
        (str(first), "read"),
        (str(third), "read"),
    ]
    assert {c["recipient_id"] for c in changes} == {CANDIDATE}
    assert {e["source"] for d in (first, second, third) for e in await delivery_events(db, d)} == {
        "inbox"
    }


async def test_a_candidate_token_opens_no_one_elses_messages(
    api: Running, db: asyncpg.Connection
) -> None:
    theirs = await in_app(db, ("candidate", OTHER_CANDIDATE))
    staff = await in_app(db, ("staff", HR))
    headers = bearer(await candidate_token(api))

    for delivery_id in (theirs, staff):
        for action in ("seen", "read"):
            response = await api.client.post(
                f"/v1/candidate-inbox/{delivery_id}/{action}", headers=headers
            )
            assert_problem(response, 404, "not-found")
    read_all = await api.client.post("/v1/candidate-inbox/read-all", headers=headers)

    assert read_all.json() == {"marked": 0}
    assert (await delivery(db, theirs))["engagement"] == "none"
    assert await status_changes(db) == []


async def test_the_candidate_inbox_refuses_missing_forged_and_foreign_tokens(
    api: Running, db: asyncpg.Connection
) -> None:
    delivery_id = await in_app(db, ("candidate", CANDIDATE))
    genuine = await candidate_token(api)
    body, signature = genuine.split(".")
    other = await candidate_token(api, OTHER_CANDIDATE)
    unsubscribe = signer_of(api).unsubscribe_token(Unsubscribe("candidate", CANDIDATE, None))
    async with tracking_api(link_secret="another-install-secret") as elsewhere:
        foreign = await candidate_token(elsewhere)
    attempts: list[dict[str, str]] = [
        {},
        {"Authorization": f"Basic {genuine}"},
        bearer("nonsense"),
        bearer(f"{body}.AAAAAAAAAAAAAAAAAAAAAA"),
        bearer(f"{other.split('.')[0]}.{signature}"),
        bearer(unsubscribe),
        bearer(foreign),
        AS_HR,
    ]

    for headers in attempts:
        for method, path in (
            ("GET", "/v1/candidate-inbox"),
            ("POST", f"/v1/candidate-inbox/{delivery_id}/read"),
            ("POST", "/v1/candidate-inbox/read-all"),
        ):
            response = await api.client.request(method, path, headers=headers)
            assert_problem(response, 401, "unauthorized")
            assert response.headers["www-authenticate"] == "Bearer"

    assert (await delivery(db, delivery_id))["engagement"] == "none"


async def test_an_expired_candidate_token_is_refused(
    api: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    await add_delivery(
        db, await add_notification(db, recipient=("candidate", CANDIDATE)), channel="in_app"
    )
    headers = bearer(await candidate_token(api, expires_in_minutes=10))

    clock.advance(timedelta(minutes=9, seconds=59))
    still = await api.client.get("/v1/candidate-inbox", headers=headers)
    clock.advance(timedelta(seconds=1))
    expired = await api.client.get("/v1/candidate-inbox", headers=headers)

    assert still.status_code == 200
    assert len(ids(still)) == 1
    problem = assert_problem(expired, 401, "unauthorized")
    assert "expired" in problem["detail"]
