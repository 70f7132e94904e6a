"""Proposals: load the resources' availability, run the slot algorithm, store the ranked
suggestions and why others were refused, and emit ``interview_proposed``."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.availability import Availability, load_availability
from scheduler.interview_needs.models import InterviewNeed
from scheduler.interviewers.models import Interviewer, Pool, PoolMember
from scheduler.jobs.models import Job
from scheduler.proposals.models import Proposal
from scheduler.proposals.schemas import ProposalCreate
from scheduler.rooms.models import Room
from scheduler.slots.matching import propose
from scheduler.slots.request import (
    CandidateWindow,
    PoolRequirement,
    ProposalResult,
    RoomRequirement,
    SlotRequest,
)
from shared.auth.principal import Principal, Role
from shared.events.scheduler import InterviewProposedV1, Slot
from shared.problems import Problem, not_found
from shared.unit import UnitOfWork


def invalid_field(field: str, message: str, *, code: str = "value_error") -> Problem:
    """A 422 shaped like request validation's, for what only the database can check."""
    return Problem(
        422,
        "Invalid request",
        f"1 invalid field(s): body.{field}",
        slug="validation-error",
        errors=[{"field": field, "location": "body", "message": message, "code": code}],
    )


# The request, stored as JSON and read back (``propose_again`` re-proposes alike).


def request_to_json(request: SlotRequest) -> dict[str, Any]:
    return {
        "interviewer_ids": [str(i) for i in request.interviewer_ids],
        "pools": [
            {
                "pool_id": str(p.pool_id) if p.pool_id else None,
                "member_ids": [str(m) for m in p.member_ids],
                "k": p.k,
            }
            for p in request.pools
        ],
        "room": {
            "kind": request.room.kind,
            "room_ids": [str(r) for r in request.room.room_ids],
            "min_capacity": request.room.min_capacity,
        },
        "duration_minutes": request.duration_minutes,
        "buffer_before_minutes": request.buffer_before_minutes,
        "buffer_after_minutes": request.buffer_after_minutes,
        "earliest": request.earliest.isoformat(),
        "latest": request.latest.isoformat(),
        "min_notice_minutes": request.min_notice_minutes,
        "step_minutes": request.step_minutes,
        "time_zone": request.time_zone,
        "windows": [
            {
                "weekdays": list(w.weekdays),
                "start": w.start.isoformat("minutes"),
                "end": w.end.isoformat("minutes"),
            }
            for w in request.windows
        ],
        "windows_required": request.windows_required,
        "count": request.count,
        "spread_days": request.spread_days,
    }


def request_from_json(stored: dict[str, Any]) -> SlotRequest:
    return SlotRequest(
        interviewer_ids=tuple(uuid.UUID(i) for i in stored["interviewer_ids"]),
        pools=tuple(
            PoolRequirement(
                member_ids=tuple(uuid.UUID(m) for m in p["member_ids"]),
                k=p["k"],
                pool_id=uuid.UUID(p["pool_id"]) if p.get("pool_id") else None,
            )
            for p in stored.get("pools", [])
        ),
        room=RoomRequirement(
            kind=stored["room"]["kind"],
            room_ids=tuple(uuid.UUID(r) for r in stored["room"].get("room_ids", [])),
            min_capacity=stored["room"].get("min_capacity"),
        ),
        duration_minutes=stored["duration_minutes"],
        buffer_before_minutes=stored.get("buffer_before_minutes", 0),
        buffer_after_minutes=stored.get("buffer_after_minutes", 0),
        earliest=datetime.fromisoformat(stored["earliest"]),
        latest=datetime.fromisoformat(stored["latest"]),
        min_notice_minutes=stored.get("min_notice_minutes", 0),
        step_minutes=stored.get("step_minutes", 30),
        time_zone=stored["time_zone"],
        windows=tuple(
            CandidateWindow(
                start=time.fromisoformat(w["start"]),
                end=time.fromisoformat(w["end"]),
                weekdays=tuple(w.get("weekdays", [])),
            )
            for w in stored.get("windows", [])
        ),
        windows_required=stored.get("windows_required", False),
        count=stored.get("count", 3),
        spread_days=stored.get("spread_days", False),
    )


def result_to_json(result: ProposalResult) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    suggestions = [
        {
            "index": index,
            "starts_at": s.starts_at.isoformat(),
            "ends_at": s.ends_at.isoformat(),
            "interviewer_ids": [str(i) for i in s.interviewer_ids],
            "room_id": str(s.room_id) if s.room_id else None,
            "score": s.score,
            "reasons": [
                {"factor": r.factor, "weight": r.weight, "score": r.score, "note": r.note}
                for r in s.reasons
            ],
        }
        for index, s in enumerate(result.suggestions)
    ]
    d = result.diagnostics
    diagnostics = {
        "considered": d.considered,
        "feasible": d.feasible,
        "refused": dict(d.refused),
        "message": d.message,
    }
    return suggestions, diagnostics


# From the API body to the algorithm's request.


async def slot_request(*, session: AsyncSession, body: ProposalCreate) -> SlotRequest:
    """The body with its pools resolved to their members; unknown pools, interviewers or
    rooms are a 422 naming the field."""
    pools: list[PoolRequirement] = []
    if body.pools:
        pool_ids = [p.pool_id for p in body.pools]
        rows = await session.execute(
            sa.select(PoolMember.pool_id, PoolMember.interviewer_id)
            .join(Interviewer, Interviewer.id == PoolMember.interviewer_id)
            .where(PoolMember.pool_id.in_(pool_ids), Interviewer.active)
            .order_by(PoolMember.interviewer_id)
        )
        members: dict[uuid.UUID, list[uuid.UUID]] = {}
        for pool_id, interviewer_id in rows:
            members.setdefault(pool_id, []).append(interviewer_id)
        known = set(
            (await session.execute(sa.select(Pool.id).where(Pool.id.in_(pool_ids)))).scalars()
        )
        for index, pool in enumerate(body.pools):
            if pool.pool_id not in known:
                raise invalid_field(f"pools.{index}.pool_id", f"No pool with id {pool.pool_id}.")
            pools.append(
                PoolRequirement(
                    member_ids=tuple(members.get(pool.pool_id, [])), k=pool.k, pool_id=pool.pool_id
                )
            )
    return SlotRequest(
        interviewer_ids=tuple(dict.fromkeys(body.interviewer_ids)),
        pools=tuple(pools),
        room=RoomRequirement(
            kind=body.room.kind,
            room_ids=tuple(dict.fromkeys(body.room.room_ids)),
            min_capacity=body.room.min_capacity,
        ),
        duration_minutes=body.duration_minutes,
        buffer_before_minutes=body.buffer_before_minutes,
        buffer_after_minutes=body.buffer_after_minutes,
        earliest=body.earliest,
        latest=body.latest,
        min_notice_minutes=body.min_notice_minutes,
        step_minutes=body.step_minutes,
        time_zone=body.time_zone,
        windows=tuple(
            CandidateWindow(start=w.start, end=w.end, weekdays=tuple(w.weekdays))
            for w in body.windows
        ),
        windows_required=body.windows_required,
        count=body.count,
        spread_days=body.spread_days,
    )


_P_APPLICATION = sa.bindparam("application_id", type_=sa.Uuid)
_P_JOB = sa.bindparam("job_id", type_=sa.Uuid)
_ONE = sa.select(sa.literal_column("1").label("one")).subquery("one")
PARTIES = (
    sa.select(
        InterviewNeed.job_id,
        InterviewNeed.candidate_id,
        sa.select(Job.owner_ids)
        .where(Job.id == sa.func.coalesce(InterviewNeed.job_id, _P_JOB))
        .scalar_subquery(),
    )
    .select_from(_ONE)
    .outerjoin(InterviewNeed, InterviewNeed.application_id == _P_APPLICATION)
)
"""The application's interview need (NULLs when the scheduler has none) and the owners of its
job, or of the body's job when there is no need (NULL: no such job); one round trip, built
once."""


def _may_act(principal: Principal, owner_ids: list[str] | None) -> bool:
    """As ``require_visible_job``: admins on every known job, HR on the jobs they own."""
    if owner_ids is None:
        return False
    return principal.role is Role.ADMIN or (
        principal.role is Role.HR and principal.subject in owner_ids
    )


async def application_parties(
    *,
    session: AsyncSession,
    principal: Principal,
    application_id: uuid.UUID,
    job_id: uuid.UUID | None,
    candidate_id: uuid.UUID | None,
) -> tuple[uuid.UUID, uuid.UUID]:
    """The application's job and candidate: from its interview need when the scheduler has one
    (the body's values must then agree), else from the body (then required). 404 unless the
    principal may act on the job."""
    need_job_id, need_candidate_id, owner_ids = (
        await session.execute(PARTIES, {"application_id": application_id, "job_id": job_id})
    ).one()
    if need_job_id is not None:
        if not _may_act(principal, owner_ids):
            raise not_found("application", application_id)
        if job_id is not None and job_id != need_job_id:
            raise invalid_field("job_id", "The application belongs to another job.")
        if candidate_id is not None and candidate_id != need_candidate_id:
            raise invalid_field("candidate_id", "The application belongs to another candidate.")
        return need_job_id, need_candidate_id
    if job_id is None:
        raise invalid_field(
            "job_id", "Required: the scheduler has not heard of this application.", code="missing"
        )
    if candidate_id is None:
        raise invalid_field(
            "candidate_id",
            "Required: the scheduler has not heard of this application.",
            code="missing",
        )
    if not _may_act(principal, owner_ids):
        raise not_found("job", job_id)
    return job_id, candidate_id


async def _resources(
    session: AsyncSession, request: SlotRequest
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """The interviewer and room ids to load (whether they exist is checked on what
    ``load_availability`` found, by ``_require_known``: no query of its own)."""
    interviewer_ids = list(request.interviewer_ids) + [
        m for p in request.pools for m in p.member_ids
    ]
    room = request.room
    if room.kind == "rooms":
        return interviewer_ids, list(room.room_ids)
    if room.kind == "capacity":
        room_ids = (
            await session.execute(
                sa.select(Room.id).where(Room.active, Room.capacity >= (room.min_capacity or 1))
            )
        ).scalars()
        return interviewer_ids, list(room_ids)
    return interviewer_ids, []


def _require_known(request: SlotRequest, availability: Availability) -> None:
    """Unknown required interviewers or named rooms are a 422 naming the field."""
    for index, interviewer_id in enumerate(request.interviewer_ids):
        if interviewer_id not in availability.interviewers:
            raise invalid_field(
                f"interviewer_ids.{index}", f"No interviewer with id {interviewer_id}."
            )
    room = request.room
    if room.kind == "rooms":
        for index, room_id in enumerate(room.room_ids):
            if room_id not in availability.rooms:
                raise invalid_field(f"room.room_ids.{index}", f"No room with id {room_id}.")
        if not room.room_ids:
            raise invalid_field("room.room_ids", "Name at least one room, or use kind capacity.")


async def create_proposal(
    *,
    unit: UnitOfWork,
    application_id: uuid.UUID,
    job_id: uuid.UUID,
    candidate_id: uuid.UUID,
    request: SlotRequest,
    actor: str,
    interview_id: uuid.UUID | None = None,
) -> Proposal:
    """Compute, store and announce (``interview_proposed``) ranked slots for an application.

    The caller checked access to ``job_id``. Unknown interviewers or rooms are a 422 problem.
    ``interview_id`` names the interview being moved or re-staffed, if any."""
    session = unit.session
    interviewer_ids, room_ids = await _resources(session, request)
    before = timedelta(minutes=request.buffer_before_minutes)
    after = timedelta(minutes=request.buffer_after_minutes)
    availability = await load_availability(
        session,
        interviewer_ids=interviewer_ids,
        room_ids=room_ids,
        start=request.earliest - before,
        end=request.latest + after,
    )
    _require_known(request, availability)
    now = unit.clock.now()
    result = propose(request, availability, now)
    suggestions, diagnostics = result_to_json(result)
    proposal = Proposal(
        id=uuid.uuid4(),
        application_id=application_id,
        job_id=job_id,
        candidate_id=candidate_id,
        request=request_to_json(request),
        suggestions=suggestions,
        diagnostics=diagnostics,
        created_by=actor,
        created_at=now,
    )
    session.add(proposal)
    await session.flush()
    await unit.emit(
        InterviewProposedV1(
            proposal_id=proposal.id,
            application_id=application_id,
            job_id=job_id,
            candidate_id=candidate_id,
            interview_id=interview_id,
            slots=[Slot(starts_at=s.starts_at, ends_at=s.ends_at) for s in result.suggestions],
        ),
        subject=str(application_id),
    )
    return proposal


async def propose_again(
    *,
    unit: UnitOfWork,
    proposal: Proposal,
    actor: str,
    interview_id: uuid.UUID | None = None,
    earliest: datetime | None = None,
    latest: datetime | None = None,
) -> Proposal:
    """A fresh proposal made like ``proposal`` (e.g. after a slot was taken or declined), over
    the same range or a new one."""
    request = request_from_json(proposal.request)
    if earliest is not None or latest is not None:
        request = replace(
            request,
            earliest=earliest or request.earliest,
            latest=latest or request.latest,
        )
    return await create_proposal(
        unit=unit,
        application_id=proposal.application_id,
        job_id=proposal.job_id,
        candidate_id=proposal.candidate_id,
        request=request,
        actor=actor,
        interview_id=interview_id,
    )


async def get(*, session: AsyncSession, proposal_id: uuid.UUID) -> Proposal | None:
    return await session.get(Proposal, proposal_id)
