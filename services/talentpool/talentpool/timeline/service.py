"""A person's timeline: every entry of the candidates their profile holds, newest first.
Entries are keyed by the pipeline's candidate id, so merging and unmerging profiles never
rewrites history; the profile's members decide whose entries it shows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.http.pagination import PageParams, paginate
from talentpool.profiles.models import ProfileMember
from talentpool.timeline.models import TimelineEntry


async def timeline(
    session: AsyncSession,
    *,
    profile_id: uuid.UUID,
    params: PageParams,
    kinds: Sequence[str] = (),
    application_id: uuid.UUID | None = None,
) -> tuple[list[TimelineEntry], str | None]:
    statement = sa.select(TimelineEntry).where(
        TimelineEntry.candidate_id.in_(
            sa.select(ProfileMember.candidate_id).where(ProfileMember.profile_id == profile_id)
        )
    )
    if kinds:
        statement = statement.where(TimelineEntry.kind.in_(list(kinds)))
    if application_id is not None:
        statement = statement.where(TimelineEntry.application_id == application_id)
    found, next_cursor = await paginate(
        session,
        statement,
        order_by=[TimelineEntry.occurred_at, TimelineEntry.id],
        params=params,
        descending=True,
    )
    return list(found), next_cursor
