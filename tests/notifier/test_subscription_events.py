"""A candidate's unsubscriptions reach the talent pool: every change of what a candidate recipient
is unsubscribed from (a one-click link, HR changing their preferences) is published as
``notifier.candidate_subscription_changed.v1``; a change of nothing, or of a staff member's
preferences, publishes nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any, cast
from urllib.parse import urlsplit

import asyncpg
import orjson
import pytest
from aio_pika.abc import AbstractQueue, AbstractRobustConnection

from notifier.app import spec as notifier_spec
from notifier.settings import NotifierSettings
from notifier.tracking.links import LinkSigner, Unsubscribe
from shared.clock import ManualClock
from shared.events.talentpool import CandidateSubscriptionChangedV1
from tests.support.broker import take, tap
from tests.support.running import Running, running, wait_for
from tests.support.tokens import auth

CHANGED = CandidateSubscriptionChangedV1.event_type
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AS_ADMIN = auth("admin", "admin-zhao")


@pytest.fixture
async def notifier(amqp: AbstractRobustConnection) -> AsyncIterator[tuple[Running, AbstractQueue]]:
    """The notifier's HTTP side and its outbox relay, with a queue that sees what it publishes."""
    async with (
        tap(amqp, CHANGED) as queue,
        running(
            notifier_spec,
            clock=ManualClock(NOW),
            ready=False,
            run_consumers=False,
            run_timers=False,
            run_workers=False,
        ) as service,
    ):
        yield service, queue


def _unsubscribe_path(service: Running, candidate_id: uuid.UUID, kind: str | None) -> str:
    signer = LinkSigner(cast(NotifierSettings, service.runtime.settings))
    url = signer.unsubscribe_url(Unsubscribe("candidate", str(candidate_id), kind))
    return urlsplit(url).path


async def _published(queue: AbstractQueue, count: int) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []

    async def enough() -> bool:
        seen.extend(orjson.loads(message.body) for message in await take(queue))
        return len(seen) >= count

    await wait_for(enough, what=f"{count} subscription events")
    return seen


async def _nothing_more(db: asyncpg.Connection, queue: AbstractQueue) -> list[dict[str, Any]]:
    """What else was published, once the outbox has nothing left to publish (the relay
    publishes with confirms before marking rows, so anything published is in the queue)."""

    async def relayed() -> bool:
        unpublished: int = await db.fetchval(
            "SELECT count(*) FROM notifier.outbox WHERE published_at IS NULL"
        )
        return unpublished == 0

    await wait_for(relayed, what="the outbox to be published")
    return [orjson.loads(message.body) for message in await take(queue)]


async def test_one_click_unsubscribe_from_everything_is_published_once(
    notifier: tuple[Running, AbstractQueue], db: asyncpg.Connection
) -> None:
    service, queue = notifier
    candidate_id = uuid.uuid4()
    path = _unsubscribe_path(service, candidate_id, None)

    first = await service.client.post(path, headers={"Accept": "application/json"})
    again = await service.client.post(path, headers={"Accept": "application/json"})

    assert (first.status_code, again.status_code) == (200, 200)
    [event] = await _published(queue, 1)
    assert event["type"] == CHANGED
    assert event["source"] == "/notifier"
    assert event["subject"] == str(candidate_id)
    assert event["sequence"] == 1
    assert event["data"] == {
        "candidate_id": str(candidate_id),
        "unsubscribed_all": True,
        "unsubscribed_kinds": [],
        "occurred_at": "2026-03-02T09:00:00Z",
    }
    assert await _nothing_more(db, queue) == []


async def test_one_click_unsubscribe_from_one_kind_is_published_with_the_kind(
    notifier: tuple[Running, AbstractQueue],
) -> None:
    service, queue = notifier
    candidate_id = uuid.uuid4()

    response = await service.client.post(
        _unsubscribe_path(service, candidate_id, "interview_reminder")
    )

    assert response.status_code == 200
    [event] = await _published(queue, 1)
    assert event["data"]["unsubscribed_all"] is False
    assert event["data"]["unsubscribed_kinds"] == ["interview_reminder"]


async def test_preferences_changes_of_a_candidate_are_published_and_unchanged_ones_are_not(
    notifier: tuple[Running, AbstractQueue], db: asyncpg.Connection
) -> None:
    service, queue = notifier
    candidate_id = uuid.uuid4()
    url = f"/v1/recipients/candidate/{candidate_id}"

    left = await service.client.put(url, json={"unsubscribed_all": True}, headers=AS_ADMIN)
    # The same unsubscriptions again, with other preferences: nothing for the talent pool.
    same = await service.client.put(
        url, json={"unsubscribed_all": True, "muted_channels": ["sms"]}, headers=AS_ADMIN
    )
    back = await service.client.put(url, json={"unsubscribed_all": False}, headers=AS_ADMIN)

    assert [r.status_code for r in (left, same, back)] == [201, 200, 200]
    events = await _published(queue, 2)
    assert [(e["sequence"], e["data"]["unsubscribed_all"]) for e in events] == [
        (1, True),
        (3, False),
    ]
    assert {e["subject"] for e in events} == {str(candidate_id)}
    assert await _nothing_more(db, queue) == []


async def test_a_staff_members_unsubscribing_is_not_published(
    notifier: tuple[Running, AbstractQueue], db: asyncpg.Connection
) -> None:
    service, queue = notifier
    signer = LinkSigner(cast(NotifierSettings, service.runtime.settings))
    path = urlsplit(signer.unsubscribe_url(Unsubscribe("staff", "hr-wang", None))).path

    response = await service.client.post(path)
    mine = await service.client.put(
        "/v1/me/notification-settings",
        json={"unsubscribed_all": True},
        headers=auth("hr", "hr-li"),
    )

    assert (response.status_code, mine.status_code) == (200, 201)
    assert await _nothing_more(db, queue) == []
