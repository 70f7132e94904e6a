"""Fallback when unread: SMS after two hours without a read, HR after a day; a read (the open
pixel of the email) in the meantime cancels what would follow."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aio_pika.abc import AbstractRobustConnection

from shared.clock import ManualClock
from shared.events.scheduler import InvitationSentV1, Slot
from tests.notifier.dispatch_support import World, envelope, job_changed, world
from tests.support.running import wait_for


def _invitation(w: World, candidate: uuid.UUID) -> tuple[uuid.UUID, Any]:
    application_id, invitation_id = uuid.uuid4(), uuid.uuid4()
    start = datetime.now(UTC) + timedelta(days=3)
    event = envelope(
        InvitationSentV1(
            invitation_id=invitation_id,
            application_id=application_id,
            job_id=uuid.UUID(w.pipeline.job["id"]),
            candidate_id=candidate,
            kind="live_interview",
            candidate_group="default",
            deadline_at=start - timedelta(days=1),
            slots=[Slot(starts_at=start, ends_at=start + timedelta(minutes=45))],
        ),
        subject=invitation_id,
    )
    return application_id, event


async def _statuses(w: World, application_id: uuid.UUID) -> dict[str, str]:
    return {
        d["channel"]: d["status"] for d in await w.deliveries(application_id=str(application_id))
    }


async def test_unread_goes_to_sms_then_to_hr(
    amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with world(amqp, clock=clock) as w:
        candidate = await w.pipeline.candidate(email="quiet@example.com", phone="13812345678")
        await w.publish(job_changed(uuid.UUID(w.pipeline.job["id"]), owners=["hr-alice"]))
        application_id, event = _invitation(w, candidate)
        await w.publish(event)
        await w.settled(application_id, 2)

        clock.advance(timedelta(hours=2, minutes=1))
        await w.notifier.runtime.drain_timers()
        [sms] = await w.gateway.wait_for_requests(1, timeout=15)
        assert sms.json()["to"] == "+8613812345678"
        assert (await _statuses(w, application_id))["sms"] in ("sent", "sending")

        clock.advance(timedelta(hours=22))
        await w.notifier.runtime.drain_timers()

        async def follow_up() -> list[dict[str, Any]]:
            return await w.notifications(kind="unread_follow_up")

        [hr_notice] = await wait_for(follow_up, timeout=15, what="the HR follow-up")
        [original] = await w.notifications(
            application_id=str(application_id), kind="interview_invitation"
        )
    assert original["status"] == "unread"
    assert hr_notice["recipient_kind"] == "staff" and hr_notice["recipient_id"] == "hr-alice"
    assert hr_notice["data"]["unread_kind"] == "interview_invitation"
    types = [r["event_type"] for r in await db.fetch("SELECT event_type FROM notifier.outbox")]
    assert "notifier.notification_unread.v1" in types


async def test_a_read_before_the_fallback_cancels_it(amqp: AbstractRobustConnection) -> None:
    clock = ManualClock(datetime.now(UTC))
    async with world(amqp, clock=clock) as w:
        candidate = await w.pipeline.candidate(email="reader@example.com", phone="13812345679")
        application_id, event = _invitation(w, candidate)
        await w.publish(event)
        await w.settled(application_id, 2)
        [mail] = [m for m in w.smtp.messages if "reader@example.com" in m.recipients]
        part = mail.message.get_body(preferencelist=("html",))
        assert part is not None
        html = part.get_content()
        pixel = re.search(r'src="(https?://[^"]+/v1/t/open/[^"]+)"', html)
        assert pixel is not None
        path = "/" + pixel.group(1).split("/", 3)[3]
        opened = await w.notifier.client.get(path)
        assert opened.status_code == 200

        clock.advance(timedelta(hours=2, minutes=1))
        await w.notifier.runtime.drain_timers()
        await w.dispatcher.run_once()
        statuses = await _statuses(w, application_id)
        [notification] = await w.notifications(application_id=str(application_id))
    assert "sms" not in statuses
    assert notification["status"] == "engaged"
    assert statuses["email"] == "delivered"
    assert w.gateway.requests == []
