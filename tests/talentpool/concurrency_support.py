"""Making two transactions meet: one holds its work uncommitted while the other runs into it,
so a race that depends on timing happens on every run."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from tests.support.running import wait_for


async def blocked_or_done(db: asyncpg.Connection, task: asyncio.Task[Any]) -> None:
    """Wait until ``task`` has finished, or a talent pool connection waits for a lock (the
    other transaction's): either way, what it does before committing has been done."""

    async def either() -> bool:
        if task.done():
            return True
        waiting = await db.fetchval(
            """SELECT count(*) FROM pg_stat_activity
               WHERE datname = current_database() AND usename = 'talentpool'
                 AND wait_event_type = 'Lock'"""
        )
        return bool(waiting)

    await wait_for(either, what="the second transaction to wait for the first, or finish")
