"""Erasing a person from the scheduler when the talent pool asks (``erasure_requested``).

The scheduler keeps no name, email or phone; what it holds of a candidate is their time zone
(invitations, interviews, the proposals made for them), the window they asked for, free text
about them (cancel reasons, interviewers' comments), their invitation links, the reminders
still to come, stored answers and free text of events in the outbox. Time zones become UTC, the
rest is emptied or deleted; open invitations are closed (without events: the talent pool has
already erased the person) and pending reminders cancelled, so nothing is sent to them any
more. Booked interviews keep their slot: freeing the interviewers' time is HR's call. A second
run erases nothing new; each run confirms with ``scheduler.erasure_completed.v1``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

from scheduler.consumers import handlers
from scheduler.db import infra
from scheduler.interviews.models import Interview, InterviewParticipant
from scheduler.invitations.models import Invitation
from scheduler.proposals.models import Proposal
from shared.erasure import confirm, delete_link_tokens, forget_responses, scrub_outbox, scrub_timers
from shared.events.envelope import ReceivedEvent
from shared.events.talentpool import ErasureRequestedV1, SchedulerErasureCompletedV1
from shared.unit import UnitOfWork

ERASED_TIME_ZONE = "UTC"
OPEN_STATES = ("sent", "opened", "custom_requested", "expired")

_invitations = cast(sa.Table, Invitation.__table__)
_interviews = cast(sa.Table, Interview.__table__)
_participants = cast(sa.Table, InterviewParticipant.__table__)
_proposals = cast(sa.Table, Proposal.__table__)


def _uuids(values: Sequence[uuid.UUID]) -> sa.BindParameter[Any]:
    return sa.bindparam(None, list(values), type_=ARRAY(UUID(as_uuid=True)))


def _count(result: sa.Result[Any]) -> int:
    return cast("sa.CursorResult[Any]", result).rowcount or 0


async def erase(*, unit: UnitOfWork, candidate_ids: Sequence[uuid.UUID]) -> dict[str, int]:
    """Anonymize the scheduler's copy of these candidates; rows changed, by table."""
    session = unit.session
    now = unit.clock.now()
    people = _uuids(candidate_ids)
    invitations = list(
        (
            await session.scalars(
                sa.select(Invitation.id).where(Invitation.candidate_id == sa.any_(people))
            )
        ).all()
    )
    interviews = list(
        (
            await session.scalars(
                sa.select(Interview.id).where(Interview.candidate_id == sa.any_(people))
            )
        ).all()
    )
    applications = list(
        (
            await session.scalars(
                sa.select(Invitation.application_id)
                .where(Invitation.candidate_id == sa.any_(people))
                .union(
                    sa.select(Interview.application_id).where(
                        Interview.candidate_id == sa.any_(people)
                    ),
                    sa.select(Proposal.application_id).where(
                        Proposal.candidate_id == sa.any_(people)
                    ),
                )
            )
        ).all()
    )
    erased: dict[str, int] = {}
    i = _invitations.c
    erased["invitations"] = _count(
        await session.execute(
            sa.update(_invitations)
            .where(
                i.candidate_id == sa.any_(people),
                sa.or_(
                    i.candidate_time_zone != ERASED_TIME_ZONE,
                    i.custom_window.is_not(None),
                    i.cancel_reason.is_not(None),
                    i.state.in_(OPEN_STATES),
                ),
            )
            .values(
                candidate_time_zone=ERASED_TIME_ZONE,
                custom_window=sa.null(),
                cancel_reason=None,
                state=sa.case((i.state.in_(OPEN_STATES), "cancelled"), else_=i.state),
                cancelled_by=sa.case((i.state.in_(OPEN_STATES), "erasure"), else_=i.cancelled_by),
                closed_at=sa.case((i.state.in_(OPEN_STATES), now), else_=i.closed_at),
                updated_at=now,
            )
        )
    )
    v = _interviews.c
    erased["interviews"] = _count(
        await session.execute(
            sa.update(_interviews)
            .where(
                v.candidate_id == sa.any_(people),
                sa.or_(v.candidate_time_zone != ERASED_TIME_ZONE, v.cancel_reason.is_not(None)),
            )
            .values(candidate_time_zone=ERASED_TIME_ZONE, cancel_reason=None, updated_at=now)
        )
    )
    erased["interview_participants"] = _count(
        await session.execute(
            sa.update(_participants)
            .where(
                InterviewParticipant.interview_id == sa.any_(_uuids(interviews)),
                InterviewParticipant.comment.is_not(None),
            )
            .values(comment=None)
        )
    )
    p = _proposals.c
    # The time zone and preferred windows the slots were sought in, and the reasons of each
    # suggestion (which name local times in the candidate's zone).
    neutral = sa.cast(sa.literal(f'{{"time_zone": "{ERASED_TIME_ZONE}", "windows": []}}'), JSONB)
    suggestion = sa.func.jsonb_array_elements(p.suggestions).table_valued("value").alias("s")
    stripped = (
        sa.select(
            sa.func.coalesce(
                sa.func.jsonb_agg(suggestion.c.value.op("-")("reasons")),
                sa.cast(sa.literal("[]"), JSONB),
            )
        )
        .select_from(suggestion)
        .scalar_subquery()
    )
    with_reasons = (
        sa.select(1).select_from(suggestion).where(suggestion.c.value.op("?")("reasons")).exists()
    )
    erased["proposals"] = _count(
        await session.execute(
            sa.update(_proposals)
            .where(
                p.candidate_id == sa.any_(people),
                sa.or_(
                    p.request["time_zone"].astext != ERASED_TIME_ZONE,
                    sa.func.jsonb_array_length(
                        sa.func.coalesce(p.request["windows"], sa.cast(sa.literal("[]"), JSONB))
                    )
                    > 0,
                    with_reasons,
                ),
            )
            .values(request=p.request.op("||")(neutral), suggestions=stripped)
        )
    )
    assert infra.link_tokens is not None  # the scheduler defines the link_tokens table
    erased["link_tokens"] = await delete_link_tokens(
        session, infra.link_tokens, subject_ids=invitations
    )
    # Deadlines and reminders of the invitations and interviews (their payloads name them).
    erased["timers"] = await scrub_timers(
        session, infra.timers, mentioning=[*invitations, *interviews]
    )
    erased["idempotency_keys"] = await forget_responses(
        session,
        infra.idempotency_keys,
        mentioning=[*candidate_ids, *invitations, *interviews, *applications],
    )
    erased["outbox"] = await scrub_outbox(
        session,
        infra.outbox,
        ids=candidate_ids,
        replacements={"reason": None, "time_zone": ERASED_TIME_ZONE},
    )
    return {table: count for table, count in erased.items() if count}


@handlers.on(ErasureRequestedV1, name="scheduler.erase_person")
async def erase_person(unit: UnitOfWork, event: ReceivedEvent[ErasureRequestedV1]) -> None:
    erased = await erase(unit=unit, candidate_ids=event.data.candidate_ids)
    await confirm(unit, event.data, SchedulerErasureCompletedV1, erased)
