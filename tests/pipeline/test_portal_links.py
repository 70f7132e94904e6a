"""Candidate links: HR owning the job (or an admin) issue, list and revoke them; a link opens
exactly one application's view; unknown links are 401, expired or revoked ones 410."""

from __future__ import annotations

import hashlib
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
)
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.support.tokens import auth


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(FRIDAY_EVENING.astimezone(UTC))


@pytest.fixture
async def portal(clock: ManualClock) -> AsyncIterator[Running]:
    async with api(pipeline_spec, clock=clock) as service:
        yield service


# Issuing


async def test_hr_owning_the_job_issues_a_link_that_opens_the_candidates_view(
    portal: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    arranged = await make_application(db)

    response = await portal.client.post(
        f"/v1/applications/{arranged.application_id}/links", headers=auth("hr", HR)
    )

    assert response.status_code == 201, response.text
    issued = response.json()
    assert set(issued) == {"id", "token", "expires_at"}
    assert issued["expires_at"] == (clock.now() + timedelta(days=90)).isoformat().replace(
        "+00:00", "Z"
    )
    assert response.headers["location"] == (
        f"/v1/applications/{arranged.application_id}/links/{issued['id']}"
    )
    assert response.headers["cache-control"] == "no-store"
    view = await portal.client.get("/v1/portal/application", headers=bearer(issued["token"]))
    assert view.status_code == 200, view.text
    assert view.json()["application_id"] == str(arranged.application_id)


async def test_admin_issues_a_link_for_any_application(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db, owners=(OTHER_HR,))

    issued = await issue_link(portal.client, arranged.application_id, role="admin", sub=ADMIN)

    view = await portal.client.get("/v1/portal/application", headers=bearer(issued["token"]))
    assert view.status_code == 200


async def test_the_token_is_stored_only_as_its_hash(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db)

    issued = await issue_link(portal.client, arranged.application_id)

    rows = await db.fetch("SELECT t::text AS whole, token_hash FROM pipeline.link_tokens t")
    assert len(rows) == 1
    assert rows[0]["token_hash"] == hashlib.sha256(issued["token"].encode()).digest()
    assert issued["token"] not in rows[0]["whole"]
    # Nor does any other table keep it (e.g. an idempotency record of the answer).
    keys = await db.fetch("SELECT response_body FROM pipeline.idempotency_keys")
    assert all(issued["token"].encode() not in (row["response_body"] or b"") for row in keys)


async def test_issuing_with_revoke_previous_ends_the_earlier_links(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db)
    old = await issue_link(portal.client, arranged.application_id)

    new = await issue_link(portal.client, arranged.application_id, body={"revoke_previous": True})

    gone = await portal.client.get("/v1/portal/application", headers=bearer(old["token"]))
    assert_problem(gone, 410, "link-revoked")
    fine = await portal.client.get("/v1/portal/application", headers=bearer(new["token"]))
    assert fine.status_code == 200


async def test_issuing_a_link_with_an_unknown_field_is_refused(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db)

    response = await portal.client.post(
        f"/v1/applications/{arranged.application_id}/links",
        json={"revoke_previos": True},
        headers=auth("hr", HR),
    )

    assert_problem(response, 422)


# Listing and revoking


async def test_listing_links_shows_their_state_but_never_the_token(
    portal: Running, db: asyncpg.Connection, clock: ManualClock
) -> None:
    arranged = await make_application(db)
    first = await issue_link(portal.client, arranged.application_id)
    clock.advance(timedelta(minutes=1))
    second = await issue_link(portal.client, arranged.application_id)
    await portal.client.delete(
        f"/v1/applications/{arranged.application_id}/links/{first['id']}", headers=auth("hr", HR)
    )

    response = await portal.client.get(
        f"/v1/applications/{arranged.application_id}/links", headers=auth("hr", HR)
    )

    assert response.status_code == 200
    links = response.json()
    assert [(link["id"], link["state"]) for link in links] == [
        (second["id"], "active"),
        (first["id"], "revoked"),
    ]
    assert first["token"] not in response.text
    assert second["token"] not in response.text
    clock.advance(timedelta(days=91))
    later = await portal.client.get(
        f"/v1/applications/{arranged.application_id}/links", headers=auth("hr", HR)
    )
    assert [link["state"] for link in later.json()] == ["expired", "revoked"]


async def test_revoked_link_answers_410_and_revoking_again_is_a_no_op(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)
    path = f"/v1/applications/{arranged.application_id}/links/{issued['id']}"

    first = await portal.client.delete(path, headers=auth("hr", HR))
    again = await portal.client.delete(path, headers=auth("hr", HR))

    assert first.status_code == 204
    assert again.status_code == 204
    view = await portal.client.get("/v1/portal/application", headers=bearer(issued["token"]))
    body = assert_problem(view, 410, "link-revoked")
    assert issued["token"] not in view.text
    assert "new" in body["detail"]


async def test_revoking_another_applications_link_through_this_one_is_not_found(
    portal: Running, db: asyncpg.Connection
) -> None:
    mine = await make_application(db)
    other = await make_application(db)
    theirs = await issue_link(portal.client, other.application_id)

    response = await portal.client.delete(
        f"/v1/applications/{mine.application_id}/links/{theirs['id']}", headers=auth("hr", HR)
    )

    assert_problem(response, 404, "not-found")
    view = await portal.client.get("/v1/portal/application", headers=bearer(theirs["token"]))
    assert view.status_code == 200


async def test_revoking_an_unknown_link_is_not_found(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db)

    response = await portal.client.delete(
        f"/v1/applications/{arranged.application_id}/links/{uuid.uuid4()}",
        headers=auth("hr", HR),
    )

    assert_problem(response, 404, "not-found")


# Who may manage links


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("POST", ""), ("GET", ""), ("DELETE", "/0193e0c4-aaaa-7000-8000-000000000001")],
    ids=["issue", "list", "revoke"],
)
async def test_hr_not_owning_the_job_cannot_see_its_links(
    portal: Running, db: asyncpg.Connection, method: str, suffix: str
) -> None:
    arranged = await make_application(db, owners=(OTHER_HR,))

    response = await portal.client.request(
        method,
        f"/v1/applications/{arranged.application_id}/links{suffix}",
        headers=auth("hr", HR),
    )

    assert_problem(response, 404, "not-found")
    assert await db.fetchval("SELECT count(*) FROM pipeline.link_tokens") == 0


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("POST", ""), ("GET", ""), ("DELETE", "/0193e0c4-aaaa-7000-8000-000000000001")],
    ids=["issue", "list", "revoke"],
)
async def test_interviewers_and_anonymous_callers_cannot_manage_links(
    portal: Running, db: asyncpg.Connection, method: str, suffix: str
) -> None:
    arranged = await make_application(db, owners=("interviewer-wu", HR))
    path = f"/v1/applications/{arranged.application_id}/links{suffix}"

    as_interviewer = await portal.client.request(
        method, path, headers=auth("interviewer", "interviewer-wu")
    )
    anonymous = await portal.client.request(method, path)

    assert_problem(as_interviewer, 403, "forbidden")
    assert_problem(anonymous, 401, "unauthorized")


async def test_a_candidates_link_is_not_a_staff_credential(
    portal: Running, db: asyncpg.Connection
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)

    response = await portal.client.get(
        f"/v1/applications/{arranged.application_id}/links", headers=bearer(issued["token"])
    )

    assert_problem(response, 401)


async def test_unknown_application_is_not_found(portal: Running) -> None:
    response = await portal.client.post(
        f"/v1/applications/{uuid.uuid4()}/links", headers=auth("admin", ADMIN)
    )

    assert_problem(response, 404, "not-found")


# What a link opens


PORTAL_ROUTES = [
    ("GET", "/v1/portal/application", None),
    ("GET", "/v1/portal/messages", None),
    ("POST", "/v1/portal/messages", {"body": "hello"}),
    ("POST", "/v1/portal/messages/read", None),
    ("POST", "/v1/portal/human-review", None),
]
ROUTE_IDS = ["view", "messages", "post-message", "read", "human-review"]


@pytest.mark.parametrize(("method", "path", "body"), PORTAL_ROUTES, ids=ROUTE_IDS)
async def test_portal_without_a_token_is_unauthorized(
    portal: Running, method: str, path: str, body: dict[str, str] | None
) -> None:
    response = await portal.client.request(method, path, json=body)

    problem = assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    assert problem["detail"]


@pytest.mark.parametrize(("method", "path", "body"), PORTAL_ROUTES, ids=ROUTE_IDS)
async def test_portal_with_an_unknown_token_is_unauthorized(
    portal: Running, db: asyncpg.Connection, method: str, path: str, body: dict[str, str] | None
) -> None:
    arranged = await make_application(db)
    await issue_link(portal.client, arranged.application_id)

    response = await portal.client.request(method, path, json=body, headers=bearer("x" * 43))

    assert_problem(response, 401, "unauthorized")


@pytest.mark.parametrize(("method", "path", "body"), PORTAL_ROUTES, ids=ROUTE_IDS)
async def test_portal_with_an_expired_token_is_gone(
    portal: Running,
    db: asyncpg.Connection,
    clock: ManualClock,
    method: str,
    path: str,
    body: dict[str, str] | None,
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)
    clock.advance(timedelta(days=90))

    response = await portal.client.request(method, path, json=body, headers=bearer(issued["token"]))

    assert_problem(response, 410, "link-expired")
    assert await db.fetchval("SELECT count(*) FROM pipeline.messages") == 0


@pytest.mark.parametrize(("method", "path", "body"), PORTAL_ROUTES, ids=ROUTE_IDS)
async def test_portal_with_a_revoked_token_is_gone(
    portal: Running, db: asyncpg.Connection, method: str, path: str, body: dict[str, str] | None
) -> None:
    arranged = await make_application(db)
    issued = await issue_link(portal.client, arranged.application_id)
    await portal.client.delete(
        f"/v1/applications/{arranged.application_id}/links/{issued['id']}",
        headers=auth("hr", HR),
    )

    response = await portal.client.request(method, path, json=body, headers=bearer(issued["token"]))

    assert_problem(response, 410, "link-revoked")


async def test_a_staff_jwt_does_not_open_the_portal(portal: Running) -> None:
    response = await portal.client.get("/v1/portal/application", headers=auth("admin", ADMIN))

    assert_problem(response, 401, "unauthorized")


async def test_a_link_for_application_a_never_shows_application_b(
    portal: Running, db: asyncpg.Connection
) -> None:
    first = await make_application(db, title="Backend engineer")
    second = await make_application(db, title="Data analyst")
    first_link = await issue_link(portal.client, first.application_id)
    second_link = await issue_link(portal.client, second.application_id)
    await portal.client.post(
        f"/v1/applications/{second.application_id}/messages",
        json={"body": "only for the second candidate"},
        headers=auth("hr", HR),
    )

    view = await portal.client.get("/v1/portal/application", headers=bearer(first_link["token"]))
    messages = await portal.client.get("/v1/portal/messages", headers=bearer(first_link["token"]))
    other = await portal.client.get("/v1/portal/application", headers=bearer(second_link["token"]))

    assert view.json()["application_id"] == str(first.application_id)
    assert view.json()["job_title"] == "Backend engineer"
    assert view.json()["messages"]["total"] == 0
    assert messages.json()["items"] == []
    assert other.json()["job_title"] == "Data analyst"
    assert other.json()["messages"]["total"] == 1
