"""Calendar overrides: admins mark days as holidays or workdays over China's official calendar;
staff read them; due dates follow them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, timedelta

import asyncpg
import pytest

from pipeline.app import spec as pipeline_spec
from shared.calendar import BUNDLED_YEARS
from shared.clock import ManualClock
from tests.pipeline.portal_support import FRIDAY_EVENING, HR
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.support.tokens import auth

ADMIN = auth("admin", "admin-zoe")
UNKNOWN_YEAR = max(BUNDLED_YEARS) + 1


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(FRIDAY_EVENING.astimezone(UTC))


@pytest.fixture
async def portal(clock: ManualClock) -> AsyncIterator[Running]:
    async with api(pipeline_spec, clock=clock) as service:
        yield service


async def test_admin_adds_a_holiday_then_replaces_it_with_a_workday(
    portal: Running, clock: ManualClock
) -> None:
    path = f"/v1/calendar/days/{UNKNOWN_YEAR}-10-01"

    created = await portal.client.put(
        path, json={"kind": "holiday", "name": "National Day"}, headers=ADMIN
    )
    clock.advance(timedelta(minutes=1))
    replaced = await portal.client.put(path, json={"kind": "workday"}, headers=ADMIN)

    assert created.status_code == 201, created.text
    assert created.json() == {
        "day": f"{UNKNOWN_YEAR}-10-01",
        "kind": "holiday",
        "name": "National Day",
        "updated_by": "admin-zoe",
        "updated_at": (clock.now() - timedelta(minutes=1)).isoformat().replace("+00:00", "Z"),
    }
    assert replaced.status_code == 200
    assert replaced.json()["kind"] == "workday"
    assert replaced.json()["name"] is None
    assert replaced.json()["updated_at"] == clock.now().isoformat().replace("+00:00", "Z")


async def test_staff_list_a_years_overrides_in_date_order_and_whether_it_is_known(
    portal: Running,
) -> None:
    for day, kind in [("10-02", "holiday"), ("10-01", "holiday"), ("09-26", "workday")]:
        await portal.client.put(
            f"/v1/calendar/days/{UNKNOWN_YEAR}-{day}", json={"kind": kind}, headers=ADMIN
        )
    await portal.client.put("/v1/calendar/days/2026-05-06", json={"kind": "holiday"}, headers=ADMIN)

    unknown = await portal.client.get(
        "/v1/calendar/days", params={"year": UNKNOWN_YEAR}, headers=auth("hr", HR)
    )
    bundled = await portal.client.get(
        "/v1/calendar/days", params={"year": 2026}, headers=auth("hr", HR)
    )
    empty = await portal.client.get(
        "/v1/calendar/days", params={"year": UNKNOWN_YEAR + 1}, headers=auth("hr", HR)
    )

    assert unknown.status_code == 200
    body = unknown.json()
    assert (body["year"], body["bundled"], body["known"]) == (UNKNOWN_YEAR, False, True)
    assert [day["day"] for day in body["days"]] == [
        f"{UNKNOWN_YEAR}-09-26",
        f"{UNKNOWN_YEAR}-10-01",
        f"{UNKNOWN_YEAR}-10-02",
    ]
    assert (bundled.json()["bundled"], bundled.json()["known"]) == (True, True)
    assert [day["day"] for day in bundled.json()["days"]] == ["2026-05-06"]
    assert empty.json() == {
        "year": UNKNOWN_YEAR + 1,
        "bundled": False,
        "known": False,
        "days": [],
    }


async def test_removing_an_override_brings_the_official_calendar_back(
    portal: Running, db: asyncpg.Connection
) -> None:
    await portal.client.put("/v1/calendar/days/2026-10-01", json={"kind": "workday"}, headers=ADMIN)

    deleted = await portal.client.delete("/v1/calendar/days/2026-10-01", headers=ADMIN)
    again = await portal.client.delete("/v1/calendar/days/2026-10-01", headers=ADMIN)

    assert deleted.status_code == 204
    assert_problem(again, 404, "not-found")
    assert await db.fetchval("SELECT count(*) FROM pipeline.calendar_days") == 0


@pytest.mark.parametrize(
    ("day", "body"),
    [
        ("2026-02-30", {"kind": "holiday"}),
        ("tomorrow", {"kind": "holiday"}),
        ("2026-10-01", {"kind": "vacation"}),
        ("2026-10-01", {}),
        ("2026-10-01", {"kind": "holiday", "name": ""}),
        ("2026-10-01", {"kind": "holiday", "name": "x" * 101}),
        ("2026-10-01", {"kind": "holiday", "colour": "red"}),
    ],
    ids=["no-such-date", "not-a-date", "bad-kind", "no-kind", "empty-name", "long-name", "extra"],
)
async def test_a_bad_override_is_refused(
    portal: Running, db: asyncpg.Connection, day: str, body: dict[str, str]
) -> None:
    response = await portal.client.put(f"/v1/calendar/days/{day}", json=body, headers=ADMIN)

    assert_problem(response, 422)
    assert await db.fetchval("SELECT count(*) FROM pipeline.calendar_days") == 0


@pytest.mark.parametrize(
    "year", ["", "1999", "2101", "next"], ids=["missing", "low", "high", "text"]
)
async def test_listing_needs_a_plausible_year(portal: Running, year: str) -> None:
    params = {"year": year} if year else {}

    response = await portal.client.get("/v1/calendar/days", params=params, headers=ADMIN)

    assert_problem(response, 422)


@pytest.mark.parametrize(("role", "sub"), [("hr", HR), ("interviewer", "interviewer-wu")])
async def test_only_admins_change_the_calendar(
    portal: Running, db: asyncpg.Connection, role: str, sub: str
) -> None:
    put = await portal.client.put(
        "/v1/calendar/days/2026-10-01", json={"kind": "workday"}, headers=auth(role, sub)
    )
    delete = await portal.client.delete("/v1/calendar/days/2026-10-01", headers=auth(role, sub))

    assert_problem(put, 403, "forbidden")
    assert_problem(delete, 403, "forbidden")
    assert await db.fetchval("SELECT count(*) FROM pipeline.calendar_days") == 0


async def test_interviewers_cannot_read_the_calendar(portal: Running) -> None:
    response = await portal.client.get(
        "/v1/calendar/days", params={"year": 2026}, headers=auth("interviewer", "interviewer-wu")
    )

    assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/calendar/days?year=2026"),
        ("PUT", "/v1/calendar/days/2026-10-01"),
        ("DELETE", "/v1/calendar/days/2026-10-01"),
    ],
    ids=["list", "put", "delete"],
)
async def test_the_calendar_needs_a_token(portal: Running, method: str, path: str) -> None:
    response = await portal.client.request(method, path, json={"kind": "holiday"})

    assert_problem(response, 401, "unauthorized")
