"""From an event on the broker to messages on the wire: rules, the candidate's contact asked of
the real pipeline, templates, quiet hours, the throttle, retries, permanent failures and
exactly one message per (event, recipient, channel)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from notifier.dispatch import dispatcher as dispatcher_module
from notifier.dispatch.dispatcher import Dispatcher
from tests.notifier.dispatch_support import World, job_changed, stage_passed, world
from tests.support.running import wait_for
from tests.support.tokens import auth


async def _outbox_types(db: asyncpg.Connection) -> list[str]:
    rows = await db.fetch("SELECT event_type FROM notifier.outbox ORDER BY id")
    return [row["event_type"] for row in rows]


async def _emails_to(w: World, address: str, count: int = 1) -> list[Any]:
    async def arrived() -> list[Any] | None:
        mails = [m for m in w.smtp.messages if address in m.recipients]
        return mails if len(mails) >= count else None

    found: list[Any] = await wait_for(arrived, timeout=15, what=f"{count} email(s)")
    return found


async def test_a_stage_passed_event_reaches_the_inbox_and_the_candidates_mailbox(
    amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    async with world(amqp) as w:
        candidate = await w.pipeline.candidate(email="han.meimei@example.com", locale="en")
        job_id = uuid.UUID(w.pipeline.job["id"])
        await w.publish(job_changed(job_id, owners=["hr-alice"]))
        event = stage_passed(candidate, job_id=job_id)
        application_id = uuid.UUID(event.data["application_id"])

        await w.publish(event)
        [mail] = await _emails_to(w, "han.meimei@example.com")
        deliveries = await w.settled(application_id, 2)
        [notification] = await w.notifications(application_id=str(application_id))

    by_channel = {d["channel"]: d for d in deliveries}
    assert set(by_channel) == {"in_app", "email"}
    assert by_channel["in_app"]["status"] == "delivered"
    assert by_channel["email"]["status"] == "sent"
    assert by_channel["email"]["provider_message_id"] == mail.message["Message-ID"]
    assert by_channel["email"]["template_version"] == 0
    message = mail.message
    assert message["Subject"]
    assert message["List-Unsubscribe"].startswith("<http")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Backend engineer" in text
    assert "/v1/t/open/" in html  # the open pixel
    assert notification["kind"] == "stage_passed" and notification["status"] == "sent"
    assert notification["data"]["to_stage"] == "round_1"
    assert "notifier.notification_status_changed.v1" in await _outbox_types(db)
    # The inbox keeps what the candidate saw, not the email address.
    row = await db.fetchrow(
        "SELECT subject, body FROM notifier.deliveries WHERE id = $1",
        uuid.UUID(by_channel["in_app"]["id"]),
    )
    assert row is not None and row["body"] and "han.meimei@example.com" not in row["body"]


async def test_an_event_delivered_twice_sends_one_email(amqp: AbstractRobustConnection) -> None:
    async with world(amqp) as w:
        candidate = await w.pipeline.candidate(email="once@example.com")
        event = stage_passed(candidate, job_id=uuid.UUID(w.pipeline.job["id"]))
        await asyncio.gather(w.publish(event), w.publish(event))
        await _emails_to(w, "once@example.com")
        await w.settled(uuid.UUID(event.data["application_id"]), 2)
        await asyncio.sleep(0.5)  # room for a second message, if one were coming
        assert len([m for m in w.smtp.messages if "once@example.com" in m.recipients]) == 1


async def test_quiet_hours_hold_the_email_but_not_the_inbox(
    amqp: AbstractRobustConnection,
) -> None:
    async with world(amqp) as w:
        candidate = await w.pipeline.candidate(email="night@example.com")
        # Quiet from an hour ago to an hour from now, on the candidate's clock.
        now = datetime.now(UTC)
        start = (now - timedelta(hours=1)).time().replace(second=0, microsecond=0)
        end = (now + timedelta(hours=1)).time().replace(second=0, microsecond=0)
        response = await w.notifier.client.put(
            f"/v1/recipients/candidate/{candidate}",
            json={
                "quiet_start": start.isoformat("minutes"),
                "quiet_end": end.isoformat("minutes"),
                "time_zone": "UTC",
            },
            headers=auth("admin", "root"),
        )
        assert response.status_code in (200, 201), response.text
        event = stage_passed(candidate, job_id=uuid.UUID(w.pipeline.job["id"]))
        await w.publish(event)
        deliveries = await w.settled(uuid.UUID(event.data["application_id"]), 2)

    by_channel = {d["channel"]: d for d in deliveries}
    assert by_channel["in_app"]["status"] == "delivered"
    assert by_channel["email"]["status"] == "queued"
    assert by_channel["email"]["reason"] == "quiet_hours"
    held_until = datetime.fromisoformat(by_channel["email"]["next_attempt_at"])
    assert abs((held_until - (now + timedelta(hours=1))).total_seconds()) < 120
    assert not [m for m in w.smtp.messages if "night@example.com" in m.recipients]


async def test_an_unsubscribed_candidate_gets_the_inbox_only(
    amqp: AbstractRobustConnection,
) -> None:
    async with world(amqp) as w:
        candidate = await w.pipeline.candidate(email="no-mail@example.com")
        response = await w.notifier.client.put(
            f"/v1/recipients/candidate/{candidate}",
            json={"unsubscribed_kinds": ["stage_passed"]},
            headers=auth("admin", "root"),
        )
        assert response.status_code in (200, 201), response.text
        event = stage_passed(candidate, job_id=uuid.UUID(w.pipeline.job["id"]))
        await w.publish(event)
        deliveries = await w.settled(uuid.UUID(event.data["application_id"]), 1)
        await asyncio.sleep(0.3)
        assert [
            d["channel"] for d in await w.deliveries(application_id=event.data["application_id"])
        ] == ["in_app"]
    assert deliveries[0]["status"] == "delivered"
    assert not [m for m in w.smtp.messages if "no-mail@example.com" in m.recipients]


async def test_a_transient_smtp_refusal_is_retried_and_a_permanent_one_is_not(
    amqp: AbstractRobustConnection,
) -> None:
    async with world(amqp, retry_base_s=0.2) as w:
        retried = await w.pipeline.candidate(email="busy@example.com")
        refused = await w.pipeline.candidate(email="nobody@example.com")
        job_id = uuid.UUID(w.pipeline.job["id"])
        w.smtp.refuse_next(451, "4.3.0 Try again later", at="DATA")
        first = stage_passed(retried, job_id=job_id)
        await w.publish(first)
        await _emails_to(w, "busy@example.com")
        [email] = [
            d
            for d in await w.settled(uuid.UUID(first.data["application_id"]), 2)
            if d["channel"] == "email"
        ]
        w.smtp.refuse_next(550, "5.1.1 User unknown", at="DATA")
        second = stage_passed(refused, job_id=job_id)
        await w.publish(second)

        async def failed() -> dict[str, Any] | None:
            for d in await w.deliveries(application_id=second.data["application_id"]):
                if d["channel"] == "email" and d["status"] == "failed":
                    return d
            return None

        refusal = await wait_for(failed, timeout=15, what="the refused email to fail")
        detail = (
            await w.notifier.client.get(
                f"/v1/deliveries/{email['id']}", headers=auth("admin", "root")
            )
        ).json()

    assert email["status"] == "sent" and email["attempts"] == 2
    assert [e["value"] for e in detail["events"]] == ["retry", "sent"]
    assert refusal["attempts"] == 1 and "550" in refusal["reason"]


async def test_a_candidate_the_pipeline_cannot_be_asked_about_waits_and_is_retried(
    amqp: AbstractRobustConnection,
) -> None:
    async with world(amqp, pipeline_url="http://127.0.0.1:9") as w:
        candidate = await w.pipeline.candidate(email="later@example.com")
        event = stage_passed(candidate, job_id=uuid.UUID(w.pipeline.job["id"]))
        await w.publish(event)
        deliveries = await w.settled(uuid.UUID(event.data["application_id"]), 2)
    email = next(d for d in deliveries if d["channel"] == "email")
    assert email["status"] == "queued" and "pipeline unreachable" in email["reason"]
    # The inbox needs no address: it is delivered anyway.
    assert next(d for d in deliveries if d["channel"] == "in_app")["status"] == "delivered"


async def test_the_throttle_holds_what_exceeds_the_hourly_limit(
    amqp: AbstractRobustConnection,
) -> None:
    async with world(amqp, throttle_per_hour=2) as w:
        candidate = await w.pipeline.candidate(email="busy-person@example.com")
        job_id = uuid.UUID(w.pipeline.job["id"])
        events = [stage_passed(candidate, job_id=job_id) for _ in range(3)]
        for event in events:
            await w.publish(event)
            await w.settled(uuid.UUID(event.data["application_id"]), 2)
        last = [
            d
            for d in await w.deliveries(application_id=events[2].data["application_id"])
            if d["channel"] == "email"
        ]
    assert last[0]["status"] == "queued" and last[0]["reason"] == "throttle"
    assert len([m for m in w.smtp.messages if "busy-person@example.com" in m.recipients]) == 2


async def test_the_throttle_holds_for_events_that_arrive_together(
    amqp: AbstractRobustConnection,
) -> None:
    # Published back to back, the events are planned in one consumer batch (or a few): the
    # batch counts its own messages against the limit.
    async with world(amqp, throttle_per_hour=2) as w:
        candidate = await w.pipeline.candidate(email="burst@example.com")
        job_id = uuid.UUID(w.pipeline.job["id"])
        events = [stage_passed(candidate, job_id=job_id) for _ in range(4)]
        for event in events:
            await w.publish(event)
        emails: list[dict[str, Any]] = []
        for event in events:
            settled = await w.settled(uuid.UUID(event.data["application_id"]), 2)
            emails.extend(d for d in settled if d["channel"] == "email")
    held = [d for d in emails if d["status"] == "queued" and d["reason"] == "throttle"]
    assert len(emails) == 4 and len(held) == 2
    assert len([m for m in w.smtp.messages if "burst@example.com" in m.recipients]) == 2


async def test_reminders_to_one_person_on_one_day_are_worded_differently(
    amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    from shared.events.scheduler import ReminderDueV1
    from tests.notifier.dispatch_support import envelope

    async with world(amqp) as w:
        candidate = await w.pipeline.candidate(email="remind@example.com")
        job_id = uuid.UUID(w.pipeline.job["id"])
        application_id, interview_id = uuid.uuid4(), uuid.uuid4()
        starts = datetime.now(UTC) + timedelta(hours=3)
        for reminder in ("before_1d", "before_2h"):
            await w.publish(
                envelope(
                    ReminderDueV1(
                        subject_kind="interview",
                        subject_id=interview_id,
                        application_id=application_id,
                        job_id=job_id,
                        candidate_id=candidate,
                        reminder=reminder,
                        recipients=["candidate"],
                        due_at=datetime.now(UTC),
                        at=starts,
                    ),
                    subject=interview_id,
                )
            )
            await w.settled(application_id, 2 if reminder == "before_1d" else 4)
    rows = await db.fetch(
        "SELECT d.body FROM notifier.deliveries d JOIN notifier.notifications n"
        " ON n.id = d.notification_id WHERE n.application_id = $1 AND d.channel = 'in_app'",
        application_id,
    )
    bodies = [row["body"] for row in rows]
    assert len(bodies) == 2 and bodies[0] != bodies[1]


async def test_a_slow_provider_does_not_make_the_dispatcher_send_twice(
    amqp: AbstractRobustConnection,
) -> None:
    # Leases far shorter than the provider's answer: they are renewed while the send waits.
    async with world(amqp, dispatch_lease_s=0.6) as w:
        candidate = await w.pipeline.candidate(email="slow@example.com")
        event = stage_passed(candidate, job_id=uuid.UUID(w.pipeline.job["id"]))
        w.smtp.hold()
        await w.publish(event)

        async def held() -> bool:
            return w.smtp.held >= 1

        await wait_for(held, timeout=15, what="the email to be in flight")
        await asyncio.sleep(2.0)  # more than three leases
        w.smtp.release()
        await _emails_to(w, "slow@example.com")
        deliveries = await w.settled(uuid.UUID(event.data["application_id"]), 2)
        await asyncio.sleep(1.0)
        mails = [m for m in w.smtp.messages if "slow@example.com" in m.recipients]
    email = next(d for d in deliveries if d["channel"] == "email")
    assert len(mails) == 1
    assert email["status"] == "sent" and email["attempts"] == 1


async def test_stopping_while_outcomes_are_recorded_finishes_recording_them(
    amqp: AbstractRobustConnection, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A record cut off by a shutdown would leave its deliveries ``sending``, and another
    replica would send them again once their leases ran out."""
    entered, release = asyncio.Event(), asyncio.Event()
    real_record = Dispatcher.record

    async def slow_record(self: Dispatcher, batch: Any) -> None:
        entered.set()
        await release.wait()
        await real_record(self, batch)

    monkeypatch.setattr(Dispatcher, "record", slow_record)
    async with world(amqp) as w:
        candidate = await w.pipeline.candidate(email="stopping@example.com")
        event = stage_passed(candidate, job_id=uuid.UUID(w.pipeline.job["id"]))
        await w.publish(event)
        await _emails_to(w, "stopping@example.com")
        await asyncio.wait_for(entered.wait(), timeout=15)
        # Released while the service is stopping.
        asyncio.get_running_loop().call_later(0.3, release.set)

    rows = await db.fetch("SELECT channel, status FROM notifier.deliveries ORDER BY channel")
    assert [(r["channel"], r["status"]) for r in rows] == [
        ("email", "sent"),
        ("in_app", "delivered"),
    ]


async def test_an_outcome_that_cannot_be_recorded_does_not_take_the_others_with_it(
    amqp: AbstractRobustConnection, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The email is refused for now (a retry) and its delivery deleted while that outcome waits
    to be recorded with the in-app delivery's: the batch fails, so each outcome is recorded
    alone. The in-app delivery is recorded at once, on its first attempt; given up on with the
    batch, it would have been taken and sent again once its lease ran out."""
    monkeypatch.setattr(dispatcher_module, "RECORD_GATHER_S", 2.0)  # both in one record
    async with world(amqp, dispatch_lease_s=1.0) as w:
        candidate = await w.pipeline.candidate(email="gone@example.com")
        event = stage_passed(candidate, job_id=uuid.UUID(w.pipeline.job["id"]))
        application_id = uuid.UUID(event.data["application_id"])
        w.smtp.refuse_next(451, "4.3.0 Try again later", at="DATA")
        await w.publish(event)

        async def refused() -> bool:
            return w.smtp.refusals_left == 0

        await wait_for(refused, timeout=15, what="the email to be refused")
        deleted = await db.execute(
            "DELETE FROM notifier.deliveries d USING notifier.notifications n"
            " WHERE n.id = d.notification_id AND n.application_id = $1 AND d.channel = 'email'",
            application_id,
        )
        assert deleted == "DELETE 1"

        async def in_app() -> asyncpg.Record | None:
            row: asyncpg.Record | None = await db.fetchrow(
                "SELECT d.status, d.attempts FROM notifier.deliveries d"
                " JOIN notifier.notifications n ON n.id = d.notification_id"
                " WHERE n.application_id = $1 AND d.channel = 'in_app'"
                " AND d.status <> 'sending'",
                application_id,
            )
            return row

        recorded = await wait_for(in_app, timeout=5, what="the in-app delivery's record")
        await asyncio.sleep(2.5)  # more than two leases
        again = await in_app()
    assert (recorded["status"], recorded["attempts"]) == ("delivered", 1)
    assert again is not None and again["attempts"] == 1
