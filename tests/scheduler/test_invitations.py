"""Live-interview invitations through the HTTP API: policies, creating one or many, the
candidate's link (open, pick, another window), the status board, the list and the export."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

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
from tests.scheduler.resources_support import NOW, insert_busy_block
from tests.support.problems import assert_problem


@pytest.fixture
async def world(db: asyncpg.Connection) -> AsyncIterator[World]:
    clock = start_clock()
    async with scheduler_at(clock) as service:
        yield await World(db, service, clock).setup()


# Policies


async def test_seeded_policies_are_listed_for_staff(world: World) -> None:
    response = await world.client.get("/v1/invitation-policies", headers=OWNER)
    assert response.status_code == 200
    groups = {p["candidate_group"]: p for p in response.json()}
    assert {"default", "campus", "experienced"} <= set(groups)
    assert groups["campus"]["live_deadline_hours"] == 48
    one = await world.client.get("/v1/invitation-policies/campus", headers=ADMIN)
    assert one.status_code == 200 and one.headers["etag"] == f'"{one.json()["version"]}"'


async def test_policies_are_hidden_from_interviewers_and_anonymous_callers(world: World) -> None:
    assert_problem(await world.client.get("/v1/invitation-policies"), 401)
    assert_problem(await world.client.get("/v1/invitation-policies", headers=INTERVIEWER), 403)
    assert_problem(await world.client.get("/v1/invitation-policies/nope", headers=OWNER), 404)


POLICY = {
    "live_deadline_hours": 24,
    "ai_deadline_hours": 24,
    "reminders": [{"key": "deadline_2h", "before_deadline_hours": 2}],
    "makeup_hours": None,
}


async def test_admin_creates_a_policy_and_replaces_it_only_with_the_version_read(
    world: World,
) -> None:
    url = "/v1/invitation-policies/interns"
    created = await world.client.put(url, json=POLICY, headers=ADMIN)
    assert created.status_code == 201, created.text
    assert created.json()["version"] == 1 and created.json()["updated_by"] == "admin-zoe"
    changed = {**POLICY, "live_deadline_hours": 36}
    assert_problem(await world.client.put(url, json=changed, headers=ADMIN), 428)
    assert_problem(
        await world.client.put(url, json=changed, headers={**ADMIN, "If-Match": '"7"'}), 412
    )
    replaced = await world.client.put(url, json=changed, headers={**ADMIN, "If-Match": '"1"'})
    assert replaced.status_code == 200, replaced.text
    assert replaced.json()["live_deadline_hours"] == 36 and replaced.json()["version"] == 2


async def test_only_admins_write_policies(world: World) -> None:
    url = "/v1/invitation-policies/interns"
    assert_problem(await world.client.put(url, json=POLICY), 401)
    assert_problem(await world.client.put(url, json=POLICY, headers=OWNER), 403)


@pytest.mark.parametrize(
    "reminder",
    [
        {"key": "both", "after_sent_hours": 1, "before_deadline_hours": 1},
        {"key": "neither"},
        {"key": "Bad Key", "after_sent_hours": 1},
    ],
)
async def test_a_reminder_needs_one_anchor_and_a_plain_key(
    world: World, reminder: dict[str, object]
) -> None:
    body = {**POLICY, "reminders": [reminder]}
    response = await world.client.put("/v1/invitation-policies/x", json=body, headers=ADMIN)
    assert_problem(response, 422)


# Creating one invitation


async def test_owner_invites_with_a_proposal_made_now(world: World) -> None:
    body = world.invitation(candidate_group="campus")
    response = await world.client.post("/v1/invitations", json=body, headers=OWNER)
    assert response.status_code == 201, response.text
    invitation = response.json()
    assert invitation["state"] == "sent" and invitation["kind"] == "live_interview"
    assert invitation["link_token"]
    assert response.headers["cache-control"] == "no-store"
    assert datetime.fromisoformat(invitation["deadline_at"]) == NOW + timedelta(hours=48)
    timers = await pending_timers(world.db, invitation["id"])
    assert timers == {
        "reminder:unopened_24h": NOW + timedelta(hours=24),
        "reminder:deadline_6h": NOW + timedelta(hours=42),
        "deadline": NOW + timedelta(hours=48),
    }
    (sent,) = await events(world.db, "invitation_sent", subject=invitation["id"])
    assert sent["candidate_group"] == "campus" and len(sent["slots"]) == 3
    assert "link_token" not in str(sent)
    stored = await world.db.fetchval(
        "SELECT count(*) FROM scheduler.link_tokens WHERE subject_id = $1", invitation["id"]
    )
    assert stored == 1


async def test_a_second_invitation_for_the_same_application_is_refused(world: World) -> None:
    first = await world.invite()
    again = world.invitation(application_id=first["application_id"])
    response = await world.client.post("/v1/invitations", json=again, headers=OWNER)
    assert_problem(response, 409)
    assert response.json()["invitation_id"] == first["id"]


async def test_a_retry_with_the_same_key_returns_the_invitation_without_its_token(
    world: World,
) -> None:
    body = world.invitation()
    headers = {**OWNER, "Idempotency-Key": "invite-1"}
    first = await world.client.post("/v1/invitations", json=body, headers=headers)
    replay = await world.client.post("/v1/invitations", json=body, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json()["id"] == first.json()["id"]
    assert first.json()["link_token"] and replay.json()["link_token"] is None
    stored = await world.db.fetchval(
        "SELECT count(*) FROM scheduler.idempotency_keys WHERE position($1 in "
        "convert_from(response_body, 'UTF8')) > 0",
        first.json()["link_token"],
    )
    assert stored == 0


async def test_invitations_are_only_for_staff_of_the_job(world: World) -> None:
    body = world.invitation()
    assert_problem(await world.client.post("/v1/invitations", json=body), 401)
    assert_problem(await world.client.post("/v1/invitations", json=body, headers=INTERVIEWER), 403)
    assert_problem(await world.client.post("/v1/invitations", json=body, headers=STRANGER), 404)
    assert (await world.client.post("/v1/invitations", json=body, headers=ADMIN)).status_code == 201


@pytest.mark.parametrize(
    ("change", "slug"),
    [
        ({"candidate_group": "unheard_of"}, "unknown-candidate-group"),
        ({"proposal": None, "proposal_id": str(uuid.uuid4())}, "proposal-not-found"),
    ],
)
async def test_an_invitation_needs_a_known_group_and_a_proposal_of_its_application(
    world: World, change: dict[str, object], slug: str
) -> None:
    response = await world.client.post(
        "/v1/invitations", json=world.invitation(**change), headers=OWNER
    )
    assert_problem(response, 422)
    assert response.json()["type"].endswith(slug)


@pytest.mark.parametrize(
    "change",
    [
        {"candidate_time_zone": "Mars/Olympus"},
        {"proposal_id": "0193a1b2-0000-7000-8000-0000000000d1"},  # and a request: one only
        {"proposal": None},
    ],
)
async def test_bad_invitation_bodies_are_refused(world: World, change: dict[str, object]) -> None:
    response = await world.client.post(
        "/v1/invitations", json=world.invitation(**change), headers=OWNER
    )
    assert_problem(response, 422)


async def test_a_proposal_without_slots_is_not_offered(world: World) -> None:
    saturday_night = {
        "earliest": (NOW + timedelta(hours=14)).isoformat(),  # 23:00 Shanghai
        "latest": (NOW + timedelta(hours=20)).isoformat(),  # 05:00
    }
    body = world.invitation(proposal=world.proposal_request(**saturday_night))
    response = await world.client.post("/v1/invitations", json=body, headers=OWNER)
    assert_problem(response, 422)
    assert response.json()["type"].endswith("no-slots")


async def test_a_stored_proposal_can_be_offered(world: World) -> None:
    application_id = uuid.uuid4()
    proposal_id = await world.insert_proposal(application_id)
    invitation = await world.invite(
        application_id=str(application_id), proposal=None, proposal_id=str(proposal_id)
    )
    assert invitation["proposal_id"] == str(proposal_id)


# Bulk


async def test_bulk_invites_five_hundred_candidates_with_a_result_each(world: World) -> None:
    rows = []
    for _ in range(500):
        application_id = uuid.uuid4()
        proposal_id = await world.insert_proposal(application_id)
        rows.append(
            {
                "application_id": str(application_id),
                "candidate_id": str(uuid.uuid4()),
                "candidate_group": "campus",
                "proposal_id": str(proposal_id),
            }
        )
    rows[7]["candidate_group"] = "unheard_of"
    body = {"job_id": str(world.job_id), "candidates": rows}
    response = await world.client.post("/v1/invitations/bulk", json=body, headers=OWNER)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["created"], result["existing"], result["failed"]) == (499, 0, 1)
    assert [row["application_id"] for row in result["rows"]] == [r["application_id"] for r in rows]
    assert result["rows"][7]["problem"]["type"].endswith("unknown-candidate-group")
    assert len({row["link_token"] for row in result["rows"] if row["status"] == "created"}) == 499
    assert len(await events(world.db, "invitation_sent")) == 499
    timers = await world.db.fetchval(
        "SELECT count(*) FROM scheduler.timers WHERE kind LIKE 'invitation.%'"
    )
    assert timers == 499 * 3

    retried = await world.client.post("/v1/invitations/bulk", json=body, headers=OWNER)
    assert (retried.json()["created"], retried.json()["existing"]) == (0, 499)
    assert retried.json()["rows"][0]["invitation_id"] == result["rows"][0]["invitation_id"]
    assert len(await events(world.db, "invitation_sent")) == 499


async def test_bulk_replay_with_the_same_key_has_no_tokens(world: World) -> None:
    body = {
        "job_id": str(world.job_id),
        "candidates": [
            {k: v for k, v in world.invitation().items() if k != "job_id"} for _ in range(2)
        ],
    }
    headers = {**OWNER, "Idempotency-Key": "bulk-1"}
    first = await world.client.post("/v1/invitations/bulk", json=body, headers=headers)
    replay = await world.client.post("/v1/invitations/bulk", json=body, headers=headers)
    assert first.json()["created"] == replay.json()["created"] == 2
    assert all(row["link_token"] for row in first.json()["rows"])
    assert not any(row["link_token"] for row in replay.json()["rows"])


async def test_bulk_refuses_more_than_five_hundred_and_repeated_applications(
    world: World,
) -> None:
    one = {k: v for k, v in world.invitation().items() if k != "job_id"}
    for candidates in ([one] * 2, [one] * 501, []):
        body = {"job_id": str(world.job_id), "candidates": candidates}
        assert_problem(
            await world.client.post("/v1/invitations/bulk", json=body, headers=OWNER), 422
        )


async def test_bulk_is_only_for_staff_of_the_job(world: World) -> None:
    body = {
        "job_id": str(world.job_id),
        "candidates": [{k: v for k, v in world.invitation().items() if k != "job_id"}],
    }
    assert_problem(await world.client.post("/v1/invitations/bulk", json=body), 401)
    assert_problem(
        await world.client.post("/v1/invitations/bulk", json=body, headers=INTERVIEWER), 403
    )
    assert_problem(
        await world.client.post("/v1/invitations/bulk", json=body, headers=STRANGER), 404
    )


# The candidate


async def test_opening_the_link_shows_the_slots_in_the_candidates_zone_and_is_recorded_once(
    world: World,
) -> None:
    invitation = await world.invite(candidate_time_zone="America/New_York")
    token = invitation["link_token"]
    world.clock.advance(timedelta(hours=2))
    first = await world.client.get("/v1/candidate/invitation", headers=candidate(token))
    assert first.status_code == 200, first.text
    view = first.json()
    assert view["state"] == "opened" and view["actionable"] is True
    assert view["time_zone"] == "America/New_York" and view["job_title"] == "Backend engineer"
    assert len(view["slots"]) == 3
    assert all(slot["starts_at"].endswith("-05:00") for slot in view["slots"])
    assert view["deadline_at"].endswith("-05:00")
    await world.client.get("/v1/candidate/invitation", headers=candidate(token))
    (opened,) = await events(world.db, "invitation_opened", subject=invitation["id"])
    assert datetime.fromisoformat(opened["opened_at"]) == NOW + timedelta(hours=2)


async def test_the_candidates_link_must_be_known(world: World) -> None:
    assert_problem(await world.client.get("/v1/candidate/invitation"), 401)
    assert_problem(
        await world.client.get("/v1/candidate/invitation", headers=candidate("nope")), 401
    )
    # A staff token is no link token.
    assert_problem(await world.client.get("/v1/candidate/invitation", headers=OWNER), 401)


async def test_picking_an_offered_slot_books_it_and_stops_the_reminders(world: World) -> None:
    invitation = await world.invite()
    token = invitation["link_token"]
    view = (await world.client.get("/v1/candidate/invitation", headers=candidate(token))).json()
    picked = await world.client.post(
        "/v1/candidate/invitation/pick",
        json={"starts_at": view["slots"][1]["starts_at"]},
        headers=candidate(token),
    )
    assert picked.status_code == 200, picked.text
    assert picked.json()["state"] == "booked"
    assert picked.json()["starts_at"] == view["slots"][1]["starts_at"]
    row = await world.invitation_row(invitation["id"])
    assert row["state"] == "booked" and row["interview_id"] == uuid.UUID(
        picked.json()["interview_id"]
    )
    assert await pending_timers(world.db, invitation["id"]) == {}
    after = (await world.client.get("/v1/candidate/invitation", headers=candidate(token))).json()
    assert (
        after["state"] == "booked" and after["booked"]["starts_at"] == view["slots"][1]["starts_at"]
    )

    again = await world.client.post(
        "/v1/candidate/invitation/pick", json={"slot_index": 0}, headers=candidate(token)
    )
    assert_problem(again, 409)


@pytest.mark.parametrize(
    "pick",
    [{"slot_index": 3}, {"starts_at": "2026-03-03T03:15:00+08:00"}],
)
async def test_a_slot_that_was_not_offered_cannot_be_picked(
    world: World, pick: dict[str, object]
) -> None:
    invitation = await world.invite()
    response = await world.client.post(
        "/v1/candidate/invitation/pick", json=pick, headers=candidate(invitation["link_token"])
    )
    assert_problem(response, 422)
    assert response.json()["type"].endswith("slot-not-offered")


async def test_a_slot_taken_meanwhile_is_a_conflict_that_offers_fresh_slots(
    world: World,
) -> None:
    invitation = await world.invite()
    token = invitation["link_token"]
    view = (await world.client.get("/v1/candidate/invitation", headers=candidate(token))).json()
    first = datetime.fromisoformat(view["slots"][0]["starts_at"])
    await insert_busy_block(world.db, world.interviewer_id, first, first + timedelta(hours=1))
    response = await world.client.post(
        "/v1/candidate/invitation/pick", json={"slot_index": 0}, headers=candidate(token)
    )
    assert_problem(response, 409)
    fresh = response.json()["suggestions"]
    assert fresh and all(datetime.fromisoformat(s["starts_at"]) != first for s in fresh)
    now_offered = (
        await world.client.get("/v1/candidate/invitation", headers=candidate(token))
    ).json()
    assert [s["starts_at"] for s in now_offered["slots"]] != [s["starts_at"] for s in view["slots"]]
    assert now_offered["state"] == "opened"


async def test_a_new_link_replaces_the_old_one(world: World) -> None:
    invitation = await world.invite()
    url = f"/v1/invitations/{invitation['id']}/link"
    assert_problem(await world.client.post(url, headers=STRANGER), 404)
    issued = await world.client.post(url, headers=OWNER)
    assert issued.status_code == 201
    old = await world.client.get(
        "/v1/candidate/invitation", headers=candidate(invitation["link_token"])
    )
    assert_problem(old, 410)
    new = await world.client.get(
        "/v1/candidate/invitation", headers=candidate(issued.json()["link_token"])
    )
    assert new.status_code == 200


async def test_a_window_with_free_time_is_answered_with_its_slots(world: World) -> None:
    invitation = await world.invite()
    token = invitation["link_token"]
    response = await world.client.post(
        "/v1/candidate/invitation/custom-window",
        json={"starts_at": "2026-03-04T15:00:00", "ends_at": "2026-03-04T17:00:00"},
        headers=candidate(token),
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["matched"] is True and answer["state"] == "opened"
    assert answer["slots"]
    for slot in answer["slots"]:
        assert "2026-03-04T15:00:00+08:00" <= slot["starts_at"] <= "2026-03-04T16:00:00+08:00"
    (requested,) = await events(world.db, "custom_window_requested")
    assert requested["matched"] is True
    picked = await world.client.post(
        "/v1/candidate/invitation/pick", json={"slot_index": 0}, headers=candidate(token)
    )
    assert picked.status_code == 200
    assert picked.json()["starts_at"] == answer["slots"][0]["starts_at"]


async def test_a_window_without_free_time_gets_the_nearest_alternatives_and_tells_hr(
    world: World,
) -> None:
    invitation = await world.invite()
    response = await world.client.post(
        "/v1/candidate/invitation/custom-window",
        json={"starts_at": "2026-03-04T20:00:00", "ends_at": "2026-03-04T22:00:00"},
        headers=candidate(invitation["link_token"]),
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["matched"] is False and answer["state"] == "custom_requested"
    assert answer["slots"]
    (requested,) = await events(world.db, "custom_window_requested")
    assert requested["matched"] is False
    assert requested["window"]["starts_at"] == "2026-03-04T12:00:00Z"
    row = await world.invitation_row(invitation["id"])
    assert row["custom_window"] is not None


@pytest.mark.parametrize(
    "window",
    [
        {"starts_at": "2026-03-04T12:00:00", "ends_at": "2026-03-04T10:00:00"},
        {"starts_at": "2026-03-04T00:00:00", "ends_at": "2026-03-04T23:00:00"},
        {"starts_at": "2026-03-01T10:00:00", "ends_at": "2026-03-01T12:00:00"},
        {"starts_at": "2027-03-01T10:00:00", "ends_at": "2027-03-01T12:00:00"},
    ],
)
async def test_bad_windows_are_refused(world: World, window: dict[str, str]) -> None:
    invitation = await world.invite()
    response = await world.client.post(
        "/v1/candidate/invitation/custom-window",
        json=window,
        headers=candidate(invitation["link_token"]),
    )
    assert_problem(response, 422)


# Board, list, export


async def test_the_board_counts_a_jobs_invitations_by_state(world: World) -> None:
    booked = await world.invite()
    await world.client.post(
        "/v1/candidate/invitation/pick",
        json={"slot_index": 0},
        headers=candidate(booked["link_token"]),
    )
    opened = await world.invite()
    await world.client.get("/v1/candidate/invitation", headers=candidate(opened["link_token"]))
    await world.invite()
    response = await world.client.get(f"/v1/invitations/board?job_id={world.job_id}", headers=OWNER)
    assert response.status_code == 200, response.text
    board = response.json()
    assert (board["total"], board["sent"], board["opened"], board["booked"]) == (3, 1, 1, 1)
    assert board["ever_opened"] == 2 and board["expired"] == board["closed"] == 0


async def test_the_board_and_list_hide_other_peoples_jobs(world: World) -> None:
    await world.invite()
    board = f"/v1/invitations/board?job_id={world.job_id}"
    assert_problem(await world.client.get(board), 401)
    assert_problem(await world.client.get(board, headers=INTERVIEWER), 403)
    assert_problem(await world.client.get(board, headers=STRANGER), 404)
    assert_problem(
        await world.client.get(f"/v1/invitations?job_id={world.job_id}", headers=STRANGER), 404
    )
    everything = await world.client.get("/v1/invitations", headers=STRANGER)
    assert everything.status_code == 200 and everything.json()["items"] == []


async def test_invitations_are_listed_by_state_a_page_at_a_time(world: World) -> None:
    made = [await world.invite() for _ in range(3)]
    await world.client.get("/v1/candidate/invitation", headers=candidate(made[0]["link_token"]))
    url = f"/v1/invitations?job_id={world.job_id}&state=sent&limit=1"
    first = await world.client.get(url, headers=OWNER)
    second = await world.client.get(f"{url}&cursor={first.json()['next_cursor']}", headers=OWNER)
    assert second.json()["next_cursor"] is None
    listed = {item["id"] for page in (first, second) for item in page.json()["items"]}
    assert listed == {made[1]["id"], made[2]["id"]}
    assert "link_token" not in first.json()["items"][0]
    one = await world.client.get(f"/v1/invitations/{made[0]['id']}", headers=OWNER)
    assert one.status_code == 200 and one.json()["state"] == "opened"
    assert_problem(
        await world.client.get(f"/v1/invitations/{made[0]['id']}", headers=STRANGER), 404
    )


async def test_the_export_streams_the_callers_invitations_without_personal_data(
    world: World,
) -> None:
    made = [await world.invite() for _ in range(2)]
    response = await world.client.get(
        f"/v1/invitations/export.csv?job_id={world.job_id}", headers=OWNER
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert {row["invitation_id"] for row in rows} == {m["id"] for m in made}
    assert all(row["state"] == "sent" for row in rows)
    assert made[0]["link_token"] not in response.text
    theirs = await world.client.get("/v1/invitations/export.csv", headers=STRANGER)
    assert len(list(csv.DictReader(io.StringIO(theirs.text)))) == 0
    assert_problem(
        await world.client.get(
            f"/v1/invitations/export.csv?job_id={world.job_id}", headers=STRANGER
        ),
        404,
    )
    assert_problem(await world.client.get("/v1/invitations/export.csv"), 401)
