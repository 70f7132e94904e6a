from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from scheduler.interview_needs import service
from scheduler.interview_needs.schemas import InterviewNeedRead
from shared.http.dependencies import Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses, not_found

router = APIRouter(prefix="/v1/interview-needs", tags=["interview needs"])


@router.get(
    "",
    response_model=Page[InterviewNeedRead],
    summary="Applications waiting for an interview, oldest first",
    responses=error_responses(400, 401, 403, 422),
)
async def list_interview_needs(
    unit: Unit,
    _: Staff,
    page: PageQuery,
    status: Annotated[Literal["open", "withdrawn"] | None, Query()] = None,
) -> Page[InterviewNeedRead]:
    needs, next_cursor = await service.list_needs(session=unit.session, params=page, status=status)
    return Page[InterviewNeedRead](
        items=[InterviewNeedRead.model_validate(need) for need in needs], next_cursor=next_cursor
    )


@router.get(
    "/{application_id}",
    response_model=InterviewNeedRead,
    summary="The interview need of one application",
    responses=error_responses(401, 403, 404, 422),
)
async def get_interview_need(application_id: uuid.UUID, unit: Unit, _: Staff) -> InterviewNeedRead:
    need = await service.get(session=unit.session, application_id=application_id)
    if need is None:
        raise not_found("interview need for application", application_id)
    return InterviewNeedRead.model_validate(need)
