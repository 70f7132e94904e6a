"""Who may see which people in the pool.

Admins, and HR holding the scope ``talentpool:search``, see the whole pool. HR without it see
only the people who applied to a job they own (an ``ApplicationRecord`` of one of the profile's
members, for a ``Job`` whose ``owner_ids`` holds their subject). Interviewers and other services
see nothing (403). A profile the caller may not see answers 404, so ids cannot be probed.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Path

from shared.auth.principal import Principal, Role
from shared.http.dependencies import Staff, Unit
from shared.problems import conflict, not_found
from talentpool.jobs.models import ApplicationRecord, Job
from talentpool.profiles.models import Profile, ProfileMember

TALENTPOOL_SCOPE = "talentpool:search"
"""Lets HR search the whole pool, not only the people related to jobs they own."""

# Merges are followed this far at most to find where a merged profile's people are now.
_MAX_MERGE_CHAIN = 32


def sees_whole_pool(principal: Principal) -> bool:
    return principal.role is Role.ADMIN or (
        principal.role is Role.HR and TALENTPOOL_SCOPE in principal.scopes
    )


def visible_filter(principal: Principal) -> sa.ColumnElement[bool] | None:
    """A condition on ``Profile`` for list queries: None when the caller sees every profile;
    for HR without the scope, "has a member who applied to a job they own"."""
    if sees_whole_pool(principal):
        return None
    if principal.role is not Role.HR:
        return sa.false()
    return (
        sa.select(ProfileMember.candidate_id)
        .join(ApplicationRecord, ApplicationRecord.candidate_id == ProfileMember.candidate_id)
        .join(Job, Job.id == ApplicationRecord.job_id)
        .where(
            ProfileMember.profile_id == Profile.id,
            Job.owner_ids.contains([principal.subject]),
        )
        .exists()
    )


async def load_visible(
    unit: Unit, principal: Principal, profile_id: uuid.UUID, *, for_update: bool = False
) -> Profile:
    """The profile if the caller may see it (404 otherwise). A profile merged into another is
    visible to whoever may see the profile it ended up in (its people are there now)."""
    statement = sa.select(Profile).where(Profile.id == profile_id)
    if for_update:
        statement = statement.with_for_update(of=Profile)
    profile = await unit.session.scalar(statement)
    if profile is None or not await _may_see(unit, principal, profile):
        raise not_found("profile", profile_id)
    return profile


async def _may_see(unit: Unit, principal: Principal, profile: Profile) -> bool:
    condition = visible_filter(principal)
    if condition is None:
        return True
    root = profile.id
    merged_into = profile.merged_into
    for _ in range(_MAX_MERGE_CHAIN):
        if merged_into is None:
            break
        root = merged_into
        merged_into = await unit.session.scalar(
            sa.select(Profile.merged_into).where(Profile.id == root)
        )
    found = await unit.session.scalar(sa.select(Profile.id).where(Profile.id == root, condition))
    return found is not None


def require_live(profile: Profile) -> Profile:
    """A profile that may still change: not merged into another, not anonymized (409)."""
    if profile.merged_into is not None:
        raise conflict(
            f"The profile was merged into {profile.merged_into}; change that one instead.",
            slug="profile-merged",
            merged_into=str(profile.merged_into),
        )
    if profile.anonymized_at is not None:
        raise conflict("The profile was anonymized.", slug="profile-anonymized")
    return profile


ProfileId = Annotated[
    uuid.UUID,
    Path(description="The profile's id.", examples=["0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"]),
]


async def visible_profile(profile_id: ProfileId, unit: Unit, principal: Staff) -> Profile:
    """The profile if the caller may see it, merged or anonymized ones included (a merged
    profile is shown with ``merged_into`` set, for the client to follow)."""
    return await load_visible(unit, principal, profile_id)


async def live_profile(profile_id: ProfileId, unit: Unit, principal: Staff) -> Profile:
    """The profile, visible to the caller and locked until the request's transaction ends;
    409 if it was merged into another or anonymized."""
    return require_live(await load_visible(unit, principal, profile_id, for_update=True))


VisibleProfile = Annotated[Profile, Depends(visible_profile)]
LiveProfile = Annotated[Profile, Depends(live_profile)]
