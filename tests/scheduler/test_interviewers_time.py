"""Pools of interviewers, and availability overrides (who may add, see and remove them)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.scheduler.resources_support import ADMIN, HR, INTERVIEWER_SUB, interviewer_body
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth

AS_ADMIN = auth("admin", ADMIN)
AS_HR = auth("hr", HR)
AS_IVAN = auth("interviewer", INTERVIEWER_SUB)
AS_OTHER = auth("interviewer", "int-olga")

SATURDAY = {
    "starts_at": "2026-03-07T10:00:00+08:00",
    "ends_at": "2026-03-07T14:00:00+08:00",
    "kind": "available",
    "note": "Saturday hiring day",
}
WEEK = "start=2026-03-02T00:00:00%2B08:00&end=2026-03-09T00:00:00%2B08:00"


async def interviewer(service: Running, subject: str = INTERVIEWER_SUB) -> dict[str, Any]:
    response = await service.client.post(
        "/v1/interviewers", json=interviewer_body(subject=subject), headers=AS_ADMIN
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


# Pools.


async def test_admin_creates_a_pool_with_members_and_staff_list_it(scheduler_http: Running) -> None:
    ivan = await interviewer(scheduler_http)

    created = await scheduler_http.client.post(
        "/v1/pools",
        json={"name": "backend-panel", "description": "Backend", "member_ids": [ivan["id"]]},
        headers=AS_ADMIN,
    )
    listed = await scheduler_http.client.get("/v1/pools", headers=AS_HR)
    member = await scheduler_http.client.get(f"/v1/interviewers/{ivan['id']}", headers=AS_HR)

    assert created.status_code == 201
    pool = created.json()
    assert created.headers["location"] == f"/v1/pools/{pool['id']}"
    assert pool["member_ids"] == [ivan["id"]]
    assert listed.json()["items"] == [pool]
    assert member.json()["pool_ids"] == [pool["id"]]


async def test_members_are_added_once_and_removed(scheduler_http: Running) -> None:
    ivan = await interviewer(scheduler_http)
    olga = await interviewer(scheduler_http, "int-olga")
    pool = (
        await scheduler_http.client.post("/v1/pools", json={"name": "p"}, headers=AS_ADMIN)
    ).json()
    path = f"/v1/pools/{pool['id']}/members"

    await scheduler_http.client.put(f"{path}/{ivan['id']}", headers=AS_ADMIN)
    twice = await scheduler_http.client.put(f"{path}/{ivan['id']}", headers=AS_ADMIN)
    await scheduler_http.client.put(f"{path}/{olga['id']}", headers=AS_ADMIN)
    removed = await scheduler_http.client.delete(f"{path}/{ivan['id']}", headers=AS_ADMIN)
    again = await scheduler_http.client.delete(f"{path}/{ivan['id']}", headers=AS_ADMIN)
    in_pool = await scheduler_http.client.get(
        f"/v1/interviewers?pool_id={pool['id']}", headers=AS_HR
    )

    assert twice.status_code == 200
    assert twice.json()["member_ids"] == [ivan["id"]]
    assert removed.status_code == 204
    assert_problem(again, 404, "not-found")
    assert [i["id"] for i in in_pool.json()["items"]] == [olga["id"]]


async def test_pool_with_an_unknown_member_or_a_taken_name_is_refused(
    scheduler_http: Running,
) -> None:
    await scheduler_http.client.post("/v1/pools", json={"name": "p"}, headers=AS_ADMIN)

    unknown = await scheduler_http.client.post(
        "/v1/pools", json={"name": "q", "member_ids": [str(uuid.uuid4())]}, headers=AS_ADMIN
    )
    taken = await scheduler_http.client.post("/v1/pools", json={"name": "p"}, headers=AS_ADMIN)
    missing_pool = await scheduler_http.client.put(
        f"/v1/pools/{uuid.uuid4()}/members/{uuid.uuid4()}", headers=AS_ADMIN
    )

    assert [e["field"] for e in assert_problem(unknown, 422)["errors"]] == ["member_ids"]
    assert_problem(taken, 409, "pool-exists")
    assert_problem(missing_pool, 404, "not-found")


async def test_only_admins_change_pools_and_only_staff_read_them(scheduler_http: Running) -> None:
    ivan = await interviewer(scheduler_http)
    pool = (
        await scheduler_http.client.post("/v1/pools", json={"name": "p"}, headers=AS_ADMIN)
    ).json()
    client = scheduler_http.client

    for response in [
        await client.post("/v1/pools", json={"name": "q"}, headers=AS_HR),
        await client.put(f"/v1/pools/{pool['id']}/members/{ivan['id']}", headers=AS_HR),
        await client.delete(f"/v1/pools/{pool['id']}/members/{ivan['id']}", headers=AS_HR),
        await client.get("/v1/pools", headers=AS_IVAN),
        await client.get(f"/v1/pools/{pool['id']}", headers=AS_IVAN),
    ]:
        assert_problem(response, 403, "forbidden")
    assert_problem(await client.get("/v1/pools"), 401, "unauthorized")


# Overrides.


async def test_interviewer_adds_lists_and_removes_their_own_override(
    scheduler_http: Running,
) -> None:
    ivan = await interviewer(scheduler_http)
    path = f"/v1/interviewers/{ivan['id']}/overrides"

    created = await scheduler_http.client.post(path, json=SATURDAY, headers=AS_IVAN)
    listed = await scheduler_http.client.get(f"{path}?{WEEK}", headers=AS_IVAN)
    seen_by_hr = await scheduler_http.client.get(f"{path}?{WEEK}", headers=AS_HR)
    deleted = await scheduler_http.client.delete(f"{path}/{created.json()['id']}", headers=AS_IVAN)
    after = await scheduler_http.client.get(f"{path}?{WEEK}", headers=AS_IVAN)

    assert created.status_code == 201, created.text
    override = created.json()
    assert created.headers["location"] == f"{path}/{override['id']}"
    assert (override["starts_at"], override["ends_at"]) == (
        "2026-03-07T02:00:00Z",
        "2026-03-07T06:00:00Z",
    )
    assert (override["kind"], override["note"]) == ("available", "Saturday hiring day")
    assert listed.json()["items"] == [override]
    assert seen_by_hr.json()["items"] == [override]
    assert deleted.status_code == 204
    assert after.json()["items"] == []


async def test_overrides_outside_the_range_are_not_listed(scheduler_http: Running) -> None:
    ivan = await interviewer(scheduler_http)
    path = f"/v1/interviewers/{ivan['id']}/overrides"
    await scheduler_http.client.post(path, json=SATURDAY, headers=AS_ADMIN)

    later = await scheduler_http.client.get(
        f"{path}?start=2026-03-08T00:00:00Z&end=2026-03-10T00:00:00Z", headers=AS_ADMIN
    )

    assert later.json()["items"] == []


async def test_override_ending_before_it_starts_or_spanning_over_180_days_is_refused(
    scheduler_http: Running,
) -> None:
    ivan = await interviewer(scheduler_http)
    path = f"/v1/interviewers/{ivan['id']}/overrides"

    backwards = await scheduler_http.client.post(
        path, json={**SATURDAY, "ends_at": "2026-03-07T09:00:00+08:00"}, headers=AS_ADMIN
    )
    too_long = await scheduler_http.client.post(
        path, json={**SATURDAY, "ends_at": "2026-12-07T09:00:00+08:00"}, headers=AS_ADMIN
    )
    naive = await scheduler_http.client.post(
        path, json={**SATURDAY, "starts_at": "2026-03-07T10:00:00"}, headers=AS_ADMIN
    )
    bad_query = await scheduler_http.client.get(
        f"{path}?start=2026-03-08T00:00:00Z&end=2026-03-01T00:00:00Z", headers=AS_ADMIN
    )
    long_query = await scheduler_http.client.get(
        f"{path}?start=2026-01-01T00:00:00Z&end=2026-12-01T00:00:00Z", headers=AS_ADMIN
    )

    assert [e["field"] for e in assert_problem(backwards, 422)["errors"]] == ["ends_at"]
    assert "180 days" in assert_problem(too_long, 422)["errors"][0]["message"]
    assert_problem(naive, 422, "validation-error")
    assert [e["field"] for e in assert_problem(bad_query, 422)["errors"]] == ["end"]
    assert "180 days" in assert_problem(long_query, 422)["detail"]


async def test_someone_elses_overrides_are_hidden_from_an_interviewer_and_hr_may_not_write(
    scheduler_http: Running,
) -> None:
    ivan = await interviewer(scheduler_http)
    await interviewer(scheduler_http, "int-olga")
    path = f"/v1/interviewers/{ivan['id']}/overrides"
    override = (await scheduler_http.client.post(path, json=SATURDAY, headers=AS_ADMIN)).json()

    assert_problem(await scheduler_http.client.post(path, json=SATURDAY, headers=AS_OTHER), 404)
    assert_problem(await scheduler_http.client.get(f"{path}?{WEEK}", headers=AS_OTHER), 404)
    assert_problem(
        await scheduler_http.client.delete(f"{path}/{override['id']}", headers=AS_OTHER), 404
    )
    assert_problem(
        await scheduler_http.client.post(path, json=SATURDAY, headers=AS_HR), 403, "forbidden"
    )
    assert_problem(
        await scheduler_http.client.delete(f"{path}/{override['id']}", headers=AS_HR),
        403,
        "forbidden",
    )
    assert_problem(await scheduler_http.client.get(f"{path}?{WEEK}"), 401, "unauthorized")
