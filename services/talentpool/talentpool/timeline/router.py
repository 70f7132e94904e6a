from __future__ import annotations

import uuid
from typing import Annotated

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query

from shared.http.dependencies import Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses, not_found
from talentpool.profiles.dependencies import VisibleProfile, load_visible
from talentpool.profiles.models import ProfileMember
from talentpool.timeline import service
from talentpool.timeline.facts import Kind
from talentpool.timeline.schemas import TimelineEntryRead

router = APIRouter(tags=["timeline"])

KindQuery = Annotated[
    list[Kind] | None,
    Query(description="Only entries of these kinds (repeat the parameter for several)."),
]
ApplicationQuery = Annotated[
    uuid.UUID | None, Query(description="Only entries about this application.")
]


@router.get(
    "/v1/profiles/{profile_id}/timeline",
    response_model=Page[TimelineEntryRead],
    summary="What happened to a person across their applications, newest first",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def get_timeline(
    profile: VisibleProfile,
    unit: Unit,
    page: PageQuery,
    kind: KindQuery = None,
    application_id: ApplicationQuery = None,
) -> Page[TimelineEntryRead]:
    """Entries of every candidate the profile holds now, ordered by when they happened (not
    when they arrived). A profile merged into another holds none: follow `merged_into`."""
    entries, next_cursor = await service.timeline(
        unit.session,
        profile_id=profile.id,
        params=page,
        kinds=kind or (),
        application_id=application_id,
    )
    return Page[TimelineEntryRead](
        items=[TimelineEntryRead.model_validate(entry) for entry in entries],
        next_cursor=next_cursor,
    )


@router.get(
    "/v1/candidates/{candidate_id}/timeline",
    response_model=Page[TimelineEntryRead],
    summary="The timeline of the person a pipeline candidate is, newest first",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def get_candidate_timeline(
    candidate_id: Annotated[uuid.UUID, Path(description="The pipeline's candidate id.")],
    unit: Unit,
    principal: Staff,
    page: PageQuery,
    kind: KindQuery = None,
    application_id: ApplicationQuery = None,
) -> Page[TimelineEntryRead]:
    """A lookup for clients that know a candidate: the same as the timeline of the profile
    holding the candidate now (`GET /v1/profiles?candidate_id=` finds it), with the same access
    (404 for a candidate not known or not visible to the caller)."""
    profile_id = await unit.session.scalar(
        sa.select(ProfileMember.profile_id).where(ProfileMember.candidate_id == candidate_id)
    )
    if profile_id is None:
        raise not_found("candidate", candidate_id)
    profile = await load_visible(unit, principal, profile_id)
    return await get_timeline(profile, unit, page, kind, application_id)
