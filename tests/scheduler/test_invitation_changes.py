"""HR changing a live invitation by hand: cancelling it, moving its deadline (timers, links and
states), with a manual clock and timers ticked by the test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.scheduler.invitations_support import (
    ADMIN,
    INTERVIEWER,
    OWNER,
    STRANGER,
    World,
    candidate,
    events,
    pending_timers,
    scheduler_at,
    start_clock,
)
from tests.scheduler.resources_support import HR, NOW
from tests.support.problems import assert_problem

# The default policy: deadline 72 h, reminders unopened_24h (after 24 h, only if unopened) and
# deadline_6h (6 h before the deadline), a make-up window of 24 h.


@pytest.fixture
async def world(db: asyncpg.Connection) -> AsyncIterator[World]:
    clock = start_clock()
    async with scheduler_at(clock) as service:
        yield await World(db, service, clock).setup()


async def _invite(world: World) -> dict[str, Any]:
    # Slots well after every deadline of these tests, so the make-up window still has slots.
    return await world.invite(
        proposal=world.proposal_request(
            earliest=(NOW + timedelta(days=8)).isoformat(),
            latest=(NOW + timedelta(days=11)).isoformat(),
        )
    )


async def _timer_states(db: asyncpg.Connection, invitation_id: str) -> dict[str, str]:
    rows = await db.fetch(
        "SELECT key, state FROM scheduler.timers WHERE key LIKE $1",
        f"invitation:{invitation_id}:%",
    )
    return {row["key"].split(":", 2)[2]: row["state"] for row in rows}


def _cancel(invitation_id: str) -> str:
    return f"/v1/invitations/{invitation_id}/cancel"


def _deadline(invitation_id: str) -> str:
    return f"/v1/invitations/{invitation_id}/deadline"


def _at(delta: timedelta) -> dict[str, str]:
    return {"deadline_at": (NOW + delta).isoformat()}


def _if_match(headers: dict[str, str], version: int) -> dict[str, str]:
    return {**headers, "If-Match": f'"{version}"'}


# Cancelling


async def test_owner_cancels_a_waiting_invitation_and_its_timers_and_link_stop(
    world: World,
) -> None:
    invitation = await _invite(world)
    world.clock.advance(timedelta(hours=2))
    response = await world.client.post(
        _cancel(invitation["id"]),
        json={"reason": "The position was filled."},
        headers=_if_match(OWNER, 1),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == "cancelled" and body["version"] == 2
    assert body["cancelled_by"] == HR and body["cancel_reason"] == "The position was filled."
    assert datetime.fromisoformat(body["closed_at"]) == NOW + timedelta(hours=2)
    assert response.headers["etag"] == '"2"'
    assert await _timer_states(world.db, invitation["id"]) == {
        "reminder:unopened_24h": "cancelled",
        "reminder:deadline_6h": "cancelled",
        "deadline": "cancelled",
    }
    view = await world.client.get(
        "/v1/candidate/invitation", headers=candidate(invitation["link_token"])
    )
    assert_problem(view, 410, "link-revoked")
    world.clock.advance(timedelta(days=5))
    assert await world.tick_until_idle() == 0
    assert await events(world.db, "reminder_due", subject=invitation["id"]) == []
    assert await events(world.db, "invite_expired", subject=invitation["id"]) == []
    (cancelled,) = await events(world.db, "invitation_cancelled", subject=invitation["id"])
    assert cancelled["cancelled_by"] == "hr"
    assert "reason" not in cancelled  # free text stays out of events


async def test_admin_cancels_without_a_body_or_if_match(world: World) -> None:
    invitation = await _invite(world)
    response = await world.client.post(_cancel(invitation["id"]), headers=ADMIN)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "cancelled"
    assert response.json()["cancelled_by"] == "admin-zoe"
    assert response.json()["cancel_reason"] is None
    assert await pending_timers(world.db, invitation["id"]) == {}
    (cancelled,) = await events(world.db, "invitation_cancelled", subject=invitation["id"])
    assert cancelled["cancelled_by"] == "admin"


async def test_an_invitation_in_its_make_up_window_can_be_cancelled(world: World) -> None:
    invitation = await _invite(world)
    world.clock.advance(timedelta(hours=72))
    await world.tick_until_idle()
    assert list(await pending_timers(world.db, invitation["id"])) == ["makeup_end"]
    response = await world.client.post(_cancel(invitation["id"]), headers=OWNER)
    assert response.status_code == 200, response.text
    assert response.json()["state"] == "cancelled"
    assert (await _timer_states(world.db, invitation["id"]))["makeup_end"] == "cancelled"
    world.clock.advance(timedelta(hours=24))
    await world.tick_until_idle()
    assert (await world.invitation_row(invitation["id"]))["state"] == "cancelled"
    assert len(await events(world.db, "invite_expired", subject=invitation["id"])) == 1


async def test_a_cancelled_invitation_frees_the_application_for_a_new_one(world: World) -> None:
    invitation = await _invite(world)
    await world.client.post(_cancel(invitation["id"]), headers=OWNER)
    again = await world.invite(application_id=invitation["application_id"])
    assert again["id"] != invitation["id"] and again["state"] == "sent"


async def test_a_booked_invitation_is_not_cancelled_its_interview_is_named(
    world: World,
) -> None:
    invitation = await world.invite()
    picked = await world.client.post(
        "/v1/candidate/invitation/pick",
        json={"slot_index": 0},
        headers=candidate(invitation["link_token"]),
    )
    interview_id = picked.json()["interview_id"]
    problem = assert_problem(
        await world.client.post(_cancel(invitation["id"]), headers=OWNER),
        409,
        "invitation-booked",
    )
    assert problem["interview_id"] == interview_id
    assert f"/v1/interviews/{interview_id}/cancel" in problem["detail"]
    moved = await world.client.post(
        _deadline(invitation["id"]), json=_at(timedelta(days=5)), headers=OWNER
    )
    assert_problem(moved, 409, "invitation-booked")
    assert (await world.invitation_row(invitation["id"]))["state"] == "booked"


async def test_a_cancelled_invitation_is_not_cancelled_again_nor_its_deadline_moved(
    world: World,
) -> None:
    invitation = await _invite(world)
    await world.client.post(_cancel(invitation["id"]), headers=OWNER)
    again = await world.client.post(_cancel(invitation["id"]), headers=OWNER)
    assert assert_problem(again, 409, "invitation-not-waiting")["state"] == "cancelled"
    moved = await world.client.post(
        _deadline(invitation["id"]), json=_at(timedelta(days=5)), headers=OWNER
    )
    assert_problem(moved, 409, "invitation-not-waiting")


async def test_a_closed_invitation_can_neither_be_cancelled_nor_get_a_new_deadline(
    world: World,
) -> None:
    policy = {"live_deadline_hours": 24, "ai_deadline_hours": 24, "reminders": []}
    created = await world.client.put("/v1/invitation-policies/strict", json=policy, headers=ADMIN)
    assert created.status_code == 201
    invitation = await world.invite(candidate_group="strict")
    world.clock.advance(timedelta(hours=24))
    await world.tick_until_idle()
    assert (await world.invitation_row(invitation["id"]))["state"] == "closed"
    cancelled = await world.client.post(_cancel(invitation["id"]), headers=OWNER)
    assert assert_problem(cancelled, 409, "invitation-not-waiting")["state"] == "closed"
    moved = await world.client.post(
        _deadline(invitation["id"]), json=_at(timedelta(days=5)), headers=OWNER
    )
    assert_problem(moved, 409, "invitation-not-waiting")


# Moving the deadline


async def test_moving_the_deadline_later_moves_its_timer_and_replans_the_reminders(
    world: World,
) -> None:
    invitation = await _invite(world)
    world.clock.advance(timedelta(hours=30))
    assert await world.tick_until_idle() == 1  # unopened_24h
    response = await world.client.post(
        _deadline(invitation["id"]),
        json=_at(timedelta(hours=120)),
        headers=_if_match(OWNER, 1),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert datetime.fromisoformat(body["deadline_at"]) == NOW + timedelta(hours=120)
    assert body["state"] == "sent" and body["version"] == 2
    assert response.headers["etag"] == '"2"'
    # The reminder already sent stays sent; the one before the deadline moves with it.
    assert await pending_timers(world.db, invitation["id"]) == {
        "reminder:deadline_6h": NOW + timedelta(hours=114),
        "deadline": NOW + timedelta(hours=120),
    }
    assert (await _timer_states(world.db, invitation["id"]))["reminder:unopened_24h"] == "done"
    (moved,) = await events(world.db, "invitation_deadline_changed", subject=invitation["id"])
    assert datetime.fromisoformat(moved["deadline_at"]) == NOW + timedelta(hours=120)

    world.clock.advance(timedelta(hours=43))  # 73 h: past the old deadline
    assert await world.tick_until_idle() == 0
    assert (await world.invitation_row(invitation["id"]))["state"] == "sent"
    world.clock.advance(timedelta(hours=47))  # 120 h
    assert await world.tick_until_idle() == 2
    reminders = await events(world.db, "reminder_due", subject=invitation["id"])
    assert [r["reminder"] for r in reminders] == ["unopened_24h", "deadline_6h"]
    assert datetime.fromisoformat(reminders[1]["at"]) == NOW + timedelta(hours=120)
    (expired,) = await events(world.db, "invite_expired", subject=invitation["id"])
    assert datetime.fromisoformat(expired["deadline_at"]) == NOW + timedelta(hours=120)
    row = await world.invitation_row(invitation["id"])
    assert row["state"] == "expired" and row["makeup_until"] == NOW + timedelta(hours=144)


async def test_moving_the_deadline_earlier_skips_reminders_whose_time_has_passed(
    world: World,
) -> None:
    invitation = await _invite(world)
    world.clock.advance(timedelta(hours=10))
    response = await world.client.post(
        _deadline(invitation["id"]), json=_at(timedelta(hours=14)), headers=ADMIN
    )
    assert response.status_code == 200, response.text
    # unopened_24h now falls after the deadline, deadline_6h (8 h) is already past.
    assert await pending_timers(world.db, invitation["id"]) == {
        "deadline": NOW + timedelta(hours=14)
    }
    assert set((await _timer_states(world.db, invitation["id"])).values()) == {
        "pending",
        "cancelled",
    }
    world.clock.advance(timedelta(hours=4))
    assert await world.tick_until_idle() == 1
    assert await events(world.db, "reminder_due", subject=invitation["id"]) == []
    assert (await world.invitation_row(invitation["id"]))["state"] == "expired"


@pytest.mark.parametrize(("opened", "state"), [(True, "opened"), (False, "sent")])
async def test_a_new_deadline_brings_an_invitation_back_from_its_make_up_window(
    world: World, opened: bool, state: str
) -> None:
    invitation = await _invite(world)
    token = candidate(invitation["link_token"])
    if opened:
        await world.client.get("/v1/candidate/invitation", headers=token)
    world.clock.advance(timedelta(hours=73))
    await world.tick_until_idle()
    assert (await world.invitation_row(invitation["id"]))["state"] == "expired"
    response = await world.client.post(
        _deadline(invitation["id"]), json=_at(timedelta(hours=121)), headers=OWNER
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["state"] == state
    assert body["makeup_until"] is None and body["expired_at"] is None
    assert await pending_timers(world.db, invitation["id"]) == {
        "reminder:deadline_6h": NOW + timedelta(hours=115),
        "deadline": NOW + timedelta(hours=121),
    }
    assert (await _timer_states(world.db, invitation["id"]))["makeup_end"] == "cancelled"
    view = (await world.client.get("/v1/candidate/invitation", headers=token)).json()
    assert view["actionable"] is True
    assert datetime.fromisoformat(view["act_until"]) == NOW + timedelta(hours=121)
    # The policy's make-up window follows the new deadline.
    world.clock.advance(timedelta(hours=48))
    await world.tick_until_idle()
    row = await world.invitation_row(invitation["id"])
    assert row["state"] == "expired" and row["makeup_until"] == NOW + timedelta(hours=145)


async def test_the_link_keeps_working_until_a_deadline_moved_far_ahead(world: World) -> None:
    invitation = await _invite(world)
    response = await world.client.post(
        _deadline(invitation["id"]), json=_at(timedelta(days=150)), headers=OWNER
    )
    assert response.status_code == 200, response.text
    # The link first lasted until the make-up window's end plus 30 days (34 days).
    world.clock.advance(timedelta(days=149))
    view = await world.client.get(
        "/v1/candidate/invitation", headers=candidate(invitation["link_token"])
    )
    assert view.status_code == 200, view.text
    assert view.json()["actionable"] is True


@pytest.mark.parametrize(
    "deadline_at",
    [
        (NOW - timedelta(hours=1)).isoformat(),
        NOW.isoformat(),
        (NOW + timedelta(days=180, seconds=1)).isoformat(),
        "2025-03-10T18:00:00",  # no offset
    ],
    ids=["past", "now", "more-than-180-days", "naive"],
)
async def test_a_deadline_not_in_the_next_180_days_is_refused(
    world: World, deadline_at: str
) -> None:
    invitation = await _invite(world)
    response = await world.client.post(
        _deadline(invitation["id"]), json={"deadline_at": deadline_at}, headers=OWNER
    )
    assert_problem(response, 422)
    row = await world.invitation_row(invitation["id"])
    assert row["deadline_at"] == NOW + timedelta(hours=72) and row["version"] == 1


async def test_a_deadline_exactly_180_days_ahead_is_accepted(world: World) -> None:
    invitation = await _invite(world)
    response = await world.client.post(
        _deadline(invitation["id"]), json=_at(timedelta(days=180)), headers=OWNER
    )
    assert response.status_code == 200, response.text


async def test_a_stale_if_match_is_refused_and_changes_nothing(world: World) -> None:
    invitation = await _invite(world)
    await world.client.get("/v1/candidate/invitation", headers=candidate(invitation["link_token"]))
    # Opening made it version 2: the version HR read (1) is stale.
    moved = await world.client.post(
        _deadline(invitation["id"]),
        json=_at(timedelta(days=5)),
        headers=_if_match(OWNER, 1),
    )
    assert assert_problem(moved, 412, "version-mismatch")["current_version"] == 2
    cancelled = await world.client.post(_cancel(invitation["id"]), headers=_if_match(OWNER, 1))
    assert_problem(cancelled, 412, "version-mismatch")
    row = await world.invitation_row(invitation["id"])
    assert row["state"] == "opened" and row["deadline_at"] == NOW + timedelta(hours=72)
    assert len(await pending_timers(world.db, invitation["id"])) == 3


# Who may


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), (INTERVIEWER, 403), (STRANGER, 404)],
    ids=["no-token", "interviewer", "another-hr"],
)
@pytest.mark.parametrize("route", ["cancel", "deadline"])
async def test_only_the_jobs_hr_and_admins_change_an_invitation(
    world: World, headers: dict[str, str], status: int, route: str
) -> None:
    invitation = await _invite(world)
    if route == "cancel":
        response = await world.client.post(_cancel(invitation["id"]), headers=headers)
    else:
        response = await world.client.post(
            _deadline(invitation["id"]), json=_at(timedelta(days=5)), headers=headers
        )
    assert_problem(response, status)
    row = await world.invitation_row(invitation["id"])
    assert row["state"] == "sent" and row["version"] == 1


async def test_an_unknown_invitation_is_not_found(world: World) -> None:
    unknown = str(uuid.uuid4())
    assert_problem(await world.client.post(_cancel(unknown), headers=ADMIN), 404)
    moved = await world.client.post(_deadline(unknown), json=_at(timedelta(days=5)), headers=ADMIN)
    assert_problem(moved, 404)
