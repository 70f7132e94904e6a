"""Busy time of interviewers and rooms: posted one by one, upserted in bulk by external id, or
imported from an iCalendar feed (a re-import replaces that feed's blocks)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.busy_blocks.ical import FEED_WINDOW, parse_feed
from scheduler.busy_blocks.models import BusyBlock, CalendarFeed
from scheduler.busy_blocks.schemas import (
    BulkUpsert,
    BulkUpsertResult,
    BusyBlockCreate,
    BusyBlockRead,
    BusyBlockRowResult,
    FeedImportResult,
)
from scheduler.interviewers.models import Interviewer
from scheduler.interviewers.schemas import check_range
from scheduler.interviewers.service import as_range
from scheduler.rooms.models import Room
from shared.http.pagination import PageParams, paginate
from shared.problems import conflict, not_found
from shared.unit import UnitOfWork

_STARTS = sa.func.lower(BusyBlock.during, type_=sa.DateTime(timezone=True)).label("starts_at")
_ENDS = sa.func.upper(BusyBlock.during, type_=sa.DateTime(timezone=True)).label("ends_at")
_READ_COLUMNS = (
    BusyBlock.id,
    BusyBlock.resource_kind,
    BusyBlock.resource_id,
    _STARTS,
    _ENDS,
    BusyBlock.source,
    CalendarFeed.name.label("feed_name"),
    BusyBlock.external_id,
    BusyBlock.created_at,
)


def _read(row: Any) -> BusyBlockRead:
    return BusyBlockRead.model_validate(row._mapping)


async def create(
    *,
    unit: UnitOfWork,
    resource_kind: str,
    resource_id: uuid.UUID,
    body: BusyBlockCreate,
) -> BusyBlockRead:
    block = BusyBlock(
        id=uuid.uuid4(),
        resource_kind=resource_kind,
        resource_id=resource_id,
        during=as_range(body.starts_at, body.ends_at),
        source="api",
        external_id=body.external_id,
        created_at=unit.clock.now(),
    )
    try:
        async with unit.session.begin_nested():
            unit.session.add(block)
    except IntegrityError:
        raise conflict(
            "This resource has a busy block with this external_id already.",
            slug="busy-block-exists",
        ) from None
    return await get(session=unit.session, resource_id=resource_id, block_id=block.id)


async def get(
    *, session: AsyncSession, resource_id: uuid.UUID, block_id: uuid.UUID
) -> BusyBlockRead:
    row = (
        await session.execute(
            sa.select(*_READ_COLUMNS)
            .outerjoin(CalendarFeed, CalendarFeed.id == BusyBlock.feed_id)
            .where(BusyBlock.id == block_id, BusyBlock.resource_id == resource_id)
        )
    ).first()
    if row is None:
        raise not_found("busy block", block_id)
    return _read(row)


async def list_blocks(
    *,
    session: AsyncSession,
    resource_id: uuid.UUID,
    start: datetime,
    end: datetime,
    params: PageParams,
) -> tuple[list[BusyBlockRead], str | None]:
    """Blocks overlapping ``[start, end)``, by start time."""
    statement = (
        sa.select(*_READ_COLUMNS)
        .outerjoin(CalendarFeed, CalendarFeed.id == BusyBlock.feed_id)
        .where(
            BusyBlock.resource_id == resource_id,
            BusyBlock.during.op("&&")(sa.func.tstzrange(start, end)),
        )
    )
    rows, next_cursor = await paginate(
        session, cast("sa.Select[Any]", statement), order_by=[_STARTS, BusyBlock.id], params=params
    )
    return [_read(row) for row in rows], next_cursor


async def delete(*, unit: UnitOfWork, resource_id: uuid.UUID, block_id: uuid.UUID) -> None:
    block = await unit.session.get(BusyBlock, block_id, with_for_update=True)
    if block is None or block.resource_id != resource_id:
        raise not_found("busy block", block_id)
    if block.source == "feed":
        raise conflict(
            "This block comes from an imported feed; import the feed again to change it.",
            slug="busy-block-from-feed",
        )
    await unit.session.delete(block)


async def bulk_upsert(*, unit: UnitOfWork, body: BulkUpsert) -> BulkUpsertResult:
    """Upsert by (resource_id, external_id) in one statement; rows that name an unknown
    resource, repeat a key of the request or have a bad range are rejected, the rest apply."""
    session = unit.session
    wanted = {(b.resource_kind, b.resource_id) for b in body.blocks}
    interviewer_ids = [rid for kind, rid in wanted if kind == "interviewer"]
    room_ids = [rid for kind, rid in wanted if kind == "room"]
    known: set[tuple[str, uuid.UUID]] = set()
    if interviewer_ids:
        found = await session.execute(
            sa.select(Interviewer.id).where(Interviewer.id.in_(interviewer_ids))
        )
        known |= {("interviewer", i) for i in found.scalars()}
    if room_ids:
        found = await session.execute(sa.select(Room.id).where(Room.id.in_(room_ids)))
        known |= {("room", i) for i in found.scalars()}

    results: list[BusyBlockRowResult] = []
    rows: list[dict[str, Any]] = []
    seen: set[tuple[uuid.UUID, str]] = set()
    positions: dict[tuple[uuid.UUID, str], int] = {}
    now = unit.clock.now()
    for index, block in enumerate(body.blocks):
        key = (block.resource_id, block.external_id)
        error = None
        if (block.resource_kind, block.resource_id) not in known:
            error = f"no {block.resource_kind} with id {block.resource_id}"
        elif key in seen:
            error = "the same resource_id and external_id appear earlier in this request"
        else:
            try:
                check_range(block.starts_at, block.ends_at)
            except ValueError as problem:
                error = str(problem)
        results.append(
            BusyBlockRowResult(
                index=index,
                external_id=block.external_id,
                resource_id=block.resource_id,
                status="rejected" if error else "unchanged",
                error=error,
            )
        )
        if error:
            continue
        seen.add(key)
        positions[key] = index
        rows.append(
            {
                "id": uuid.uuid4(),
                "resource_kind": block.resource_kind,
                "resource_id": block.resource_id,
                "during": as_range(block.starts_at, block.ends_at),
                "source": "api",
                "external_id": block.external_id,
                "created_at": now,
            }
        )
    if rows:
        statement = pg_insert(BusyBlock).values(rows)
        inserted = sa.literal_column("xmax = 0", sa.Boolean).label("inserted")
        changed = await session.execute(
            statement.on_conflict_do_update(
                index_elements=[BusyBlock.resource_id, BusyBlock.external_id],
                index_where=BusyBlock.external_id.is_not(None),
                set_={"during": statement.excluded.during},
                where=sa.and_(
                    BusyBlock.source == "api",
                    BusyBlock.during != statement.excluded.during,
                ),
            ).returning(BusyBlock.id, BusyBlock.resource_id, BusyBlock.external_id, inserted)
        )
        for block_id, resource_id, external_id, was_inserted in changed:
            result = results[positions[(resource_id, str(external_id))]]
            result.id = block_id
            result.status = "created" if was_inserted else "updated"
        unchanged = [
            (results[i].resource_id, results[i].external_id)
            for i in positions.values()
            if results[i].id is None
        ]
        if unchanged:
            existing = await session.execute(
                sa.select(BusyBlock.id, BusyBlock.resource_id, BusyBlock.external_id).where(
                    sa.tuple_(BusyBlock.resource_id, BusyBlock.external_id).in_(unchanged)
                )
            )
            for block_id, resource_id, external_id in existing:
                results[positions[(resource_id, str(external_id))]].id = block_id
    counts = {
        s: sum(1 for r in results if r.status == s)
        for s in ("created", "updated", "unchanged", "rejected")
    }
    return BulkUpsertResult(results=results, **counts)


async def import_feed(
    *,
    unit: UnitOfWork,
    resource_kind: str,
    resource_id: uuid.UUID,
    time_zone: str,
    name: str,
    text: str,
) -> FeedImportResult:
    """Replace the feed's blocks with the busy occurrences of ``text`` from now to 180 days
    ahead (raises ``FeedError`` for a malformed feed, before anything changes)."""
    now = unit.clock.now().astimezone(UTC)
    window_end = now + FEED_WINDOW
    blocks = parse_feed(
        text, time_zone=time_zone, start=now, end=window_end, prefix=f"feed:{name}:"
    )
    session = unit.session
    statement = pg_insert(CalendarFeed).values(
        id=uuid.uuid4(),
        resource_kind=resource_kind,
        resource_id=resource_id,
        name=name,
        imported_at=now,
        blocks=len(blocks),
    )
    feed_id: uuid.UUID = (
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[CalendarFeed.resource_id, CalendarFeed.name],
                set_={"imported_at": now, "blocks": len(blocks)},
            ).returning(CalendarFeed.id)
        )
    ).scalar_one()
    await session.execute(sa.delete(BusyBlock).where(BusyBlock.feed_id == feed_id))
    if blocks:
        await session.execute(
            sa.insert(BusyBlock),
            [
                {
                    "id": uuid.uuid4(),
                    "resource_kind": resource_kind,
                    "resource_id": resource_id,
                    "during": as_range(block.start, block.end),
                    "source": "feed",
                    "feed_id": feed_id,
                    "external_id": block.external_id,
                    "created_at": now,
                }
                for block in blocks
            ],
        )
    return FeedImportResult(
        name=name,
        resource_kind=resource_kind,
        resource_id=resource_id,
        blocks=len(blocks),
        window_start=now,
        window_end=window_end,
        imported_at=now,
    )


async def delete_feed(*, unit: UnitOfWork, resource_id: uuid.UUID, name: str) -> None:
    feed_id = (
        await unit.session.execute(
            sa.select(CalendarFeed.id).where(
                CalendarFeed.resource_id == resource_id, CalendarFeed.name == name
            )
        )
    ).scalar_one_or_none()
    if feed_id is None:
        raise not_found("calendar feed", name)
    await unit.session.execute(sa.delete(BusyBlock).where(BusyBlock.feed_id == feed_id))
    await unit.session.execute(sa.delete(CalendarFeed).where(CalendarFeed.id == feed_id))
