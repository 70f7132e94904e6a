"""Interviewers (time zone, working hours, caps, skills, calendar), their pools and one-off
availability overrides. Availability itself is computed in ``scheduler.availability``."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.calendars.models import HolidayCalendar
from scheduler.interviewers.models import AvailabilityOverride, Interviewer, Pool, PoolMember
from scheduler.interviewers.schemas import (
    InterviewerCreate,
    InterviewerUpdate,
    OverrideCreate,
    PoolCreate,
)
from shared.http.pagination import PageParams, paginate
from shared.problems import Problem, conflict, not_found, version_mismatch
from shared.unit import UnitOfWork


def invalid(field: str, location: str, message: str) -> Problem:
    """A 422 naming one field, shaped like the framework's validation errors."""
    return Problem(
        422,
        "Invalid request",
        f"{location}.{field}: {message}",
        slug="validation-error",
        errors=[{"field": field, "location": location, "message": message, "code": "invalid"}],
    )


async def _check_calendar(session: AsyncSession, calendar_id: str) -> None:
    if await session.get(HolidayCalendar, calendar_id) is None:
        raise invalid("calendar_id", "body", f"no calendar {calendar_id!r}")


async def create(*, unit: UnitOfWork, body: InterviewerCreate) -> Interviewer:
    await _check_calendar(unit.session, body.calendar_id)
    now = unit.clock.now()
    interviewer = Interviewer(
        id=uuid.uuid4(),
        subject=body.subject,
        display_name=body.display_name,
        time_zone=body.time_zone,
        working_hours={k: [list(r) for r in v] for k, v in body.working_hours.items()},
        max_per_day=body.max_per_day,
        max_per_week=body.max_per_week,
        skills=list(dict.fromkeys(body.skills)),
        calendar_id=body.calendar_id,
        active=True,
        created_at=now,
        updated_at=now,
    )
    try:
        async with unit.session.begin_nested():
            unit.session.add(interviewer)
    except IntegrityError:
        raise conflict(
            "An interviewer with this subject exists already.", slug="interviewer-exists"
        ) from None
    return interviewer


async def get(
    *, session: AsyncSession, interviewer_id: uuid.UUID, for_update: bool = False
) -> Interviewer | None:
    return await session.get(Interviewer, interviewer_id, with_for_update=for_update)


async def get_by_subject(*, session: AsyncSession, subject: str) -> Interviewer | None:
    found = await session.execute(sa.select(Interviewer).where(Interviewer.subject == subject))
    return found.scalar_one_or_none()


async def list_interviewers(
    *,
    session: AsyncSession,
    params: PageParams,
    skill: str | None = None,
    pool_id: uuid.UUID | None = None,
    active: bool | None = None,
) -> tuple[list[Interviewer], str | None]:
    statement = sa.select(Interviewer)
    if skill is not None:
        statement = statement.where(Interviewer.skills.contains([skill]))
    if active is not None:
        statement = statement.where(Interviewer.active.is_(active))
    if pool_id is not None:
        statement = statement.where(
            Interviewer.id.in_(
                sa.select(PoolMember.interviewer_id).where(PoolMember.pool_id == pool_id)
            )
        )
    return await paginate(
        session, statement, order_by=[Interviewer.created_at, Interviewer.id], params=params
    )


async def update(
    *,
    unit: UnitOfWork,
    interviewer: Interviewer,
    expected_version: int | None,
    changes: InterviewerUpdate,
) -> Interviewer:
    if expected_version is not None and expected_version != interviewer.version:
        raise version_mismatch(interviewer.version)
    sent = changes.model_dump(exclude_unset=True)
    if "calendar_id" in sent:
        await _check_calendar(unit.session, sent["calendar_id"])
    caps = (
        sent.get("max_per_day", interviewer.max_per_day),
        sent.get("max_per_week", interviewer.max_per_week),
    )
    if caps[0] is not None and caps[1] is not None and caps[0] > caps[1]:
        raise invalid("max_per_day", "body", "must not exceed max_per_week")
    if "working_hours" in sent:
        sent["working_hours"] = {k: [list(r) for r in v] for k, v in sent["working_hours"].items()}
    if "skills" in sent:
        sent["skills"] = list(dict.fromkeys(sent["skills"]))
    for field, value in sent.items():
        setattr(interviewer, field, value)
    interviewer.updated_at = unit.clock.now()
    await unit.session.flush()  # bumps the version
    return interviewer


# Pools.


async def pool_ids_of(
    *, session: AsyncSession, interviewer_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The pools each interviewer is in."""
    ids = list(interviewer_ids)
    result: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if not ids:
        return result
    rows = await session.execute(
        sa.select(PoolMember.interviewer_id, PoolMember.pool_id)
        .where(PoolMember.interviewer_id.in_(ids))
        .order_by(PoolMember.pool_id)
    )
    for interviewer_id, pool_id in rows:
        result[interviewer_id].append(pool_id)
    return result


async def pool_members(
    *, session: AsyncSession, pool_ids: Iterable[uuid.UUID], active_only: bool = False
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The interviewers of each pool (for proposals asking for k of a pool)."""
    ids = list(pool_ids)
    result: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    if not ids:
        return result
    statement = (
        sa.select(PoolMember.pool_id, PoolMember.interviewer_id)
        .where(PoolMember.pool_id.in_(ids))
        .order_by(PoolMember.pool_id, PoolMember.interviewer_id)
    )
    if active_only:
        statement = statement.join(Interviewer, Interviewer.id == PoolMember.interviewer_id).where(
            Interviewer.active
        )
    for pool_id, interviewer_id in await session.execute(statement):
        result[pool_id].append(interviewer_id)
    return result


async def _check_interviewers(session: AsyncSession, ids: list[uuid.UUID]) -> None:
    found = set(
        (await session.execute(sa.select(Interviewer.id).where(Interviewer.id.in_(ids)))).scalars()
    )
    missing = [str(i) for i in ids if i not in found]
    if missing:
        raise invalid("member_ids", "body", f"no interviewer(s) {', '.join(missing)}")


async def create_pool(*, unit: UnitOfWork, body: PoolCreate) -> Pool:
    members = list(dict.fromkeys(body.member_ids))
    if members:
        await _check_interviewers(unit.session, members)
    pool = Pool(
        id=uuid.uuid4(), name=body.name, description=body.description, created_at=unit.clock.now()
    )
    try:
        async with unit.session.begin_nested():
            unit.session.add(pool)
            await unit.session.flush()
    except IntegrityError:
        raise conflict("A pool with this name exists already.", slug="pool-exists") from None
    if members:
        await unit.session.execute(
            pg_insert(PoolMember).values(
                [{"pool_id": pool.id, "interviewer_id": m} for m in members]
            )
        )
    return pool


async def list_pools(*, session: AsyncSession, params: PageParams) -> tuple[list[Pool], str | None]:
    return await paginate(session, sa.select(Pool), order_by=[Pool.name, Pool.id], params=params)


async def get_pool(*, session: AsyncSession, pool_id: uuid.UUID) -> Pool:
    pool = await session.get(Pool, pool_id)
    if pool is None:
        raise not_found("pool", pool_id)
    return pool


async def add_member(*, unit: UnitOfWork, pool_id: uuid.UUID, interviewer_id: uuid.UUID) -> bool:
    """Put the interviewer in the pool; false if they were in it already."""
    await get_pool(session=unit.session, pool_id=pool_id)
    if await get(session=unit.session, interviewer_id=interviewer_id) is None:
        raise not_found("interviewer", interviewer_id)
    added = await unit.session.execute(
        pg_insert(PoolMember)
        .values(pool_id=pool_id, interviewer_id=interviewer_id)
        .on_conflict_do_nothing()
        .returning(PoolMember.pool_id)
    )
    return added.first() is not None


async def remove_member(*, unit: UnitOfWork, pool_id: uuid.UUID, interviewer_id: uuid.UUID) -> None:
    await get_pool(session=unit.session, pool_id=pool_id)
    removed = await unit.session.execute(
        sa.delete(PoolMember)
        .where(PoolMember.pool_id == pool_id, PoolMember.interviewer_id == interviewer_id)
        .returning(PoolMember.pool_id)
    )
    if removed.first() is None:
        raise not_found("member of the pool", interviewer_id)


# Availability overrides.


def as_range(start: datetime, end: datetime) -> Range[datetime]:
    return Range(start.astimezone(UTC), end.astimezone(UTC), bounds="[)")


async def create_override(
    *, unit: UnitOfWork, interviewer_id: uuid.UUID, body: OverrideCreate
) -> AvailabilityOverride:
    override = AvailabilityOverride(
        id=uuid.uuid4(),
        interviewer_id=interviewer_id,
        during=as_range(body.starts_at, body.ends_at),
        kind=body.kind,
        note=body.note,
        created_at=unit.clock.now(),
    )
    unit.session.add(override)
    await unit.session.flush()
    return override


async def list_overrides(
    *,
    session: AsyncSession,
    interviewer_id: uuid.UUID,
    start: datetime,
    end: datetime,
    params: PageParams,
) -> tuple[list[AvailabilityOverride], str | None]:
    statement = sa.select(AvailabilityOverride).where(
        AvailabilityOverride.interviewer_id == interviewer_id,
        AvailabilityOverride.during.op("&&")(sa.func.tstzrange(start, end)),
    )
    return await paginate(
        session,
        statement,
        order_by=[AvailabilityOverride.created_at, AvailabilityOverride.id],
        params=params,
    )


async def delete_override(
    *, unit: UnitOfWork, interviewer_id: uuid.UUID, override_id: uuid.UUID
) -> None:
    removed = await unit.session.execute(
        sa.delete(AvailabilityOverride)
        .where(
            AvailabilityOverride.id == override_id,
            AvailabilityOverride.interviewer_id == interviewer_id,
        )
        .returning(AvailabilityOverride.id)
    )
    if removed.first() is None:
        raise not_found("override", override_id)
