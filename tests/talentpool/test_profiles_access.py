"""Who may call the profiles and timeline routes: admins and HR with the talent-pool scope see
everyone; HR without it only people who applied to a job they own (others are 404, as if they
did not exist); interviewers and other services nobody (403); no token, 401."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from tests.support.running import Running
from tests.talentpool.profiles_support import (
    AS_ADMIN,
    AS_INTERVIEWER,
    AS_OTHER_HR,
    AS_OWNER,
    AS_POOL_HR,
    AS_SERVICE,
    Person,
    a_person,
)

# (method, path after /v1/profiles/{id}, body); {other} is another profile the caller may see.
ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "", None),
    ("PATCH", "", {"location": "上海"}),
    ("POST", "/notes", {"body": "再联系"}),
    ("GET", "/notes", None),
    ("POST", "/merge", {"other_profile_id": "{other}"}),
    ("POST", "/unmerge", {"merge_id": str(uuid.UUID(int=7))}),
    ("GET", "/merges", None),
    ("GET", "/timeline", None),
]
ROUTE_IDS = [f"{method} {path or '/'}" for method, path, _ in ROUTES]
ALLOWED = {"admin": AS_ADMIN, "hr with the pool scope": AS_POOL_HR, "hr owning the job": AS_OWNER}
REFUSED = {
    "no token": ({}, 401),
    "interviewer": (AS_INTERVIEWER, 403),
    "another service": (AS_SERVICE, 403),
    "hr owning no job of theirs": (AS_OTHER_HR, 404),
}


async def _call(
    service: Running,
    person: Person,
    other: Person,
    route: tuple[str, str, dict[str, Any] | None],
    headers: dict[str, str],
) -> Any:
    method, path, body = route
    if body is not None:
        body = {k: v.format(other=other.profile_id) for k, v in body.items()}
    return await service.client.request(
        method, f"/v1/profiles/{person.profile_id}{path}", json=body, headers=headers
    )


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("caller", list(ALLOWED))
async def test_admins_pool_hr_and_the_jobs_owner_may_call_every_route(
    talentpool_http: Running,
    db: asyncpg.Connection,
    route: tuple[str, str, dict[str, Any] | None],
    caller: str,
) -> None:
    person, other = await a_person(db), await a_person(db)

    response = await _call(talentpool_http, person, other, route, ALLOWED[caller])

    if route[1] == "/unmerge":  # allowed in, and told there is no such merge
        assert response.status_code == 404
        assert "No merge" in response.json()["detail"]
    else:
        assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("caller", list(REFUSED))
async def test_everyone_else_is_refused_before_anything_happens(
    talentpool_http: Running,
    db: asyncpg.Connection,
    route: tuple[str, str, dict[str, Any] | None],
    caller: str,
) -> None:
    person, other = await a_person(db), await a_person(db)
    headers, status = REFUSED[caller]
    before = await db.fetchval("SELECT count(*) FROM talentpool.profile_notes")

    response = await _call(talentpool_http, person, other, route, headers)

    assert response.status_code == status
    if status == 404:
        assert "No profile" in response.json()["detail"]
    assert await db.fetchval("SELECT count(*) FROM talentpool.profile_notes") == before
    merged = await db.fetchval(
        "SELECT count(*) FROM talentpool.profiles WHERE merged_into IS NOT NULL"
    )
    assert merged == 0


async def test_hr_without_the_scope_may_not_merge_in_someone_they_cannot_see(
    talentpool_http: Running, db: asyncpg.Connection
) -> None:
    mine, stranger = await a_person(db), await a_person(db, owner="hr-bob")

    response = await talentpool_http.client.post(
        f"/v1/profiles/{mine.profile_id}/merge",
        json={"other_profile_id": str(stranger.profile_id)},
        headers=AS_OWNER,
    )

    assert response.status_code == 404
    assert str(stranger.profile_id) in response.json()["detail"]


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (AS_ADMIN, {"mine", "theirs"}),
        (AS_POOL_HR, {"mine", "theirs"}),
        (AS_OWNER, {"mine"}),
        (AS_OTHER_HR, {"theirs"}),
    ],
    ids=["admin", "hr with the pool scope", "hr owning one job", "hr owning the other"],
)
async def test_the_list_shows_only_the_people_the_caller_may_see(
    talentpool_http: Running,
    db: asyncpg.Connection,
    headers: dict[str, str],
    expected: set[str],
) -> None:
    people = {"mine": await a_person(db), "theirs": await a_person(db, owner="hr-bob")}

    response = await talentpool_http.client.get("/v1/profiles", headers=headers)

    assert response.status_code == 200
    listed = {item["id"] for item in response.json()["items"]}
    assert listed == {str(people[name].profile_id) for name in expected}


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), (AS_INTERVIEWER, 403), (AS_SERVICE, 403)],
    ids=["no token", "interviewer", "another service"],
)
async def test_the_list_is_refused_to_those_who_see_nobody(
    talentpool_http: Running, headers: dict[str, str], status: int
) -> None:
    response = await talentpool_http.client.get("/v1/profiles", headers=headers)

    assert response.status_code == status
