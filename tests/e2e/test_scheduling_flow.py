"""Scheduling across services, with the four services running as real processes: job
ownership travels from the pipeline to the scheduler through the broker (``job_changed``), and
a candidate books a live interview through their link, whose ``interview_booked`` is relayed to
the broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from aio_pika.abc import AbstractRobustConnection

from tests.e2e.conftest import Suite
from tests.e2e.flow import (
    ADMIN,
    HR,
    OTHER_HR,
    apply_to,
    create_job,
    listening,
    published_event,
    received,
    scheduler_knows_job,
)
from tests.support.running import wait_for

pytestmark = pytest.mark.e2e

# Works every hour of every day, so slots exist whenever the test runs (only the `cn`
# calendar's public holidays are off; a two-week range always has workdays).
ALWAYS = {str(day): [["00:00", "24:00"]] for day in range(1, 8)}


async def _create(
    http: httpx.AsyncClient, url: str, body: dict[str, Any], headers: dict[str, str] = ADMIN
) -> dict[str, Any]:
    response = await http.post(url, json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def _interviewer(http: httpx.AsyncClient, scheduler: str) -> dict[str, Any]:
    return await _create(
        http,
        f"{scheduler}/v1/interviewers",
        {
            "subject": "int-e2e",
            "display_name": "E2E Interviewer",
            "time_zone": "Asia/Shanghai",
            "working_hours": ALWAYS,
        },
    )


def _slot_request(interviewer_ids: list[str], room: dict[str, Any]) -> dict[str, Any]:
    earliest = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=2)
    return {
        "interviewer_ids": interviewer_ids,
        "room": room,
        "duration_minutes": 60,
        "earliest": earliest.isoformat(),
        "latest": (earliest + timedelta(days=14)).isoformat(),
        "time_zone": "Asia/Shanghai",
        "count": 3,
    }


async def test_job_owners_from_the_pipeline_decide_who_schedules_for_the_job_in_the_scheduler(
    ready_suite: Suite, http: httpx.AsyncClient
) -> None:
    pipeline, scheduler = ready_suite.url("pipeline"), ready_suite.url("scheduler")
    interviewer = await _interviewer(http, scheduler)
    job = await create_job(http, pipeline)
    application = await apply_to(http, pipeline, job, full_name="Ownership Candidate")

    # The scheduler learns the job and its owner from `job_changed`, through the broker.
    await wait_for(
        lambda: scheduler_knows_job(http, scheduler, job["id"]),
        timeout=15,
        what="the job's owner seeing it in the scheduler",
    )
    request = {
        **_slot_request([interviewer["id"]], {"kind": "remote"}),
        "job_id": job["id"],
        "candidate_id": application["candidate_id"],
    }
    proposals_url = f"{scheduler}/v1/applications/{application['id']}/proposals"
    proposal = await _create(http, proposals_url, request, headers=HR)
    assert proposal["suggestions"], proposal["diagnostics"]
    invite = {
        "application_id": application["id"],
        "job_id": job["id"],
        "candidate_id": application["candidate_id"],
        "proposal_id": proposal["id"],
    }
    invitation = await _create(http, f"{scheduler}/v1/invitations", invite, headers=HR)
    assert invitation["kind"] == "live_interview" and invitation["state"] == "sent"

    # Another HR user, not among the job's owners, sees none of it.
    assert not await scheduler_knows_job(http, scheduler, job["id"], headers=OTHER_HR)
    other_proposal = await http.post(proposals_url, json=request, headers=OTHER_HR)
    assert other_proposal.status_code == 404, other_proposal.text
    other_invitation = await http.post(f"{scheduler}/v1/invitations", json=invite, headers=OTHER_HR)
    assert other_invitation.status_code == 404, other_invitation.text
    for url in (
        f"{scheduler}/v1/proposals/{proposal['id']}",
        f"{scheduler}/v1/invitations/{invitation['id']}",
    ):
        assert (await http.get(url, headers=OTHER_HR)).status_code == 404, url
        assert (await http.get(url, headers=HR)).status_code == 200, url

    # Making them an owner in the pipeline opens the job to them in the scheduler as well.
    patched = await http.patch(
        f"{pipeline}/v1/jobs/{job['id']}",
        json={"owner_ids": ["hr-e2e", "hr-e2e-other"]},
        headers={**HR, "If-Match": f'"{job["version"]}"'},
    )
    assert patched.status_code == 200, patched.text
    await wait_for(
        lambda: scheduler_knows_job(http, scheduler, job["id"], headers=OTHER_HR),
        timeout=15,
        what="the new owner seeing the job in the scheduler",
    )
    seen = await http.get(f"{scheduler}/v1/invitations/{invitation['id']}", headers=OTHER_HR)
    assert seen.status_code == 200 and seen.json()["id"] == invitation["id"]


async def test_a_candidate_books_a_live_interview_through_the_link_and_the_booking_is_published(
    ready_suite: Suite,
    http: httpx.AsyncClient,
    db: asyncpg.Connection,
    amqp: AbstractRobustConnection,
) -> None:
    pipeline, scheduler = ready_suite.url("pipeline"), ready_suite.url("scheduler")
    interviewer = await _interviewer(http, scheduler)
    room = await _create(
        http,
        f"{scheduler}/v1/rooms",
        {"name": "Everest", "location": "HQ 12F", "capacity": 4, "time_zone": "Asia/Shanghai"},
    )
    job = await create_job(http, pipeline)
    application = await apply_to(http, pipeline, job, full_name="Booking Candidate")
    await wait_for(
        lambda: scheduler_knows_job(http, scheduler, job["id"]),
        timeout=15,
        what="the job's owner seeing it in the scheduler",
    )

    async with listening(amqp, ["scheduler.interview_booked.v1"]) as queue:
        # HR invites the candidate with slots computed from the resources' availability.
        invitation = await _create(
            http,
            f"{scheduler}/v1/invitations",
            {
                "application_id": application["id"],
                "job_id": job["id"],
                "candidate_id": application["candidate_id"],
                "candidate_time_zone": "Asia/Shanghai",
                "proposal": _slot_request(
                    [interviewer["id"]], {"kind": "rooms", "room_ids": [room["id"]]}
                ),
            },
            headers=HR,
        )
        assert invitation["state"] == "sent" and invitation["link_token"]
        candidate = {"Authorization": f"Bearer {invitation['link_token']}"}

        # The candidate opens the link and picks the best slot.
        opened = await http.get(f"{scheduler}/v1/candidate/invitation", headers=candidate)
        assert opened.status_code == 200, opened.text
        view = opened.json()
        assert view["state"] == "opened" and view["actionable"] and view["slots"]
        best = view["slots"][0]
        picked = await http.post(
            f"{scheduler}/v1/candidate/invitation/pick",
            json={"slot_index": best["index"]},
            headers=candidate,
        )
        assert picked.status_code == 200, picked.text
        booking = picked.json()
        assert booking["state"] == "booked"
        assert booking["starts_at"] == best["starts_at"] and booking["ends_at"] == best["ends_at"]
        interview_id = booking["interview_id"]

        staff_view = await http.get(f"{scheduler}/v1/invitations/{invitation['id']}", headers=HR)
        assert staff_view.json()["state"] == "booked"
        assert staff_view.json()["interview_id"] == interview_id
        interview = await http.get(f"{scheduler}/v1/interviews/{interview_id}", headers=HR)
        assert interview.status_code == 200, interview.text
        assert interview.json()["application_id"] == application["id"]

        # `interview_booked` is in the outbox, the relay marked it published, and it went
        # through the broker to anyone bound to it.
        outboxed = await wait_for(
            lambda: published_event(db, "scheduler", "scheduler.interview_booked.v1", interview_id),
            timeout=15,
            what="interview_booked relayed from the scheduler's outbox",
        )
        messages: list[dict[str, Any]] = []
        delivered = await wait_for(
            lambda: received(queue, messages, "scheduler.interview_booked.v1", interview_id),
            timeout=15,
            what="interview_booked through the broker",
        )
    assert delivered["id"] == outboxed["id"]
    assert delivered["data"]["application_id"] == application["id"]
    assert delivered["data"]["interviewer_ids"] == [interviewer["id"]]
    assert delivered["data"]["room_id"] == room["id"]
    assert interview.json()["invitation_id"] == invitation["id"]

    # The candidate and HR get the same event as iCalendar.
    for url, headers in (
        (f"{scheduler}/v1/candidate/interview/calendar.ics", candidate),
        (f"{scheduler}/v1/interviews/{interview_id}/calendar.ics", HR),
    ):
        response = await http.get(url, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/calendar")
        ics = response.text.replace("\r\n ", "")  # unfold long lines
        assert f"UID:{interview_id}@recruiting-scheduler" in ics
        assert "METHOD:REQUEST" in ics and "STATUS:TENTATIVE" in ics
