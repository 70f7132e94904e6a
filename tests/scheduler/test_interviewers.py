"""Interviewers: create, read, list, change with If-Match, their own record, validation and who
may do what."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scheduler.resources_support import (
    ADMIN,
    HR,
    INTERVIEWER_SUB,
    WEEKDAYS_9_TO_6,
    interviewer_body,
)
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth

AS_ADMIN = auth("admin", ADMIN)
AS_HR = auth("hr", HR)
AS_IVAN = auth("interviewer", INTERVIEWER_SUB)


async def create(service: Running, **overrides: Any) -> dict[str, Any]:
    response = await service.client.post(
        "/v1/interviewers", json=interviewer_body(**overrides), headers=AS_ADMIN
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem["errors"]]


async def test_admin_creates_an_interviewer_and_reads_it_back(scheduler_http: Running) -> None:
    response = await scheduler_http.client.post(
        "/v1/interviewers", json=interviewer_body(), headers=AS_ADMIN
    )

    assert response.status_code == 201
    created = response.json()
    assert response.headers["location"] == f"/v1/interviewers/{created['id']}"
    assert response.headers["etag"] == '"1"'
    assert created["subject"] == INTERVIEWER_SUB
    assert created["time_zone"] == "Asia/Shanghai"
    assert created["working_hours"] == WEEKDAYS_9_TO_6
    assert (created["max_per_day"], created["max_per_week"]) == (3, 10)
    assert created["calendar_id"] == "cn"
    assert created["active"] is True
    assert created["pool_ids"] == []
    fetched = await scheduler_http.client.get(response.headers["location"], headers=AS_HR)
    assert fetched.status_code == 200
    assert fetched.json() == created


async def test_working_hours_are_stored_sorted_by_weekday_and_start(
    scheduler_http: Running,
) -> None:
    hours = {"3": [["14:00", "18:00"], ["09:00", "12:00"]], "1": [["20:00", "24:00"]]}

    created = await create(scheduler_http, working_hours=hours)

    assert created["working_hours"] == {
        "1": [["20:00", "24:00"]],
        "3": [["09:00", "12:00"], ["14:00", "18:00"]],
    }


async def test_interviewer_reads_their_own_record_at_me(scheduler_http: Running) -> None:
    created = await create(scheduler_http)

    response = await scheduler_http.client.get("/v1/interviewers/me", headers=AS_IVAN)

    assert response.status_code == 200
    assert response.json()["id"] == created["id"]


async def test_me_without_an_interviewer_record_is_not_found(scheduler_http: Running) -> None:
    response = await scheduler_http.client.get(
        "/v1/interviewers/me", headers=auth("interviewer", "int-nobody")
    )

    assert_problem(response, 404, "not-found")


async def test_list_filters_by_skill_and_active_and_pages(scheduler_http: Running) -> None:
    first = await create(scheduler_http, subject="int-a", skills=["python"])
    second = await create(scheduler_http, subject="int-b", skills=["go"])
    third = await create(scheduler_http, subject="int-c", skills=["python", "go"])
    await scheduler_http.client.patch(
        f"/v1/interviewers/{third['id']}", json={"active": False}, headers=AS_ADMIN
    )

    page = await scheduler_http.client.get("/v1/interviewers?limit=2", headers=AS_HR)
    rest = await scheduler_http.client.get(
        f"/v1/interviewers?limit=2&cursor={page.json()['next_cursor']}", headers=AS_HR
    )
    python = await scheduler_http.client.get("/v1/interviewers?skill=python", headers=AS_HR)
    active_go = await scheduler_http.client.get(
        "/v1/interviewers?skill=go&active=true", headers=AS_HR
    )

    ids = [i["id"] for i in page.json()["items"] + rest.json()["items"]]
    assert ids == [first["id"], second["id"], third["id"]]
    assert rest.json()["next_cursor"] is None
    assert [i["id"] for i in python.json()["items"]] == [first["id"], third["id"]]
    assert [i["id"] for i in active_go.json()["items"]] == [second["id"]]


async def test_patch_with_the_current_version_changes_fields_and_bumps_it(
    scheduler_http: Running,
) -> None:
    created = await create(scheduler_http)

    response = await scheduler_http.client.patch(
        f"/v1/interviewers/{created['id']}",
        json={"time_zone": "Europe/Berlin", "max_per_day": None, "skills": ["go", "go"]},
        headers={**AS_ADMIN, "If-Match": '"1"'},
    )

    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["time_zone"] == "Europe/Berlin"
    assert changed["max_per_day"] is None
    assert changed["skills"] == ["go"]
    assert changed["version"] == 2
    assert response.headers["etag"] == '"2"'


async def test_patch_with_a_stale_version_is_refused(scheduler_http: Running) -> None:
    created = await create(scheduler_http)
    await scheduler_http.client.patch(
        f"/v1/interviewers/{created['id']}", json={"max_per_day": 2}, headers=AS_ADMIN
    )

    response = await scheduler_http.client.patch(
        f"/v1/interviewers/{created['id']}",
        json={"max_per_day": 4},
        headers={**AS_ADMIN, "If-Match": '"1"'},
    )

    problem = assert_problem(response, 412, "version-mismatch")
    assert problem["current_version"] == 2


async def test_patch_cannot_clear_the_time_zone(scheduler_http: Running) -> None:
    created = await create(scheduler_http)

    response = await scheduler_http.client.patch(
        f"/v1/interviewers/{created['id']}", json={"time_zone": None}, headers=AS_ADMIN
    )

    assert fields(assert_problem(response, 422)) == ["time_zone"]


async def test_patch_raising_the_daily_cap_over_the_weekly_one_is_refused(
    scheduler_http: Running,
) -> None:
    created = await create(scheduler_http)

    response = await scheduler_http.client.patch(
        f"/v1/interviewers/{created['id']}", json={"max_per_day": 11}, headers=AS_ADMIN
    )

    assert fields(assert_problem(response, 422)) == ["max_per_day"]


async def test_second_interviewer_with_the_same_subject_conflicts(
    scheduler_http: Running,
) -> None:
    await create(scheduler_http)

    response = await scheduler_http.client.post(
        "/v1/interviewers", json=interviewer_body(), headers=AS_ADMIN
    )

    assert_problem(response, 409, "interviewer-exists")


async def test_create_with_the_same_idempotency_key_returns_the_first_answer(
    scheduler_http: Running,
) -> None:
    headers = {**AS_ADMIN, "Idempotency-Key": "create-ivan-1"}
    first = await scheduler_http.client.post(
        "/v1/interviewers", json=interviewer_body(), headers=headers
    )
    again = await scheduler_http.client.post(
        "/v1/interviewers", json=interviewer_body(), headers=headers
    )

    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone"),
        ({"time_zone": "CST+8"}, "time_zone"),
        ({"working_hours": {"8": [["09:00", "10:00"]]}}, "working_hours"),
        ({"working_hours": {"1": [["18:00", "09:00"]]}}, "working_hours"),
        ({"working_hours": {"1": [["09:00", "12:00"], ["11:00", "13:00"]]}}, "working_hours"),
        ({"working_hours": {"1": [["9:00", "12:00"]]}}, "working_hours.1.0.0"),
        ({"working_hours": {"1": [["09:00", "24:30"]]}}, "working_hours.1.0.1"),
        ({"max_per_day": 0}, "max_per_day"),
        ({"max_per_day": 5, "max_per_week": 4}, "max_per_week"),
        ({"calendar_id": "Not A Calendar"}, "calendar_id"),
        ({"shoe_size": 44}, "shoe_size"),
    ],
)
async def test_invalid_interviewer_is_refused_naming_the_field(
    scheduler_http: Running, overrides: dict[str, Any], field: str
) -> None:
    response = await scheduler_http.client.post(
        "/v1/interviewers", json=interviewer_body(**overrides), headers=AS_ADMIN
    )

    problem = assert_problem(response, 422, "validation-error")
    assert fields(problem) == [field]


async def test_unknown_calendar_is_refused(scheduler_http: Running) -> None:
    response = await scheduler_http.client.post(
        "/v1/interviewers", json=interviewer_body(calendar_id="atlantis"), headers=AS_ADMIN
    )

    assert fields(assert_problem(response, 422, "validation-error")) == ["calendar_id"]


async def test_unknown_interviewer_is_not_found(scheduler_http: Running) -> None:
    response = await scheduler_http.client.get(
        "/v1/interviewers/0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f90", headers=AS_ADMIN
    )

    assert_problem(response, 404, "not-found")


# Who may do what.


async def test_without_a_token_every_interviewer_route_is_unauthorized(
    scheduler_http: Running,
) -> None:
    created = await create(scheduler_http)
    client = scheduler_http.client

    for response in [
        await client.post("/v1/interviewers", json=interviewer_body(subject="x")),
        await client.get("/v1/interviewers"),
        await client.get("/v1/interviewers/me"),
        await client.get(f"/v1/interviewers/{created['id']}"),
        await client.patch(f"/v1/interviewers/{created['id']}", json={"max_per_day": 1}),
    ]:
        assert_problem(response, 401, "unauthorized")


@pytest.mark.parametrize("role", ["hr", "interviewer"])
async def test_only_admins_create_and_change_interviewers(
    scheduler_http: Running, role: str
) -> None:
    created = await create(scheduler_http)
    headers = auth(role, INTERVIEWER_SUB if role == "interviewer" else HR)

    created_by_other = await scheduler_http.client.post(
        "/v1/interviewers", json=interviewer_body(subject="int-new"), headers=headers
    )
    changed_by_other = await scheduler_http.client.patch(
        f"/v1/interviewers/{created['id']}", json={"max_per_day": 1}, headers=headers
    )

    assert_problem(created_by_other, 403, "forbidden")
    assert_problem(changed_by_other, 403, "forbidden")


async def test_interviewers_may_not_list_or_read_interviewers_by_id_even_their_own(
    scheduler_http: Running,
) -> None:
    created = await create(scheduler_http)

    listed = await scheduler_http.client.get("/v1/interviewers", headers=AS_IVAN)
    read = await scheduler_http.client.get(f"/v1/interviewers/{created['id']}", headers=AS_IVAN)

    assert_problem(listed, 403, "forbidden")
    assert_problem(read, 403, "forbidden")
