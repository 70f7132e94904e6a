from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from shared.http.app import json_response
from shared.http.dependencies import IdempotencyDep, IfMatch, KeyringDep, Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses
from talentpool.profiles.dependencies import visible_filter
from talentpool.segments import service
from talentpool.segments.dependencies import LockedSegment, VisibleSegment
from talentpool.segments.models import Segment
from talentpool.segments.schemas import PeoplePage, PreviewRequest, SegmentRead, SegmentWrite

router = APIRouter(prefix="/v1/segments", tags=["segments"])

_PEOPLE = (
    "People newest activity first, with `count` over all pages. Admins and HR with the scope "
    "`talentpool:search` search the whole pool; other HR only the people who applied to a job "
    "they own."
)


def _read(segment: Segment, *, status_code: int = 200, location: bool = False) -> Response:
    headers = {"ETag": f'"{segment.version}"'}
    if location:
        headers["Location"] = f"/v1/segments/{segment.id}"
    return json_response(
        SegmentRead.model_validate(segment), status_code=status_code, headers=headers
    )


@router.post(
    "",
    status_code=201,
    response_model=SegmentRead,
    summary="Save a segment (a named filter over the pool)",
    responses=error_responses(401, 403, 409, 422),
)
async def create_segment(
    body: SegmentWrite, unit: Unit, principal: Staff, idempotency: IdempotencyDep
) -> Response:
    async def produce() -> Response:
        segment = await service.create(unit=unit, principal=principal, segment_in=body)
        return _read(segment, status_code=201, location=True)

    return await idempotency.run(unit, produce)


@router.get(
    "",
    response_model=Page[SegmentRead],
    summary="Your segments (admins: everyone's), newest first",
    responses=error_responses(400, 401, 403, 422),
)
async def list_segments(unit: Unit, principal: Staff, page: PageQuery) -> Page[SegmentRead]:
    segments, next_cursor = await service.list_visible(
        unit.session, principal=principal, params=page
    )
    return Page[SegmentRead](
        items=[SegmentRead.model_validate(segment) for segment in segments],
        next_cursor=next_cursor,
    )


@router.post(
    "/preview",
    response_model=PeoplePage,
    summary="Who filters would select, without saving them",
    description=_PEOPLE,
    responses=error_responses(400, 401, 403, 422),
)
async def preview_segment(
    body: PreviewRequest, unit: Unit, principal: Staff, keyring: KeyringDep, page: PageQuery
) -> PeoplePage:
    return await service.people(
        unit.session,
        body.filters,
        keyring=keyring,
        now=unit.clock.now(),
        visible=visible_filter(principal),
        params=page,
    )


@router.get(
    "/{segment_id}",
    response_model=SegmentRead,
    summary="One segment; its ETag is its version",
    responses=error_responses(401, 403, 404, 422),
)
async def get_segment(segment: VisibleSegment) -> Response:
    return _read(segment)


@router.put(
    "/{segment_id}",
    response_model=SegmentRead,
    summary="Replace a segment's name, description and filters",
    description="Campaigns using the segment select with the new filters from their next run.",
    responses=error_responses(400, 401, 403, 404, 412, 422),
)
async def replace_segment(
    segment: LockedSegment, body: SegmentWrite, unit: Unit, expected_version: IfMatch
) -> Response:
    replaced = await service.replace(
        unit=unit, segment=segment, segment_in=body, expected_version=expected_version
    )
    return _read(replaced)


@router.delete(
    "/{segment_id}",
    status_code=204,
    summary="Delete a segment no campaign uses",
    responses=error_responses(400, 401, 403, 404, 409, 412, 422),
)
async def delete_segment(segment: LockedSegment, unit: Unit, expected_version: IfMatch) -> Response:
    await service.delete(unit=unit, segment=segment, expected_version=expected_version)
    return Response(status_code=204)


@router.get(
    "/{segment_id}/profiles",
    response_model=PeoplePage,
    summary="The people a segment selects now",
    description=_PEOPLE,
    responses=error_responses(400, 401, 403, 404, 422),
)
async def segment_people(
    segment: VisibleSegment, unit: Unit, principal: Staff, keyring: KeyringDep, page: PageQuery
) -> PeoplePage:
    return await service.people(
        unit.session,
        service.filters_of(segment),
        keyring=keyring,
        now=unit.clock.now(),
        visible=visible_filter(principal),
        params=page,
    )
