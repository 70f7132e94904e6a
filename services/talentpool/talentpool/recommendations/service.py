"""Recommendations for an urgent opening: the pool's past candidates ranked for a job.

SQL narrows the pool to the people who may be invited (not merged, erased, unsubscribed, on
hold or set aside, no application to the job yet, visible to the caller) and keeps the most
promising ``CANDIDATE_CAP`` by cheap signals (a wanted skill, the runner-up tag, engagement,
recency); ``ranking`` then scores those in Python, with each score's parts.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import Principal
from talentpool.jobs.models import ApplicationRecord, Job
from talentpool.profiles.dependencies import visible_filter
from talentpool.profiles.models import Profile, ProfileMember
from talentpool.recommendations import ranking
from talentpool.tags.models import ProfileTag
from talentpool.tags.names import ON_HOLD, RUNNER_UP, SET_ASIDE

CANDIDATE_CAP = 3000
"""At most this many people are scored per request (the best by the SQL's cheap order)."""


@dataclass(frozen=True)
class Recommendation:
    ranked: ranking.Ranked
    skills: list[str]
    engagement_score: int
    last_activity_at: datetime
    furthest_stage_kind: str | None
    tags: list[str]


def _current_tag(tag: str, now: datetime) -> sa.Exists:
    """The profile carries ``tag`` now."""
    return (
        sa.select(ProfileTag.profile_id)
        .where(
            ProfileTag.profile_id == Profile.id,
            ProfileTag.tag == tag,
            sa.or_(ProfileTag.until.is_(None), ProfileTag.until > now),
        )
        .exists()
    )


async def recommend(
    session: AsyncSession,
    *,
    job: Job,
    principal: Principal,
    skills: Sequence[str],
    limit: int,
    now: datetime,
) -> tuple[list[Recommendation], int]:
    """The best ``limit`` people for the job, best first, and how many were scored."""
    wanted = ranking.normalize_skills(skills)
    applied = (
        sa.select(ProfileMember.candidate_id)
        .join(ApplicationRecord, ApplicationRecord.candidate_id == ProfileMember.candidate_id)
        .where(ProfileMember.profile_id == Profile.id, ApplicationRecord.job_id == job.id)
        .exists()
    )
    runner_up = _current_tag(RUNNER_UP, now)
    statement = sa.select(
        Profile.id,
        Profile.skills,
        Profile.engagement_score,
        Profile.last_activity_at,
        Profile.on_hold_until,
        Profile.furthest_stage_kind,
        runner_up.label("runner_up"),
    ).where(
        Profile.merged_into.is_(None),
        Profile.anonymized_at.is_(None),
        Profile.unsubscribed_at.is_(None),
        sa.or_(Profile.on_hold_until.is_(None), Profile.on_hold_until <= now),
        ~_current_tag(ON_HOLD, now),
        ~applied,
        # Put aside by HR (the no-show group, say): not proposed again.
        ~_current_tag(SET_ASIDE, now),
    )
    visible = visible_filter(principal)
    if visible is not None:
        statement = statement.where(visible)
    order: list[Any] = []
    if wanted:
        # Skills are compared case-insensitively; the SQL order looks for the spellings asked
        # and their lower case (an approximation: ranking compares them exactly).
        spellings = sorted(wanted | {s.strip() for s in skills if s.strip()})
        order.append(Profile.skills.overlap(sa.cast(spellings, ARRAY(sa.Text))).desc())
    order += [
        runner_up.desc(),
        Profile.engagement_score.desc(),
        Profile.last_activity_at.desc(),
        Profile.id,
    ]
    rows = (await session.execute(statement.order_by(*order).limit(CANDIDATE_CAP))).all()
    people = [
        ranking.Past(
            profile_id=row.id,
            runner_up=bool(row.runner_up),
            engagement_score=row.engagement_score,
            skills=frozenset(row.skills or ()),
            last_activity_at=row.last_activity_at,
            on_hold_until=row.on_hold_until,
        )
        for row in rows
    ]
    best = ranking.rank(people, wanted_skills=wanted, now=now, limit=limit)
    by_id = {row.id: row for row in rows}
    tags = await current_tags(session, [r.profile_id for r in best], now=now)
    return [
        Recommendation(
            ranked=r,
            skills=list(by_id[r.profile_id].skills or ()),
            engagement_score=by_id[r.profile_id].engagement_score,
            last_activity_at=by_id[r.profile_id].last_activity_at,
            furthest_stage_kind=by_id[r.profile_id].furthest_stage_kind,
            tags=tags.get(r.profile_id, []),
        )
        for r in best
    ], len(people)


async def current_tags(
    session: AsyncSession, profile_ids: Sequence[uuid.UUID], *, now: datetime
) -> dict[uuid.UUID, list[str]]:
    """Each profile's tags in force, sorted; one query."""
    if not profile_ids:
        return {}
    rows = await session.execute(
        sa.select(ProfileTag.profile_id, ProfileTag.tag)
        .where(
            ProfileTag.profile_id.in_(profile_ids),
            sa.or_(ProfileTag.until.is_(None), ProfileTag.until > now),
        )
        .order_by(ProfileTag.profile_id, ProfileTag.tag)
    )
    found: dict[uuid.UUID, list[str]] = {}
    for row in rows:
        found.setdefault(row.profile_id, []).append(row.tag)
    return found
