"""The in-app inbox: the delivery row itself is the inbox item, so there is nothing to send;
"sending" it makes it visible, and it is delivered at once (seen and read come from the
inbox's own routes)."""

from __future__ import annotations

from notifier.channels.base import OutgoingMessage, SendResult


class InAppChannel:
    name = "in_app"

    async def send(self, message: OutgoingMessage) -> SendResult:
        return SendResult("delivered")

    async def close(self) -> None:
        return None
