"""Invitations: policies per candidate group, live-interview invitations (one or 500 at once)
with their link tokens, reminders and deadlines, AI-interview invitations from the pipeline's
events, the candidate's side (open, pick, ask for another window) and the status board."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from scheduler.db import infra
from scheduler.interviews.models import Interview
from scheduler.interviews.service import SlotTaken, book
from scheduler.invitations import lifecycle, reminders, windows
from scheduler.invitations.models import Invitation, InvitationPolicy
from scheduler.invitations.schemas import InvitationFields, PolicyWrite, ProposalRequest
from scheduler.jobs.dependencies import visible_job_ids
from scheduler.jobs.models import Job
from scheduler.proposals import service as proposals
from scheduler.proposals.models import Proposal
from scheduler.proposals.schemas import ProposalCreate
from scheduler.slots.request import SlotRequest
from shared.auth.link_tokens import hash_token, new_token
from shared.auth.principal import Principal
from shared.events.scheduler import (
    CustomWindowRequestedV1,
    InvitationCancelledV1,
    InvitationDeadlineChangedV1,
    InvitationOpenedV1,
    InvitationSentV1,
    InviteExpiredV1,
    ReminderDueV1,
    Slot,
)
from shared.http.pagination import PageParams, paginate
from shared.problems import Problem, conflict, version_mismatch
from shared.timers import DueTimer
from shared.unit import UnitOfWork

PURPOSE = "scheduler_invitation"
LIVE = "live_interview"
AI = "ai_interview"
DEFAULT_GROUP = "default"
# Timer kinds; keys are ``invitation:<id>:...`` so one prefix cancels all of an invitation's.
REMINDER = "invitation.reminder"
DEADLINE = "invitation.deadline"
MAKEUP_END = "invitation.makeup_end"
# A link keeps working this long after the invitation's last possible action, so a candidate
# can still see what they booked (acting is refused by the invitation's state, not the link).
LINK_GRACE = timedelta(days=30)


def timer_prefix(invitation_id: uuid.UUID) -> str:
    return f"invitation:{invitation_id}:"


def _problem(status: int, title: str, detail: str, slug: str, **extensions: Any) -> Problem:
    return Problem(status, title, detail, slug=slug, **extensions)


# Policies


async def get_policy(*, session: AsyncSession, group: str) -> InvitationPolicy | None:
    return await session.get(InvitationPolicy, group)


async def list_policies(*, session: AsyncSession) -> list[InvitationPolicy]:
    result = await session.execute(
        sa.select(InvitationPolicy).order_by(InvitationPolicy.candidate_group)
    )
    return list(result.scalars())


async def put_policy(
    *,
    unit: UnitOfWork,
    principal: Principal,
    group: str,
    body: PolicyWrite,
    expected_version: int | None,
    if_match_given: bool,
) -> tuple[InvitationPolicy, bool]:
    """Create the group's policy, or replace it (then ``If-Match`` is required). New deadlines
    and reminders apply to invitations sent from now on."""
    policy = await unit.session.get(InvitationPolicy, group, with_for_update=True)
    values = body.model_dump(mode="json")
    now = unit.clock.now()
    if policy is None:
        policy = InvitationPolicy(
            candidate_group=group, updated_by=principal.subject, updated_at=now, **values
        )
        unit.session.add(policy)
        await unit.session.flush()
        return policy, True
    if not if_match_given:
        raise _problem(
            428,
            "Precondition required",
            "Replacing a policy needs If-Match with the version you read.",
            "if-match-required",
        )
    if expected_version is not None and expected_version != policy.version:
        raise version_mismatch(policy.version)
    for name, value in values.items():
        setattr(policy, name, value)
    policy.updated_by = principal.subject
    policy.updated_at = now
    await unit.session.flush()
    return policy, False


# Creating invitations


@dataclass
class RowOutcome:
    application_id: uuid.UUID
    status: str  # created | exists | failed
    invitation: Invitation | None = None
    invitation_id: uuid.UUID | None = None
    token: str | None = None
    link_expires_at: datetime | None = None
    problem: Problem | None = None


@dataclass
class _Ready:
    row: InvitationFields
    policy: InvitationPolicy
    proposal: Proposal
    outcome: RowOutcome
    values: dict[str, Any] = field(default_factory=dict)


def offered_slots(proposal: Proposal | None) -> list[dict[str, Any]]:
    """The offered slots, best first, as stored in the proposal's suggestions."""
    if proposal is None:
        return []
    return list(proposal.suggestions or [])


def _slot(item: dict[str, Any]) -> Slot:
    return Slot(starts_at=item["starts_at"], ends_at=item["ends_at"])


async def create_live(
    *, unit: UnitOfWork, principal: Principal, job: Job, rows: Sequence[InvitationFields]
) -> list[RowOutcome]:
    """Invite candidates of one job to pick a slot, in a few statements whatever their number.

    A row whose application already has a waiting live invitation is ``exists`` (retrying a
    bulk request is safe); a row that cannot be served is ``failed`` with its problem; the
    others get an invitation, a link token, reminder and deadline timers and
    ``invitation_sent``."""
    session = unit.session
    now = unit.clock.now()
    outcomes = {row.application_id: RowOutcome(row.application_id, "failed") for row in rows}
    application_ids = list(outcomes)
    waiting = await _waiting(session, application_ids, kind=LIVE)
    groups = {row.candidate_group for row in rows}
    policies = {
        policy.candidate_group: policy
        for policy in (
            await session.execute(
                sa.select(InvitationPolicy).where(InvitationPolicy.candidate_group.in_(groups))
            )
        ).scalars()
    }
    proposal_ids = {row.proposal_id for row in rows if row.proposal_id is not None}
    proposals = (
        {
            proposal.id: proposal
            for proposal in (
                await session.execute(sa.select(Proposal).where(Proposal.id.in_(proposal_ids)))
            ).scalars()
        }
        if proposal_ids
        else {}
    )
    ready: list[_Ready] = []
    for row in rows:
        outcome = outcomes[row.application_id]
        if row.application_id in waiting:
            outcome.status = "exists"
            outcome.invitation_id = waiting[row.application_id]
            continue
        policy = policies.get(row.candidate_group)
        if policy is None:
            outcome.problem = _problem(
                422,
                "Unprocessable content",
                f"No invitation policy for candidate group {row.candidate_group!r}.",
                "unknown-candidate-group",
            )
            continue
        try:
            proposal = await _proposal_for(
                unit=unit, principal=principal, job=job, row=row, known=proposals
            )
        except Problem as problem:
            outcome.problem = problem
            continue
        ready.append(_Ready(row, policy, proposal, outcome))
    if ready:
        await _insert_live(unit=unit, principal=principal, job=job, ready=ready, now=now)
    return [outcomes[application_id] for application_id in application_ids]


async def _waiting(
    session: AsyncSession, application_ids: Sequence[uuid.UUID], *, kind: str
) -> dict[uuid.UUID, uuid.UUID]:
    rows = await session.execute(
        sa.select(Invitation.application_id, Invitation.id).where(
            Invitation.application_id.in_(application_ids),
            Invitation.kind == kind,
            Invitation.state.in_(lifecycle.WAITING),
        )
    )
    return {row.application_id: row.id for row in rows}


async def _proposal_for(
    *,
    unit: UnitOfWork,
    principal: Principal,
    job: Job,
    row: InvitationFields,
    known: dict[uuid.UUID, Proposal],
) -> Proposal:
    if row.proposal_id is not None:
        proposal = known.get(row.proposal_id)
        if (
            proposal is None
            or proposal.application_id != row.application_id
            or proposal.job_id != job.id
        ):
            raise _problem(
                422,
                "Unprocessable content",
                f"No proposal with id {row.proposal_id} for this application.",
                "proposal-not-found",
            )
    else:
        assert row.proposal is not None
        # A failing proposal must not leave half its rows behind in the bulk's transaction.
        async with unit.session.begin_nested():
            proposal = await propose(
                unit=unit,
                actor=principal.subject,
                application_id=row.application_id,
                job_id=job.id,
                candidate_id=row.candidate_id,
                request=row.proposal,
            )
    if not offered_slots(proposal):
        raise _problem(
            422,
            "No slots to offer",
            "The proposal has no suggestions; see its diagnostics for why nothing fits.",
            "no-slots",
            proposal_id=str(proposal.id),
            diagnostics=proposal.diagnostics,
        )
    return proposal


async def propose(
    *,
    unit: UnitOfWork,
    actor: str,
    application_id: uuid.UUID,
    job_id: uuid.UUID,
    candidate_id: uuid.UUID,
    request: SlotRequest | ProposalRequest,
) -> Proposal:
    """The proposals area's ``create_proposal`` (stores the proposal, emits
    ``interview_proposed``); an API request is resolved first (unknown pools, 422)."""
    if isinstance(request, ProposalRequest):
        request = await proposals.slot_request(
            session=unit.session, body=ProposalCreate.model_validate(request.model_dump())
        )
    return await proposals.create_proposal(
        unit=unit,
        application_id=application_id,
        job_id=job_id,
        candidate_id=candidate_id,
        request=request,
        actor=actor,
    )


async def _insert_live(
    *, unit: UnitOfWork, principal: Principal, job: Job, ready: list[_Ready], now: datetime
) -> None:
    session = unit.session
    values = []
    for item in ready:
        deadline_at = now + timedelta(hours=item.policy.live_deadline_hours)
        item.values = {
            "id": uuid.uuid4(),
            "kind": LIVE,
            "application_id": item.row.application_id,
            "job_id": job.id,
            "candidate_id": item.row.candidate_id,
            "candidate_group": item.row.candidate_group,
            "candidate_time_zone": item.row.candidate_time_zone,
            "proposal_id": item.proposal.id,
            "state": "sent",
            "deadline_at": deadline_at,
            "sent_at": now,
            "version": 1,
            "created_by": principal.subject,
            "created_at": now,
            "updated_at": now,
        }
        values.append(item.values)
    inserted = await _insert_invitations(session, values)
    created = [item for item in ready if item.values["id"] in inserted]
    lost = [item for item in ready if item.values["id"] not in inserted]
    if lost:
        # A concurrent request invited the same application meanwhile.
        raced = await _waiting(session, [item.row.application_id for item in lost], kind=LIVE)
        for item in lost:
            item.outcome.status = "exists"
            item.outcome.invitation_id = raced.get(item.row.application_id)
    if not created:
        return
    tokens = await _issue_tokens(
        session,
        [
            (
                item.values["id"],
                _link_expiry(item.values["deadline_at"], item.policy.makeup_hours),
            )
            for item in created
        ],
        now=now,
    )
    await unit.timers.schedule_many(session, _timer_rows(created))
    await unit.emit_many(
        [
            (
                InvitationSentV1(
                    invitation_id=item.values["id"],
                    application_id=item.row.application_id,
                    job_id=job.id,
                    candidate_id=item.row.candidate_id,
                    kind="live_interview",
                    candidate_group=item.row.candidate_group,
                    deadline_at=item.values["deadline_at"],
                    slots=[_slot(s) for s in offered_slots(item.proposal)],
                ),
                str(item.values["id"]),
                1,
            )
            for item in created
        ]
    )
    by_id = {
        invitation.id: invitation
        for invitation in (
            await session.execute(
                sa.select(Invitation).where(Invitation.id.in_([i.values["id"] for i in created]))
            )
        ).scalars()
    }
    for item in created:
        token, expires_at = tokens[item.values["id"]]
        item.outcome.status = "created"
        item.outcome.invitation = by_id[item.values["id"]]
        item.outcome.invitation_id = item.values["id"]
        item.outcome.token = token
        item.outcome.link_expires_at = expires_at


async def _insert_invitations(
    session: AsyncSession, values: list[dict[str, Any]]
) -> set[uuid.UUID]:
    table = _invitations
    statement = (
        pg_insert(table)
        .values(values)
        .on_conflict_do_nothing(
            index_elements=[table.c.application_id, table.c.kind],
            index_where=table.c.state.in_(sorted(lifecycle.WAITING)),
        )
        .returning(table.c.id)
    )
    return set((await session.execute(statement)).scalars())


def _link_expiry(deadline_at: datetime, makeup_hours: int | None) -> datetime:
    return deadline_at + timedelta(hours=makeup_hours or 0) + LINK_GRACE


async def _issue_tokens(
    session: AsyncSession, items: Sequence[tuple[uuid.UUID, datetime]], *, now: datetime
) -> dict[uuid.UUID, tuple[str, datetime]]:
    """One link token per invitation, in one statement; the plain values are returned once and
    only their hashes stored."""
    plain = {invitation_id: (new_token(), expires_at) for invitation_id, expires_at in items}
    table = infra.link_tokens
    assert table is not None
    await session.execute(
        sa.insert(table).values(
            [
                {
                    "id": uuid.uuid4(),
                    "token_hash": hash_token(token),
                    "purpose": PURPOSE,
                    "subject_id": str(invitation_id),
                    "created_at": now,
                    "expires_at": expires_at,
                }
                for invitation_id, (token, expires_at) in plain.items()
            ]
        )
    )
    return plain


async def reissue_link(*, unit: UnitOfWork, invitation: Invitation) -> tuple[str, datetime]:
    """A new link for the invitation; earlier links stop working (410)."""
    table = infra.link_tokens
    assert table is not None
    now = unit.clock.now()
    await unit.session.execute(
        sa.update(table)
        .where(
            table.c.purpose == PURPOSE,
            table.c.subject_id == str(invitation.id),
            table.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    policy = await unit.session.get(InvitationPolicy, invitation.candidate_group)
    expires_at = _link_expiry(
        invitation.makeup_until or invitation.deadline_at,
        None if invitation.makeup_until else (policy.makeup_hours if policy else None),
    )
    issued = await _issue_tokens(unit.session, [(invitation.id, expires_at)], now=now)
    return issued[invitation.id]


def _timer_rows(created: Iterable[_Ready]) -> list[dict[str, Any]]:
    rows = []
    for item in created:
        invitation_id = item.values["id"]
        prefix = timer_prefix(invitation_id)
        rows.append(
            {
                "kind": DEADLINE,
                "key": f"{prefix}deadline",
                "due_at": item.values["deadline_at"],
                "payload": {"invitation_id": str(invitation_id)},
            }
        )
        for key, due_at, only_if_unopened in reminders.plan_from_policy(
            item.policy.reminders,
            sent_at=item.values["sent_at"],
            deadline_at=item.values["deadline_at"],
        ):
            rows.append(
                {
                    "kind": REMINDER,
                    "key": f"{prefix}reminder:{key}",
                    "due_at": due_at,
                    "payload": {
                        "invitation_id": str(invitation_id),
                        "reminder": key,
                        "only_if_unopened": only_if_unopened,
                    },
                }
            )
    return rows


# AI interviews (from the pipeline's events)


async def open_ai_invitation(
    *,
    unit: UnitOfWork,
    application_id: uuid.UUID,
    job_id: uuid.UUID,
    candidate_id: uuid.UUID,
    application_version: int,
    sent_at: datetime,
    created_by: str = "pipeline",
) -> None:
    """An application entered an AI-interview stage: it has ``ai_deadline_hours`` of the
    ``default`` policy to complete it (the pipeline's events do not carry a candidate group).
    The candidate is reached through the pipeline's vendor link, so no link token is issued.
    ``created_by``: ``pipeline``, or ``talentpool`` for a re-invitation."""
    session = unit.session
    policy = await session.get(InvitationPolicy, DEFAULT_GROUP)
    if policy is None:
        raise RuntimeError("the default invitation policy is missing")
    await _ensure_job(session, job_id, now=unit.clock.now())
    now = unit.clock.now()
    # Deadlines run from when the stage was entered (an event handled late does not extend it),
    # but never lie in the past by more than the handling took.
    deadline_at = sent_at + timedelta(hours=policy.ai_deadline_hours)
    invitation_id = uuid.uuid4()
    values = {
        "id": invitation_id,
        "kind": AI,
        "application_id": application_id,
        "job_id": job_id,
        "candidate_id": candidate_id,
        "candidate_group": DEFAULT_GROUP,
        "proposal_id": None,
        "state": "sent",
        "deadline_at": deadline_at,
        "sent_at": sent_at,
        "application_version": application_version,
        "version": 1,
        "created_by": created_by,
        "created_at": now,
        "updated_at": now,
    }
    if invitation_id not in await _insert_invitations(session, [values]):
        return
    item = _Ready(
        row=InvitationFields.model_construct(
            application_id=application_id, candidate_id=candidate_id
        ),
        policy=policy,
        proposal=Proposal(),
        outcome=RowOutcome(application_id, "created"),
        values=values,
    )
    await unit.timers.schedule_many(session, _timer_rows([item]))
    await unit.emit(
        InvitationSentV1(
            invitation_id=invitation_id,
            application_id=application_id,
            job_id=job_id,
            candidate_id=candidate_id,
            kind="ai_interview",
            candidate_group=DEFAULT_GROUP,
            deadline_at=deadline_at,
        ),
        subject=str(invitation_id),
        sequence=1,
    )


async def _ensure_job(session: AsyncSession, job_id: uuid.UUID, *, now: datetime) -> None:
    """Invitations reference the jobs projection; a stage change can arrive before the job's
    ``job_changed``. A placeholder with no owners (visible to admins only) and the oldest
    possible change time is replaced by the first real ``job_changed``."""
    await session.execute(
        pg_insert(Job)
        .values(
            id=job_id,
            title="",
            status="open",
            owner_ids=[],
            changed_at=datetime(1970, 1, 1, tzinfo=now.tzinfo),
        )
        .on_conflict_do_nothing(index_elements=[Job.id])
    )


async def close_ai_invitations(
    *,
    unit: UnitOfWork,
    application_id: uuid.UUID,
    state: str,
    application_version: int | None,
) -> list[uuid.UUID]:
    """Mark the application's waiting AI-interview invitation completed or cancelled, and
    cancel its timers. With a version, only an invitation created by an older stage change."""
    now = unit.clock.now()
    conditions = [
        Invitation.application_id == application_id,
        Invitation.kind == AI,
        Invitation.state.in_(lifecycle.WAITING),
    ]
    if application_version is not None:
        conditions.append(
            sa.or_(
                Invitation.application_version.is_(None),
                Invitation.application_version < application_version,
            )
        )
    values: dict[str, Any] = {
        "state": state,
        "updated_at": now,
        "version": Invitation.version + 1,
    }
    if state == "completed":
        values["completed_at"] = now
    else:
        values["closed_at"] = now
        values["cancelled_by"] = "pipeline"
    if application_version is not None:
        values["application_version"] = application_version
    ids = list(
        (
            await unit.session.execute(
                sa.update(Invitation)
                .where(*conditions)
                .values(**values)
                .returning(Invitation.id)
                .execution_options(synchronize_session=False)
            )
        ).scalars()
    )
    if state == "completed" and not ids:
        # The completion may arrive after the move out of the stage that cancelled the
        # invitation (the two events are handled in either order): the interview was still
        # done, so the newest cancelled invitation records it.
        latest_cancelled = (
            sa.select(Invitation.id)
            .where(
                Invitation.application_id == application_id,
                Invitation.kind == AI,
                Invitation.state == "cancelled",
            )
            .order_by(Invitation.created_at.desc())
            .limit(1)
            .scalar_subquery()
        )
        completed = (
            await unit.session.execute(
                sa.update(Invitation)
                .where(Invitation.id == latest_cancelled)
                .values(
                    state="completed",
                    completed_at=now,
                    updated_at=now,
                    version=Invitation.version + 1,
                )
                .returning(Invitation.id)
                .execution_options(synchronize_session=False)
            )
        ).scalars()
        return list(completed)
    for invitation_id in ids:
        await unit.timers.cancel_by_key_prefix(unit.session, key_prefix=timer_prefix(invitation_id))
    return ids


async def cancel_waiting(
    *, unit: UnitOfWork, application_id: uuid.UUID, kind: str
) -> list[uuid.UUID]:
    """Cancel the application's waiting invitations of a kind (rejected or withdrawn)."""
    now = unit.clock.now()
    ids = list(
        (
            await unit.session.execute(
                sa.update(Invitation)
                .where(
                    Invitation.application_id == application_id,
                    Invitation.kind == kind,
                    Invitation.state.in_(lifecycle.WAITING),
                )
                .values(
                    state="cancelled",
                    closed_at=now,
                    cancelled_by="pipeline",
                    updated_at=now,
                    version=Invitation.version + 1,
                )
                .returning(Invitation.id)
                .execution_options(synchronize_session=False)
            )
        ).scalars()
    )
    for invitation_id in ids:
        await unit.timers.cancel_by_key_prefix(unit.session, key_prefix=timer_prefix(invitation_id))
        await _revoke_links(unit, invitation_id)
    return ids


async def _revoke_links(unit: UnitOfWork, invitation_id: uuid.UUID) -> None:
    table = infra.link_tokens
    assert table is not None
    await unit.session.execute(
        sa.update(table)
        .where(
            table.c.purpose == PURPOSE,
            table.c.subject_id == str(invitation_id),
            table.c.revoked_at.is_(None),
        )
        .values(revoked_at=unit.clock.now())
    )


# Staff changes: cancelling by hand, moving the deadline

# A deadline may be moved at most this far ahead of now.
MAX_DEADLINE_AHEAD = timedelta(days=180)


def check_version(invitation: Invitation, expected: int | None) -> None:
    if expected is not None and expected != invitation.version:
        raise version_mismatch(invitation.version)


def _require_changeable(invitation: Invitation, *, action: str, instead: str) -> None:
    """409 unless the invitation waits for the candidate; for a booked one ``instead`` names
    the interview's route to use (``cancel`` or ``reschedule``)."""
    found = lifecycle.staff_change(invitation.state)
    if found is lifecycle.Change.BOOKED:
        interview = invitation.interview_id
        raise conflict(
            f"This invitation is booked: {action} is no longer possible; "
            f"{instead} the interview instead (POST /v1/interviews/{interview}/{instead}).",
            slug="invitation-booked",
            interview_id=str(interview) if interview else None,
        )
    if found is lifecycle.Change.FINISHED:
        raise conflict(
            f"This invitation is already {invitation.state}: {action} is only possible while "
            "it waits for the candidate.",
            slug="invitation-not-waiting",
            state=invitation.state,
        )


async def cancel(
    *,
    unit: UnitOfWork,
    invitation: Invitation,
    actor: str,
    reason: str | None,
    actor_role: str = "hr",
) -> Invitation:
    """HR withdraws a waiting invitation: ``cancelled``, its reminders, deadline and make-up
    timers cancelled, its links revoked (the candidate gets 410). A booked one is refused
    (409): its interview is what to cancel."""
    _require_changeable(invitation, action="cancelling it", instead="cancel")
    now = unit.clock.now()
    invitation.state = "cancelled"
    invitation.closed_at = now
    invitation.cancelled_by = actor
    invitation.cancel_reason = reason
    invitation.updated_at = now
    await unit.session.flush()
    await unit.timers.cancel_by_key_prefix(unit.session, key_prefix=timer_prefix(invitation.id))
    await _revoke_links(unit, invitation.id)
    await unit.emit(
        InvitationCancelledV1(
            invitation_id=invitation.id,
            application_id=invitation.application_id,
            job_id=invitation.job_id,
            candidate_id=invitation.candidate_id,
            kind=invitation.kind,
            cancelled_by="admin" if actor_role == "admin" else "hr",
            cancelled_at=now,
        ),
        subject=str(invitation.id),
        sequence=invitation.version,
    )
    return invitation


def check_deadline(deadline_at: datetime, now: datetime) -> None:
    if deadline_at <= now:
        raise _problem(
            422, "Unprocessable content", "The new deadline must lie in the future.", "bad-deadline"
        )
    if deadline_at - now > MAX_DEADLINE_AHEAD:
        raise _problem(
            422,
            "Unprocessable content",
            "The new deadline may be at most 180 days ahead.",
            "bad-deadline",
        )


async def change_deadline(
    *, unit: UnitOfWork, invitation: Invitation, deadline_at: datetime
) -> Invitation:
    """HR moves the deadline of a waiting invitation: the deadline timer moves, the reminders
    are planned again from the policy for the new deadline (only those still ahead: a reminder
    whose time has passed is not sent now), the links last long enough for it. An invitation in
    its make-up window waits before its deadline again (``lifecycle.after_deadline_change``);
    the make-up window, if the policy has one, follows the new deadline."""
    _require_changeable(invitation, action="moving its deadline", instead="reschedule")
    now = unit.clock.now()
    check_deadline(deadline_at, now)
    policy = await unit.session.get(InvitationPolicy, invitation.candidate_group)
    deadline_at = deadline_at.astimezone(UTC)
    invitation.state = lifecycle.after_deadline_change(
        invitation.state, opened=invitation.opened_at is not None
    )
    invitation.deadline_at = deadline_at
    invitation.makeup_until = None
    invitation.expired_at = None
    invitation.updated_at = now
    await unit.session.flush()
    prefix = timer_prefix(invitation.id)
    await unit.timers.cancel_by_key_prefix(unit.session, key_prefix=prefix)
    rows: list[dict[str, Any]] = [
        {
            "kind": DEADLINE,
            "key": f"{prefix}deadline",
            "due_at": deadline_at,
            "payload": {"invitation_id": str(invitation.id)},
        }
    ]
    planned = reminders.plan_from_policy(
        policy.reminders if policy else [], sent_at=invitation.sent_at, deadline_at=deadline_at
    )
    rows.extend(
        {
            "kind": REMINDER,
            "key": f"{prefix}reminder:{key}",
            "due_at": due_at,
            "payload": {
                "invitation_id": str(invitation.id),
                "reminder": key,
                "only_if_unopened": only_if_unopened,
            },
        }
        for key, due_at, only_if_unopened in planned
        if due_at > now
    )
    await unit.timers.schedule_many(unit.session, rows)
    await _extend_links(
        unit, invitation.id, _link_expiry(deadline_at, policy.makeup_hours if policy else None)
    )
    await unit.emit(
        InvitationDeadlineChangedV1(
            invitation_id=invitation.id,
            application_id=invitation.application_id,
            job_id=invitation.job_id,
            candidate_id=invitation.candidate_id,
            kind=invitation.kind,
            deadline_at=deadline_at,
        ),
        subject=str(invitation.id),
        sequence=invitation.version,
    )
    return invitation


async def _extend_links(unit: UnitOfWork, invitation_id: uuid.UUID, until: datetime) -> None:
    """Working links last at least ``until`` (never shortened: acting is refused by the
    invitation's state, not by the link)."""
    table = infra.link_tokens
    assert table is not None
    await unit.session.execute(
        sa.update(table)
        .where(
            table.c.purpose == PURPOSE,
            table.c.subject_id == str(invitation_id),
            table.c.revoked_at.is_(None),
            table.c.expires_at < until,
        )
        .values(expires_at=until)
    )


# Timers


async def remind(*, unit: UnitOfWork, timer: DueTimer) -> None:
    """A reminder of the policy: ``reminder_due`` unless the invitation no longer waits for
    the candidate, or it was opened and the reminder is only for unopened ones."""
    invitation = await unit.session.get(Invitation, uuid.UUID(timer.payload["invitation_id"]))
    if invitation is None or invitation.state not in lifecycle.PENDING:
        return
    if timer.payload.get("only_if_unopened") and invitation.opened_at is not None:
        return
    await unit.emit(
        ReminderDueV1(
            subject_kind="invitation",
            subject_id=invitation.id,
            application_id=invitation.application_id,
            job_id=invitation.job_id,
            candidate_id=invitation.candidate_id,
            reminder=timer.payload["reminder"],
            recipients=["candidate"],
            due_at=timer.due_at,
            at=invitation.deadline_at,
        ),
        subject=str(invitation.id),
    )


_policies = cast(sa.Table, InvitationPolicy.__table__)
_invitations = cast(sa.Table, Invitation.__table__)


async def expire(*, unit: UnitOfWork, timers: Sequence[DueTimer]) -> int:
    """The deadline of many invitations at once: one UPDATE ... RETURNING opens the make-up
    window (state ``expired``, ``makeup_until``) where the policy has one and closes the rest,
    then ``invite_expired`` for all of them in one insert, and the make-up windows' end timers
    in another. Mirrors ``lifecycle.at_deadline``."""
    ids = [uuid.UUID(timer.payload["invitation_id"]) for timer in timers]
    now = unit.clock.now()
    i, p = _invitations.c, _policies.c
    has_makeup = sa.and_(p.makeup_hours.is_not(None), p.makeup_hours > 0)
    makeup_until = i.deadline_at + sa.func.make_interval(0, 0, 0, 0, p.makeup_hours)
    rows = (
        await unit.session.execute(
            sa.update(_invitations)
            .where(
                i.id == sa.any_(sa.literal(ids, type_=sa.ARRAY(sa.Uuid))),
                i.state.in_(sorted(lifecycle.PENDING)),
                # A deadline HR has moved meanwhile is not due (its timer was rescheduled).
                i.deadline_at <= now,
                p.candidate_group == i.candidate_group,
            )
            .values(
                state=sa.case((has_makeup, "expired"), else_="closed"),
                makeup_until=sa.case((has_makeup, makeup_until), else_=None),
                expired_at=now,
                closed_at=sa.case((has_makeup, None), else_=now),
                version=i.version + 1,
                updated_at=now,
            )
            .returning(
                i.id,
                i.application_id,
                i.job_id,
                i.candidate_id,
                i.kind,
                i.deadline_at,
                i.makeup_until,
                i.version,
            )
        )
    ).all()
    await unit.emit_many(
        [
            (
                InviteExpiredV1(
                    invitation_id=row.id,
                    application_id=row.application_id,
                    job_id=row.job_id,
                    candidate_id=row.candidate_id,
                    kind=row.kind,
                    deadline_at=row.deadline_at,
                    makeup_until=row.makeup_until,
                    final=row.makeup_until is None,
                ),
                str(row.id),
                row.version,
            )
            for row in rows
        ]
    )
    await unit.timers.schedule_many(
        unit.session,
        [
            {
                "kind": MAKEUP_END,
                "key": f"{timer_prefix(row.id)}makeup_end",
                "due_at": row.makeup_until,
                "payload": {"invitation_id": str(row.id)},
            }
            for row in rows
            if row.makeup_until is not None
        ],
    )
    return len(rows)


async def close_after_makeup(*, unit: UnitOfWork, timers: Sequence[DueTimer]) -> int:
    """The make-up windows' end: closed for good, ``invite_expired`` with ``final: true``."""
    ids = [uuid.UUID(timer.payload["invitation_id"]) for timer in timers]
    now = unit.clock.now()
    i = _invitations.c
    rows = (
        await unit.session.execute(
            sa.update(_invitations)
            .where(
                i.id == sa.any_(sa.literal(ids, type_=sa.ARRAY(sa.Uuid))),
                i.state == "expired",
            )
            .values(state="closed", closed_at=now, version=i.version + 1, updated_at=now)
            .returning(
                i.id,
                i.application_id,
                i.job_id,
                i.candidate_id,
                i.kind,
                i.deadline_at,
                i.makeup_until,
                i.version,
            )
        )
    ).all()
    await unit.emit_many(
        [
            (
                InviteExpiredV1(
                    invitation_id=row.id,
                    application_id=row.application_id,
                    job_id=row.job_id,
                    candidate_id=row.candidate_id,
                    kind=row.kind,
                    deadline_at=row.deadline_at,
                    makeup_until=row.makeup_until,
                    final=True,
                ),
                str(row.id),
                row.version,
            )
            for row in rows
        ]
    )
    return len(rows)


# The candidate


async def record_opening(*, unit: UnitOfWork, invitation: Invitation) -> None:
    """The first opening of the link: ``opened_at`` and ``invitation_opened``, once."""
    if invitation.opened_at is not None:
        return
    now = unit.clock.now()
    invitation.opened_at = now
    invitation.state = lifecycle.after_opening(invitation.state)
    invitation.updated_at = now
    await unit.session.flush()
    await unit.emit(
        InvitationOpenedV1(
            invitation_id=invitation.id,
            application_id=invitation.application_id,
            job_id=invitation.job_id,
            candidate_id=invitation.candidate_id,
            kind=invitation.kind,
            opened_at=now,
        ),
        subject=str(invitation.id),
        sequence=invitation.version,
    )


def require_actionable(invitation: Invitation, now: datetime) -> None:
    found = lifecycle.verdict(
        invitation.state,
        deadline_at=invitation.deadline_at,
        makeup_until=invitation.makeup_until,
        now=now,
    )
    if found is lifecycle.Verdict.DONE:
        raise conflict(
            f"This invitation is already {invitation.state}.", slug="invitation-already-answered"
        )
    if found is lifecycle.Verdict.GONE:
        raise invitation_gone(invitation)


def invitation_gone(invitation: Invitation) -> Problem:
    detail = (
        "This invitation was withdrawn."
        if invitation.state == "cancelled"
        else "This invitation's deadline has passed. Ask the recruiter for a new one."
    )
    return _problem(410, "Gone", detail, "invitation-closed")


def find_offered(
    slots: Sequence[dict[str, Any]], *, slot_index: int | None, starts_at: datetime | None
) -> int | None:
    """The index of the offered slot the candidate means, or None if it was not offered."""
    if slot_index is not None:
        return slot_index if slot_index < len(slots) else None
    assert starts_at is not None
    for index, slot in enumerate(slots):
        if datetime.fromisoformat(str(slot["starts_at"])) == starts_at:
            return index
    return None


async def pick(
    *,
    unit: UnitOfWork,
    invitation: Invitation,
    slot_index: int | None,
    starts_at: datetime | None,
    reminder_minutes: Sequence[int] = (24 * 60, 120),
) -> Interview:
    """Book the offered slot the candidate picked through the interviews area's ``book``."""
    now = unit.clock.now()
    require_actionable(invitation, now)
    if invitation.kind != LIVE:
        raise conflict("An AI-interview invitation has no slots to pick.", slug="not-live")
    proposal = (
        await unit.session.get(Proposal, invitation.proposal_id) if invitation.proposal_id else None
    )
    slots = offered_slots(proposal)
    index = find_offered(slots, slot_index=slot_index, starts_at=starts_at)
    if index is None or proposal is None:
        raise _problem(
            422,
            "Unprocessable content",
            "That slot was not offered; pick one of the slots shown.",
            "slot-not-offered",
        )
    try:
        interview = await book(
            unit=unit,
            proposal=proposal,
            slot_index=index,
            invitation_id=invitation.id,
            actor="candidate",
            reminder_minutes=reminder_minutes,
        )
    except SlotTaken as taken:
        # Offer the fresh suggestions in place of the stale ones; the caller answers 409
        # without rolling back, so the candidate can pick one of them.
        if taken.proposal is not None and taken.proposal.suggestions:
            invitation.proposal_id = taken.proposal.id
            invitation.updated_at = now
            await unit.session.flush()
        raise
    invitation.state = "booked"
    invitation.responded_at = now
    invitation.interview_id = interview.id
    invitation.updated_at = now
    await unit.session.flush()
    await unit.timers.cancel_by_key_prefix(unit.session, key_prefix=timer_prefix(invitation.id))
    return interview


@dataclass(frozen=True)
class WindowAnswer:
    matched: bool
    starts_at: datetime
    ends_at: datetime
    slots: list[dict[str, Any]]


async def request_window(
    *, unit: UnitOfWork, invitation: Invitation, starts_at: datetime, ends_at: datetime
) -> WindowAnswer:
    """Match the candidate's own window against current availability: slots inside it are
    offered at once; otherwise the nearest alternatives are offered and HR is told
    (``custom_window_requested`` with ``matched: false``, state ``custom_requested``)."""
    now = unit.clock.now()
    require_actionable(invitation, now)
    if invitation.kind != LIVE:
        raise conflict("An AI-interview invitation has no slots to pick.", slug="not-live")
    base = (
        await unit.session.get(Proposal, invitation.proposal_id) if invitation.proposal_id else None
    )
    if base is None:
        raise conflict("This invitation has no proposal to match against.", slug="no-proposal")
    inside = await propose(
        unit=unit,
        actor="candidate",
        application_id=invitation.application_id,
        job_id=invitation.job_id,
        candidate_id=invitation.candidate_id,
        request=windows.inside(
            proposals.request_from_json(base.request), starts_at=starts_at, ends_at=ends_at
        ),
    )
    matched = bool(offered_slots(inside))
    chosen = inside
    if not matched:
        chosen = await propose(
            unit=unit,
            actor="candidate",
            application_id=invitation.application_id,
            job_id=invitation.job_id,
            candidate_id=invitation.candidate_id,
            request=windows.around(
                proposals.request_from_json(base.request),
                starts_at=starts_at,
                ends_at=ends_at,
                time_zone=invitation.candidate_time_zone,
                now=now,
            ),
        )
    starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    window = {"starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()}
    if offered_slots(chosen):
        invitation.proposal_id = chosen.id
    invitation.custom_window = window
    if not matched:
        invitation.state = "custom_requested"
    invitation.responded_at = now
    invitation.updated_at = now
    await unit.session.flush()
    await unit.emit(
        CustomWindowRequestedV1(
            invitation_id=invitation.id,
            application_id=invitation.application_id,
            job_id=invitation.job_id,
            candidate_id=invitation.candidate_id,
            kind="live_interview",
            window=Slot(starts_at=starts_at, ends_at=ends_at),
            matched=matched,
        ),
        subject=str(invitation.id),
        sequence=invitation.version,
    )
    return WindowAnswer(matched, starts_at, ends_at, offered_slots(chosen))


def in_zone(moment: datetime | str, zone: str) -> datetime:
    value = moment if isinstance(moment, datetime) else datetime.fromisoformat(moment)
    return value.astimezone(ZoneInfo(zone))


# Staff reads


async def list_invitations(
    *,
    session: AsyncSession,
    principal: Principal,
    job_id: uuid.UUID | None,
    state: str | None,
    kind: str | None,
    params: PageParams,
) -> tuple[list[Invitation], str | None]:
    statement = sa.select(Invitation).where(visible_job_ids(principal, Invitation.job_id))
    if job_id is not None:
        statement = statement.where(Invitation.job_id == job_id)
    if state is not None:
        statement = statement.where(Invitation.state == state)
    if kind is not None:
        statement = statement.where(Invitation.kind == kind)
    return await paginate(
        session,
        statement,
        order_by=[Invitation.sent_at, Invitation.id],
        params=params,
        descending=True,
    )


async def board(*, session: AsyncSession, job_id: uuid.UUID) -> dict[str, int]:
    rows = await session.execute(
        sa.select(
            Invitation.state,
            sa.func.count(),
            sa.func.count(Invitation.opened_at),
        )
        .where(Invitation.job_id == job_id)
        .group_by(Invitation.state)
    )
    counts = dict.fromkeys(lifecycle.STATES, 0)
    total = opened = 0
    for state, count, ever_opened in rows:
        counts[state] = count
        total += count
        opened += ever_opened
    return {**counts, "total": total, "ever_opened": opened}
