"""Pruning of infrastructure rows that have served their purpose."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import sqlalchemy as sa

from shared.clock import Clock
from shared.db.engine import Database
from shared.db.infra import InfraTables

_BATCH = 5_000


@dataclass(frozen=True)
class Retention:
    """A service table whose rows are deleted once ``column`` (a timestamp) is older than
    ``keep`` (declared in ``ServiceSpec.retention``, pruned with the infrastructure rows)."""

    table: sa.Table
    column: str
    keep: timedelta


async def _delete_in_batches(
    db: Database, table: sa.Table, condition: sa.ColumnElement[bool]
) -> int:
    key = list(table.primary_key.columns)
    # A row-value IN works for single and composite primary keys alike.
    chosen = sa.select(*key).where(condition).limit(_BATCH)
    statement = sa.delete(table).where(sa.tuple_(*key).in_(chosen))
    total = 0
    while True:
        async with db.transaction() as session:
            result = await session.execute(statement)
        deleted = cast("sa.CursorResult[Any]", result).rowcount or 0
        total += deleted
        if deleted < _BATCH:
            return total


async def prune(
    db: Database,
    infra: InfraTables,
    clock: Clock,
    *,
    outbox_retention: timedelta,
    inbox_retention: timedelta,
    timer_retention: timedelta = timedelta(days=30),
    receipt_retention: timedelta = timedelta(days=30),
    retention: Sequence[Retention] = (),
) -> dict[str, int]:
    """Delete published outbox rows, old inbox rows (past the dedupe window), expired
    idempotency keys, long-finished timers, webhook receipts past their dedupe window and the
    service's own rows past their ``retention``."""
    now = clock.now()
    own = {
        str(kept.table.name): await _delete_in_batches(
            db, kept.table, kept.table.c[kept.column] < now - kept.keep
        )
        for kept in retention
    }
    if infra.webhook_receipts is not None:
        receipts = infra.webhook_receipts
        own["webhook_receipts"] = await _delete_in_batches(
            db, receipts, receipts.c.received_at < now - receipt_retention
        )
    return own | {
        "outbox": await _delete_in_batches(
            db, infra.outbox, infra.outbox.c.published_at < now - outbox_retention
        ),
        "inbox": await _delete_in_batches(
            db, infra.inbox, infra.inbox.c.received_at < now - inbox_retention
        ),
        "idempotency_keys": await _delete_in_batches(
            db, infra.idempotency_keys, infra.idempotency_keys.c.expires_at < now
        ),
        "timers": await _delete_in_batches(
            db,
            infra.timers,
            sa.and_(
                infra.timers.c.state.in_(["done", "cancelled", "failed"]),
                infra.timers.c.updated_at < now - timer_retention,
            ),
        ),
    }
