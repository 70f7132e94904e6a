"""SMS through an HTTP gateway, and the gateway's delivery receipts.

``JsonSmsGateway`` speaks the one generic JSON protocol shipped (documented in
``docs/notifier/channels.md``): most Chinese SMS providers sit behind an aggregator or a small
adapter that can speak it. Another provider is another class implementing ``Channel`` plus a
receipt parser (``channels/receipts.py``) with the gateway's statuses.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

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
from notifier.channels.receipts import Receipt, parse
from notifier.settings import NotifierSettings
from shared.contacts import normalize_phone
from shared.logging import get_logger

log = get_logger(__name__)

DEFAULT_REGION = "CN"
# An error code from the gateway is quoted in our reason only if it looks like a code (so a
# gateway that echoes the number in its "code" cannot put it into our records).
_ERROR_CODE = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_PROVIDER_ID = re.compile(r"^[\x21-\x7e]{1,200}$")


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(number: str, region: str = DEFAULT_REGION) -> str:
    """``number`` in E.164 (``+8613800138000``); a number without a country code is read as
    one of ``region``. Raises ``InvalidPhoneNumber``."""
    try:
        return normalize_phone(number, region)
    except ValueError:
        raise InvalidPhoneNumber("The phone number is not valid.") from None


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


# Delivery receipts: the generic signed JSON receipts (``channels/receipts.py``) with the
# gateway's statuses; the gateway's "failed" is ours "undelivered" (the message left us and did
# not arrive).
RECEIPT_STATUSES = {"delivered": "delivered", "undelivered": "undelivered", "failed": "undelivered"}


def parse_receipts(body: bytes, signature: str | None, secret: str | None) -> list[Receipt]:
    """The gateway's receipts (``receipts.parse``) with its statuses."""
    return parse(body, signature, secret, statuses=RECEIPT_STATUSES)
