"""Housekeeping deletes the infrastructure rows that have served their purpose and nothing
else: published outbox rows past retention, inbox rows past the dedupe window, expired
idempotency keys, long-finished timers and webhook receipts past their dedupe window."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg

from tests.support import testkit
from tests.support.running import api

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


async def _outbox(
    db: asyncpg.Connection, subject: str, created_ago: timedelta, published_ago: timedelta | None
) -> None:
    await db.execute(
        "INSERT INTO testkit.outbox "
        "(event_id, event_type, subject, payload, created_at, published_at) "
        "VALUES ($1, 'testkit.ping.v1', $2, '{}', now() - $3::interval, now() - $4::interval)",
        uuid.uuid4(),
        subject,
        created_ago,
        published_ago,
    )


async def _keys(db: asyncpg.Connection, sql: str) -> list[str]:
    return sorted(row[0] for row in await db.fetch(sql))


async def test_housekeeping_deletes_only_rows_past_their_retention(db: asyncpg.Connection) -> None:
    async with api(testkit.spec) as service:
        settings = service.runtime.settings
        assert (settings.outbox_retention_hours, settings.inbox_retention_hours) == (72, 720)

        await _outbox(db, "published-long-ago", 100 * HOUR, 99 * HOUR)
        await _outbox(db, "published-recently", 2 * HOUR, HOUR)
        await _outbox(db, "never-published", 1000 * HOUR, None)

        await db.executemany(
            "INSERT INTO testkit.inbox (event_id, handler, event_type, received_at) "
            "VALUES (gen_random_uuid(), $1, 'testkit.ping.v1', now() - $2::interval)",
            [("old", 721 * HOUR), ("recent", 719 * HOUR)],
        )
        await db.executemany(
            "INSERT INTO testkit.idempotency_keys "
            "(principal, key, request_method, request_path, request_hash, expires_at) "
            "VALUES ('hr-alice', $1, 'POST', '/v1/notes', '\\x00', now() + $2::interval)",
            [("expired", -timedelta(minutes=1)), ("live", HOUR)],
        )
        await db.executemany(
            "INSERT INTO testkit.timers (kind, key, due_at, state, updated_at) "
            "VALUES ('remind', $1, now(), $2, now() - $3::interval)",
            [
                ("done-old", "done", 31 * DAY),
                ("cancelled-old", "cancelled", 31 * DAY),
                ("failed-old", "failed", 31 * DAY),
                ("pending-old", "pending", 31 * DAY),
                ("done-recent", "done", 29 * DAY),
            ],
        )

        await db.executemany(
            "INSERT INTO testkit.webhook_receipts (source, webhook_id, payload, received_at) "
            "VALUES ('vendor', $1, '{}', now() - $2::interval)",
            [("msg_old", 31 * DAY), ("msg_recent", 29 * DAY)],
        )

        await service.runtime.housekeeping()

    assert await _keys(db, "SELECT webhook_id FROM testkit.webhook_receipts") == ["msg_recent"]
    assert await _keys(db, "SELECT subject FROM testkit.outbox") == [
        "never-published",
        "published-recently",
    ]
    assert await _keys(db, "SELECT handler FROM testkit.inbox") == ["recent"]
    assert await _keys(db, "SELECT key FROM testkit.idempotency_keys") == ["live"]
    assert await _keys(db, "SELECT key FROM testkit.timers") == ["done-recent", "pending-old"]


async def test_housekeeping_deletes_more_rows_than_one_batch(db: asyncpg.Connection) -> None:
    await db.execute(
        "INSERT INTO testkit.inbox (event_id, handler, event_type, received_at) "
        "SELECT gen_random_uuid(), 'h', 'testkit.ping.v1', now() - interval '60 days' "
        "FROM generate_series(1, 12001)"
    )
    await db.execute(
        "INSERT INTO testkit.inbox (event_id, handler, event_type) "
        "VALUES (gen_random_uuid(), 'kept', 'testkit.ping.v1')"
    )
    async with api(testkit.spec) as service:
        await service.runtime.housekeeping()
    assert await _keys(db, "SELECT handler FROM testkit.inbox") == ["kept"]
