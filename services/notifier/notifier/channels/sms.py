"""SMS through an HTTP gateway, and the gateway's delivery receipts.

``JsonSmsGateway`` speaks the one generic JSON protocol shipped (documented in
``docs/notifier/channels.md``): most Chinese SMS providers sit behind an aggregator or a small
adapter that can speak it. Another provider is another class implementing ``Channel`` plus a
receipt parser returning ``SmsReceipt``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import httpx
import phonenumbers

from notifier.channels.base import OutgoingMessage, SendResult
from notifier.channels.http import (
    CLOSED,
    REQUEST_ERRORS,
    SharedHttpClient,
    is_retryable_status,
    post,
    retry_after_s,
    transport_failure,
)
from notifier.settings import NotifierSettings
from shared.logging import get_logger

log = get_logger(__name__)

DEFAULT_REGION = "CN"
# An error code from the gateway is quoted in our reason only if it looks like a code (so a
# gateway that echoes the number in its "code" cannot put it into our records).
_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_PROVIDER_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
MAX_REASON_LENGTH = 200
# A gateway's reason is usually a code (UNDELIV, MK:0001); a long run of digits in it may be
# the phone number, which is masked before the reason is recorded.
_DIGIT_RUN = re.compile(r"\d{7,}")


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(number: str, region: str = DEFAULT_REGION) -> str:
    """``number`` in E.164 (``+8613800138000``); a number without a country code is read as
    one of ``region``. Raises ``InvalidPhoneNumber``."""
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber("The phone number is not valid.") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidPhoneNumber("The phone number is not valid.")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class JsonSmsGateway:
    """POSTs ``{"to", "text", "sender", "reference"}`` to ``sms_gateway_url`` and reads
    ``{"id"}`` back. ``reference`` is the delivery's idempotency key, so a gateway that dedupes
    on it sends a retried message once."""

    name = "sms"

    def __init__(self, settings: NotifierSettings, http: SharedHttpClient | None = None) -> None:
        self._settings = settings
        self._http = http if http is not None else SharedHttpClient()
        self._client = self._http.acquire()
        self._closed = False

    async def send(self, message: OutgoingMessage) -> SendResult:
        if self._closed:
            return CLOSED
        try:
            to = to_e164(message.address)
        except InvalidPhoneNumber as error:
            return SendResult("failed", reason=str(error))
        body = {
            "to": to,
            "text": message.text,
            "sender": self._settings.sms_sender,
            "reference": message.idempotency_key or str(message.delivery_id),
        }
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._settings.sms_gateway_token is not None:
            token = self._settings.sms_gateway_token.get_secret_value()
            headers["Authorization"] = f"Bearer {token}"
        try:
            answer = await post(
                self._client,
                self._settings.sms_gateway_url,
                content=json.dumps(body, ensure_ascii=False).encode(),
                headers=headers,
                timeout_s=self._settings.sms_timeout_s,
            )
        except REQUEST_ERRORS as error:
            result = transport_failure(error)
        else:
            result = _classify(answer.status, answer.headers, answer.body)
        if result.outcome not in ("sent", "delivered"):
            log.info("sms.not_sent", outcome=result.outcome, reason=result.reason)
        return result

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._http.release()


def _classify(status: int, headers: httpx.Headers, body: bytes) -> SendResult:
    if 200 <= status < 300:
        provider_id = _json_object(body).get("id")
        if isinstance(provider_id, int) and not isinstance(provider_id, bool):
            provider_id = str(provider_id)
        if isinstance(provider_id, str) and _PROVIDER_ID.match(provider_id):
            return SendResult("sent", provider_message_id=provider_id)
        # It may or may not have taken the message: sending again is what the reference
        # (deduplicated by the gateway) is for.
        return SendResult("retry", reason=f"The gateway's answer ({status}) was not understood.")
    if is_retryable_status(status):
        return SendResult(
            "retry",
            reason=f"The gateway answered {status}.",
            retry_after_s=retry_after_s(headers),
        )
    if 300 <= status < 400:
        return SendResult("failed", reason=f"The gateway redirected ({status}); not followed.")
    code = _error_code(_json_object(body))
    suffix = f" {code}" if code else ""
    return SendResult("failed", reason=f"The gateway refused the message ({status}{suffix}).")


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _error_code(answer: dict[str, Any]) -> str | None:
    """``{"error": {"code": ...}}``, ``{"error": "..."}`` or ``{"code": ...}``."""
    error = answer.get("error")
    candidates = [error.get("code") if isinstance(error, dict) else error, answer.get("code")]
    for candidate in candidates:
        if isinstance(candidate, int) and not isinstance(candidate, bool):
            candidate = str(candidate)
        if isinstance(candidate, str) and _ERROR_CODE.match(candidate):
            return candidate
    return None


# Delivery receipts.


@dataclass(frozen=True)
class SmsReceipt:
    receipt_id: str
    provider_message_id: str
    status: Literal["delivered", "undelivered"]
    reason: str | None
    occurred_at: datetime


class ReceiptRejected(Exception):
    """The receipt request is refused with this HTTP status (401 for a bad signature, 422 for
    a malformed body) and this message, which names the field and never echoes its value."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message


RECEIPT_STATUSES: dict[str, Literal["delivered", "undelivered"]] = {
    "delivered": "delivered",
    "undelivered": "undelivered",
    # The gateway's "failed" is ours "undelivered": the message left us and did not arrive.
    "failed": "undelivered",
}


def receipt_signature(body: bytes, secret: str) -> str:
    """The ``sha256=<hex>`` a gateway puts in its signature header for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def parse_receipts(body: bytes, signature: str | None, secret: str | None) -> list[SmsReceipt]:
    """The receipts in a gateway's POST: ``{"receipts": [{"id", "message_id", "status",
    "reason", "at"}]}``. When ``secret`` is set the body must be signed with it (header value
    ``sha256=<hex HMAC-SHA256>``, compared in constant time). Raises ``ReceiptRejected``."""
    if secret is not None:
        expected = receipt_signature(body, secret)
        given = (signature or "").strip()
        if not given:
            raise ReceiptRejected(401, "The receipt signature is missing.")
        if not hmac.compare_digest(expected.encode(), given.lower().encode()):
            raise ReceiptRejected(401, "The receipt signature does not match.")
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ReceiptRejected(422, "The body is not JSON.") from None
    items = document.get("receipts") if isinstance(document, dict) else None
    if not isinstance(items, list):
        raise ReceiptRejected(422, "receipts: a list of receipts is required.")
    return [_receipt(item, index) for index, item in enumerate(items)]


def _receipt(item: Any, index: int) -> SmsReceipt:
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
    status = RECEIPT_STATUSES.get(given_status) if isinstance(given_status, str) else None
    if status is None:
        raise ReceiptRejected(
            422, f"{where}.status: must be one of delivered, undelivered, failed."
        )
    reason = item.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ReceiptRejected(422, f"{where}.reason: a string or null is required.")
    occurred_at = _timestamp(item.get("at"))
    if occurred_at is None:
        raise ReceiptRejected(422, f"{where}.at: an RFC 3339 time with an offset is required.")
    return SmsReceipt(
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
