"""Segments: saved filters over the pool, each filter turned into an SQL condition
(``conditions``) that the indexes can answer: the GIN indexes on ``search_tokens`` and
``skills`` (array containment and overlap), ``(lower(location), engagement_score)``, which the
planner ANDs with the text's bitmap, and ``profile_tags`` for tags. A page of people and their
count come from one statement (``page_statement``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import Principal
from shared.crypto import Keyring
from shared.http.pagination import PageParams, decode_cursor, encode_cursor, paginate
from shared.problems import conflict, version_mismatch
from shared.unit import UnitOfWork
from talentpool.campaigns.models import Campaign
from talentpool.jobs.models import ApplicationRecord
from talentpool.profiles.models import Profile, ProfileMember
from talentpool.profiles.stages import rank
from talentpool.segments import text
from talentpool.segments.models import Segment
from talentpool.segments.schemas import PeoplePage, PoolPerson, SegmentFilters, SegmentWrite
from talentpool.tags.models import ProfileTag

# What a list shows of a person (no contact data, no resume).
LISTED = (
    Profile.id,
    Profile.engagement_score,
    Profile.furthest_stage_kind,
    Profile.skills,
    Profile.location,
    Profile.last_activity_at,
)
ORDER = (Profile.last_activity_at, Profile.id)


def _held_now(now: datetime) -> sa.ColumnElement[bool]:
    """A tag row still in force (its ``until``, if any, has not passed)."""
    return sa.or_(ProfileTag.until.is_(None), ProfileTag.until > now)


def _tag_held(tags: Sequence[str], now: datetime) -> sa.ColumnElement[bool]:
    """The profile holds one of ``tags`` now (a tag's ``until`` ends it)."""
    return (
        sa.select(ProfileTag.profile_id)
        .where(
            ProfileTag.profile_id == Profile.id,
            ProfileTag.tag == sa.any_(sa.literal(list(tags), ARRAY(sa.Text))),
            _held_now(now),
        )
        .exists()
    )


def conditions(
    filters: SegmentFilters, *, keyring: Keyring, now: datetime
) -> list[sa.ColumnElement[bool]]:
    """The WHERE conditions on ``Profile`` that select the segment's people."""
    where: list[sa.ColumnElement[bool]] = [
        Profile.merged_into.is_(None),
        Profile.anonymized_at.is_(None),
    ]
    if filters.text is not None:
        tokens = text.query_tokens(keyring, filters.text)
        where.append(Profile.search_tokens.contains(sa.literal(tokens, ARRAY(sa.BigInteger))))
    if filters.tags_all:
        where.extend(_tag_held([tag], now) for tag in dict.fromkeys(filters.tags_all))
    if filters.tags_any:
        where.append(_tag_held(filters.tags_any, now))
    if filters.tags_none:
        where.append(sa.not_(_tag_held(filters.tags_none, now)))
    if filters.skills_any:
        where.append(Profile.skills.overlap(sa.literal(filters.skills_any, ARRAY(sa.Text))))
    if filters.skills_all:
        where.append(Profile.skills.contains(sa.literal(filters.skills_all, ARRAY(sa.Text))))
    if filters.min_stage_kind is not None:
        where.append(Profile.furthest_rank >= rank(filters.min_stage_kind))
    if filters.engagement_min is not None:
        where.append(Profile.engagement_score >= filters.engagement_min)
    if filters.engagement_max is not None:
        where.append(Profile.engagement_score <= filters.engagement_max)
    if filters.active_after is not None:
        where.append(Profile.last_activity_at >= filters.active_after)
    if filters.active_before is not None:
        where.append(Profile.last_activity_at < filters.active_before)
    if filters.location is not None:
        # Both sides lowered by the database, as the index on lower(location) was built.
        where.append(sa.func.lower(Profile.location) == sa.func.lower(filters.location))
    if filters.exclude_on_hold:
        where.append(sa.or_(Profile.on_hold_until.is_(None), Profile.on_hold_until <= now))
    if filters.job_id is not None:
        where.append(
            sa.select(ProfileMember.candidate_id)
            .join(ApplicationRecord, ApplicationRecord.candidate_id == ProfileMember.candidate_id)
            .where(
                ProfileMember.profile_id == Profile.id,
                ApplicationRecord.job_id == sa.literal(filters.job_id, UUID(as_uuid=True)),
            )
            .exists()
        )
    return where


def members(
    filters: SegmentFilters,
    *,
    keyring: Keyring,
    now: datetime,
    visible: sa.ColumnElement[bool] | None,
) -> list[sa.ColumnElement[bool]]:
    """The segment's conditions, and the caller's visibility when it is restricted."""
    where = conditions(filters, keyring=keyring, now=now)
    if visible is not None:
        where.append(visible)
    return where


def page_statement(
    where: Sequence[sa.ColumnElement[bool]], *, now: datetime, params: PageParams
) -> sa.Select[Any]:
    """One statement for a page and the count: the matching ids are collected once
    (``MATERIALIZED``), counted, and the page is the top of them by the keyset order, joined
    back to its profiles and their tags. One row per person on the page, each with the
    count; a single row without a person when the page is empty."""
    matched = (
        sa.select(Profile.id, Profile.last_activity_at)
        .where(*where)
        .cte("matched")
        .prefix_with("MATERIALIZED")
    )
    keys = (matched.c.last_activity_at, matched.c.id)
    page = sa.select(matched.c.id).order_by(*(key.desc() for key in keys)).limit(params.limit + 1)
    if params.cursor is not None:
        after = decode_cursor(params.cursor, ORDER)
        bound = [
            sa.literal(value, type_=column.type) for value, column in zip(after, ORDER, strict=True)
        ]
        page = page.where(sa.tuple_(*keys) < sa.tuple_(*bound))
    on_page = page.subquery("page")
    total = sa.select(sa.func.count().label("total")).select_from(matched).subquery("total")
    tags = sa.func.array(
        sa.select(ProfileTag.tag)
        .where(ProfileTag.profile_id == Profile.id, _held_now(now))
        .order_by(ProfileTag.tag)
        .scalar_subquery(),
        type_=ARRAY(sa.Text),
    )
    people = sa.join(on_page, Profile, Profile.id == on_page.c.id)
    return (
        sa.select(total.c.total, *LISTED, tags.label("tags"))
        .select_from(total.outerjoin(people, sa.true()))
        .order_by(*(column.desc() for column in ORDER))
    )


async def people(
    session: AsyncSession,
    filters: SegmentFilters,
    *,
    keyring: Keyring,
    now: datetime,
    visible: sa.ColumnElement[bool] | None,
    params: PageParams,
) -> PeoplePage:
    """One page of the segment's people, newest activity first, and how many there are."""
    where = members(filters, keyring=keyring, now=now, visible=visible)
    # Each filter's selectivity depends on its values (a common word, a big city): plan every
    # query for its own values rather than reuse a generic plan of the prepared statement.
    await session.execute(sa.text("SET LOCAL plan_cache_mode = force_custom_plan"))
    rows = (await session.execute(page_statement(where, now=now, params=params))).all()
    count = rows[0].total if rows else 0
    found = [row for row in rows if row.id is not None]
    next_cursor = None
    if len(found) > params.limit:
        found = found[: params.limit]
        next_cursor = encode_cursor([found[-1].last_activity_at, found[-1].id])
    return PeoplePage(
        items=[
            PoolPerson(
                profile_id=row.id,
                engagement_score=row.engagement_score,
                furthest_stage=row.furthest_stage_kind,
                tags=list(row.tags),
                skills=list(row.skills),
                location=row.location,
                last_activity_at=row.last_activity_at,
            )
            for row in found
        ],
        next_cursor=next_cursor,
        count=count,
    )


def filters_of(segment: Segment) -> SegmentFilters:
    """The segment's stored filters, parsed (they were validated when saved)."""
    return SegmentFilters.model_validate(segment.filters)


# Saved segments


def visible_segments(principal: Principal) -> sa.ColumnElement[bool] | None:
    """Segments are their owner's: admins see all of them, anyone else only their own."""
    return None if principal.is_admin else Segment.owner_id == principal.subject


async def get_visible(
    session: AsyncSession, *, principal: Principal, segment_id: uuid.UUID, for_update: bool = False
) -> Segment | None:
    statement = sa.select(Segment).where(Segment.id == segment_id)
    condition = visible_segments(principal)
    if condition is not None:
        statement = statement.where(condition)
    if for_update:
        statement = statement.with_for_update()
    segment: Segment | None = await session.scalar(statement)
    return segment


async def create(*, unit: UnitOfWork, principal: Principal, segment_in: SegmentWrite) -> Segment:
    now = unit.clock.now()
    segment = Segment(
        id=uuid.uuid4(),
        name=segment_in.name,
        description=segment_in.description,
        filters=segment_in.filters.stored(),
        owner_id=principal.subject,
        version=1,
        created_at=now,
        updated_at=now,
    )
    unit.session.add(segment)
    await unit.session.flush()
    return segment


async def replace(
    *,
    unit: UnitOfWork,
    segment: Segment,
    segment_in: SegmentWrite,
    expected_version: int | None,
) -> Segment:
    if expected_version is not None and expected_version != segment.version:
        raise version_mismatch(segment.version)
    segment.name = segment_in.name
    segment.description = segment_in.description
    segment.filters = segment_in.filters.stored()
    segment.version += 1
    segment.updated_at = unit.clock.now()
    await unit.session.flush()
    return segment


async def delete(*, unit: UnitOfWork, segment: Segment, expected_version: int | None) -> None:
    """Delete a segment no campaign uses (409 otherwise: the campaign runs it again)."""
    if expected_version is not None and expected_version != segment.version:
        raise version_mismatch(segment.version)
    used_by = (
        await unit.session.scalars(
            sa.select(Campaign.id).where(Campaign.segment_id == segment.id).limit(5)
        )
    ).all()
    if used_by:
        raise conflict(
            "Campaigns use this segment (it is their record of whom they invite), so it "
            "cannot be deleted.",
            slug="segment-in-use",
            campaign_ids=[str(campaign_id) for campaign_id in used_by],
        )
    await unit.session.delete(segment)
    await unit.session.flush()


async def list_visible(
    session: AsyncSession, *, principal: Principal, params: PageParams
) -> tuple[list[Any], str | None]:
    """The segments the caller may see, newest first."""
    statement = sa.select(Segment)
    condition = visible_segments(principal)
    if condition is not None:
        statement = statement.where(condition)
    return await paginate(
        session,
        statement,
        order_by=(Segment.created_at, Segment.id),
        params=params,
        descending=True,
    )
