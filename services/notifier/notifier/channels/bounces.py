"""Bounce reports as mail servers write them: delivery status notifications (RFC 3464), which
the mailbox our emails name as their return path receives. Whatever reads that mailbox posts
each report as it came (``POST /v1/receipts/email/dsn``, signed like the other receipts), and
it becomes the receipts of the email it is about.

A report names the email by the ``Message-ID`` in the headers it returns (``text/rfc822-headers``
or the whole ``message/rfc822``): ours is derived from the delivery, so it finds the delivery
the way a provider's own receipt does. Each recipient block with a final action counts:
``failed`` is a bounce and ``delivered`` or ``relayed`` a delivery; ``delayed`` and
``expanded`` say nothing final and are skipped. The reason kept is the status code (``5.1.1``):
the diagnostic text usually repeats the address, so it is not kept.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser, HeaderParser
from email.utils import parsedate_to_datetime

from notifier.channels.receipts import Receipt, ReceiptRejected, check_signature

_ACTIONS = {"failed": "bounced", "delivered": "delivered", "relayed": "delivered"}
_STATUS_CODE = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})")
_MESSAGE_ID = re.compile(r"^<[\x21-\x3d\x3f-\x7e]{1,200}>$")
MAX_REPORT_BYTES = 256 * 1024


def parse_report(
    body: bytes, signature: str | None, secret: str | None, *, received_at: datetime
) -> list[Receipt]:
    """The receipts in one delivery status notification; ``received_at`` dates a report that
    carries no date of its own. Raises ``ReceiptRejected`` (401 for the signature, 422 for a
    body that is not a report about one of our emails, naming what is missing)."""
    check_signature(body, signature, secret)
    if len(body) > MAX_REPORT_BYTES:
        raise ReceiptRejected(422, f"body: a report of at most {MAX_REPORT_BYTES} bytes.")
    report = BytesParser(policy=policy.default).parsebytes(body)
    if report.get_content_type() != "multipart/report":
        raise ReceiptRejected(422, "body: a multipart/report delivery status notification.")
    status = _part(report, "message/delivery-status")
    if status is None:
        raise ReceiptRejected(422, "body: the report has no message/delivery-status part.")
    message_id = _original_message_id(report)
    if message_id is None:
        raise ReceiptRejected(422, "body: the report returns no Message-ID of the original.")
    groups = [group for group in status.get_payload() if isinstance(group, Message)]
    if len(groups) < 2:
        raise ReceiptRejected(422, "body: the report names no recipient.")
    per_message, recipients = groups[0], groups[1:]
    fallback = _date(per_message.get("Arrival-Date")) or _date(report.get("Date")) or received_at
    # The same report posted again gives the same ids, so it is recorded once.
    digest = hashlib.sha256(body).hexdigest()[:32]
    receipts = []
    for index, recipient in enumerate(recipients):
        ours = _ACTIONS.get(str(recipient.get("Action", "")).strip().lower())
        if ours is None:
            continue
        code = _STATUS_CODE.match(str(recipient.get("Status", "")))
        receipts.append(
            Receipt(
                receipt_id=f"dsn:{digest}:{index}",
                provider_message_id=message_id,
                status=ours,
                reason=code.group(1) if code and ours == "bounced" else None,
                occurred_at=_date(recipient.get("Last-Attempt-Date")) or fallback,
            )
        )
    return receipts


def _part(report: Message, content_type: str) -> Message | None:
    return next((p for p in report.walk() if p.get_content_type() == content_type), None)


def _original_message_id(report: Message) -> str | None:
    headers: Message | None = None
    returned = _part(report, "message/rfc822")
    if returned is not None:
        payload = returned.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            headers = payload[0]
    if headers is None:
        returned = _part(report, "text/rfc822-headers")
        if returned is not None and isinstance(returned, EmailMessage):
            headers = HeaderParser(policy=policy.default).parsestr(str(returned.get_content()))
    if headers is None:
        return None
    value = str(headers.get("Message-ID", "")).strip()
    return value if _MESSAGE_ID.match(value) else None


def _date(value: object) -> datetime | None:
    if value is None:
        return None
    text = str(value)
    # A DSN date field is "<date>"; some servers put a "; comment" before it, as in Received.
    text = text.rsplit(";", 1)[-1].strip()
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else None
