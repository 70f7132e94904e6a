"""Who unsubscribed: the notifier tells each change of a candidate's unsubscriptions
(``notifier.candidate_subscription_changed.v1``). Each candidate's latest state is kept
(``CandidateSubscription``; an older event than the one kept changes nothing), and a person is
unsubscribed (``Profile.unsubscribed_at``, since the earliest of them) while any of their
candidates is unsubscribed from everything. Unsubscribing from some kinds of notification only
does not stop re-engagement."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from talentpool.campaigns.models import CandidateSubscription
from talentpool.profiles.models import Profile, ProfileMember

_ids = ARRAY(UUID(as_uuid=True))


async def record(
    session: AsyncSession, changes: Sequence[tuple[uuid.UUID, bool, datetime]]
) -> None:
    """Keep each candidate's latest ``(candidate_id, unsubscribed_all, occurred_at)`` and bring
    their people's ``unsubscribed_at`` up to date; a few statements for any number."""
    latest: dict[uuid.UUID, tuple[bool, datetime]] = {}
    for candidate_id, unsubscribed_all, occurred_at in changes:
        kept = latest.get(candidate_id)
        if kept is None or occurred_at >= kept[1]:
            latest[candidate_id] = (unsubscribed_all, occurred_at)
    if not latest:
        return
    s = CandidateSubscription.__table__.c
    statement = pg_insert(CandidateSubscription).values(
        [
            {"candidate_id": candidate_id, "unsubscribed_all": state, "changed_at": at}
            for candidate_id, (state, at) in latest.items()
        ]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[s.candidate_id],
            set_={
                "unsubscribed_all": statement.excluded.unsubscribed_all,
                "changed_at": statement.excluded.changed_at,
            },
            # Out of order: an event older than the state kept is stale.
            where=statement.excluded.changed_at > s.changed_at,
        )
    )
    profile_ids = (
        await session.scalars(
            sa.select(ProfileMember.profile_id)
            .where(ProfileMember.candidate_id == sa.any_(sa.literal(list(latest), _ids)))
            .distinct()
        )
    ).all()
    await refresh_unsubscribed(session, profile_ids)


async def refresh_unsubscribed(session: AsyncSession, profile_ids: Sequence[uuid.UUID]) -> None:
    """Set these people's ``unsubscribed_at`` from their candidates' kept states (call it after
    moving candidates between profiles, as merging does)."""
    if not profile_ids:
        return
    since = (
        sa.select(sa.func.min(CandidateSubscription.changed_at))
        .join(ProfileMember, ProfileMember.candidate_id == CandidateSubscription.candidate_id)
        .where(ProfileMember.profile_id == Profile.id, CandidateSubscription.unsubscribed_all)
        .scalar_subquery()
    )
    await session.execute(
        sa.update(Profile)
        .where(
            Profile.id == sa.any_(sa.literal(list(profile_ids), _ids)),
            Profile.unsubscribed_at.is_distinct_from(since),
        )
        .values(unsubscribed_at=since)
        .execution_options(synchronize_session=False)
    )
