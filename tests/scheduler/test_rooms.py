"""Rooms: admins create and change them, staff read them, interviewers and strangers do not."""

from __future__ import annotations

from typing import Any

import pytest

from tests.scheduler.resources_support import ADMIN, HR, INTERVIEWER_SUB, room_body
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth

AS_ADMIN = auth("admin", ADMIN)
AS_HR = auth("hr", HR)


async def create(service: Running, **overrides: Any) -> dict[str, Any]:
    response = await service.client.post("/v1/rooms", json=room_body(**overrides), headers=AS_ADMIN)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_admin_creates_a_room_and_hr_reads_it(scheduler_http: Running) -> None:
    response = await scheduler_http.client.post("/v1/rooms", json=room_body(), headers=AS_ADMIN)

    assert response.status_code == 201
    room = response.json()
    assert response.headers["location"] == f"/v1/rooms/{room['id']}"
    assert response.headers["etag"] == '"1"'
    assert (room["name"], room["capacity"], room["equipment"]) == (
        "Everest",
        6,
        ["screen", "whiteboard"],
    )
    assert room["calendar_id"] == "cn"
    fetched = await scheduler_http.client.get(response.headers["location"], headers=AS_HR)
    assert fetched.json() == room


async def test_rooms_are_listed_by_location_and_name_and_filtered(
    scheduler_http: Running,
) -> None:
    small = await create(scheduler_http, name="A", capacity=2, equipment=["screen"])
    big = await create(scheduler_http, name="B", capacity=10, equipment=["screen", "camera"])
    other = await create(scheduler_http, name="C", location="Beijing", capacity=8)

    everything = await scheduler_http.client.get("/v1/rooms", headers=AS_HR)
    roomy = await scheduler_http.client.get("/v1/rooms?min_capacity=8", headers=AS_HR)
    with_camera = await scheduler_http.client.get(
        "/v1/rooms?equipment=screen&equipment=camera", headers=AS_HR
    )

    assert [r["id"] for r in everything.json()["items"]] == [other["id"], small["id"], big["id"]]
    assert [r["id"] for r in roomy.json()["items"]] == [other["id"], big["id"]]
    assert [r["id"] for r in with_camera.json()["items"]] == [big["id"]]


async def test_patch_changes_a_room_and_checks_the_version(scheduler_http: Running) -> None:
    room = await create(scheduler_http)

    changed = await scheduler_http.client.patch(
        f"/v1/rooms/{room['id']}",
        json={"capacity": 8, "active": False},
        headers={**AS_ADMIN, "If-Match": '"1"'},
    )
    stale = await scheduler_http.client.patch(
        f"/v1/rooms/{room['id']}", json={"capacity": 9}, headers={**AS_ADMIN, "If-Match": '"1"'}
    )

    assert changed.status_code == 200
    assert (changed.json()["capacity"], changed.json()["active"], changed.json()["version"]) == (
        8,
        False,
        2,
    )
    assert_problem(stale, 412, "version-mismatch")


async def test_same_room_name_at_the_same_location_conflicts(scheduler_http: Running) -> None:
    await create(scheduler_http)

    response = await scheduler_http.client.post("/v1/rooms", json=room_body(), headers=AS_ADMIN)

    assert_problem(response, 409, "room-exists")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"capacity": 0}, "capacity"),
        ({"time_zone": "Asia/Atlantis"}, "time_zone"),
        ({"name": ""}, "name"),
        ({"calendar_id": "nowhere"}, "calendar_id"),
    ],
)
async def test_invalid_room_is_refused_naming_the_field(
    scheduler_http: Running, overrides: dict[str, Any], field: str
) -> None:
    response = await scheduler_http.client.post(
        "/v1/rooms", json=room_body(**overrides), headers=AS_ADMIN
    )

    problem = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == [field]


async def test_unknown_room_is_not_found(scheduler_http: Running) -> None:
    response = await scheduler_http.client.get(
        "/v1/rooms/0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f90", headers=AS_HR
    )

    assert_problem(response, 404, "not-found")


async def test_room_routes_need_a_token(scheduler_http: Running) -> None:
    room = await create(scheduler_http)

    for response in [
        await scheduler_http.client.post("/v1/rooms", json=room_body(name="X")),
        await scheduler_http.client.get("/v1/rooms"),
        await scheduler_http.client.get(f"/v1/rooms/{room['id']}"),
        await scheduler_http.client.patch(f"/v1/rooms/{room['id']}", json={"capacity": 3}),
    ]:
        assert_problem(response, 401, "unauthorized")


async def test_hr_may_not_create_or_change_rooms_and_interviewers_may_not_see_them(
    scheduler_http: Running,
) -> None:
    room = await create(scheduler_http)
    as_ivan = auth("interviewer", INTERVIEWER_SUB)

    for response in [
        await scheduler_http.client.post("/v1/rooms", json=room_body(name="X"), headers=AS_HR),
        await scheduler_http.client.patch(
            f"/v1/rooms/{room['id']}", json={"capacity": 3}, headers=AS_HR
        ),
        await scheduler_http.client.get("/v1/rooms", headers=as_ivan),
        await scheduler_http.client.get(f"/v1/rooms/{room['id']}", headers=as_ivan),
    ]:
        assert_problem(response, 403, "forbidden")
