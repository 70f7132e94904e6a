"""The notifier's part of an erasure: the talent pool's ``erasure_requested`` empties the
rendered messages (inbox included), template variables, provider reasons and the candidate's
own settings, cancels what was still to be sent, and is confirmed with
``notifier.erasure_completed.v1``."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from notifier.channels.base import OutgoingMessage, SendResult
from shared.events.envelope import CloudEvent
from shared.events.talentpool import ErasureRequestedV1, NotifierErasureCompletedV1
from tests.notifier.dispatch_support import World, job_changed, stage_passed, world
from tests.support.pii import leftovers
from tests.support.running import wait_for
from tests.support.tokens import auth

NAME = "Quill Ferrante"
EMAIL = "quill.ferrante@example.com"
PHONE = "+8613912345678"
ZONE = "Asia/Kolkata"


def _erasure_requested(candidate_id: uuid.UUID, erasure_id: uuid.UUID) -> CloudEvent:
    now = datetime.now(UTC)
    data = ErasureRequestedV1(
        erasure_id=erasure_id,
        profile_id=uuid.uuid4(),
        candidate_ids=[candidate_id],
        reason="hr_request",
        requested_at=now,
    )
    return CloudEvent(
        id=uuid.uuid4(),
        source="/talentpool",
        type=data.event_type,
        time=now,
        subject=str(erasure_id),
        data=data.model_dump(mode="json"),
    )


async def _confirmations(db: asyncpg.Connection, count: int) -> list[dict[str, Any]]:
    async def confirmed() -> list[dict[str, Any]] | None:
        rows = await db.fetch(
            "SELECT payload FROM notifier.outbox WHERE event_type = $1 ORDER BY id",
            NotifierErasureCompletedV1.event_type,
        )
        found = [json.loads(row["payload"])["data"] for row in rows]
        return found if len(found) >= count else None

    result: list[dict[str, Any]] = await wait_for(confirmed, what=f"{count} confirmation(s)")
    return result


async def _notified(w: World, *, quiet_all_day: bool = False) -> tuple[uuid.UUID, uuid.UUID]:
    """A candidate with a name, email and phone, their own time zone (and, if asked, quiet
    hours all day long), told that they passed a stage: their candidate and application ids."""
    candidate_id = await w.pipeline.candidate(name=NAME, email=EMAIL, phone=PHONE, locale="en")
    settings: dict[str, Any] = {"time_zone": ZONE}
    if quiet_all_day:
        settings |= {"quiet_start": "00:00", "quiet_end": "23:59"}
    saved = await w.notifier.client.put(
        f"/v1/recipients/candidate/{candidate_id}", json=settings, headers=auth("admin", "root")
    )
    assert saved.status_code in (200, 201), saved.text
    job_id = uuid.UUID(w.pipeline.job["id"])
    await w.publish(job_changed(job_id, owners=["hr-alice"]))
    event = stage_passed(candidate_id, job_id=job_id)
    await w.publish(event)
    return candidate_id, uuid.UUID(event.data["application_id"])


async def test_erasure_leaves_no_message_or_contact_of_the_candidate_in_the_notifier(
    amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    async with world(amqp) as w:
        candidate_id, application_id = await _notified(w)
        deliveries = await w.settled(application_id, 2)
        assert {d["status"] for d in deliveries} == {"delivered", "sent"}
        assert await leftovers(db, ["notifier"], needles=[NAME, ZONE]) != []
        erasure_id = uuid.uuid4()

        await w.publish(_erasure_requested(candidate_id, erasure_id))

        [confirmation] = await _confirmations(db, 1)
    assert confirmation["erasure_id"] == str(erasure_id)
    assert confirmation["erased"]["notifications"] == 1
    assert confirmation["erased"]["deliveries"] == 1  # the inbox keeps the rendered message
    assert confirmation["erased"]["recipients"] == 1
    assert await leftovers(db, ["notifier"], needles=[NAME, EMAIL, PHONE, ZONE]) == []
    rows = await db.fetch("SELECT status, subject, body FROM notifier.deliveries ORDER BY channel")
    assert [(r["status"], r["subject"], r["body"]) for r in rows] == [
        ("sent", None, None),
        ("delivered", None, None),
    ]


async def test_what_was_still_to_be_sent_to_an_erased_candidate_is_cancelled(
    amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    async with world(amqp) as w:
        candidate_id, application_id = await _notified(w, quiet_all_day=True)
        deliveries = await w.settled(application_id, 2)
        held = [d for d in deliveries if d["channel"] == "email"]
        assert [d["status"] for d in held] == ["queued"]

        await w.publish(_erasure_requested(candidate_id, uuid.uuid4()))

        await _confirmations(db, 1)
        after = await w.deliveries(application_id=str(application_id))
    email = next(d for d in after if d["channel"] == "email")
    assert (email["status"], email["reason"]) == ("cancelled", "erased")
    [notification] = await db.fetch("SELECT data FROM notifier.notifications")
    assert json.loads(notification["data"]) == {}


async def test_a_second_erasure_request_erases_nothing_new_and_confirms_again(
    amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    async with world(amqp) as w:
        candidate_id, application_id = await _notified(w)
        await w.settled(application_id, 2)
        erasure_id = uuid.uuid4()
        await w.publish(_erasure_requested(candidate_id, erasure_id))
        await _confirmations(db, 1)

        await w.publish(_erasure_requested(candidate_id, erasure_id))

        first, second = await _confirmations(db, 2)
    assert first["erased"] != {}
    assert second["erased"] == {}


async def test_a_message_being_sent_while_its_candidate_is_erased_is_not_stored_afterwards(
    amqp: AbstractRobustConnection, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The inbox copy rendered just before the erasure comes back from its channel after the
    erasure ran: it is not written over the emptied row."""
    entered, release = asyncio.Event(), asyncio.Event()

    async def held_send(message: OutgoingMessage) -> SendResult:
        entered.set()
        await release.wait()
        return SendResult("delivered")

    async with world(amqp) as w:
        monkeypatch.setattr(w.dispatcher._channels["in_app"], "send", held_send)
        candidate_id, application_id = await _notified(w)
        await asyncio.wait_for(entered.wait(), timeout=15)

        await w.publish(_erasure_requested(candidate_id, uuid.uuid4()))
        await _confirmations(db, 1)
        release.set()

        async def recorded() -> bool | None:
            return True if not w.dispatcher._held else None

        await wait_for(recorded, what="the send's outcome recorded")
        after = await w.settled(application_id, 2)

    inbox = next(d for d in after if d["channel"] == "in_app")
    assert (inbox["status"], inbox["reason"]) == ("cancelled", "erased")
    rows = await db.fetch("SELECT subject, body FROM notifier.deliveries")
    assert [(r["subject"], r["body"]) for r in rows] == [(None, None), (None, None)]
    assert await leftovers(db, ["notifier"], needles=[NAME, EMAIL, PHONE, ZONE]) == []
