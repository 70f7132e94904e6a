"""What came of each re-invitation: invited (the scheduler's ``invitation_sent`` or the
pipeline's ``ai_interview_invited``), opened (``invitation_opened``, ``ai_interview_opened``),
applied (the pipeline's ``application_created``). One UPDATE per event type and consumer batch,
whatever its size: these events are on the ingestion path.

An event counts for a re-invitation of the same candidate and job that was requested before it
happened (and, for the no-show group, of the same application). Only the first time is kept.
An application counts as applied when the pipeline created it for the re-invitation (source
``talentpool``) or when the candidate applied to the job on their own after being re-invited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from shared.events.envelope import ReceivedEvent
from shared.events.pipeline import AiInterviewInvitedV1, AiInterviewOpenedV1, ApplicationCreatedV1
from shared.events.scheduler import InvitationOpenedV1, InvitationSentV1
from shared.unit import UnitOfWork
from talentpool.consumers import handlers
from talentpool.reinvitations.models import Reinvitation

TALENTPOOL_SOURCE = "talentpool"
"""The ``source`` of an application the pipeline created for a re-invitation."""

Outcome = Literal["invited_at", "opened_at", "applied_at"]


@dataclass(frozen=True)
class _Seen:
    candidate_id: uuid.UUID
    job_id: uuid.UUID
    application_id: uuid.UUID | None
    at: datetime
    # Created for a re-invitation: counts whatever the clocks say about its time.
    ours: bool = False


def _unnest(column: str, values: list[Any], type_: sa.types.TypeEngine[Any]) -> Any:
    return sa.cast(sa.bindparam(column, values, type_=ARRAY(type_)), ARRAY(type_))


async def stamp(unit: UnitOfWork, outcome: Outcome, seen: list[_Seen]) -> None:
    """Set ``outcome`` on the re-invitations these events answer, in one statement: each
    re-invitation gets the earliest matching event's time."""
    if not seen:
        return
    uuid_type = UUID(as_uuid=True)
    events = (
        sa.func.unnest(
            _unnest("candidate_ids", [s.candidate_id for s in seen], uuid_type),
            _unnest("job_ids", [s.job_id for s in seen], uuid_type),
            _unnest("application_ids", [s.application_id for s in seen], uuid_type),
            _unnest("ats", [s.at for s in seen], sa.DateTime(timezone=True)),
            _unnest("ours", [s.ours for s in seen], sa.Boolean()),
        )
        .table_valued(
            sa.column("candidate_id", uuid_type),
            sa.column("job_id", uuid_type),
            sa.column("application_id", uuid_type),
            sa.column("at", sa.DateTime(timezone=True)),
            sa.column("ours", sa.Boolean()),
        )
        .render_derived(name="e", with_types=False)
    )
    target = getattr(Reinvitation, outcome)
    if outcome == "applied_at":
        # A new application answers only a re-invitation that asked for one.
        answers = sa.and_(
            Reinvitation.application_id.is_(None),
            sa.or_(events.c.ours, events.c.at >= Reinvitation.requested_at),
        )
    else:
        answers = sa.and_(
            events.c.at >= Reinvitation.requested_at,
            sa.or_(
                Reinvitation.application_id.is_(None),
                Reinvitation.application_id == events.c.application_id,
            ),
        )
    matched = (
        sa.select(Reinvitation.id, sa.func.min(events.c.at).label("at"))
        .join(
            events,
            sa.and_(
                events.c.candidate_id == Reinvitation.candidate_id,
                events.c.job_id == Reinvitation.job_id,
            ),
        )
        .where(target.is_(None), answers)
        .group_by(Reinvitation.id)
        .subquery()
    )
    await unit.session.execute(
        sa.update(Reinvitation)
        .where(Reinvitation.id == matched.c.id)
        .values({outcome: matched.c.at})
        .execution_options(synchronize_session=False)
    )


def _seen(event: ReceivedEvent[Any]) -> tuple[Outcome, _Seen] | None:
    data = event.data
    outcome: Outcome
    if isinstance(data, InvitationSentV1):
        at, outcome = event.envelope.time, "invited_at"
    elif isinstance(data, AiInterviewInvitedV1):
        at, outcome = data.occurred_at, "invited_at"
    elif isinstance(data, InvitationOpenedV1):
        at, outcome = data.opened_at, "opened_at"
    elif isinstance(data, AiInterviewOpenedV1):
        at, outcome = data.occurred_at, "opened_at"
    elif isinstance(data, ApplicationCreatedV1):
        ours = data.source == TALENTPOOL_SOURCE
        seen = _Seen(data.candidate_id, data.job_id, data.application_id, data.occurred_at, ours)
        return "applied_at", seen
    else:  # pragma: no cover - only the types registered below arrive
        return None
    return outcome, _Seen(data.candidate_id, data.job_id, data.application_id, at)


async def record_outcomes(unit: UnitOfWork, events: list[ReceivedEvent[Any]]) -> None:
    """A batch's invitations, openings and applications: at most one statement each."""
    by_outcome: dict[Outcome, list[_Seen]] = {}
    for event in events:
        found = _seen(event)
        if found is not None:
            by_outcome.setdefault(found[0], []).append(found[1])
    for outcome, seen in by_outcome.items():
        await stamp(unit, outcome, seen)


OUTCOMES = "talentpool.reinvitation_outcomes"
# One name for every type, so the consumer hands a batch's events of all of them to one call.
for _model in (
    InvitationSentV1,
    AiInterviewInvitedV1,
    InvitationOpenedV1,
    AiInterviewOpenedV1,
    ApplicationCreatedV1,
):
    handlers.on_batch(_model, name=OUTCOMES)(record_outcomes)
