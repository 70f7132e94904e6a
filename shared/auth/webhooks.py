"""Inbound webhooks signed per Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``; HMAC-SHA256; 5-minute tolerance), one or more secrets per sender so a
secret can be rotated, and deduplication on ``webhook-id``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from standardwebhooks.webhooks import Webhook

from shared.problems import Problem


class WebhookVerifier:
    def __init__(self, secrets_by_sender: Mapping[str, Sequence[str]]) -> None:
        self._verifiers = {
            sender: [Webhook(secret) for secret in secrets]
            for sender, secrets in secrets_by_sender.items()
            if secrets
        }

    def knows(self, sender: str) -> bool:
        return sender in self._verifiers

    def verify(self, sender: str, body: bytes, headers: Mapping[str, str]) -> Any:
        """The parsed JSON body if any of the sender's secrets signed it; else a 401 problem."""
        verifiers = self._verifiers.get(sender)
        if verifiers is None:
            raise Problem(
                404, "Not found", f"No webhook sender named {sender!r}.", slug="unknown-sender"
            )
        plain_headers = {k.lower(): v for k, v in headers.items()}
        if not any(self._signed_by(verifier, body, plain_headers) for verifier in verifiers):
            raise Problem(
                401,
                "Unauthorized",
                "Missing or invalid webhook signature, or a timestamp outside 5 minutes.",
                slug="invalid-signature",
            )
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise Problem(
                400, "Bad request", "The webhook body is not JSON.", slug="invalid-webhook-body"
            ) from exc

    @staticmethod
    def _signed_by(verifier: Webhook, body: bytes, headers: dict[str, str]) -> bool:
        try:
            verifier.verify(body, headers, json_parse=False)
        except Exception:  # the library raises several types for a bad signature or header
            return False
        return True


async def record_receipt(
    session: AsyncSession, table: sa.Table, *, sender: str, webhook_id: str, payload: Any
) -> bool:
    """Record a delivery; False if this ``webhook-id`` was already received from the sender."""
    result = await session.execute(
        pg_insert(table)
        .values(source=sender, webhook_id=webhook_id, payload=payload)
        .on_conflict_do_nothing()
        .returning(table.c.webhook_id)
    )
    return result.first() is not None
