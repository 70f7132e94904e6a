"""The daily refresh of stored engagement scores.

A profile's score is stored when its counters change, with its recency as of that day; the API
computes recency as of now when it shows a profile, but segments filter on the stored score,
which would otherwise keep a long-silent person's recency of their last active day. So a
durable timer goes through the live profiles whose stored parts are from an earlier day,
``REFRESH_BATCH`` at a time, and stores their score as of today (one statement to read, one to
write per batch); when none are left it is due again just after the next midnight (UTC). The
matcher arms it when it starts, if no refresh is pending.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.logging import get_logger
from shared.timers import DueTimer
from shared.unit import UnitOfWork
from talentpool.db import infra
from talentpool.profiles.counters import STORE_ENGAGEMENT, stored_parts
from talentpool.profiles.models import Profile
from talentpool.timers import timer_handlers

log = get_logger(__name__)

REFRESH = "profiles.engagement_refresh"
# The runner marks the timer it fired as done after the handler returns, so the next refresh
# must be another row: the refresh alternates between two keys.
KEYS = ("refresh-a", "refresh-b")
REFRESH_BATCH = 1_000


def next_midnight(now: datetime) -> datetime:
    """Five minutes past the next midnight, UTC (recency changes by the day)."""
    tomorrow = (now.astimezone(now.tzinfo) + timedelta(days=1)).date()
    return datetime.combine(tomorrow, time(0, 5), tzinfo=now.tzinfo)


async def arm(session: AsyncSession, now: datetime) -> None:
    """Have a refresh pending (due now): one unless one is pending already."""
    timers = infra.timers
    pending = (
        sa.select(timers.c.id).where(timers.c.kind == REFRESH, timers.c.state == "pending").exists()
    )
    rows = sa.select(
        sa.literal(REFRESH).label("kind"),
        sa.literal(KEYS[0]).label("key"),
        sa.literal(now, sa.DateTime(timezone=True)).label("due_at"),
    ).where(~pending)
    statement = pg_insert(timers).from_select(["kind", "key", "due_at"], rows)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[timers.c.kind, timers.c.key],
            set_={"due_at": statement.excluded.due_at, "state": "pending", "attempts": 0},
            where=timers.c.state != "pending",
        )
    )


@timer_handlers.on(REFRESH)
async def refresh(unit: UnitOfWork, timer: DueTimer) -> None:
    now = unit.clock.now()
    today = now.date().isoformat()
    stale = (
        await unit.session.execute(
            sa.select(
                Profile.id,
                Profile.invited_count,
                Profile.responded_count,
                Profile.completed_count,
                Profile.response_seconds_total,
                Profile.responses_timed,
                Profile.last_activity_at,
            )
            .where(
                Profile.merged_into.is_(None),
                Profile.anonymized_at.is_(None),
                sa.func.coalesce(Profile.engagement_parts["as_of"].astext, "") < today,
            )
            .order_by(Profile.id)
            .limit(REFRESH_BATCH)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if stale:
        computed: list[tuple[Any, int, dict[str, Any]]] = [
            (row.id, *stored_parts(row, now)) for row in stale
        ]
        await unit.session.execute(
            STORE_ENGAGEMENT,
            {
                "ids": [profile_id for profile_id, _, _ in computed],
                "scores": [score for _, score, _ in computed],
                "parts": [orjson.dumps(parts).decode() for _, _, parts in computed],
            },
        )
        log.info("engagement.refreshed", profiles=len(stale))
    due_at = now if len(stale) == REFRESH_BATCH else next_midnight(now)
    other = KEYS[1] if timer.key == KEYS[0] else KEYS[0]
    await unit.timers.schedule(unit.session, kind=REFRESH, key=other, due_at=due_at)
