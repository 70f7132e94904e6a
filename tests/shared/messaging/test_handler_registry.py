"""Handler registration: names are explicit and stable (they key the inbox), and one event type
has one data model."""

from __future__ import annotations

from typing import Any

import pytest

from shared.events.envelope import EventData, ReceivedEvent
from shared.messaging.consumer import EventHandlers
from shared.unit import UnitOfWork
from tests.support.testkit import PingV1


class OtherPingV1(EventData):
    event_type = "testkit.ping.v1"
    producer = "testkit"
    summary = "Same type, another model."

    text: str


async def _noop(unit: UnitOfWork, event: ReceivedEvent[PingV1]) -> None:
    return None


async def _other(unit: UnitOfWork, event: ReceivedEvent[OtherPingV1]) -> None:
    return None


def test_handlers_are_listed_by_event_type_in_registration_order() -> None:
    handlers = EventHandlers()
    handlers.on(PingV1, name="testkit.first")(_noop)
    handlers.on(PingV1, name="testkit.second")(_noop)

    assert handlers.event_types == ["testkit.ping.v1"]
    assert [spec.name for spec in handlers.for_type("testkit.ping.v1")] == [
        "testkit.first",
        "testkit.second",
    ]
    assert handlers.for_type("testkit.unknown.v1") == []


@pytest.mark.parametrize("name", ["", "record_ping", "Testkit.Record", "testkit.", "a b.c"])
def test_handler_name_must_be_service_dot_action(name: str) -> None:
    with pytest.raises(ValueError, match="must look like"):
        EventHandlers().on(PingV1, name=name)(_noop)


def test_same_handler_name_cannot_be_registered_twice() -> None:
    handlers = EventHandlers()
    handlers.on(PingV1, name="testkit.record")(_noop)

    with pytest.raises(ValueError, match="registered twice"):
        handlers.on(PingV1, name="testkit.record")(_noop)


def test_one_event_type_cannot_be_handled_with_two_data_models() -> None:
    handlers = EventHandlers()
    handlers.on(PingV1, name="testkit.record")(_noop)

    with pytest.raises(ValueError, match="another data model"):
        handlers.on(OtherPingV1, name="testkit.other")(_other)


async def _tally(unit: UnitOfWork, events: list[ReceivedEvent[Any]]) -> None:
    return None


def test_a_batch_handler_is_listed_with_the_per_event_ones_and_keeps_its_name_unique() -> None:
    handlers = EventHandlers()
    handlers.on(PingV1, name="testkit.first")(_noop)
    handlers.on_batch(PingV1, name="testkit.tally")(_tally)

    specs = handlers.for_type("testkit.ping.v1")
    assert [(spec.name, spec.fn is None) for spec in specs] == [
        ("testkit.first", False),
        ("testkit.tally", True),
    ]
    with pytest.raises(ValueError, match="registered twice"):
        handlers.on_batch(PingV1, name="testkit.first")(_tally)


def test_one_name_across_event_types_must_be_one_batch_function() -> None:
    handlers = EventHandlers()
    handlers.on_batch(PingV1, name="testkit.tally")(_tally)

    with pytest.raises(ValueError, match="taken by another function"):
        handlers.on(OtherTypeV1, name="testkit.tally")(_noop_other)
    handlers.on_batch(OtherTypeV1, name="testkit.tally")(_tally)  # the same function: allowed
    assert [spec.name for spec in handlers.for_type("testkit.other.v1")] == ["testkit.tally"]


class OtherTypeV1(EventData):
    event_type = "testkit.other.v1"
    producer = "testkit"
    summary = "Another type."


async def _noop_other(unit: UnitOfWork, event: ReceivedEvent[OtherTypeV1]) -> None:
    return None
