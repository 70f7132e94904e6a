from __future__ import annotations

import uuid

from fastapi import APIRouter

from shared.http.dependencies import Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses, not_found
from talentpool.candidates import service
from talentpool.candidates.schemas import TimelineEntryRead

router = APIRouter(prefix="/v1/candidates", tags=["candidates"])


@router.get(
    "/{candidate_id}/timeline",
    response_model=Page[TimelineEntryRead],
    summary="What happened to the candidate, newest first",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def get_timeline(
    candidate_id: uuid.UUID, unit: Unit, _: Staff, page: PageQuery
) -> Page[TimelineEntryRead]:
    if await service.get(session=unit.session, candidate_id=candidate_id) is None:
        raise not_found("candidate", candidate_id)
    entries, next_cursor = await service.timeline(
        session=unit.session, candidate_id=candidate_id, params=page
    )
    return Page[TimelineEntryRead](
        items=[TimelineEntryRead.model_validate(entry) for entry in entries],
        next_cursor=next_cursor,
    )
