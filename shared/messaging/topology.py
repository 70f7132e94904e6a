"""Names and arguments of everything declared on the broker, derived from one namespace.

- ``<ns>.events``: durable topic exchange; routing key = event type.
- ``<ns>.<service>``: the service's durable quorum queue, bound to the types it consumes;
  dead-letters to ``<ns>.dlx`` once a message was delivered ``delivery_limit`` times (a handler
  that kills the process every time cannot loop forever).
- ``<ns>.retry`` (direct) -> ``<ns>.<service>.retry.<ms>ms``: one queue per delay whose TTL
  dead-letters the message back into the service queue through the default exchange.
- ``<ns>.dlx`` (direct) -> ``<ns>.<service>.parked``: where an event goes after its last attempt,
  or at once if it cannot be parsed, with the reason in its headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Topology:
    namespace: str
    service: str
    retry_delays_ms: tuple[int, ...]
    delivery_limit: int

    @property
    def events_exchange(self) -> str:
        return f"{self.namespace}.events"

    @property
    def retry_exchange(self) -> str:
        return f"{self.namespace}.retry"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.namespace}.dlx"

    @property
    def queue(self) -> str:
        return f"{self.namespace}.{self.service}"

    @property
    def parking_queue(self) -> str:
        return f"{self.namespace}.{self.service}.parked"

    @property
    def parking_routing_key(self) -> str:
        return f"{self.service}.parked"

    def retry_queue(self, delay_ms: int) -> str:
        return f"{self.namespace}.{self.service}.retry.{delay_ms}ms"

    def retry_routing_key(self, delay_ms: int) -> str:
        return f"{self.service}.retry.{delay_ms}ms"

    def queue_arguments(self) -> dict[str, Any]:
        return {
            "x-queue-type": "quorum",
            "x-dead-letter-exchange": self.dead_letter_exchange,
            "x-dead-letter-routing-key": self.parking_routing_key,
            "x-delivery-limit": self.delivery_limit,
            # At-most-once (the default) could drop a message on its way to parking.
            "x-dead-letter-strategy": "at-least-once",
            "x-overflow": "reject-publish",
        }

    def retry_queue_arguments(self, delay_ms: int) -> dict[str, Any]:
        return {
            "x-message-ttl": delay_ms,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": self.queue,
        }

    def parking_queue_arguments(self) -> dict[str, Any]:
        return {"x-queue-type": "quorum"}

    def all_queues(self) -> list[str]:
        return [
            self.queue,
            self.parking_queue,
            *(self.retry_queue(delay) for delay in self.retry_delays_ms),
        ]
