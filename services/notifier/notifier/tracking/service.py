"""Engagement that comes back from outside: opens (the pixel), clicks (the redirect), an SMS
gateway's delivery receipts, and unsubscribe links. Each signed link is checked before
anything is recorded; every change goes through ``dispatch.lifecycle.apply``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from notifier.channels.receipts import Receipt
from notifier.deliveries.models import Delivery, HeldReceipt
from notifier.dispatch.lifecycle import Change, apply
from notifier.kinds import KINDS
from notifier.recipients import service as recipients
from notifier.tracking.links import BadLink, LinkSigner, Unsubscribe
from shared.logging import get_logger
from shared.unit import UnitOfWork

log = get_logger(__name__)

SMS_SOURCE = "sms_gateway"
EMAIL_SOURCE = "email_provider"
RECIPIENT_KINDS = ("candidate", "staff", "interviewer")

_d = Delivery.__table__.c


def _delivery_id(text: str, signature: str) -> uuid.UUID | None:
    # hmac.compare_digest raises TypeError on non-ASCII text: such a signature is forged.
    if not signature.isascii():
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


async def record_open(
    unit: UnitOfWork, signer: LinkSigner, *, delivery_id: str, signature: str
) -> bool:
    """Record that the delivery was seen, if the pixel's signature is ours; whether it was."""
    parsed = _delivery_id(delivery_id, signature)
    if parsed is None:
        return False
    try:
        signer.check_open(parsed, signature)
    except BadLink:
        return False
    change = Change(parsed, "engagement", "seen", "pixel", unit.clock.now())
    await apply(unit, [change])
    return True


def _is_web_url(target: str) -> bool:
    parts = urlsplit(target)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


async def record_click(
    unit: UnitOfWork,
    signer: LinkSigner,
    *,
    delivery_id: str,
    signature: str,
    target: str | None,
) -> str | None:
    """The URL to send the reader on to, after recording the click; None when the link is not
    one we signed (so we never redirect anywhere a stranger chose)."""
    parsed = _delivery_id(delivery_id, signature)
    if parsed is None or not target or not _is_web_url(target):
        return None
    try:
        signer.check_click(parsed, target, signature)
    except BadLink:
        return None
    change = Change(parsed, "engagement", "clicked", "click", unit.clock.now())
    await apply(unit, [change])
    return target


async def apply_receipts(
    unit: UnitOfWork, receipts: Sequence[Receipt], *, channel: str, source: str
) -> tuple[int, int]:
    """Apply a provider's receipts to the deliveries of ``channel`` they are about;
    ``(accepted, held)``. A receipt about a message no delivery is known by yet is held
    (``HeldReceipt``): it may have overtaken the recording of the send, and is applied when
    that is recorded. A receipt seen before changes nothing (``apply`` dedupes on the receipt
    id, holding on it too)."""
    if not receipts:
        return 0, 0
    wanted = list({receipt.provider_message_id for receipt in receipts})
    rows = await unit.session.execute(
        sa.select(_d.provider_message_id, _d.id).where(
            _d.channel == channel, _d.provider_message_id.in_(wanted)
        )
    )
    by_message = {row.provider_message_id: row.id for row in rows}
    changes: list[Change] = []
    held: list[dict[str, object]] = []
    now = unit.clock.now()
    for receipt in receipts:
        delivery_id = by_message.get(receipt.provider_message_id)
        if delivery_id is None:
            held.append(
                {
                    "channel": channel,
                    "source": source,
                    "provider_message_id": receipt.provider_message_id,
                    "receipt_id": receipt.receipt_id,
                    "status": receipt.status,
                    "reason": receipt.reason,
                    "occurred_at": receipt.occurred_at,
                    "received_at": now,
                }
            )
            # The provider's own ids only: they are no one's personal data.
            log.info(
                "receipt.held",
                channel=channel,
                receipt_id=receipt.receipt_id,
                status=receipt.status,
            )
            continue
        changes.append(
            Change(
                delivery_id=delivery_id,
                type="status",
                value=receipt.status,
                source=source,
                occurred_at=receipt.occurred_at,
                provider_event_id=receipt.receipt_id,
                reason=receipt.reason,
            )
        )
    if held:
        await unit.session.execute(
            pg_insert(HeldReceipt)
            .values(held)
            .on_conflict_do_nothing(index_elements=["source", "receipt_id"])
        )
    await apply(unit, changes)
    return len(changes), len(held)


def read_unsubscribe(signer: LinkSigner, token: str) -> Unsubscribe:
    """The unsubscription a token stands for. Raises ``BadLink`` for a forged or malformed
    token, and for one naming a recipient or kind this service does not know."""
    if not token.isascii():
        raise BadLink("malformed unsubscribe token")
    unsubscribe = signer.read_unsubscribe(token)
    if unsubscribe.recipient_kind not in RECIPIENT_KINDS or not unsubscribe.recipient_id:
        raise BadLink("the token names no recipient we write to")
    if unsubscribe.kind is not None and unsubscribe.kind not in KINDS:
        raise BadLink("the token names no kind we send")
    return unsubscribe


async def unsubscribe(unit: UnitOfWork, signer: LinkSigner, token: str) -> Unsubscribe:
    """Unsubscribe the token's recipient from its kind, or from everything when it names none.
    Doing it again changes nothing. Raises ``BadLink``."""
    wanted = read_unsubscribe(signer, token)
    now = unit.clock.now()
    changed = await recipients.unsubscribe(
        unit.session,
        kind=wanted.recipient_kind,
        id=wanted.recipient_id,
        notification_kind=wanted.kind,
        now=now,
    )
    if changed is not None:
        await recipients.announce_subscription(
            unit, kind=wanted.recipient_kind, id=wanted.recipient_id, now=now, recipient=changed
        )
    log.info("recipient.unsubscribed", recipient_kind=wanted.recipient_kind, kind=wanted.kind)
    return wanted
