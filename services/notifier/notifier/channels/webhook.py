"""Outgoing webhooks to customers' endpoints, signed with Standard Webhooks (the scheme vendors
use to call us: ``webhook-id``, ``webhook-timestamp``, ``webhook-signature``).

Every answer but a 2xx means "try again later", as Svix and the Standard Webhooks spec treat
it, except 410 Gone (the receiver says the endpoint is gone for good) and a redirect (never
followed: it would send a signed body somewhere nobody checked).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

from standardwebhooks.webhooks import EmptyWebhookSecretError, Webhook

from notifier.channels.base import OutgoingMessage, SendResult
from notifier.channels.http import (
    CLOSED,
    REQUEST_ERRORS,
    SharedHttpClient,
    post,
    refusal,
    retry_after_s,
    transport_failure,
)
from notifier.settings import NotifierSettings
from shared.logging import get_logger

log = get_logger(__name__)


def signed_headers(
    *, secret: str, message_id: str, body: str, now: datetime | None = None
) -> dict[str, str]:
    """The Standard Webhooks headers for ``body``. Raises ``ValueError`` for a secret that is
    not a ``whsec_`` base64 key."""
    try:
        signer = Webhook(secret)
    except (ValueError, EmptyWebhookSecretError, RuntimeError):
        raise ValueError("The endpoint's signing secret is not valid.") from None
    at = now or datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(math.floor(at.timestamp())),
        "webhook-signature": signer.sign(message_id, at, body),
    }


class WebhookChannel:
    """POSTs ``message.payload`` as JSON to ``message.address``, signed with the endpoint's
    secret; ``webhook-id`` is the delivery's idempotency key, the same on every retry, so the
    receiver can drop a duplicate."""

    name = "webhook"

    def __init__(self, settings: NotifierSettings, http: SharedHttpClient | None = None) -> None:
        self._settings = settings
        self._http = http if http is not None else SharedHttpClient()
        self._client = self._http.acquire()
        self._closed = False

    async def send(self, message: OutgoingMessage) -> SendResult:
        result = await self._send(message)
        if result.outcome not in ("sent", "delivered"):
            log.info("webhook.not_delivered", outcome=result.outcome, reason=result.reason)
        return result

    async def _send(self, message: OutgoingMessage) -> SendResult:
        if self._closed:
            return CLOSED
        settings = self._settings
        refused = await refusal(
            message.address,
            allow_private=settings.outbound_allow_private,
            require_https=settings.webhook_require_https,
        )
        if refused is not None:
            return refused
        if not message.secret:
            return SendResult("failed", reason="The endpoint has no signing secret.")
        try:
            body = json.dumps(
                dict(message.payload), ensure_ascii=False, allow_nan=False, separators=(",", ":")
            )
        except (TypeError, ValueError):
            return SendResult("failed", reason="The payload cannot be written as JSON.")
        message_id = message.idempotency_key or str(message.delivery_id)
        try:
            headers = signed_headers(secret=message.secret, message_id=message_id, body=body)
        except ValueError as error:
            return SendResult("failed", reason=str(error))
        headers["Content-Type"] = "application/json"
        try:
            answer = await post(
                self._client,
                message.address,
                content=body.encode(),
                headers=headers,
                timeout_s=settings.webhook_timeout_s,
                max_body=4096,  # the answer's body is not used
            )
        except REQUEST_ERRORS as error:
            return transport_failure(error)
        status = answer.status
        if 200 <= status < 300:
            return SendResult("delivered")
        if 300 <= status < 400:
            return SendResult("failed", reason=f"Redirects are not followed ({status}).")
        if status == 410:
            return SendResult("failed", reason="The endpoint is gone (410).")
        return SendResult(
            "retry",
            reason=f"The endpoint answered {status}.",
            retry_after_s=retry_after_s(answer.headers),
        )

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._http.release()
