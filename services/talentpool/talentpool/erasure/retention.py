"""Retention: a durable timer sweeps the pool every ``retention_sweep_interval_s`` and erases,
through the same path as a request (reason ``retention``), everyone kept longer than allowed:
people whose applications all ended (rejected or withdrawn) more than
``retention_after_rejection_days`` ago and who hold no ``talent_pool`` consent in force, and
anyone without activity for ``retention_after_activity_days``.

The sweep reschedules itself. Its first run is armed by the ingestion of applications (one
cheap statement per consumer batch that inserts it only when no sweep is pending), so a pool
that receives people always has a sweep ahead of it; a failed sweep is re-armed the same way."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.logging import get_logger
from shared.timers import DueTimer
from shared.unit import UnitOfWork
from talentpool.consents.models import Consent
from talentpool.consents.service import in_force_condition
from talentpool.db import infra
from talentpool.erasure import service
from talentpool.erasure.models import ErasureRequest
from talentpool.jobs.models import ApplicationRecord
from talentpool.profiles.models import Profile, ProfileMember
from talentpool.settings import TalentpoolSettings
from talentpool.timers import timer_handlers

log = get_logger(__name__)

SWEEP = "erasure.retention_sweep"
# The sweep alternates between two keys: the runner marks the timer it fired as done after the
# handler returns, so the next sweep must be another row.
KEYS = ("sweep-a", "sweep-b")
BATCH = 200
ENDED = ("rejected", "withdrawn")


def _settings(unit: UnitOfWork) -> TalentpoolSettings:
    settings = unit.settings
    if not isinstance(settings, TalentpoolSettings):
        raise RuntimeError("the retention sweep needs the talent pool's settings")
    return settings


async def arm(unit: UnitOfWork) -> None:
    """Schedule a sweep one interval from now unless one is pending already."""
    settings = _settings(unit)
    timers = infra.timers
    t = timers.c
    due_at = unit.clock.now() + timedelta(seconds=settings.retention_sweep_interval_s)
    pending = sa.select(t.id).where(t.kind == SWEEP, t.state == "pending").exists()
    rows = sa.select(
        sa.literal(SWEEP).label("kind"),
        sa.literal(KEYS[0]).label("key"),
        sa.literal(due_at, sa.DateTime(timezone=True)).label("due_at"),
    ).where(~pending)
    statement = pg_insert(timers).from_select(["kind", "key", "due_at"], rows)
    await unit.session.execute(
        statement.on_conflict_do_update(
            index_elements=[t.kind, t.key],
            set_={
                "due_at": statement.excluded.due_at,
                "state": "pending",
                "attempts": 0,
                "last_error": None,
                "fired_at": None,
                "updated_at": sa.func.now(),
            },
            where=t.state != "pending",
        )
    )


async def due(
    session: AsyncSession,
    *,
    now: datetime,
    after_rejection: timedelta,
    after_activity: timedelta,
    limit: int,
) -> list[uuid.UUID]:
    """People whose retention has run out (longest inactive first), at most ``limit``."""
    applications = (
        sa.select(ApplicationRecord.id)
        .join(ProfileMember, ProfileMember.candidate_id == ApplicationRecord.candidate_id)
        .where(ProfileMember.profile_id == Profile.id)
    )
    some_application = applications.exists()
    still_open = applications.where(
        sa.or_(
            ApplicationRecord.status.not_in(ENDED),
            ApplicationRecord.updated_at >= now - after_rejection,
        )
    ).exists()
    kept_by_consent = (
        sa.select(Consent.profile_id)
        .where(Consent.profile_id == Profile.id, in_force_condition("talent_pool", now))
        .exists()
    )
    requested = sa.select(ErasureRequest.id).where(ErasureRequest.profile_id == Profile.id).exists()
    rows = await session.scalars(
        sa.select(Profile.id)
        .where(
            Profile.merged_into.is_(None),
            Profile.anonymized_at.is_(None),
            ~requested,
            sa.or_(
                Profile.last_activity_at < now - after_activity,
                sa.and_(some_application, ~still_open, ~kept_by_consent),
            ),
        )
        .order_by(Profile.last_activity_at, Profile.id)
        .limit(limit)
    )
    return list(rows.all())


@timer_handlers.on(SWEEP)
async def sweep(unit: UnitOfWork, timer: DueTimer) -> None:
    settings = _settings(unit)
    keyring = service.keyring_of(settings)
    now = unit.clock.now()
    people = await due(
        unit.session,
        now=now,
        after_rejection=timedelta(days=settings.retention_after_rejection_days),
        after_activity=timedelta(days=settings.retention_after_activity_days),
        limit=BATCH,
    )
    for profile_id in people:
        await service.request(
            unit=unit,
            keyring=keyring,
            profile_id=profile_id,
            reason="retention",
            requested_by="retention",
        )
    if people:
        log.info("retention.erased", people=len(people))
    # A full batch means more are due: the next sweep comes at once.
    next_at = (
        now
        if len(people) == BATCH
        else now + timedelta(seconds=settings.retention_sweep_interval_s)
    )
    other = KEYS[1] if timer.key == KEYS[0] else KEYS[0]
    await unit.timers.schedule(unit.session, kind=SWEEP, key=other, due_at=next_at)
