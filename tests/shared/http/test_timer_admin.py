"""The admin routes over durable timers, the same on every service: the failed ones listed
(without their payloads), a failed one re-armed and then fired by the next tick; who may not
call them and what bad input gets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from shared.clock import ManualClock
from tests.support import testkit
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.support.tokens import auth

NOW = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)
ADMIN = auth("admin", "admin-root")
LIST = "/v1/admin/timers"


def _retry(timer_id: int) -> str:
    return f"/v1/admin/timers/{timer_id}/retry"


async def _timer(
    db: asyncpg.Connection, kind: str, key: str, state: str, *, changed_ago: timedelta
) -> int:
    timer_id: int = await db.fetchval(
        "INSERT INTO testkit.timers (kind, key, due_at, state, payload, attempts, last_error, "
        'updated_at) VALUES ($1, $2, $3, $4, \'{"person": "Wang Fang"}\', $5, $6, $7) '
        "RETURNING id",
        kind,
        key,
        NOW - timedelta(days=1),
        state,
        10 if state == "failed" else 0,
        "RuntimeError: timer handler fails" if state == "failed" else None,
        NOW - changed_ago,
    )
    return timer_id


@pytest.fixture
async def service() -> Any:
    async with api(testkit.spec, clock=ManualClock(NOW), timer_poll_interval_s=3600) as running:
        yield running


async def test_failed_timers_are_listed_latest_change_first_without_their_payloads(
    service: Running, db: asyncpg.Connection
) -> None:
    older = await _timer(db, "remind", "a-1", "failed", changed_ago=timedelta(hours=2))
    newer = await _timer(db, "broken", "b-1", "failed", changed_ago=timedelta(hours=1))
    await _timer(db, "remind", "a-2", "pending", changed_ago=timedelta(hours=1))
    await _timer(db, "remind", "a-3", "done", changed_ago=timedelta(minutes=1))

    listed = await service.client.get(LIST, headers=ADMIN)
    first = await service.client.get(LIST, params={"limit": 1}, headers=ADMIN)
    second = await service.client.get(
        LIST, params={"limit": 1, "cursor": first.json()["next_cursor"]}, headers=ADMIN
    )
    of_kind = await service.client.get(LIST, params={"kind": "remind"}, headers=ADMIN)
    done = await service.client.get(LIST, params={"state": "done"}, headers=ADMIN)

    assert listed.status_code == 200, listed.text
    items = listed.json()["items"]
    assert [item["id"] for item in items] == [newer, older]
    assert items[0] == {
        "id": newer,
        "kind": "broken",
        "key": "b-1",
        "state": "failed",
        "due_at": "2030-02-28T09:00:00Z",
        "attempts": 10,
        "last_error": "RuntimeError: timer handler fails",
        "created_at": items[0]["created_at"],
        "updated_at": "2030-03-01T08:00:00Z",
        "fired_at": None,
    }
    assert "Wang Fang" not in listed.text
    assert [item["id"] for item in first.json()["items"]] == [newer]
    assert [item["id"] for item in second.json()["items"]] == [older]
    assert second.json()["next_cursor"] is None
    assert [item["id"] for item in of_kind.json()["items"]] == [older]
    assert [item["key"] for item in done.json()["items"]] == ["a-3"]


async def test_a_retried_timer_fires_at_the_next_tick_with_fresh_attempts(
    db: asyncpg.Connection,
) -> None:
    timer_id = await _timer(db, "remind", "app-9", "failed", changed_ago=timedelta(hours=3))
    async with api(
        testkit.spec, clock=ManualClock(NOW), run_timers=True, timer_poll_interval_s=3600
    ) as service:
        retried = await service.client.post(_retry(timer_id), headers=ADMIN)
        assert retried.status_code == 200, retried.text
        assert retried.json()["state"] == "pending"
        assert retried.json()["attempts"] == 0
        assert retried.json()["due_at"] == "2030-03-01T09:00:00Z"

        assert await service.runtime.tick_timers() == 1

    row = await db.fetchrow("SELECT state, fired_at FROM testkit.timers WHERE id = $1", timer_id)
    assert row["state"] == "done" and row["fired_at"] is not None
    effects = await db.fetch("SELECT note FROM testkit.effects WHERE source = 'timer'")
    assert [effect["note"] for effect in effects] == ["app-9"]


@pytest.mark.parametrize("state", ["pending", "done", "cancelled"])
async def test_only_a_failed_timer_can_be_retried(
    service: Running, db: asyncpg.Connection, state: str
) -> None:
    timer_id = await _timer(db, "remind", f"c-{state}", state, changed_ago=timedelta(hours=1))

    refused = await service.client.post(_retry(timer_id), headers=ADMIN)

    body = assert_problem(refused, 409, "timer-not-failed")
    assert body["state"] == state
    assert await db.fetchval("SELECT state FROM testkit.timers WHERE id = $1", timer_id) == state


async def test_retrying_an_unknown_timer_is_404(service: Running) -> None:
    assert_problem(await service.client.post(_retry(999_999), headers=ADMIN), 404, "not-found")


@pytest.mark.parametrize(
    ("method", "path"), [("GET", LIST), ("POST", _retry(1))], ids=["list", "retry"]
)
async def test_only_admins_may_call_the_timer_routes(
    service: Running, method: str, path: str
) -> None:
    anonymous = await service.client.request(method, path)
    hr = await service.client.request(method, path, headers=auth("hr", "hr-alice"))
    interviewer = await service.client.request(method, path, headers=auth("interviewer", "iv-bob"))

    assert_problem(anonymous, 401)
    assert_problem(hr, 403, "forbidden")
    assert_problem(interviewer, 403, "forbidden")


@pytest.mark.parametrize(
    ("method", "path", "params", "status"),
    [
        ("GET", LIST, {"state": "exploded"}, 422),
        ("GET", LIST, {"kind": "k" * 101}, 422),
        ("GET", LIST, {"limit": 0}, 422),
        ("GET", LIST, {"cursor": "not-a-cursor"}, 400),
        ("POST", "/v1/admin/timers/0/retry", {}, 422),
        ("POST", "/v1/admin/timers/abc/retry", {}, 422),
    ],
    ids=["state", "kind", "limit", "cursor", "zero-id", "text-id"],
)
async def test_bad_input_to_the_timer_routes_is_a_clear_problem(
    service: Running, method: str, path: str, params: dict[str, Any], status: int
) -> None:
    response = await service.client.request(method, path, params=params, headers=ADMIN)

    assert_problem(response, status)
