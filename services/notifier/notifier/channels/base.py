"""What every channel implements: send one rendered message to one address and say how it went.

A channel never raises for a provider's answer: it classifies it. ``retry`` is a transient
failure (a timeout, a refused connection, 429, 5xx, an SMTP 4xx) that the dispatcher tries
again later with backoff; ``failed`` is permanent (an invalid address, 4xx, an SMTP 5xx) and
is not retried. ``sent`` means the provider accepted it; ``delivered`` that it is already in
the recipient's hands (the in-app inbox, a chat robot that answered ok).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Outcome = Literal["sent", "delivered", "retry", "failed"]


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. "text/calendar; method=REQUEST"
    data: bytes


@dataclass(frozen=True)
class OutgoingMessage:
    delivery_id: uuid.UUID
    kind: str
    # Where to: an email address, an E.164 phone number, a robot's or an endpoint's URL, or
    # the inbox owner's key for in-app. Never logged.
    address: str
    subject: str | None
    text: str
    html: str | None = None
    attachments: tuple[Attachment, ...] = ()
    # Extra headers for email (List-Unsubscribe, ...).
    headers: Mapping[str, str] = field(default_factory=dict)
    # The signing secret of a chat robot (DingTalk) or a webhook endpoint (whsec_...).
    secret: str | None = None
    # The JSON body an outgoing webhook carries.
    payload: Mapping[str, Any] = field(default_factory=dict)
    # Idempotency across a retry: SMS gateways and webhook receivers get it and may dedupe.
    idempotency_key: str = ""


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    provider_message_id: str | None = None
    # For retry and failed: why, in a short sentence with no personal data in it.
    reason: str | None = None
    # For retry: the provider asked to wait this long (Retry-After), in seconds.
    retry_after_s: float | None = None


class Channel(Protocol):
    name: str

    async def send(self, message: OutgoingMessage) -> SendResult: ...

    async def close(self) -> None: ...
