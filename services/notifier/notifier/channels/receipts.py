"""Providers' delivery receipts in one signed JSON shape, for any channel whose provider reports
back (the SMS gateway; an email provider's bounce and delivery events):

    {"receipts": [{"id": "r-1", "message_id": "...", "status": "delivered", "reason": null,
                   "at": "2026-12-01T08:00:00+08:00"}]}

signed with ``sha256=<hex HMAC-SHA256 of the body>`` in a header. Each channel maps the
provider's statuses to ours.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

_PROVIDER_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
MAX_REASON_LENGTH = 200
# A provider's reason is usually a code (UNDELIV, MK:0001, 5.1.1); a long run of digits in it
# may be a phone number, which is masked before the reason is recorded.
_DIGIT_RUN = re.compile(r"\d{7,}")


@dataclass(frozen=True)
class Receipt:
    receipt_id: str
    provider_message_id: str
    status: str  # one of our delivery statuses: delivered, undelivered, bounced
    reason: str | None
    occurred_at: datetime


class ReceiptRejected(Exception):
    """The receipt request is refused with this HTTP status (401 for a bad signature, 422 for
    a malformed body) and this message, which names the field and never echoes its value."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


def receipt_signature(body: bytes, secret: str) -> str:
    """The ``sha256=<hex>`` a provider puts in its signature header for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_signature(body: bytes, signature: str | None, secret: str | None) -> None:
    """When ``secret`` is set, ``body`` must be signed with it (compared in constant time);
    raises ``ReceiptRejected`` (401) otherwise."""
    if secret is None:
        return
    expected = receipt_signature(body, secret)
    given = (signature or "").strip()
    if not given:
        raise ReceiptRejected(401, "The receipt signature is missing.")
    if not hmac.compare_digest(expected.encode(), given.lower().encode()):
        raise ReceiptRejected(401, "The receipt signature does not match.")


def parse(
    body: bytes, signature: str | None, secret: str | None, *, statuses: Mapping[str, str]
) -> list[Receipt]:
    """The receipts in a provider's POST. When ``secret`` is set the body must be signed with
    it (compared in constant time). ``statuses`` maps the provider's statuses to ours. Raises
    ``ReceiptRejected``."""
    check_signature(body, signature, secret)
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ReceiptRejected(422, "The body is not JSON.") from None
    items = document.get("receipts") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise ReceiptRejected(422, "receipts: a list of receipts is required.")
    return [_receipt(item, index, statuses) for index, item in enumerate(items)]


def _receipt(item: Any, index: int, statuses: Mapping[str, str]) -> Receipt:
    where = f"receipts[{index}]"
    if not isinstance(item, dict):
        raise ReceiptRejected(422, f"{where}: an object is required.")
    receipt_id = item.get("id")
    if not isinstance(receipt_id, str) or not _PROVIDER_ID.match(receipt_id):
        raise ReceiptRejected(422, f"{where}.id: a non-empty string is required.")
    message_id = item.get("message_id")
    if not isinstance(message_id, str) or not _PROVIDER_ID.match(message_id):
        raise ReceiptRejected(422, f"{where}.message_id: a non-empty string is required.")
    given_status = item.get("status")
    status = statuses.get(given_status) if isinstance(given_status, str) else None
    if status is None:
        raise ReceiptRejected(422, f"{where}.status: must be one of {', '.join(statuses)}.")
    reason = item.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ReceiptRejected(422, f"{where}.reason: a string or null is required.")
    occurred_at = _timestamp(item.get("at"))
    if occurred_at is None:
        raise ReceiptRejected(422, f"{where}.at: an RFC 3339 time with an offset is required.")
    return Receipt(
        receipt_id=receipt_id,
        provider_message_id=message_id,
        status=status,
        reason=_DIGIT_RUN.sub("[number]", reason)[:MAX_REASON_LENGTH] if reason else None,
        occurred_at=occurred_at,
    )


def _timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or "T" not in value.upper():
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None
