from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from shared.http.app import json_response
from shared.http.dependencies import IdempotencyDep, Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses
from talentpool.profiles.schemas import Skill
from talentpool.recommendations import ranking, service
from talentpool.recommendations.dependencies import ManagedJob, require_open
from talentpool.recommendations.schemas import (
    RecommendationRead,
    RecommendationsRead,
    ScoreParts,
)
from talentpool.reinvitations import service as reinvitations
from talentpool.reinvitations.exceptions import nobody_invited
from talentpool.reinvitations.schemas import (
    RefusalRead,
    ReinvitationRead,
    ReinvitationsCreate,
    ReinvitationsRead,
)

router = APIRouter(tags=["recommendations"])

MAX_SKILLS = 50

_ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"model": ReinvitationsRead, "description": "Requested; the invitations follow"}
}


@router.get(
    "/v1/jobs/{job_id}/recommendations",
    response_model=RecommendationsRead,
    summary="Past candidates for the job, best first, with the parts of each score",
    responses=error_responses(401, 403, 404, 422),
)
async def get_recommendations(
    job: ManagedJob,
    principal: Staff,
    unit: Unit,
    skills: Annotated[
        list[Skill],
        Query(
            max_length=MAX_SKILLS,
            description="A wanted skill; repeat for several (compared case-insensitively).",
            examples=[["python", "sql"]],
        ),
    ] = [],  # noqa: B006 - FastAPI copies a query list's default
    limit: Annotated[int, Query(ge=1, le=100, description="How many people.")] = 20,
) -> RecommendationsRead:
    """People who may be invited now (not on hold, erased, merged or unsubscribed) and have
    not applied to the job. HR without the `talentpool:search` scope get people related to
    jobs they own only."""
    items, considered = await service.recommend(
        unit.session,
        job=job,
        principal=principal,
        skills=skills,
        limit=limit,
        now=unit.clock.now(),
    )
    return RecommendationsRead(
        job_id=job.id,
        skills=sorted(ranking.normalize_skills(skills)),
        weights=ranking.WEIGHTS,
        considered=considered,
        items=[
            RecommendationRead(
                profile_id=item.ranked.profile_id,
                score=item.ranked.score,
                parts=ScoreParts.model_validate(item.ranked.parts),
                matched_skills=list(item.ranked.matched_skills),
                skills=item.skills,
                engagement_score=item.engagement_score,
                last_activity_at=item.last_activity_at,
                furthest_stage_kind=item.furthest_stage_kind,
                tags=item.tags,
            )
            for item in items
        ],
    )


@router.post(
    "/v1/jobs/{job_id}/reinvitations",
    status_code=202,
    response_model=ReinvitationsRead,
    summary="Invite past candidates to the job (one or up to 500); each refusal says why",
    responses={**_ACCEPTED, **error_responses(400, 401, 403, 404, 409, 422)},
)
async def create_reinvitations(
    job: ManagedJob,
    principal: Staff,
    body: ReinvitationsCreate,
    unit: Unit,
    idempotency: IdempotencyDep,
) -> Response:
    """Each person who may be invited gets a new application to the job, created by the
    pipeline from a `talentpool.reinvitation_requested` event (its first stage then invites
    them). Refused, with the reason: `on_hold`, `no_consent` (a granted, unexpired
    `re_engagement` consent is needed), `unsubscribed`, `erased`, `merged`,
    `already_applied`, `unknown`. When everyone is refused: 422 listing the reasons. A closed
    job: 409 `job-closed`."""
    require_open(job)

    async def produce() -> Response:
        created, refusals = await reinvitations.request(
            unit,
            profile_ids=body.profile_ids,
            job_id=job.id,
            origin=body.origin,
            requested_by=principal.subject,
        )
        if not created:
            positions = {pid: i for i, pid in reversed(list(enumerate(body.profile_ids)))}
            raise nobody_invited(refusals, positions=positions)
        return json_response(
            ReinvitationsRead(
                reinvitations=[ReinvitationRead.model_validate(r) for r in created],
                refusals=[RefusalRead.model_validate(r) for r in refusals],
            ),
            status_code=202,
        )

    return await idempotency.run(unit, produce)


@router.get(
    "/v1/jobs/{job_id}/reinvitations",
    response_model=Page[ReinvitationRead],
    summary="The job's re-invitations, newest first, with what came of them",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_reinvitations(
    job: ManagedJob, unit: Unit, page: PageQuery
) -> Page[ReinvitationRead]:
    rows, next_cursor = await reinvitations.list_for_job(unit.session, job_id=job.id, params=page)
    return Page[ReinvitationRead](
        items=[ReinvitationRead.model_validate(r) for r in rows], next_cursor=next_cursor
    )
