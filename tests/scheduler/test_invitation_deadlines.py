"""Reminders and deadlines of invitations, with a manual clock and timers ticked by the test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import asyncpg
import pytest

from tests.scheduler.invitations_support import (
    ADMIN,
    OWNER,
    World,
    candidate,
    events,
    pending_timers,
    scheduler_at,
    start_clock,
)
from tests.scheduler.resources_support import NOW
from tests.support.problems import assert_problem


@pytest.fixture
async def world(db: asyncpg.Connection) -> AsyncIterator[World]:
    clock = start_clock()
    async with scheduler_at(clock) as service:
        yield await World(db, service, clock).setup()


def _later_proposal(world: World) -> dict[str, object]:
    # Slots after every deadline of these tests, so the make-up window still has slots.
    return world.proposal_request(
        earliest=(NOW + timedelta(days=6)).isoformat(),
        latest=(NOW + timedelta(days=9)).isoformat(),
    )


async def test_an_unopened_invitation_gets_both_reminders(world: World) -> None:
    invitation = await world.invite(proposal=_later_proposal(world))  # default: 72 h
    world.clock.advance(timedelta(hours=23))
    assert await world.tick_until_idle() == 0
    world.clock.advance(timedelta(hours=1))
    assert await world.tick_until_idle() == 1
    world.clock.advance(timedelta(hours=42))  # 66 h: six before the deadline
    assert await world.tick_until_idle() == 1
    reminders = await events(world.db, "reminder_due", subject=invitation["id"])
    assert [r["reminder"] for r in reminders] == ["unopened_24h", "deadline_6h"]
    assert reminders[0]["recipients"] == ["candidate"]
    assert datetime.fromisoformat(reminders[1]["at"]) == NOW + timedelta(hours=72)


async def test_an_opened_invitation_skips_the_reminder_for_unopened_ones(world: World) -> None:
    invitation = await world.invite(proposal=_later_proposal(world))
    world.clock.advance(timedelta(hours=3))
    await world.client.get("/v1/candidate/invitation", headers=candidate(invitation["link_token"]))
    world.clock.advance(timedelta(hours=66))
    await world.tick_until_idle()
    reminders = await events(world.db, "reminder_due", subject=invitation["id"])
    assert [r["reminder"] for r in reminders] == ["deadline_6h"]


async def test_the_deadline_opens_one_make_up_window_then_closes_the_invitation(
    world: World,
) -> None:
    invitation = await world.invite(proposal=_later_proposal(world))  # 72 h, make-up 24 h
    token = candidate(invitation["link_token"])
    world.clock.advance(timedelta(hours=72))
    await world.tick_until_idle()
    row = await world.invitation_row(invitation["id"])
    assert row["state"] == "expired" and row["makeup_until"] == NOW + timedelta(hours=96)
    (expired,) = await events(world.db, "invite_expired", subject=invitation["id"])
    assert expired["final"] is False
    assert datetime.fromisoformat(expired["makeup_until"]) == NOW + timedelta(hours=96)
    view = (await world.client.get("/v1/candidate/invitation", headers=token)).json()
    assert view["actionable"] is True and view["state"] == "expired"
    assert datetime.fromisoformat(view["act_until"]) == NOW + timedelta(hours=96)
    assert list(await pending_timers(world.db, invitation["id"])) == ["makeup_end"]

    world.clock.advance(timedelta(hours=24))
    await world.tick_until_idle()
    row = await world.invitation_row(invitation["id"])
    assert row["state"] == "closed" and row["closed_at"] == NOW + timedelta(hours=96)
    final = (await events(world.db, "invite_expired", subject=invitation["id"]))[-1]
    assert final["final"] is True
    assert_problem(await world.client.get("/v1/candidate/invitation", headers=token), 410)


async def test_a_slot_can_be_picked_in_the_make_up_window(world: World) -> None:
    invitation = await world.invite(proposal=_later_proposal(world))
    world.clock.advance(timedelta(hours=73))
    await world.tick_until_idle()
    picked = await world.client.post(
        "/v1/candidate/invitation/pick",
        json={"slot_index": 0},
        headers=candidate(invitation["link_token"]),
    )
    assert picked.status_code == 200, picked.text
    assert await pending_timers(world.db, invitation["id"]) == {}


async def test_without_a_make_up_window_the_deadline_closes_the_invitation(
    world: World,
) -> None:
    policy = {"live_deadline_hours": 24, "ai_deadline_hours": 24, "reminders": []}
    created = await world.client.put("/v1/invitation-policies/strict", json=policy, headers=ADMIN)
    assert created.status_code == 201
    invitation = await world.invite(candidate_group="strict")
    world.clock.advance(timedelta(hours=24))
    assert await world.tick_until_idle() == 1
    row = await world.invitation_row(invitation["id"])
    assert row["state"] == "closed" and row["makeup_until"] is None
    (expired,) = await events(world.db, "invite_expired", subject=invitation["id"])
    assert expired["final"] is True
    response = await world.client.get(
        "/v1/candidate/invitation", headers=candidate(invitation["link_token"])
    )
    assert_problem(response, 410)


async def test_past_the_deadline_a_pick_is_refused_even_before_the_timer_ran(
    world: World,
) -> None:
    invitation = await world.invite(proposal=_later_proposal(world))
    world.clock.advance(timedelta(hours=72, seconds=1))
    response = await world.client.post(
        "/v1/candidate/invitation/pick",
        json={"slot_index": 0},
        headers=candidate(invitation["link_token"]),
    )
    assert_problem(response, 410)


async def test_a_booked_invitation_neither_reminds_nor_expires(world: World) -> None:
    invitation = await world.invite()
    await world.client.post(
        "/v1/candidate/invitation/pick",
        json={"slot_index": 0},
        headers=candidate(invitation["link_token"]),
    )
    world.clock.advance(timedelta(days=10))
    await world.tick_until_idle()
    assert await events(world.db, "invite_expired") == []
    assert await events(world.db, "reminder_due", subject=invitation["id"]) == []


async def test_many_deadlines_falling_due_at_once_expire_in_one_batch(world: World) -> None:
    body = {
        "job_id": str(world.job_id),
        "candidates": [
            {
                k: v
                for k, v in world.invitation(proposal=_later_proposal(world)).items()
                if k != "job_id"
            }
            for _ in range(40)
        ],
    }
    made = await world.client.post("/v1/invitations/bulk", json=body, headers=OWNER)
    assert made.json()["created"] == 40
    world.clock.advance(timedelta(hours=72))
    # Reminders go one by one; the 40 deadlines are one batch of the batch handler.
    await world.tick_until_idle()
    assert len(await events(world.db, "invite_expired")) == 40
    states = await world.db.fetch("SELECT DISTINCT state FROM scheduler.invitations")
    assert [row["state"] for row in states] == ["expired"]
    makeup_ends = await world.db.fetchval(
        "SELECT count(*) FROM scheduler.timers WHERE kind = 'invitation.makeup_end' "
        "AND state = 'pending'"
    )
    assert makeup_ends == 40
