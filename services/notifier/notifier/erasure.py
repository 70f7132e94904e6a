"""Erasing a person from the notifier when the talent pool asks (``erasure_requested``).

What the notifier holds of a candidate: their recipient row (contact overrides, time zone,
quiet hours), the notifications owed to them or about them (template variables in ``data``),
the rendered messages of the deliveries (subjects and bodies, the in-app inbox included, and
the bodies of webhooks and chat posts), the reasons providers gave (which may quote an
address), stored answers and free text of events in the outbox. All of it is emptied; ids,
kinds, channels, statuses and times stay for the statistics. What was still to be sent is
cancelled, fallbacks included. Preferences stay (an unsubscribe is still honoured). A second
run erases nothing new; each run confirms with ``notifier.erasure_completed.v1``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from notifier.consumers import handlers
from notifier.db import infra
from notifier.deliveries.models import ERASED, Delivery, DeliveryEvent
from notifier.notifications.models import Notification
from notifier.recipients.models import Recipient
from shared.erasure import confirm, forget_responses, scrub_outbox, scrub_timers
from shared.events.envelope import ReceivedEvent
from shared.events.talentpool import ErasureRequestedV1, NotifierErasureCompletedV1
from shared.unit import UnitOfWork

WAITING = ("queued", "sending")

_notifications = cast(sa.Table, Notification.__table__)
_deliveries = cast(sa.Table, Delivery.__table__)
_delivery_events = cast(sa.Table, DeliveryEvent.__table__)
_recipients = cast(sa.Table, Recipient.__table__)
_EMPTY = sa.cast(sa.literal("{}"), JSONB)


def _count(result: sa.Result[Any]) -> int:
    return cast("sa.CursorResult[Any]", result).rowcount or 0


async def erase(*, unit: UnitOfWork, candidate_ids: Sequence[uuid.UUID]) -> dict[str, int]:
    """Anonymize the notifier's copy of these candidates; rows changed, by table."""
    session = unit.session
    now = unit.clock.now()
    people = sa.bindparam(None, list(candidate_ids), type_=ARRAY(UUID(as_uuid=True)))
    as_text = sa.bindparam(None, [str(c) for c in candidate_ids], type_=ARRAY(sa.Text))
    n = _notifications.c
    about = sa.or_(
        n.candidate_id == sa.any_(people),
        sa.and_(n.recipient_kind == "candidate", n.recipient_id == sa.any_(as_text)),
    )
    notifications = list((await session.scalars(sa.select(n.id).where(about))).all())
    ids = sa.bindparam(None, notifications, type_=ARRAY(UUID(as_uuid=True)))
    d = _deliveries.c
    deliveries = list(
        (await session.scalars(sa.select(d.id).where(d.notification_id == sa.any_(ids)))).all()
    )
    erased: dict[str, int] = {}
    erased["notifications"] = _count(
        await session.execute(
            sa.update(_notifications)
            .where(n.id == sa.any_(ids), sa.or_(n.data != _EMPTY, n.status == "pending"))
            .values(
                data=_EMPTY,
                status=sa.case((n.status == "pending", "suppressed"), else_=n.status),
                reason=sa.case((n.status == "pending", ERASED), else_=n.reason),
                updated_at=now,
            )
        )
    )
    waiting = d.status.in_(WAITING)
    erased["deliveries"] = _count(
        await session.execute(
            sa.update(_deliveries)
            .where(
                d.id == sa.any_(sa.bindparam(None, deliveries, type_=ARRAY(UUID(as_uuid=True)))),
                sa.or_(
                    d.subject.is_not(None),
                    d.body.is_not(None),
                    d.detail != _EMPTY,
                    waiting,
                    sa.and_(d.reason.is_not(None), d.reason != ERASED),
                ),
            )
            .values(
                subject=None,
                body=None,
                detail=_EMPTY,
                status=sa.case((waiting, "cancelled"), else_=d.status),
                reason=sa.case((waiting, ERASED), else_=None),
                next_attempt_at=sa.case((waiting, None), else_=d.next_attempt_at),
                lease_until=sa.case((waiting, None), else_=d.lease_until),
                updated_at=now,
            )
        )
    )
    e = _delivery_events.c
    erased["delivery_events"] = _count(
        await session.execute(
            sa.update(_delivery_events)
            .where(
                e.delivery_id
                == sa.any_(sa.bindparam(None, deliveries, type_=ARRAY(UUID(as_uuid=True)))),
                e.reason.is_not(None),
            )
            .values(reason=None)
        )
    )
    r = _recipients.c
    erased["recipients"] = _count(
        await session.execute(
            sa.update(_recipients)
            .where(
                r.kind == "candidate",
                r.id == sa.any_(as_text),
                sa.or_(
                    r.email_ciphertext.is_not(None),
                    r.phone_ciphertext.is_not(None),
                    r.time_zone.is_not(None),
                    r.quiet_start.is_not(None),
                    r.locale.is_not(None),
                ),
            )
            .values(
                email_ciphertext=None,
                phone_ciphertext=None,
                time_zone=None,
                quiet_start=None,
                quiet_end=None,
                locale=None,
                updated_at=now,
            )
        )
    )
    # Fallbacks still to come (their payloads name the notification).
    erased["timers"] = await scrub_timers(session, infra.timers, mentioning=notifications)
    erased["idempotency_keys"] = await forget_responses(
        session, infra.idempotency_keys, mentioning=[*candidate_ids, *notifications, *deliveries]
    )
    erased["outbox"] = await scrub_outbox(
        session,
        infra.outbox,
        ids=candidate_ids,
        replacements={"reason": None},
        match_keys=("candidate_id", "recipient_id"),
    )
    return {table: count for table, count in erased.items() if count}


@handlers.on(ErasureRequestedV1, name="notifier.erase_person")
async def erase_person(unit: UnitOfWork, event: ReceivedEvent[ErasureRequestedV1]) -> None:
    erased = await erase(unit=unit, candidate_ids=event.data.candidate_ids)
    await confirm(unit, event.data, NotifierErasureCompletedV1, erased)
