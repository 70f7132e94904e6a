"""Profiles built from the other services' events, through the broker: a new candidate gets a
profile, every event kind its timeline entry, and duplicates or reordering change nothing."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aio_pika.abc import AbstractRobustConnection

from tests.support.running import Running
from tests.support.tokens import auth
from tests.talentpool.profiles_support import (
    OFFER,
    ROUND_1,
    T0,
    AnApplication,
    deliver_all,
    job_changed,
    profile_of,
    timeline_of,
)

HOUR = timedelta(hours=1)


async def test_a_new_candidate_gets_a_profile_of_their_own(
    talentpool: Running, deliver_events: Callable[..., Awaitable[None]]
) -> None:
    application = AnApplication()

    await deliver_events(application.applied(at=T0, locale="en"))

    profile = await profile_of(talentpool, application.candidate_id)
    assert profile["candidate_ids"] == [str(application.candidate_id)]
    assert profile["locale"] == "en"
    assert profile["furthest_stage_kind"] == "ai_interview"
    assert profile["furthest_rank"] == 1
    assert profile["first_seen_at"] == "2026-03-02T09:00:00Z"
    assert profile["last_activity_at"] == "2026-03-02T09:00:00Z"
    assert profile["merged_into"] is None
    assert profile["contacts_checked_at"] is None
    [entry] = await timeline_of(talentpool, profile["id"])
    assert entry["kind"] == "applied"
    assert entry["source"] == "pipeline"
    assert entry["application_id"] == str(application.id)
    assert entry["job_id"] == str(application.job_id)
    assert entry["data"] == {
        "stage": "ai_interview",
        "stage_kind": "ai_interview",
        "via": "api",
        "locale": "en",
    }


async def test_each_event_kind_is_on_the_timeline_with_its_source_and_time(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    ai = AnApplication()
    live = ai.other()
    events = [
        (ai.applied(at=T0), "applied", "pipeline"),
        (ai.ai("invited", at=T0 + 1 * HOUR), "invited", "pipeline"),
        (ai.ai("opened", at=T0 + 2 * HOUR), "opened", "pipeline"),
        (ai.ai("started", at=T0 + 3 * HOUR), "started", "pipeline"),
        (ai.ai("completed", at=T0 + 4 * HOUR, score="81.5"), "completed", "pipeline"),
        (ai.ai("report_ready", at=T0 + 5 * HOUR, score="81.5"), "report_ready", "pipeline"),
        (ai.result(at=T0 + 6 * HOUR), "result_released", "pipeline"),
        (ai.moved(sequence=2, at=T0 + 7 * HOUR), "stage_changed", "pipeline"),
        (live.invitation_sent(at=T0 + 8 * HOUR), "invited", "scheduler"),
        (live.invitation_opened(at=T0 + 9 * HOUR), "opened", "scheduler"),
        (live.window_requested(at=T0 + 10 * HOUR), "window_requested", "scheduler"),
        (live.booked(at=T0 + 11 * HOUR), "booked", "scheduler"),
        (live.booked(at=T0 + 12 * HOUR, rescheduled=True), "rescheduled", "scheduler"),
        (live.interview_cancelled(at=T0 + 13 * HOUR), "cancelled", "scheduler"),
        (live.no_show(at=T0 + 14 * HOUR), "no_show", "pipeline"),
        (live.message(sender="candidate", at=T0 + 15 * HOUR), "replied", "pipeline"),
        (live.message(sender="hr", at=T0 + 16 * HOUR), "message_from_hr", "pipeline"),
        (live.notification(status="delivered", at=T0 + 17 * HOUR), "delivered", "notifier"),
        (live.notification(status="bounced", at=T0 + 18 * HOUR), "bounced", "notifier"),
        (live.unread(at=T0 + 19 * HOUR), "ignored", "notifier"),
        (ai.ai("expired", at=T0 + 20 * HOUR), "expired", "pipeline"),
        (live.invitation_cancelled(at=T0 + 21 * HOUR), "cancelled", "scheduler"),
        (ai.invite_expired(at=T0 + 22 * HOUR), "expired", "scheduler"),
    ]

    await deliver_all(amqp, *(event for event, _, _ in events))

    profile = await profile_of(talentpool, ai.candidate_id)
    entries = await timeline_of(talentpool, profile["id"])
    assert [(e["kind"], e["source"]) for e in reversed(entries)] == [
        (kind, source) for _, kind, source in events
    ]
    assert [e["occurred_at"] for e in entries] == sorted(
        (e["occurred_at"] for e in entries), reverse=True
    )


async def test_no_free_text_or_contact_data_goes_into_the_timeline(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    application = AnApplication()

    await deliver_all(
        amqp,
        application.moved(sequence=2, reason_code="skills_mismatch"),
        application.interview_cancelled(),
        application.notification(status="bounced"),
    )

    profile = await profile_of(talentpool, application.candidate_id)
    entries = {e["kind"]: e["data"] for e in await timeline_of(talentpool, profile["id"])}
    assert entries["stage_changed"] == {
        "transition": "move",
        "from_stage": "ai_interview",
        "to_stage": "round_1",
        "to_stage_kind": "interview",
        "status": "active",
        "reason_code": "skills_mismatch",
    }
    assert "reason" not in entries["cancelled"]
    assert "reason" not in entries["bounced"]
    assert "example.com" not in str(entries)


async def test_notifications_to_staff_are_on_nobodys_timeline(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    application = AnApplication()

    await deliver_all(
        amqp,
        application.applied(),
        application.notification(status="delivered", recipient_kind="staff"),
    )

    profile = await profile_of(talentpool, application.candidate_id)
    assert [e["kind"] for e in await timeline_of(talentpool, profile["id"])] == ["applied"]


async def test_a_deliverys_receipts_are_on_the_timeline_once_each_at_the_earliest_time(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    application = AnApplication()
    delivery = uuid.uuid4()

    await deliver_all(
        amqp,
        application.notification(
            status="delivered", engagement="read", delivery_id=delivery, at=T0 + 2 * HOUR
        ),
        application.notification(
            status="delivered", engagement="seen", delivery_id=delivery, at=T0 + HOUR
        ),
        application.notification(
            status="delivered", engagement="clicked", delivery_id=delivery, at=T0 + 3 * HOUR
        ),
    )

    profile = await profile_of(talentpool, application.candidate_id)
    entries = await timeline_of(talentpool, profile["id"])
    assert sorted((e["kind"], e["occurred_at"]) for e in entries) == [
        ("clicked", "2026-03-02T12:00:00Z"),
        ("delivered", "2026-03-02T10:00:00Z"),
        ("opened", "2026-03-02T10:00:00Z"),
    ]


def _comparable(profile: dict[str, Any]) -> dict[str, Any]:
    kept = (
        "engagement",
        "engagement_score",
        "furthest_stage_kind",
        "furthest_rank",
        "first_seen_at",
        "last_activity_at",
        "locale",
    )
    return {key: profile[key] for key in kept}


def _history(application: AnApplication) -> list[Any]:
    other = application.other()
    return [
        application.applied(at=T0),
        application.ai("invited", at=T0 + HOUR),
        application.invitation_sent(kind="ai_interview", at=T0 + HOUR),
        application.ai("opened", at=T0 + 3 * HOUR),
        application.ai("started", at=T0 + 4 * HOUR),
        application.ai("completed", at=T0 + 5 * HOUR, score="77"),
        application.moved(sequence=2, to_stage=ROUND_1, at=T0 + 6 * HOUR),
        application.moved(sequence=3, from_stage=ROUND_1, to_stage=OFFER, at=T0 + 7 * HOUR),
        other.applied(at=T0 + 8 * HOUR),
        other.invitation_sent(at=T0 + 9 * HOUR),
        other.invitation_opened(at=T0 + 30 * HOUR),
        other.notification(engagement="read", at=T0 + 31 * HOUR),
        other.message(at=T0 + 32 * HOUR),
        other.invite_expired(kind="live_interview", at=T0 + 40 * HOUR),
    ]


def _same_history_for(candidate_id: uuid.UUID, events: list[Any]) -> list[Any]:
    """The events again, for another candidate (and other applications), at the same times."""
    renamed: dict[str, str] = {}
    copies = []
    for event in events:
        data = dict(event.data)
        for key in ("application_id", "candidate_id", "recipient_id", "delivery_id"):
            if key in data and data[key] is not None:
                if key in ("candidate_id", "recipient_id"):
                    data[key] = str(candidate_id)
                else:
                    data[key] = renamed.setdefault(data[key], str(uuid.uuid4()))
        copies.append(event.model_copy(update={"id": uuid.uuid4(), "data": data}))
    return copies


async def test_events_twice_and_out_of_order_leave_the_same_profile(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    in_order = AnApplication()
    events = _history(in_order)
    shuffled = uuid.uuid4()
    copies = _same_history_for(shuffled, events)

    await deliver_all(amqp, *events)
    # The other person's: latest first, then every event again.
    await deliver_all(amqp, *reversed(copies))
    await deliver_all(amqp, *copies)

    first = await profile_of(talentpool, in_order.candidate_id)
    second = await profile_of(talentpool, shuffled)
    assert _comparable(first) == _comparable(second)
    first_entries = sorted(
        (e["occurred_at"], e["kind"]) for e in await timeline_of(talentpool, first["id"])
    )
    second_entries = sorted(
        (e["occurred_at"], e["kind"]) for e in await timeline_of(talentpool, second["id"])
    )
    assert second_entries == first_entries
    assert len(first_entries) == len(events) + 1  # the read notification: delivered, opened
    assert first["engagement"]["invited"] == 2
    assert first["furthest_stage_kind"] == "offer"


async def test_invitations_are_counted_once_per_application_and_kind_with_their_outcomes(
    talentpool: Running, amqp: AbstractRobustConnection
) -> None:
    taken = AnApplication()
    ignored, withdrawn = taken.other(), taken.other()

    await deliver_all(
        amqp,
        # One AI interview, reported by the vendor and by the scheduler: one invitation,
        # opened four hours later, then taken.
        taken.ai("invited", at=T0),
        taken.invitation_sent(kind="ai_interview", at=T0 + HOUR),
        taken.ai("opened", at=T0 + 4 * HOUR),
        taken.ai("completed", at=T0 + 5 * HOUR),
        # Never opened, expired: a no-show.
        ignored.ai("invited", at=T0),
        ignored.ai("expired", at=T0 + 48 * HOUR),
        ignored.invite_expired(at=T0 + 48 * HOUR),
        # Withdrawn by HR before the person could respond: not held against them.
        withdrawn.invitation_sent(at=T0),
        withdrawn.invitation_cancelled(at=T0 + HOUR),
    )

    profile = await profile_of(talentpool, taken.candidate_id)
    assert profile["engagement"] | {"score": None, "recency": None} == {
        "score": None,
        "recency": None,
        "invited": 2,
        "responded": 1,
        "completed": 1,
        "no_shows": 1,
        "response_rate": 0.5,
        "completion": 0.5,
        "mean_response_seconds": 4 * 3600,
        "response_speed": 0.729,
    }
    assert profile["last_activity_at"] == "2026-03-02T14:00:00Z"


async def test_a_stale_stage_change_does_not_move_the_application_back(
    talentpool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    application = AnApplication()

    await deliver_all(
        amqp,
        application.moved(sequence=3, from_stage=ROUND_1, to_stage=OFFER, at=T0 + HOUR),
        application.moved(sequence=2, to_stage=ROUND_1, at=T0),
        application.applied(at=T0 - HOUR),
    )

    row = await db.fetchrow(
        """SELECT stage_key, stage_kind, version, furthest_rank, furthest_stage_kind, applied_at
           FROM talentpool.applications WHERE id = $1""",
        application.id,
    )
    assert dict(row) == {
        "stage_key": "offer",
        "stage_kind": "offer",
        "version": 3,
        "furthest_rank": 5,
        "furthest_stage_kind": "offer",
        "applied_at": T0 - HOUR,
    }
    profile = await profile_of(talentpool, application.candidate_id)
    assert (profile["furthest_stage_kind"], profile["furthest_rank"]) == ("offer", 5)


async def test_a_job_keeps_its_newest_state_and_its_owners_see_its_candidates(
    talentpool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    application = AnApplication()

    await deliver_all(
        amqp,
        job_changed(application.job_id, owners=["hr-bob"], at=T0 + HOUR, sequence=2),
        job_changed(application.job_id, owners=["hr-alice"], at=T0, sequence=1),
        application.applied(),
    )

    job = await db.fetchrow(
        "SELECT owner_ids, changed_at FROM talentpool.jobs WHERE id = $1", application.job_id
    )
    assert (job["owner_ids"], job["changed_at"]) == (["hr-bob"], T0 + HOUR)
    bob = await talentpool.client.get(
        "/v1/profiles",
        params={"candidate_id": str(application.candidate_id)},
        headers=auth("hr", "hr-bob"),
    )
    alice = await talentpool.client.get(
        "/v1/profiles",
        params={"candidate_id": str(application.candidate_id)},
        headers=auth("hr", "hr-alice"),
    )
    assert len(bob.json()["items"]) == 1
    assert alice.json()["items"] == []


async def test_engagement_is_stored_for_segments_when_the_counters_change(
    talentpool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    application = AnApplication()

    await deliver_all(
        amqp, application.ai("invited", at=T0), application.ai("opened", at=T0 + HOUR / 2)
    )

    profile = await profile_of(talentpool, application.candidate_id)
    stored = await db.fetchrow(
        "SELECT engagement_score, engagement_parts FROM talentpool.profiles WHERE id = $1",
        uuid.UUID(profile["id"]),
    )
    parts = json.loads(stored["engagement_parts"])
    assert parts["response_rate"] == 1.0
    assert parts["response_speed"] == 1.0
    assert parts["completion"] == 0.0
    assert parts["as_of"] == datetime.now(UTC).date().isoformat()
    assert stored["engagement_score"] == profile["engagement_score"]
