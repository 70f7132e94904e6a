"""Re-invitations: a request to invite known people (again) to a job, by a recommendation, a
campaign, HR by hand, or the no-show group.

Each eligible person gets a ``Reinvitation`` row and a ``reinvitation_requested`` event; the
pipeline (a new application) or the scheduler (a new AI-interview invitation on the same
application) acts on it. Whoever may not be invited is refused with the reason
(``eligibility``). A few multi-row statements for the whole request, whatever its size.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID, distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.talentpool import ReinvitationOrigin, ReinvitationRequestedV1
from shared.http.pagination import PageParams, paginate
from shared.unit import UnitOfWork
from talentpool.consents.models import Consent
from talentpool.erasure.models import ErasureRequest
from talentpool.jobs.models import ApplicationRecord
from talentpool.profiles.models import Profile, ProfileMember
from talentpool.reinvitations import eligibility
from talentpool.reinvitations.models import Reinvitation
from talentpool.tags.models import ProfileTag
from talentpool.tags.names import ON_HOLD

RE_ENGAGEMENT = "re_engagement"

RefusalReason = Literal[eligibility.Reason, "unknown"]
"""``unknown``: no such profile (or, for the no-show group, the application is not the
person's application to the job)."""


@dataclass(frozen=True)
class Refusal:
    profile_id: uuid.UUID
    reason: RefusalReason
    # For ``merged``: the profile to invite instead.
    merged_into: uuid.UUID | None = None


_ids = ARRAY(UUID(as_uuid=True))

# Erasure asked for (and maybe not finished): treated as erased.
_erasing = sa.select(ErasureRequest.id).where(ErasureRequest.profile_id == Profile.id).exists()
# On hold by the profile's date or by an ``on_hold`` tag, whichever ends later.
_on_hold_tag = (
    sa.select(sa.func.max(ProfileTag.until))
    .where(ProfileTag.profile_id == Profile.id, ProfileTag.tag == ON_HOLD)
    .scalar_subquery()
)
_people = (
    sa.select(
        Profile.id,
        Profile.anonymized_at,
        Profile.merged_into,
        sa.func.greatest(Profile.on_hold_until, _on_hold_tag).label("on_hold_until"),
        Profile.unsubscribed_at,
        Consent.granted,
        Consent.expires_at,
        _erasing.label("erasing"),
    )
    .outerjoin(
        Consent,
        sa.and_(Consent.profile_id == Profile.id, Consent.purpose == RE_ENGAGEMENT),
    )
    .where(Profile.id == sa.any_(sa.bindparam("profile_ids", type_=_ids)))
)

# The person's newest candidate: the pipeline record their latest application came with.
_newest_members = (
    sa.select(ProfileMember.profile_id, ProfileMember.candidate_id)
    .where(ProfileMember.profile_id == sa.any_(sa.bindparam("profile_ids", type_=_ids)))
    .order_by(ProfileMember.profile_id, ProfileMember.joined_at.desc(), ProfileMember.candidate_id)
    .ext(distinct_on(ProfileMember.profile_id))
)

_applied = (
    sa.select(ProfileMember.profile_id)
    .join(ApplicationRecord, ApplicationRecord.candidate_id == ProfileMember.candidate_id)
    .where(
        ProfileMember.profile_id == sa.any_(sa.bindparam("profile_ids", type_=_ids)),
        ApplicationRecord.job_id == sa.bindparam("job_id", type_=UUID(as_uuid=True)),
    )
    .distinct()
)

# An application of the no-show group: it must be the person's own, to this job.
_applications = (
    sa.select(
        ApplicationRecord.id,
        ApplicationRecord.candidate_id,
        ApplicationRecord.status,
        ProfileMember.profile_id,
    )
    .join(ProfileMember, ProfileMember.candidate_id == ApplicationRecord.candidate_id)
    .where(
        ApplicationRecord.id == sa.any_(sa.bindparam("application_ids", type_=_ids)),
        ApplicationRecord.job_id == sa.bindparam("job_id", type_=UUID(as_uuid=True)),
    )
)


async def request(
    unit: UnitOfWork,
    *,
    profile_ids: Sequence[uuid.UUID],
    job_id: uuid.UUID,
    origin: ReinvitationOrigin,
    requested_by: str,
    campaign_id: uuid.UUID | None = None,
    application_ids: Mapping[uuid.UUID, uuid.UUID] | None = None,
) -> tuple[list[Reinvitation], list[Refusal]]:
    """Invite each person (in order; a repeated id counts once) to ``job_id``.

    Without ``application_ids`` each invitation asks for a new application (which needs the
    person's ``re_engagement`` consent and no application to the job yet). With them (profile
    id -> the person's application to the job, the no-show group), it asks for a new
    AI-interview invitation on that application; a person missing from the mapping is refused
    as ``unknown``. Returns the reinvitations written (their events emitted) and the refusals.
    """
    ordered = list(dict.fromkeys(profile_ids))
    if not ordered:
        return [], []
    session = unit.session
    now = unit.clock.now()
    people = {row.id: row for row in await session.execute(_people, {"profile_ids": ordered})}
    same_application = application_ids is not None
    candidates: dict[uuid.UUID, uuid.UUID] = {}
    applied: set[uuid.UUID] = set()
    ended: set[uuid.UUID] = set()
    if application_ids is not None:
        wanted = [application_ids[p] for p in ordered if p in application_ids]
        rows = await session.execute(_applications, {"application_ids": wanted, "job_id": job_id})
        owned = {(row.profile_id, row.id): row for row in rows}
        for profile_id in ordered:
            application = owned.get((profile_id, application_ids.get(profile_id)))
            if application is not None:
                candidates[profile_id] = application.candidate_id
                if application.status != "active":
                    ended.add(profile_id)
    else:
        rows = await session.execute(_newest_members, {"profile_ids": ordered})
        candidates = {row.profile_id: row.candidate_id for row in rows}
        applied = set(
            (await session.execute(_applied, {"profile_ids": ordered, "job_id": job_id})).scalars()
        )

    refusals: list[Refusal] = []
    values: list[dict[str, object]] = []
    for profile_id in ordered:
        row = people.get(profile_id)
        if row is None:
            refusals.append(Refusal(profile_id, "unknown"))
            continue
        person = eligibility.Person(
            anonymized_at=row.anonymized_at or (now if row.erasing else None),
            merged_into=row.merged_into,
            on_hold_until=row.on_hold_until,
            unsubscribed_at=row.unsubscribed_at,
            consent=(
                None
                if row.granted is None
                else eligibility.Consent(granted=row.granted, expires_at=row.expires_at)
            ),
            applied_to_job=profile_id in applied,
            application_active=profile_id not in ended,
        )
        reason = eligibility.refusal(person, now=now, same_application=same_application)
        if reason is not None:
            refusals.append(Refusal(profile_id, reason, merged_into=row.merged_into))
            continue
        candidate_id = candidates.get(profile_id)
        if candidate_id is None:
            # No candidate to invite: an application not the person's (or not to this job).
            refusals.append(Refusal(profile_id, "unknown"))
            continue
        values.append(
            {
                "id": uuid.uuid4(),
                "profile_id": profile_id,
                "candidate_id": candidate_id,
                "job_id": job_id,
                "application_id": application_ids[profile_id] if application_ids else None,
                "origin": origin,
                "campaign_id": campaign_id,
                "requested_by": requested_by,
                "requested_at": now,
            }
        )
    if not values:
        return [], refusals
    created = list(
        (
            await session.scalars(
                sa.insert(Reinvitation).returning(Reinvitation, sort_by_parameter_order=True),
                values,
            )
        ).all()
    )
    await unit.emit_many(
        [
            (
                ReinvitationRequestedV1(
                    reinvitation_id=item.id,
                    profile_id=item.profile_id,
                    candidate_id=item.candidate_id,
                    job_id=item.job_id,
                    application_id=item.application_id,
                    origin=origin,
                    campaign_id=campaign_id,
                    requested_by=requested_by,
                    requested_at=now,
                ),
                str(item.id),
                1,
            )
            for item in created
        ]
    )
    return created, refusals


async def list_for_job(
    session: AsyncSession, *, job_id: uuid.UUID, params: PageParams
) -> tuple[list[Reinvitation], str | None]:
    """The job's re-invitations and what came of them, newest first."""
    rows, next_cursor = await paginate(
        session,
        sa.select(Reinvitation).where(Reinvitation.job_id == job_id),
        order_by=[Reinvitation.requested_at, Reinvitation.id],
        params=params,
        descending=True,
    )
    return rows, next_cursor
