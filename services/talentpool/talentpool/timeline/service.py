"""Candidates and their timelines."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.envelope import ReceivedEvent
from shared.events.pipeline import StageChangedV1
from shared.http.pagination import PageParams, paginate
from shared.unit import UnitOfWork
from talentpool.candidates.models import Candidate, TimelineEntry


async def record_stage_change(*, unit: UnitOfWork, event: ReceivedEvent[StageChangedV1]) -> None:
    """Append the move to the candidate's timeline (creating the candidate if new)."""
    data = event.data
    candidate = pg_insert(Candidate).values(
        id=data.candidate_id, first_seen_at=data.occurred_at, last_activity_at=data.occurred_at
    )
    await unit.session.execute(
        candidate.on_conflict_do_update(
            index_elements=[Candidate.id],
            # Events can arrive out of order, so widen the window rather than overwrite it.
            set_={
                "first_seen_at": sa.func.least(
                    Candidate.first_seen_at, candidate.excluded.first_seen_at
                ),
                "last_activity_at": sa.func.greatest(
                    Candidate.last_activity_at, candidate.excluded.last_activity_at
                ),
            },
        )
    )
    await unit.session.execute(
        pg_insert(TimelineEntry)
        .values(
            candidate_id=data.candidate_id,
            application_id=data.application_id,
            kind="stage_changed",
            occurred_at=data.occurred_at,
            data={
                "job_id": str(data.job_id),
                "transition": data.transition,
                "from_stage": data.from_stage.key if data.from_stage else None,
                "to_stage": data.to_stage.key,
                "reason": data.reason,
            },
            source_event_id=event.envelope.id,
        )
        .on_conflict_do_nothing()
    )


async def get(*, session: AsyncSession, candidate_id: uuid.UUID) -> Candidate | None:
    return await session.get(Candidate, candidate_id)


async def timeline(
    *, session: AsyncSession, candidate_id: uuid.UUID, params: PageParams
) -> tuple[list[TimelineEntry], str | None]:
    return await paginate(
        session,
        sa.select(TimelineEntry).where(TimelineEntry.candidate_id == candidate_id),
        order_by=[TimelineEntry.occurred_at, TimelineEntry.id],
        params=params,
        descending=True,
    )
