"""Interviews: booking a slot (all resources or none, re-checked inside the transaction, with the
database's exclusion constraint as the last word), confirmations and declines, reschedules and
cancels, reminders, and the reads."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy.dialects.postgresql import Range
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.availability import Availability, load_availability
from scheduler.interviewers.models import Interviewer, PoolMember
from scheduler.interviews import reminders
from scheduler.interviews.models import Booking, Interview, InterviewParticipant
from scheduler.interviews.schemas import SlotChoice
from scheduler.jobs.dependencies import visible_job_ids
from scheduler.jobs.models import Job
from scheduler.proposals import service as proposals
from scheduler.proposals.models import Proposal
from scheduler.rooms.models import Room
from shared import ics
from shared.auth.principal import Principal, Role
from shared.events.scheduler import (
    InterviewBookedV1,
    InterviewCancelledV1,
    InterviewConfirmedV1,
    InterviewerDeclinedV1,
    ReminderDueV1,
    Slot,
)
from shared.http.pagination import PageParams, paginate
from shared.logging import get_logger
from shared.problems import Problem, conflict
from shared.unit import UnitOfWork

log = get_logger(__name__)

REMINDER_TIMER = "interview.reminder"
ACTIVE_STATES = ("booked", "confirmed")
ICS_UID_DOMAIN = "recruiting-scheduler"
NO_OVERLAP = "ex_bookings_no_overlap"
ONE_BOOKING_PER_PROPOSAL = "uq_interviews_active_proposal"
DEFAULT_REMINDER_MINUTES: tuple[int, ...] = (24 * 60, 120)
CancelledBy = Literal["candidate", "hr", "admin", "interviewer", "system"]


class SlotTaken(Problem):
    """409: the slot is no longer free. Carries a fresh proposal for the same application (made
    in the caller's transaction), so a caller that wants it stored answers with
    ``shared.http.errors.render(request, exc)`` instead of letting the exception roll back."""

    def __init__(self, detail: str, *, proposal: Proposal | None) -> None:
        super().__init__(
            409,
            "Conflict",
            detail,
            slug="slot-taken",
            proposal_id=str(proposal.id) if proposal is not None else None,
            suggestions=list(proposal.suggestions) if proposal is not None else [],
        )
        self.proposal = proposal


# What a proposal asks for, read back from its stored request.


@dataclass(frozen=True)
class PoolTerms:
    pool_id: uuid.UUID | None
    member_ids: tuple[uuid.UUID, ...]


@dataclass(frozen=True)
class Terms:
    required: tuple[uuid.UUID, ...]
    pools: tuple[PoolTerms, ...]
    buffer_before: timedelta
    buffer_after: timedelta
    time_zone: str


def terms_of(proposal: Proposal) -> Terms:
    request: dict[str, Any] = proposal.request or {}
    pools = tuple(
        PoolTerms(
            pool_id=uuid.UUID(str(p["pool_id"])) if p.get("pool_id") else None,
            member_ids=tuple(uuid.UUID(str(m)) for m in p.get("member_ids") or ()),
        )
        for p in request.get("pools") or ()
    )
    return Terms(
        required=tuple(uuid.UUID(str(i)) for i in request.get("interviewer_ids") or ()),
        pools=pools,
        buffer_before=timedelta(minutes=int(request.get("buffer_before_minutes") or 0)),
        buffer_after=timedelta(minutes=int(request.get("buffer_after_minutes") or 0)),
        time_zone=str(request.get("time_zone") or "UTC"),
    )


@dataclass(frozen=True)
class Chosen:
    starts_at: datetime
    ends_at: datetime
    interviewer_ids: tuple[uuid.UUID, ...]
    room_id: uuid.UUID | None


def _not_offered(detail: str) -> Problem:
    return Problem(422, "Slot not offered", detail, slug="slot-not-offered")


def _suggested(picked: dict[str, Any]) -> Chosen:
    return Chosen(
        starts_at=datetime.fromisoformat(str(picked["starts_at"])).astimezone(UTC),
        ends_at=datetime.fromisoformat(str(picked["ends_at"])).astimezone(UTC),
        interviewer_ids=tuple(uuid.UUID(str(i)) for i in picked["interviewer_ids"]),
        room_id=uuid.UUID(str(picked["room_id"])) if picked.get("room_id") else None,
    )


def choose(proposal: Proposal, *, slot_index: int | None, slot: SlotChoice | None) -> Chosen:
    """The slot picked: a suggestion by its index (``slot``, if given too, must match its
    times), a suggestion by its times, or a slot of one's own (``slot`` with interviewers)."""
    suggestions = [_suggested(s) for s in proposal.suggestions or []]
    if slot_index is not None:
        if not 0 <= slot_index < len(suggestions):
            raise _not_offered(
                f"Proposal {proposal.id} has {len(suggestions)} suggestion(s); "
                f"slot_index {slot_index} is not one of them."
            )
        picked = suggestions[slot_index]
        if slot is not None and (slot.starts_at, slot.ends_at) != (
            picked.starts_at,
            picked.ends_at,
        ):
            raise _not_offered(f"Suggestion {slot_index} is not at the times given.")
        return picked
    if slot is None:
        raise _not_offered("Name a suggestion (slot_index) or a slot.")
    if slot.interviewer_ids is None:
        for picked in suggestions:
            if (picked.starts_at, picked.ends_at) == (slot.starts_at, slot.ends_at):
                return picked
        raise _not_offered(
            "That slot was not suggested; pick a suggestion or name the interviewers."
        )
    return Chosen(
        starts_at=slot.starts_at.astimezone(UTC),
        ends_at=slot.ends_at.astimezone(UTC),
        interviewer_ids=tuple(slot.interviewer_ids),
        room_id=slot.room_id,
    )


def slot_conflicts(
    availability: Availability,
    *,
    interviewer_ids: Sequence[uuid.UUID],
    room_id: uuid.UUID | None,
    needed: tuple[datetime, datetime],
    starts_at: datetime,
    now: datetime,
) -> list[str]:
    """Why the slot cannot be booked (empty: it can): a pure check over loaded availability,
    with the slot algorithm's rules (the buffered range free, caps not reached)."""
    reasons: list[str] = []
    if starts_at <= now:
        reasons.append("the slot has already begun")
    resources = [*interviewer_ids, *([room_id] if room_id is not None else [])]
    for resource_id in resources:
        if not _covered(availability.free.get(resource_id, []), needed):
            kind = "interviewer" if resource_id in interviewer_ids else "room"
            reasons.append(f"{kind} {resource_id} is not free")
    for interviewer_id in interviewer_ids:
        info = availability.interviewers.get(interviewer_id)
        if info is None:
            continue
        local = starts_at.astimezone(ZoneInfo(info.time_zone)).date()
        per_day = availability.booked_per_day.get(interviewer_id, {}).get(local, 0)
        if info.max_per_day is not None and per_day >= info.max_per_day:
            reasons.append(f"interviewer {interviewer_id} reached the daily cap")
        iso = local.isocalendar()
        per_week = availability.booked_per_week.get(interviewer_id, {}).get((iso.year, iso.week), 0)
        if info.max_per_week is not None and per_week >= info.max_per_week:
            reasons.append(f"interviewer {interviewer_id} reached the weekly cap")
    return reasons


def zone_of(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _covered(free: Sequence[tuple[datetime, datetime]], needed: tuple[datetime, datetime]) -> bool:
    return any(start <= needed[0] and needed[1] <= end for start, end in free)


# Writing.


async def _lock_resources(session: AsyncSession, resource_ids: Sequence[uuid.UUID]) -> None:
    """Serialise bookings of the same resources (in one global order, so never a deadlock): the
    re-check then sees what a concurrent booking committed, and the daily and weekly caps,
    which no constraint can express, hold. The exclusion constraint stays the last word."""
    for resource_id in sorted(set(resource_ids)):
        await session.execute(
            sa.select(
                sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(f"booking:{resource_id}", 0))
            )
        )


async def _repropose(
    unit: UnitOfWork,
    *,
    proposal: Proposal | None = None,
    interview: Interview | None = None,
    actor: str | None,
) -> Proposal | None:
    """A new proposal made like ``proposal`` (or the interview's), over the same range: fresh
    suggestions after a conflict or a decline. None if there is nothing to re-propose or it
    cannot be (the savepoint keeps the caller's transaction usable)."""
    if proposal is None and interview is not None and interview.proposal_id is not None:
        proposal = await unit.session.get(Proposal, interview.proposal_id)
    if proposal is None:
        return None
    try:
        async with unit.session.begin_nested():
            return await proposals.propose_again(
                unit=unit,
                proposal=proposal,
                actor=actor or "system",
                interview_id=interview.id if interview is not None else None,
            )
    except (Problem, ValueError, KeyError) as exc:
        log.warning("interviews.repropose_failed", error=type(exc).__name__)
        return None


async def _slot_taken(
    unit: UnitOfWork, proposal: Proposal, reasons: Sequence[str], actor: str
) -> SlotTaken:
    fresh = await _repropose(unit, proposal=proposal, actor=actor)
    detail = "The slot is no longer free: " + "; ".join(reasons) + "."
    if fresh is not None and fresh.suggestions:
        detail += " Pick one of the fresh suggestions."
    return SlotTaken(detail, proposal=fresh)


def _constraint_of(exc: sqlalchemy.exc.IntegrityError) -> str | None:
    orig = getattr(exc, "orig", None)
    for candidate in (orig, getattr(orig, "__cause__", None)):
        name = getattr(candidate, "constraint_name", None)
        if name:
            return str(name)
    return None


def _during(chosen: Chosen, terms: Terms) -> Range[datetime]:
    return Range(chosen.starts_at - terms.buffer_before, chosen.ends_at + terms.buffer_after)


async def _check_resources(session: AsyncSession, chosen: Chosen) -> None:
    known = set(
        (
            await session.execute(
                sa.select(Interviewer.id).where(
                    Interviewer.id.in_(chosen.interviewer_ids), Interviewer.active
                )
            )
        ).scalars()
    )
    unknown = [str(i) for i in chosen.interviewer_ids if i not in known]
    if chosen.room_id is not None:
        room = await session.get(Room, chosen.room_id)
        if room is None or not room.active:
            unknown.append(str(chosen.room_id))
    if unknown:
        raise Problem(
            422,
            "Unknown resource",
            f"No active interviewer or room with id {', '.join(unknown)}.",
            slug="unknown-resource",
        )


async def _pool_of(
    session: AsyncSession, terms: Terms, interviewer_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """Which pool each interviewer not named in the request was drawn from."""
    drawn: dict[uuid.UUID, uuid.UUID] = {}
    for pool in terms.pools:
        if pool.pool_id is None:
            continue
        members = set(pool.member_ids)
        if not members:
            members = set(
                (
                    await session.execute(
                        sa.select(PoolMember.interviewer_id).where(
                            PoolMember.pool_id == pool.pool_id
                        )
                    )
                ).scalars()
            )
        for interviewer_id in interviewer_ids:
            if (
                interviewer_id not in terms.required
                and interviewer_id in members
                and interviewer_id not in drawn
            ):
                drawn[interviewer_id] = pool.pool_id
    return drawn


class _Collision(Exception):
    def __init__(self, reasons: Sequence[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = list(reasons)


async def _hold(
    unit: UnitOfWork,
    *,
    proposal: Proposal,
    chosen: Chosen,
    terms: Terms,
    actor: str,
    write: Callable[[], Awaitable[None]],
    prepare: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Under the resources' locks and inside a savepoint: ``prepare`` (a reschedule frees the
    old bookings), re-check the slot, ``write``. A conflict, found by the re-check or by the
    exclusion constraint, undoes the savepoint and is a ``SlotTaken`` (with fresh
    suggestions), never a 500."""
    session = unit.session
    resources = [*chosen.interviewer_ids, *([chosen.room_id] if chosen.room_id else [])]
    await _lock_resources(session, resources)
    needed = (chosen.starts_at - terms.buffer_before, chosen.ends_at + terms.buffer_after)
    try:
        async with session.begin_nested():
            if prepare is not None:
                await prepare()
            availability = await load_availability(
                session,
                interviewer_ids=chosen.interviewer_ids,
                room_ids=[chosen.room_id] if chosen.room_id else [],
                start=needed[0],
                end=needed[1],
            )
            reasons = slot_conflicts(
                availability,
                interviewer_ids=chosen.interviewer_ids,
                room_id=chosen.room_id,
                needed=needed,
                starts_at=chosen.starts_at,
                now=unit.clock.now(),
            )
            if reasons:
                raise _Collision(reasons)
            await write()
            await session.flush()
    except _Collision as collision:
        raise await _slot_taken(unit, proposal, collision.reasons, actor) from None
    except sqlalchemy.exc.IntegrityError as exc:
        name = _constraint_of(exc)
        if name == NO_OVERLAP:
            log.info("interviews.booking_collided")
            raise await _slot_taken(
                unit, proposal, ["another booking took it meanwhile"], actor
            ) from None
        if name == ONE_BOOKING_PER_PROPOSAL:
            raise _already_booked(proposal.id) from None
        raise


def _already_booked(proposal_id: uuid.UUID) -> Problem:
    return conflict(
        f"Proposal {proposal_id} has already been booked; cancel or reschedule that interview.",
        slug="already-booked",
    )


async def book(
    *,
    unit: UnitOfWork,
    proposal: Proposal,
    slot_index: int | None = None,
    slot: SlotChoice | None = None,
    invitation_id: uuid.UUID | None = None,
    actor: str,
    reminder_minutes: Sequence[int] = DEFAULT_REMINDER_MINUTES,
) -> Interview:
    """Book a slot of ``proposal`` (a suggestion by index, or an explicit slot): the interview,
    one participant per interviewer and one booking per resource, all or nothing. Raises
    ``SlotTaken`` (409, with fresh suggestions) when the slot is no longer free, 422 when the
    index names no suggestion, 409 ``already-booked`` when the proposal already has an interview."""
    session = unit.session
    chosen = choose(proposal, slot_index=slot_index, slot=slot)
    terms = terms_of(proposal)
    if slot is not None and slot.interviewer_ids is not None:
        await _check_resources(session, chosen)
    taken = await session.execute(
        sa.select(Interview.id).where(
            Interview.proposal_id == proposal.id, Interview.state.in_(ACTIVE_STATES)
        )
    )
    if taken.first() is not None:
        raise _already_booked(proposal.id)
    now = unit.clock.now()
    interview_id = uuid.uuid4()
    interview = Interview(
        id=interview_id,
        application_id=proposal.application_id,
        job_id=proposal.job_id,
        candidate_id=proposal.candidate_id,
        invitation_id=invitation_id,
        proposal_id=proposal.id,
        state="booked",
        starts_at=chosen.starts_at,
        ends_at=chosen.ends_at,
        candidate_time_zone=terms.time_zone,
        room_id=chosen.room_id,
        remote=chosen.room_id is None,
        ics_uid=f"{interview_id}@{ICS_UID_DOMAIN}",
        ics_sequence=0,
        created_by=actor,
        created_at=now,
        updated_at=now,
    )
    pools = await _pool_of(session, terms, chosen.interviewer_ids)

    async def write() -> None:
        session.add(interview)
        await session.flush()
        session.add_all(
            InterviewParticipant(
                interview_id=interview_id,
                interviewer_id=interviewer_id,
                pool_id=pools.get(interviewer_id),
                response="pending",
            )
            for interviewer_id in chosen.interviewer_ids
        )
        _add_bookings(session, interview_id, chosen, terms)

    await _hold(unit, proposal=proposal, chosen=chosen, terms=terms, actor=actor, write=write)
    await _schedule_reminders(unit, interview, reminder_minutes)
    await _emit_booked(unit, interview, chosen.interviewer_ids, rescheduled_from=None)
    return interview


def _add_bookings(
    session: AsyncSession, interview_id: uuid.UUID, chosen: Chosen, terms: Terms
) -> None:
    during = _during(chosen, terms)
    resources: list[tuple[str, uuid.UUID]] = [("interviewer", i) for i in chosen.interviewer_ids]
    if chosen.room_id is not None:
        resources.append(("room", chosen.room_id))
    # One global order of inserts, so two bookings of overlapping resources wait on each other
    # rather than deadlock.
    for kind, resource_id in sorted(resources, key=lambda r: r[1]):
        session.add(
            Booking(
                interview_id=interview_id,
                resource_kind=kind,
                resource_id=resource_id,
                during=during,
            )
        )


async def _emit_booked(
    unit: UnitOfWork,
    interview: Interview,
    interviewer_ids: Sequence[uuid.UUID],
    *,
    rescheduled_from: Slot | None,
) -> None:
    subjects = await unit.session.scalars(
        sa.select(Interviewer.subject).where(Interviewer.id.in_(list(interviewer_ids)))
    )
    await unit.emit(
        InterviewBookedV1(
            interview_id=interview.id,
            application_id=interview.application_id,
            job_id=interview.job_id,
            candidate_id=interview.candidate_id,
            calendar_uid=interview.ics_uid,
            calendar_sequence=interview.ics_sequence,
            starts_at=interview.starts_at,
            ends_at=interview.ends_at,
            time_zone=interview.candidate_time_zone,
            interviewer_ids=list(interviewer_ids),
            interviewer_subjects=sorted(subjects),
            room_id=interview.room_id,
            remote=interview.remote,
            rescheduled_from=rescheduled_from,
        ),
        subject=str(interview.id),
        sequence=interview.version,
    )


# Reminders.


def _reminder_prefix(interview_id: uuid.UUID) -> str:
    return f"{interview_id}:"


async def _schedule_reminders(
    unit: UnitOfWork, interview: Interview, reminder_minutes: Sequence[int]
) -> None:
    for planned in reminders.plan(
        starts_at=interview.starts_at,
        minutes_before=list(reminder_minutes),
        time_zone=interview.candidate_time_zone,
        now=unit.clock.now(),
    ):
        await unit.timers.schedule(
            unit.session,
            kind=REMINDER_TIMER,
            key=f"{_reminder_prefix(interview.id)}{planned.name}",
            due_at=planned.due_at,
            payload={
                "interview_id": str(interview.id),
                "reminder": planned.name,
                "starts_at": interview.starts_at.isoformat(),
            },
        )


async def _cancel_reminders(unit: UnitOfWork, interview: Interview) -> None:
    await unit.timers.cancel_by_key_prefix(unit.session, key_prefix=_reminder_prefix(interview.id))


async def send_reminder(
    unit: UnitOfWork, *, interview_id: uuid.UUID, reminder: str, due_at: datetime, starts_at: str
) -> None:
    """Emit ``reminder_due`` for the candidate and the interviewers, unless the interview was
    cancelled or moved since the reminder was set."""
    interview = await unit.session.get(Interview, interview_id)
    if interview is None or interview.state not in ACTIVE_STATES:
        return
    if datetime.fromisoformat(starts_at) != interview.starts_at:
        return  # moved: its own reminders are set for the new time
    panel = await unit.session.scalars(
        sa.select(Interviewer.subject)
        .join(InterviewParticipant, InterviewParticipant.interviewer_id == Interviewer.id)
        .where(
            InterviewParticipant.interview_id == interview.id,
            InterviewParticipant.response.in_(("pending", "accepted")),
        )
    )
    await unit.emit(
        ReminderDueV1(
            subject_kind="interview",
            subject_id=interview.id,
            application_id=interview.application_id,
            job_id=interview.job_id,
            candidate_id=interview.candidate_id,
            reminder=reminder,
            recipients=["candidate", "interviewers"],
            due_at=due_at,
            at=interview.starts_at,
            interviewer_subjects=sorted(panel),
        ),
        subject=str(interview.id),
    )


# Reads and access.


async def participants_of(
    session: AsyncSession, interview_id: uuid.UUID
) -> list[InterviewParticipant]:
    rows = await session.execute(
        sa.select(InterviewParticipant)
        .where(InterviewParticipant.interview_id == interview_id)
        .order_by(InterviewParticipant.interviewer_id)
    )
    return list(rows.scalars())


async def interviewer_of(session: AsyncSession, principal: Principal) -> Interviewer | None:
    found = await session.execute(
        sa.select(Interviewer).where(Interviewer.subject == principal.subject)
    )
    return found.scalar_one_or_none()


async def get_visible(
    *,
    session: AsyncSession,
    principal: Principal,
    interview_id: uuid.UUID,
    for_update: bool = False,
) -> Interview | None:
    """The interview if the caller may see it: admins all, HR of its job's owners, interviewers
    who are (or were) on it; None otherwise, so ids cannot be probed."""
    statement = sa.select(Interview).where(Interview.id == interview_id)
    if principal.role is Role.INTERVIEWER:
        statement = statement.where(
            Interview.id.in_(
                sa.select(InterviewParticipant.interview_id)
                .join(Interviewer, Interviewer.id == InterviewParticipant.interviewer_id)
                .where(Interviewer.subject == principal.subject)
            )
        )
    else:
        statement = statement.where(visible_job_ids(principal, Interview.job_id))
    if for_update:
        statement = statement.with_for_update(of=Interview)
    return (await session.execute(statement)).scalar_one_or_none()


async def list_visible(
    *,
    session: AsyncSession,
    principal: Principal,
    params: PageParams,
    job_id: uuid.UUID | None,
    state: str | None,
) -> tuple[list[Interview], str | None]:
    statement = sa.select(Interview).where(visible_job_ids(principal, Interview.job_id))
    if job_id is not None:
        statement = statement.where(Interview.job_id == job_id)
    if state is not None:
        statement = statement.where(Interview.state == state)
    return await paginate(
        session, statement, order_by=[Interview.starts_at, Interview.id], params=params
    )


async def list_for_interviewer(
    *,
    session: AsyncSession,
    interviewer_id: uuid.UUID,
    params: PageParams,
    state: str | None,
    since: datetime | None,
) -> tuple[list[Interview], str | None]:
    statement = sa.select(Interview).where(
        Interview.id.in_(
            sa.select(InterviewParticipant.interview_id).where(
                InterviewParticipant.interviewer_id == interviewer_id,
                InterviewParticipant.response != "replaced",
            )
        )
    )
    if state is not None:
        statement = statement.where(Interview.state == state)
    if since is not None:
        statement = statement.where(Interview.ends_at > since)
    return await paginate(
        session, statement, order_by=[Interview.starts_at, Interview.id], params=params
    )


async def participants_by_interview(
    session: AsyncSession, interview_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[InterviewParticipant]]:
    result: dict[uuid.UUID, list[InterviewParticipant]] = {i: [] for i in interview_ids}
    if not interview_ids:
        return result
    rows = await session.execute(
        sa.select(InterviewParticipant)
        .where(InterviewParticipant.interview_id.in_(interview_ids))
        .order_by(InterviewParticipant.interview_id, InterviewParticipant.interviewer_id)
    )
    for participant in rows.scalars():
        result[participant.interview_id].append(participant)
    return result


# Changes.


def _require_active(interview: Interview) -> None:
    if interview.state not in ACTIVE_STATES:
        raise conflict(
            f"The interview is {interview.state}; only a booked or confirmed one can change.",
            slug="interview-not-active",
        )


async def _deactivate_bookings(
    session: AsyncSession, interview_id: uuid.UUID, *, resource_id: uuid.UUID | None = None
) -> list[Booking]:
    statement = (
        sa.update(Booking)
        .where(Booking.interview_id == interview_id, Booking.active)
        .values(active=False)
        .returning(Booking)
    )
    if resource_id is not None:
        statement = statement.where(Booking.resource_id == resource_id)
    rows = await session.execute(statement, execution_options={"synchronize_session": False})
    return list(rows.scalars())


def _touch(interview: Interview, now: datetime) -> None:
    interview.ics_sequence += 1
    interview.updated_at = now


async def cancel(
    *,
    unit: UnitOfWork,
    interview: Interview,
    cancelled_by: CancelledBy,
    reason: str | None,
) -> Interview:
    """Free every resource, cancel the reminders, tell everyone (``interview_cancelled``)."""
    _require_active(interview)
    now = unit.clock.now()
    await _deactivate_bookings(unit.session, interview.id)
    interview.state = "cancelled"
    interview.cancelled_by = cancelled_by
    interview.cancel_reason = reason
    interview.cancelled_at = now
    _touch(interview, now)
    await unit.session.flush()
    await _cancel_reminders(unit, interview)
    await unit.emit(
        InterviewCancelledV1(
            interview_id=interview.id,
            application_id=interview.application_id,
            job_id=interview.job_id,
            candidate_id=interview.candidate_id,
            calendar_uid=interview.ics_uid,
            calendar_sequence=interview.ics_sequence,
            starts_at=interview.starts_at,
            ends_at=interview.ends_at,
            cancelled_by=cancelled_by,
            reason=reason,
        ),
        subject=str(interview.id),
        sequence=interview.version,
    )
    return interview


async def reschedule(
    *,
    unit: UnitOfWork,
    interview: Interview,
    proposal: Proposal,
    slot_index: int | None,
    slot: SlotChoice | None,
    actor: str,
    reminder_minutes: Sequence[int] = DEFAULT_REMINDER_MINUTES,
) -> Interview:
    """Move the interview to another slot in one transaction: the old bookings inactive, the new
    ones active (under the same exclusion guarantee), SEQUENCE + 1, reminders moved, and
    ``interview_booked`` with ``rescheduled_from``. On a conflict nothing changes (409)."""
    _require_active(interview)
    if proposal.application_id != interview.application_id:
        raise _not_offered(f"Proposal {proposal.id} is for another application.")
    session = unit.session
    chosen = choose(proposal, slot_index=slot_index, slot=slot)
    terms = terms_of(proposal)
    if slot is not None and slot.interviewer_ids is not None:
        await _check_resources(session, chosen)
    previous = Slot(starts_at=interview.starts_at, ends_at=interview.ends_at)
    before = await participants_of(session, interview.id)
    current = [p for p in before if p.response not in ("declined", "replaced")]
    pools = await _pool_of(session, terms, chosen.interviewer_ids)
    now = unit.clock.now()

    async def write() -> None:
        _add_bookings(session, interview.id, chosen, terms)
        staying = {p.interviewer_id for p in current}
        for participant in current:
            if participant.interviewer_id not in chosen.interviewer_ids:
                participant.response = "replaced"
                participant.responded_at = now
            else:
                # A new time needs a new answer.
                participant.response = "pending"
                participant.responded_at = None
        known = {p.interviewer_id: p for p in before}
        for interviewer_id in chosen.interviewer_ids:
            if interviewer_id in staying:
                continue
            if interviewer_id in known:
                known[interviewer_id].response = "pending"
                known[interviewer_id].responded_at = None
                known[interviewer_id].pool_id = pools.get(interviewer_id)
            else:
                session.add(
                    InterviewParticipant(
                        interview_id=interview.id,
                        interviewer_id=interviewer_id,
                        pool_id=pools.get(interviewer_id),
                        response="pending",
                    )
                )

    async def free_old() -> None:
        # Freed first, so the new slot may overlap the old one (a 30-minute shift); a conflict
        # rolls this back with the rest.
        await _deactivate_bookings(session, interview.id)

    await _hold(
        unit,
        proposal=proposal,
        chosen=chosen,
        terms=terms,
        actor=actor,
        write=write,
        prepare=free_old,
    )
    interview.starts_at = chosen.starts_at
    interview.ends_at = chosen.ends_at
    interview.room_id = chosen.room_id
    interview.remote = chosen.room_id is None
    interview.proposal_id = proposal.id
    interview.candidate_time_zone = terms.time_zone
    interview.state = "booked"
    _touch(interview, now)
    await session.flush()
    await _cancel_reminders(unit, interview)
    await _schedule_reminders(unit, interview, reminder_minutes)
    await _emit_booked(unit, interview, chosen.interviewer_ids, rescheduled_from=previous)
    return interview


async def respond(
    *,
    unit: UnitOfWork,
    interview: Interview,
    interviewer: Interviewer,
    accept: bool,
    comment: str | None,
) -> Interview:
    """An interviewer's answer. All accepted: confirmed. A decline: a pool member stands in if
    one is free, else the slot is freed and a new proposal made for the application."""
    _require_active(interview)
    session = unit.session
    participant = await session.get(
        InterviewParticipant, (interview.id, interviewer.id), with_for_update=True
    )
    if participant is None or participant.response in ("declined", "replaced"):
        raise conflict("You are no longer on this interview.", slug="not-a-participant")
    now = unit.clock.now()
    participant.comment = comment
    participant.responded_at = now
    if accept:
        participant.response = "accepted"
        await session.flush()
        everyone = await participants_of(session, interview.id)
        standing = [p for p in everyone if p.response not in ("declined", "replaced")]
        if interview.state == "booked" and all(p.response == "accepted" for p in standing):
            interview.state = "confirmed"
            _touch(interview, now)
            await session.flush()
            await unit.emit(
                InterviewConfirmedV1(
                    interview_id=interview.id,
                    application_id=interview.application_id,
                    job_id=interview.job_id,
                    candidate_id=interview.candidate_id,
                    starts_at=interview.starts_at,
                    ends_at=interview.ends_at,
                ),
                subject=str(interview.id),
                sequence=interview.version,
            )
        return interview
    return await _decline(unit, interview=interview, participant=participant, now=now)


async def _decline(
    unit: UnitOfWork, *, interview: Interview, participant: InterviewParticipant, now: datetime
) -> Interview:
    session = unit.session
    participant.response = "declined"
    freed = await _deactivate_bookings(
        session, interview.id, resource_id=participant.interviewer_id
    )
    substitute = None
    if participant.pool_id is not None and freed:
        substitute = await _find_substitute(
            unit, interview=interview, participant=participant, during=freed[0].during
        )
    if substitute is not None:
        participant.response = "replaced"
        # The newcomer has yet to accept.
        interview.state = "booked"
    _touch(interview, now)
    await session.flush()
    await unit.emit(
        _declined_event(interview, participant.interviewer_id, replaced_by=substitute),
        subject=str(interview.id),
        sequence=interview.version,
    )
    if substitute is not None:
        return interview
    await cancel(
        unit=unit,
        interview=interview,
        cancelled_by="interviewer",
        reason="interviewer_declined",
    )
    await _repropose(unit, interview=interview, actor=None)
    return interview


def _declined_event(
    interview: Interview, interviewer_id: uuid.UUID, *, replaced_by: uuid.UUID | None
) -> InterviewerDeclinedV1:
    return InterviewerDeclinedV1(
        interview_id=interview.id,
        application_id=interview.application_id,
        job_id=interview.job_id,
        candidate_id=interview.candidate_id,
        interviewer_id=interviewer_id,
        replaced_by=replaced_by,
    )


async def _find_substitute(
    unit: UnitOfWork,
    *,
    interview: Interview,
    participant: InterviewParticipant,
    during: Range[datetime],
) -> uuid.UUID | None:
    """A member of the decliner's pool who is free for the same held range (buffers included)
    and under their caps; booked in their place under the same guarantees. None if nobody is."""
    session = unit.session
    assert participant.pool_id is not None
    taken = {p.interviewer_id for p in await participants_of(session, interview.id)}
    members = [
        m
        for m in (
            await session.execute(
                sa.select(PoolMember.interviewer_id)
                .join(Interviewer, Interviewer.id == PoolMember.interviewer_id)
                .where(PoolMember.pool_id == participant.pool_id, Interviewer.active)
                .order_by(PoolMember.interviewer_id)
            )
        ).scalars()
        if m not in taken
    ]
    if not members:
        return None
    if during.lower is None or during.upper is None:
        return None
    needed = (during.lower, during.upper)
    await _lock_resources(session, members)
    availability = await load_availability(
        session, interviewer_ids=members, room_ids=[], start=needed[0], end=needed[1]
    )
    now = unit.clock.now()
    free = [
        m
        for m in members
        if not slot_conflicts(
            availability,
            interviewer_ids=[m],
            room_id=None,
            needed=needed,
            starts_at=interview.starts_at,
            now=now,
        )
    ]

    # The least busy that week first, as the slot algorithm balances load.
    def load(member: uuid.UUID) -> int:
        return sum(availability.booked_per_week.get(member, {}).values())

    for member in sorted(free, key=lambda m: (load(m), str(m))):
        try:
            async with session.begin_nested():
                session.add(
                    InterviewParticipant(
                        interview_id=interview.id,
                        interviewer_id=member,
                        pool_id=participant.pool_id,
                        response="pending",
                    )
                )
                session.add(
                    Booking(
                        interview_id=interview.id,
                        resource_kind="interviewer",
                        resource_id=member,
                        during=during,
                    )
                )
                await session.flush()
        except sqlalchemy.exc.IntegrityError as exc:
            if _constraint_of(exc) == NO_OVERLAP:
                continue
            raise
        return member
    return None


# iCalendar.

Viewer = Literal["staff", "candidate"] | uuid.UUID
"""Who gets the file: staff, the candidate, or one interviewer (by id)."""

_PARTSTAT = {"pending": "NEEDS-ACTION", "accepted": "ACCEPTED", "declined": "DECLINED"}


async def calendar_file(session: AsyncSession, interview: Interview, *, viewer: Viewer) -> bytes:
    """The interview as an iCalendar file for ``viewer``. Staff and interviewers see the
    interviewers' names; the candidate sees only how many there are. An interviewer taken off
    the interview gets a CANCEL for their copy."""
    everyone = await participants_of(session, interview.id)
    standing = [p for p in everyone if p.response not in ("declined", "replaced")]
    names: dict[uuid.UUID, str] = {}
    if viewer != "candidate" and standing:
        rows = await session.execute(
            sa.select(Interviewer.id, Interviewer.display_name).where(
                Interviewer.id.in_([p.interviewer_id for p in standing])
            )
        )
        names = {row.id: row.display_name for row in rows}
    attendees = [
        ics.Attendee(
            uri=f"urn:uuid:{interview.candidate_id}",
            name="Candidate",
            status="ACCEPTED",
        )
    ]
    for number, participant in enumerate(standing, start=1):
        if viewer == "candidate":
            attendees.append(
                ics.Attendee(uri=f"urn:recruiting:interviewer:{number}", name="Interviewer")
            )
        else:
            attendees.append(
                ics.Attendee(
                    uri=f"urn:uuid:{participant.interviewer_id}",
                    name=names.get(participant.interviewer_id, "Interviewer"),
                    status=_PARTSTAT.get(participant.response, "NEEDS-ACTION"),
                )
            )
    removed = isinstance(viewer, uuid.UUID) and all(p.interviewer_id != viewer for p in standing)
    job = await session.get(Job, interview.job_id)
    location = "Remote"
    if interview.room_id is not None:
        room = await session.get(Room, interview.room_id)
        if room is not None:
            location = f"{room.name}, {room.location}"
    return ics.render(
        ics.CalendarInterview(
            uid=interview.ics_uid,
            sequence=interview.ics_sequence,
            starts_at=interview.starts_at,
            ends_at=interview.ends_at,
            stamp=interview.updated_at,
            summary=f"Interview: {job.title}" if job is not None else "Interview",
            cancelled=interview.state == "cancelled" or removed,
            confirmed=interview.state in ("confirmed", "completed"),
            time_zone=interview.candidate_time_zone,
            location=location,
            attendees=attendees,
        )
    )
