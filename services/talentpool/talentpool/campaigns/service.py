"""Re-engagement campaigns: a segment invited to a job, at most ``per_hour`` invitations in any
hour, evaluated again every ``repeat_every_days`` until ``ends_at``.

A run (timer ``campaign.run``) evaluates the segment and records each person not reached
before as a recipient: ``queued``, or ``skipped`` with the reason they may not be invited
(``reinvitations.eligibility``). The sender (timer ``campaign.send``) invites queued people
through ``reinvitations.service.request`` as the hourly budget allows and sets itself again for
when the budget frees up. Opened and applied are read from the reinvitations, never copied.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import Principal, Role
from shared.crypto import Keyring
from shared.http.pagination import PageParams, paginate
from shared.logging import get_logger
from shared.problems import Problem, conflict, version_mismatch
from shared.unit import UnitOfWork
from talentpool.campaigns.models import Campaign, CampaignRecipient
from talentpool.campaigns.schemas import CampaignCreate, CampaignRead, CampaignResults
from talentpool.consents.models import Consent
from talentpool.erasure.models import ErasureRequest
from talentpool.jobs.models import ApplicationRecord, Job
from talentpool.profiles.dependencies import sees_whole_pool, visible_filter
from talentpool.profiles.models import Profile, ProfileMember
from talentpool.reinvitations import eligibility
from talentpool.reinvitations import service as reinvitations
from talentpool.reinvitations.models import Reinvitation
from talentpool.reinvitations.service import RE_ENGAGEMENT
from talentpool.segments import service as segments
from talentpool.segments.models import Segment

log = get_logger(__name__)

RUN = "campaign.run"
SEND = "campaign.send"
WINDOW = timedelta(hours=1)
# Invitations asked for in one go while the hourly budget lasts (a large budget in slices).
SEND_SLICE = 500
INSERT_SLICE = 5_000

_ids = ARRAY(UUID(as_uuid=True))


def timer_prefix(campaign_id: uuid.UUID) -> str:
    return f"campaign:{campaign_id}:"


async def _arm(unit: UnitOfWork, kind: str, campaign_id: uuid.UUID, due_at: datetime) -> None:
    """Set the campaign's one timer of ``kind`` (run or send) for ``due_at``, replacing any
    pending one. Each gets a key of its own: a handler re-arming the timer that is firing
    would otherwise see its new due time marked done with the firing."""
    prefix = f"{timer_prefix(campaign_id)}{kind.removeprefix('campaign.')}:"
    await unit.timers.cancel_by_key_prefix(unit.session, key_prefix=prefix)
    await unit.timers.schedule(
        unit.session,
        kind=kind,
        key=f"{prefix}{uuid.uuid4().hex}",
        due_at=due_at,
        payload={"campaign_id": str(campaign_id)},
    )


def invalid(field: str, message: str, *, code: str) -> Problem:
    """A 422 naming one body field, shaped like request validation's."""
    return Problem(
        422,
        "Invalid request",
        f"1 invalid field(s): body.{field}",
        slug="validation-error",
        errors=[{"field": field, "location": "body", "message": message, "code": code}],
    )


# Creating, reading and changing campaigns


def visible_campaigns(principal: Principal) -> sa.ColumnElement[bool] | None:
    """A campaign is its creator's: admins see every one, anyone else only their own."""
    return None if principal.is_admin else Campaign.created_by == principal.subject


async def get_visible(
    session: AsyncSession,
    *,
    principal: Principal,
    campaign_id: uuid.UUID,
    for_update: bool = False,
) -> Campaign | None:
    statement = sa.select(Campaign).where(Campaign.id == campaign_id)
    condition = visible_campaigns(principal)
    if condition is not None:
        statement = statement.where(condition)
    if for_update:
        statement = statement.with_for_update()
    campaign: Campaign | None = await session.scalar(statement)
    return campaign


async def create(
    *, unit: UnitOfWork, principal: Principal, campaign_in: CampaignCreate
) -> Campaign:
    """Check the segment, the job and the end, save the campaign and set its first run for
    now."""
    session = unit.session
    now = unit.clock.now()
    if (
        await segments.get_visible(session, principal=principal, segment_id=campaign_in.segment_id)
        is None
    ):
        raise invalid("segment_id", "No segment of yours has this id.", code="unknown_segment")
    job = await session.get(Job, campaign_in.job_id)
    if job is None or (not principal.is_admin and principal.subject not in job.owner_ids):
        raise invalid("job_id", "No job of yours has this id.", code="unknown_job")
    if job.status != "open":
        raise invalid("job_id", "The job is closed.", code="job_closed")
    if campaign_in.ends_at is not None and campaign_in.ends_at <= now:
        raise invalid("ends_at", "The campaign must end in the future.", code="in_the_past")
    campaign = Campaign(
        id=uuid.uuid4(),
        name=campaign_in.name,
        segment_id=campaign_in.segment_id,
        job_id=campaign_in.job_id,
        status="active",
        per_hour=campaign_in.per_hour,
        repeat_every_days=campaign_in.repeat_every_days,
        ends_at=campaign_in.ends_at,
        runs=0,
        next_run_at=now,
        last_run_at=None,
        created_by=principal.subject,
        pool_wide=sees_whole_pool(principal),
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(campaign)
    await session.flush()
    await _arm(unit, RUN, campaign.id, now)
    log.info("campaign.created", campaign_id=str(campaign.id), per_hour=campaign.per_hour)
    return campaign


def _check_version(campaign: Campaign, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != campaign.version:
        raise version_mismatch(campaign.version)


def _set_status(campaign: Campaign, status: str, now: datetime) -> None:
    campaign.status = status
    campaign.version += 1
    campaign.updated_at = now


async def pause(*, unit: UnitOfWork, campaign: Campaign, expected_version: int | None) -> Campaign:
    """Stop sending and running until resumed (pausing a paused campaign changes nothing)."""
    _check_version(campaign, expected_version)
    if campaign.status == "paused":
        return campaign
    if campaign.status != "active":
        raise conflict(f"The campaign is {campaign.status}.", slug="campaign-not-active")
    _set_status(campaign, "paused", unit.clock.now())
    await unit.session.flush()
    return campaign


async def resume(*, unit: UnitOfWork, campaign: Campaign, expected_version: int | None) -> Campaign:
    """Go on where a pause left off: send now (within the hourly budget), and run the segment
    again when a run is due (at once if one fell due during the pause)."""
    _check_version(campaign, expected_version)
    if campaign.status == "active":
        return campaign
    if campaign.status != "paused":
        raise conflict(f"The campaign is {campaign.status}.", slug="campaign-not-paused")
    now = unit.clock.now()
    _set_status(campaign, "active", now)
    await unit.session.flush()
    await _arm(unit, SEND, campaign.id, now)
    if campaign.next_run_at is not None:
        await _arm(unit, RUN, campaign.id, max(campaign.next_run_at, now))
    return campaign


async def cancel(*, unit: UnitOfWork, campaign: Campaign, expected_version: int | None) -> Campaign:
    """Stop for good: no more runs or invitations; who was waiting is skipped (``cancelled``).
    Cancelling a cancelled campaign changes nothing; a finished one cannot be cancelled."""
    _check_version(campaign, expected_version)
    if campaign.status == "cancelled":
        return campaign
    if campaign.status == "finished":
        raise conflict("The campaign has finished.", slug="campaign-finished")
    await _close(unit, campaign, status="cancelled", reason="cancelled")
    return campaign


async def _close(unit: UnitOfWork, campaign: Campaign, *, status: str, reason: str) -> None:
    """End the campaign: the people still waiting are skipped for ``reason``; no timer left."""
    now = unit.clock.now()
    await unit.session.execute(
        sa.update(CampaignRecipient)
        .where(CampaignRecipient.campaign_id == campaign.id, CampaignRecipient.status == "queued")
        .values(status="skipped", skip_reason=reason)
    )
    _set_status(campaign, status, now)
    campaign.next_run_at = None
    await unit.session.flush()
    await unit.timers.cancel_by_key_prefix(unit.session, key_prefix=timer_prefix(campaign.id))
    log.info("campaign.closed", campaign_id=str(campaign.id), status=status)


async def list_visible(
    session: AsyncSession, *, principal: Principal, params: PageParams, status: str | None
) -> tuple[list[Any], str | None]:
    statement = sa.select(Campaign)
    condition = visible_campaigns(principal)
    if condition is not None:
        statement = statement.where(condition)
    if status is not None:
        statement = statement.where(Campaign.status == status)
    return await paginate(
        session,
        statement,
        order_by=(Campaign.created_at, Campaign.id),
        params=params,
        descending=True,
    )


async def results(
    session: AsyncSession, campaign_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, CampaignResults]:
    """Each campaign's results in one grouped query: recipients by status and skip reason,
    and how many of the invited opened and applied (from their reinvitations)."""
    r = CampaignRecipient
    rows = await session.execute(
        sa.select(
            r.campaign_id,
            r.status,
            r.skip_reason,
            sa.func.count().label("people"),
            sa.func.count(Reinvitation.opened_at).label("opened"),
            sa.func.count(Reinvitation.applied_at).label("applied"),
        )
        .outerjoin(Reinvitation, Reinvitation.id == r.reinvitation_id)
        .where(r.campaign_id == sa.any_(sa.literal(list(campaign_ids), _ids)))
        .group_by(r.campaign_id, r.status, r.skip_reason)
    )
    found = {
        campaign_id: CampaignResults(queued=0, invited=0, skipped={}, opened=0, applied=0)
        for campaign_id in campaign_ids
    }
    for row in rows:
        tally = found[row.campaign_id]
        if row.status == "queued":
            tally.queued += row.people
        elif row.status == "invited":
            tally.invited += row.people
            tally.opened += row.opened
            tally.applied += row.applied
        else:
            reason = row.skip_reason or "unknown"
            tally.skipped[reason] = tally.skipped.get(reason, 0) + row.people
    return found


async def read(session: AsyncSession, campaigns: Sequence[Campaign]) -> list[CampaignRead]:
    by_id = await results(session, [campaign.id for campaign in campaigns])
    return [
        CampaignRead.model_validate({**_columns(campaign), "results": by_id[campaign.id]})
        for campaign in campaigns
    ]


def _columns(campaign: Campaign) -> dict[str, Any]:
    return {
        column.key: getattr(campaign, column.key) for column in Campaign.__mapper__.column_attrs
    }


async def recipients(
    session: AsyncSession, *, campaign: Campaign, status: str | None, params: PageParams
) -> tuple[list[Any], str | None]:
    """The campaign's recipients in the order they were found, with what became of their
    invitation."""
    r = CampaignRecipient
    statement = (
        sa.select(
            r.profile_id,
            r.run,
            r.status,
            r.skip_reason,
            r.reinvitation_id,
            r.queued_at,
            r.invited_at,
            Reinvitation.opened_at,
            Reinvitation.applied_at,
        )
        .outerjoin(Reinvitation, Reinvitation.id == r.reinvitation_id)
        .where(r.campaign_id == campaign.id)
    )
    if status is not None:
        statement = statement.where(r.status == status)
    return await paginate(
        session,
        cast(sa.Select[Any], statement),
        order_by=(r.queued_at, r.profile_id),
        params=params,
    )


# Runs and sending (the timers)


def _keyring(unit: UnitOfWork) -> Keyring:
    if unit.settings is None:
        raise RuntimeError("a campaign run needs the service's settings (its keys)")
    return Keyring.from_settings(unit.settings)


def _audience(campaign: Campaign) -> sa.ColumnElement[bool] | None:
    """Whom the campaign may reach: the whole pool, or (its creator could see no more) the
    people who applied to a job its creator owns."""
    if campaign.pool_wide:
        return None
    return visible_filter(Principal(subject=campaign.created_by, role=Role.HR))


async def _locked(session: AsyncSession, campaign_id: uuid.UUID) -> Campaign | None:
    campaign: Campaign | None = await session.scalar(
        sa.select(Campaign).where(Campaign.id == campaign_id).with_for_update()
    )
    return campaign


async def run(unit: UnitOfWork, campaign_id: uuid.UUID, *, due_at: datetime) -> None:
    """Evaluate the segment and record the people no earlier run found; then set the sender
    going and the next run (``repeat_every_days`` after this one was due, before ``ends_at``)."""
    session = unit.session
    campaign = await _locked(session, campaign_id)
    if campaign is None or campaign.status != "active":
        return  # paused: resuming sets the run again; cancelled or finished: nothing to do
    now = unit.clock.now()
    if campaign.ends_at is not None and now >= campaign.ends_at:
        await _close(unit, campaign, status="finished", reason="ended")
        return
    segment = await session.get(Segment, campaign.segment_id)
    if segment is None:  # cannot happen while the campaign references it; kept for mypy
        raise RuntimeError("the campaign's segment is gone")
    number = campaign.runs + 1
    found, queued = await _record_new_members(
        unit, campaign, segments.filters_of(segment), number=number, now=now
    )
    campaign.runs = number
    campaign.last_run_at = now
    campaign.next_run_at = None
    if campaign.repeat_every_days is not None:
        following = due_at + timedelta(days=campaign.repeat_every_days)
        while following <= now:  # the service was down for longer than a period
            following += timedelta(days=campaign.repeat_every_days)
        if campaign.ends_at is None or following < campaign.ends_at:
            campaign.next_run_at = following
            await _arm(unit, RUN, campaign.id, following)
    await session.flush()
    log.info("campaign.ran", campaign_id=str(campaign.id), run=number, found=found, queued=queued)
    if await _any_queued(session, campaign.id):
        await _arm(unit, SEND, campaign.id, now)
    elif campaign.next_run_at is None:
        _set_status(campaign, "finished", now)
        await session.flush()


async def _record_new_members(
    unit: UnitOfWork, campaign: Campaign, filters: Any, *, number: int, now: datetime
) -> tuple[int, int]:
    """Insert a recipient row for each person the segment selects who is not one yet:
    queued, or skipped with the reason. Returns (found, queued)."""
    session = unit.session
    where = segments.members(filters, keyring=_keyring(unit), now=now, visible=_audience(campaign))
    already = (
        sa.select(CampaignRecipient.profile_id)
        .where(
            CampaignRecipient.campaign_id == campaign.id,
            CampaignRecipient.profile_id == Profile.id,
        )
        .exists()
    )
    applied = (
        sa.select(ProfileMember.candidate_id)
        .join(ApplicationRecord, ApplicationRecord.candidate_id == ProfileMember.candidate_id)
        .where(ProfileMember.profile_id == Profile.id, ApplicationRecord.job_id == campaign.job_id)
        .exists()
    )
    erasing = sa.select(ErasureRequest.id).where(ErasureRequest.profile_id == Profile.id).exists()
    rows = await session.execute(
        sa.select(
            Profile.id,
            Profile.anonymized_at,
            Profile.merged_into,
            Profile.on_hold_until,
            Profile.unsubscribed_at,
            Consent.granted,
            Consent.expires_at,
            applied.label("applied"),
            erasing.label("erasing"),
        )
        .outerjoin(
            Consent, sa.and_(Consent.profile_id == Profile.id, Consent.purpose == RE_ENGAGEMENT)
        )
        .where(*where, sa.not_(already))
        .order_by(Profile.id)
    )
    values: list[dict[str, Any]] = []
    queued = 0
    for row in rows:
        reason: str | None = "erased" if row.erasing else None
        if reason is None:
            reason = eligibility.refusal(
                eligibility.Person(
                    anonymized_at=row.anonymized_at,
                    merged_into=row.merged_into,
                    on_hold_until=row.on_hold_until,
                    unsubscribed_at=row.unsubscribed_at,
                    consent=None
                    if row.granted is None
                    else eligibility.Consent(granted=row.granted, expires_at=row.expires_at),
                    applied_to_job=row.applied,
                ),
                now=now,
                same_application=False,
            )
        queued += reason is None
        values.append(
            {
                "campaign_id": campaign.id,
                "profile_id": row.id,
                "run": number,
                "status": "queued" if reason is None else "skipped",
                "skip_reason": reason,
                "queued_at": now,
            }
        )
    for start in range(0, len(values), INSERT_SLICE):
        await session.execute(
            pg_insert(CampaignRecipient).on_conflict_do_nothing(),
            values[start : start + INSERT_SLICE],
        )
    return len(values), queued


async def _any_queued(session: AsyncSession, campaign_id: uuid.UUID) -> bool:
    return bool(
        await session.scalar(
            sa.select(
                sa.select(CampaignRecipient.profile_id)
                .where(
                    CampaignRecipient.campaign_id == campaign_id,
                    CampaignRecipient.status == "queued",
                )
                .exists()
            )
        )
    )


async def send(unit: UnitOfWork, campaign_id: uuid.UUID) -> None:
    """Invite queued people while the hourly budget lasts (most engaged first), then set the
    sender again for when the oldest invitation of the last hour leaves the window."""
    session = unit.session
    campaign = await _locked(session, campaign_id)
    if campaign is None or campaign.status != "active":
        return
    now = unit.clock.now()
    if campaign.ends_at is not None and now >= campaign.ends_at:
        await _close(unit, campaign, status="finished", reason="ended")
        return
    r = CampaignRecipient
    in_window = (r.campaign_id == campaign.id, r.status == "invited", r.invited_at > now - WINDOW)
    budget = campaign.per_hour - (
        await session.scalar(sa.select(sa.func.count()).where(*in_window)) or 0
    )
    invited = refused = 0
    while budget > 0:
        batch = list(
            (
                await session.scalars(
                    sa.select(r.profile_id)
                    .join(Profile, Profile.id == r.profile_id)
                    .where(r.campaign_id == campaign.id, r.status == "queued")
                    .order_by(r.run, Profile.engagement_score.desc(), r.profile_id)
                    .limit(min(budget, SEND_SLICE))
                )
            ).all()
        )
        if not batch:
            break
        created, refusals = await reinvitations.request(
            unit,
            profile_ids=batch,
            job_id=campaign.job_id,
            origin="campaign",
            requested_by=campaign.created_by,
            campaign_id=campaign.id,
        )
        await _mark(session, campaign.id, created, refusals, now)
        budget -= len(created)
        invited += len(created)
        refused += len(refusals)
    if invited or refused:
        log.info("campaign.sent", campaign_id=str(campaign.id), invited=invited, refused=refused)
    if await _any_queued(session, campaign.id):
        oldest = await session.scalar(sa.select(sa.func.min(r.invited_at)).where(*in_window))
        # The budget is spent: it frees up when the oldest invitation of the window leaves it.
        await _arm(unit, SEND, campaign.id, (oldest or now) + WINDOW)
    elif campaign.next_run_at is None:
        _set_status(campaign, "finished", now)
        await session.flush()


async def _mark(
    session: AsyncSession,
    campaign_id: uuid.UUID,
    created: Sequence[Reinvitation],
    refusals: Sequence[reinvitations.Refusal],
    now: datetime,
) -> None:
    r = CampaignRecipient
    if created:
        # One executemany, by primary key.
        await session.execute(
            sa.update(r),
            [
                {
                    "campaign_id": campaign_id,
                    "profile_id": item.profile_id,
                    "status": "invited",
                    "invited_at": now,
                    "reinvitation_id": item.id,
                }
                for item in created
            ],
        )
    by_reason: dict[str, list[uuid.UUID]] = {}
    for refusal in refusals:
        by_reason.setdefault(refusal.reason, []).append(refusal.profile_id)
    for reason, profile_ids in by_reason.items():
        await session.execute(
            sa.update(r)
            .where(
                r.campaign_id == campaign_id, r.profile_id == sa.any_(sa.literal(profile_ids, _ids))
            )
            .values(status="skipped", skip_reason=reason)
        )
