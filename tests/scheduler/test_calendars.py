"""Holiday calendars: China's built in, custom ones, their own days, and who may change them."""

from __future__ import annotations

from tests.scheduler.resources_support import ADMIN, HR, INTERVIEWER_SUB
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth

AS_ADMIN = auth("admin", ADMIN)
AS_HR = auth("hr", HR)


async def test_chinas_calendar_is_there_from_the_start(scheduler_http: Running) -> None:
    response = await scheduler_http.client.get("/v1/calendars", headers=AS_HR)

    assert response.status_code == 200
    assert [(c["id"], c["base"]) for c in response.json()["items"]] == [("cn", "cn")]


async def test_admin_creates_a_custom_calendar_and_sets_its_days(scheduler_http: Running) -> None:
    created = await scheduler_http.client.post(
        "/v1/calendars", json={"id": "acme-de", "name": "ACME Germany"}, headers=AS_ADMIN
    )
    holiday = await scheduler_http.client.put(
        "/v1/calendars/acme-de/days/2026-10-03",
        json={"kind": "holiday", "name": "Tag der Deutschen Einheit"},
        headers=AS_ADMIN,
    )
    changed = await scheduler_http.client.put(
        "/v1/calendars/acme-de/days/2026-10-03", json={"kind": "workday"}, headers=AS_ADMIN
    )
    days = await scheduler_http.client.get("/v1/calendars/acme-de/days?year=2026", headers=AS_HR)

    assert created.status_code == 201
    assert created.headers["location"] == "/v1/calendars/acme-de"
    assert created.json()["base"] == "custom"
    assert holiday.status_code == 201
    assert changed.status_code == 200
    assert days.json() == [
        {"calendar_id": "acme-de", "day": "2026-10-03", "kind": "workday", "name": None}
    ]


async def test_deleting_a_day_removes_it_and_a_second_delete_is_not_found(
    scheduler_http: Running,
) -> None:
    await scheduler_http.client.put(
        "/v1/calendars/cn/days/2026-03-09", json={"kind": "holiday"}, headers=AS_ADMIN
    )

    deleted = await scheduler_http.client.delete(
        "/v1/calendars/cn/days/2026-03-09", headers=AS_ADMIN
    )
    again = await scheduler_http.client.delete("/v1/calendars/cn/days/2026-03-09", headers=AS_ADMIN)
    days = await scheduler_http.client.get("/v1/calendars/cn/days?year=2026", headers=AS_HR)

    assert deleted.status_code == 204
    assert_problem(again, 404, "not-found")
    assert days.json() == []


async def test_a_calendar_id_taken_already_conflicts(scheduler_http: Running) -> None:
    response = await scheduler_http.client.post(
        "/v1/calendars", json={"id": "cn", "name": "Mine"}, headers=AS_ADMIN
    )

    assert_problem(response, 409, "calendar-exists")


async def test_bad_calendar_input_is_refused(scheduler_http: Running) -> None:
    bad_id = await scheduler_http.client.post(
        "/v1/calendars", json={"id": "Has Spaces", "name": "x"}, headers=AS_ADMIN
    )
    bad_kind = await scheduler_http.client.put(
        "/v1/calendars/cn/days/2026-03-09", json={"kind": "party"}, headers=AS_ADMIN
    )
    bad_date = await scheduler_http.client.put(
        "/v1/calendars/cn/days/2026-02-30", json={"kind": "holiday"}, headers=AS_ADMIN
    )
    unknown = await scheduler_http.client.put(
        "/v1/calendars/atlantis/days/2026-03-09", json={"kind": "holiday"}, headers=AS_ADMIN
    )

    assert_problem(bad_id, 422, "validation-error")
    assert_problem(bad_kind, 422, "validation-error")
    assert_problem(bad_date, 422, "validation-error")
    assert_problem(unknown, 404, "not-found")


async def test_only_admins_change_calendars_and_only_staff_read_them(
    scheduler_http: Running,
) -> None:
    client = scheduler_http.client
    as_ivan = auth("interviewer", INTERVIEWER_SUB)

    for response in [
        await client.post("/v1/calendars", json={"id": "x", "name": "x"}, headers=AS_HR),
        await client.put(
            "/v1/calendars/cn/days/2026-03-09", json={"kind": "holiday"}, headers=AS_HR
        ),
        await client.delete("/v1/calendars/cn/days/2026-03-09", headers=AS_HR),
        await client.get("/v1/calendars", headers=as_ivan),
        await client.get("/v1/calendars/cn/days?year=2026", headers=as_ivan),
    ]:
        assert_problem(response, 403, "forbidden")
    for response in [
        await client.get("/v1/calendars"),
        await client.post("/v1/calendars", json={"id": "x", "name": "x"}),
        await client.put("/v1/calendars/cn/days/2026-03-09", json={"kind": "holiday"}),
    ]:
        assert_problem(response, 401, "unauthorized")
