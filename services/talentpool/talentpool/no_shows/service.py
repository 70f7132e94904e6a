"""The no-show group: the people of a job whose AI interview was invited in a window and never
completed, with a summary of their history; re-inviting them or setting them aside in one call.

The group is read from the applications the pool projects from the pipeline's and scheduler's
events (``ApplicationRecord.ai_invited_at`` set, ``ai_completed_at`` not), joined to the person
each application's candidate belongs to. Anonymized people are not listed (nobody is left to
contact). See docs/talentpool/no-shows.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.http.pagination import PageParams, paginate
from shared.unit import UnitOfWork
from talentpool.jobs.models import ApplicationRecord, Job
from talentpool.profiles.models import Profile, ProfileMember
from talentpool.recommendations.service import current_tags
from talentpool.reinvitations import service as reinvitations
from talentpool.reinvitations.models import Reinvitation
from talentpool.reinvitations.service import Refusal
from talentpool.tags import service as tags
from talentpool.tags.names import ON_HOLD, SET_ASIDE
from talentpool.timeline.models import TimelineEntry

MAX_ACTION_PEOPLE = 5000
"""An action on ``all`` of a group larger than this is refused: narrow the window."""

# The timeline's vocabulary (talentpool.timeline.facts): the AI interview's thread is marked
# ``data.invitation = ai_interview``; the notifier's receipts (``delivered``, ``bounced``) name
# the notification's kind, reminders being ``*_reminder``.
AI_INTERVIEW = "ai_interview"
RECEIPT_KINDS = ("delivered", "bounced")
REMINDER_PATTERN = "%reminder%"


@dataclass(frozen=True)
class Window:
    """Whose AI interview was invited from ``invited_from`` (inclusive) to ``invited_to``
    (exclusive); ``expired_only``: only those whose invitation has expired."""

    invited_from: datetime | None = None
    invited_to: datetime | None = None
    expired_only: bool = False


@dataclass
class NoShow:
    application_id: uuid.UUID
    candidate_id: uuid.UUID
    profile_id: uuid.UUID
    status: str
    stage_key: str | None
    invited_at: datetime
    started_at: datetime | None
    expired_at: datetime | None
    opened_at: datetime | None = None
    reminders: int = 0
    notifications: int = 0
    history: dict[str, int] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    reinvited_at: datetime | None = None


def _group(job_id: uuid.UUID, window: Window) -> sa.Select[Any]:
    conditions: list[sa.ColumnElement[bool]] = [
        ApplicationRecord.job_id == job_id,
        ApplicationRecord.ai_invited_at.is_not(None),
        ApplicationRecord.ai_completed_at.is_(None),
        Profile.anonymized_at.is_(None),
    ]
    if window.invited_from is not None:
        conditions.append(ApplicationRecord.ai_invited_at >= window.invited_from)
    if window.invited_to is not None:
        conditions.append(ApplicationRecord.ai_invited_at < window.invited_to)
    if window.expired_only:
        conditions.append(ApplicationRecord.ai_expired_at.is_not(None))
    statement = (
        sa.select(
            ApplicationRecord.id,
            ApplicationRecord.candidate_id,
            ProfileMember.profile_id,
            ApplicationRecord.status,
            ApplicationRecord.stage_key,
            ApplicationRecord.ai_invited_at,
            ApplicationRecord.ai_started_at,
            ApplicationRecord.ai_expired_at,
        )
        .join(ProfileMember, ProfileMember.candidate_id == ApplicationRecord.candidate_id)
        .join(Profile, Profile.id == ProfileMember.profile_id)
        .where(*conditions)
    )
    return cast(sa.Select[Any], statement)


async def page(
    session: AsyncSession, *, job: Job, window: Window, params: PageParams, now: datetime
) -> tuple[list[NoShow], str | None, int]:
    """One page of the group, by invitation time, each with their history; and the group's
    size, counted in the page's own statement so the two agree (one snapshot)."""
    group = _group(job.id, window)
    size = sa.select(sa.func.count()).select_from(group.subquery())
    rows, next_cursor = await paginate(
        session,
        group.add_columns(size.scalar_subquery().label("group_size")),
        order_by=[ApplicationRecord.ai_invited_at, ApplicationRecord.id],
        params=params,
    )
    # A page past the end has no row to carry the size.
    count = rows[0].group_size if rows else await session.scalar(size)
    items = [
        NoShow(
            application_id=row.id,
            candidate_id=row.candidate_id,
            profile_id=row.profile_id,
            status=row.status,
            stage_key=row.stage_key,
            invited_at=row.ai_invited_at,
            started_at=row.ai_started_at,
            expired_at=row.ai_expired_at,
        )
        for row in rows
    ]
    await _add_history(session, items, now=now)
    return items, next_cursor, count or 0


async def _add_history(session: AsyncSession, items: list[NoShow], *, now: datetime) -> None:
    """Each person's timeline of the application summarised, their tags and their latest
    re-invitation to it: three queries for the page."""
    if not items:
        return
    by_application = {item.application_id: item for item in items}
    application_ids = list(by_application)
    of_ai_interview = TimelineEntry.data["invitation"].astext == AI_INTERVIEW
    receipt = sa.and_(TimelineEntry.source == "notifier", TimelineEntry.kind.in_(RECEIPT_KINDS))
    reminder = sa.and_(
        receipt, TimelineEntry.data["notification_kind"].astext.like(REMINDER_PATTERN)
    )
    entries = await session.execute(
        sa.select(
            TimelineEntry.application_id,
            TimelineEntry.kind,
            sa.func.count().label("entries"),
            sa.func.min(TimelineEntry.occurred_at)
            .filter(TimelineEntry.kind == "opened", of_ai_interview)
            .label("opened_at"),
            sa.func.count().filter(receipt).label("notifications"),
            sa.func.count().filter(reminder).label("reminders"),
        )
        .where(TimelineEntry.application_id.in_(application_ids))
        .group_by(TimelineEntry.application_id, TimelineEntry.kind)
    )
    for entry in entries:
        item = by_application[entry.application_id]
        item.history[entry.kind] = entry.entries
        item.notifications += entry.notifications
        item.reminders += entry.reminders
        if entry.opened_at is not None:
            item.opened_at = entry.opened_at
    tagged = await current_tags(session, list({item.profile_id for item in items}), now=now)
    reinvited = await session.execute(
        sa.select(
            Reinvitation.application_id,
            sa.func.max(Reinvitation.requested_at).label("requested_at"),
        )
        .where(Reinvitation.application_id.in_(application_ids))
        .group_by(Reinvitation.application_id)
    )
    last = {row.application_id: row.requested_at for row in reinvited}
    for item in items:
        item.tags = tagged.get(item.profile_id, [])
        item.reinvited_at = last.get(item.application_id)


async def members(
    session: AsyncSession,
    *,
    job_id: uuid.UUID,
    window: Window,
    profile_ids: Sequence[uuid.UUID] | None = None,
) -> dict[uuid.UUID, uuid.UUID]:
    """Each person of the group (or only those of ``profile_ids`` who are in it) with their
    application to the job; at most ``MAX_ACTION_PEOPLE + 1``. A person with two applications
    in the group (two candidates merged into one) gets the latest invited."""
    statement = _group(job_id, window)
    if profile_ids is not None:
        statement = statement.where(ProfileMember.profile_id.in_(profile_ids))
    rows = await session.execute(
        statement.order_by(ApplicationRecord.ai_invited_at, ApplicationRecord.id).limit(
            MAX_ACTION_PEOPLE + 1
        )
    )
    return {row.profile_id: row.id for row in rows}


@dataclass
class ActionResult:
    action: Literal["reinvite", "set_aside"]
    reinvitations: list[Reinvitation] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    set_aside: list[uuid.UUID] = field(default_factory=list)


async def reinvite(
    unit: UnitOfWork,
    *,
    job_id: uuid.UUID,
    group: dict[uuid.UUID, uuid.UUID],
    asked: Sequence[uuid.UUID],
    requested_by: str,
) -> ActionResult:
    """A new AI-interview invitation on each person's application (no consent needed: it is
    the application they made). Those asked for who are not in the group: ``unknown``."""
    created, refused = await reinvitations.request(
        unit,
        profile_ids=list(group),
        job_id=job_id,
        origin="no_show_group",
        requested_by=requested_by,
        application_ids=group,
    )
    outside = [Refusal(p, "unknown") for p in dict.fromkeys(asked) if p not in group]
    return ActionResult("reinvite", reinvitations=created, refusals=outside + refused)


async def set_aside(
    unit: UnitOfWork,
    *,
    group: dict[uuid.UUID, uuid.UUID],
    asked: Sequence[uuid.UUID],
    actor: str,
    until: datetime | None,
) -> ActionResult:
    """Tag each person ``set_aside`` (not proposed again) and, with ``until``, ``on_hold``
    until then (nobody contacts them)."""
    profile_ids = list(group)
    if profile_ids:
        await tags.apply(
            unit,
            profile_ids=profile_ids,
            tag=SET_ASIDE,
            action="add",
            source="manual",
            actor=actor,
            reason="no_show_group",
        )
        if until is not None:
            await tags.apply(
                unit,
                profile_ids=profile_ids,
                tag=ON_HOLD,
                action="add",
                source="manual",
                actor=actor,
                until=until,
                reason="no_show_group",
            )
    outside = [Refusal(p, "unknown") for p in dict.fromkeys(asked) if p not in group]
    return ActionResult("set_aside", refusals=outside, set_aside=profile_ids)
