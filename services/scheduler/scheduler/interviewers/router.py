from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from scheduler.interviewers import service
from scheduler.interviewers.dependencies import (
    LockedInterviewer,
    MyInterviewer,
    RangeQuery,
    ReadableTime,
    WritableTime,
)
from scheduler.interviewers.models import AvailabilityOverride, Interviewer, Pool
from scheduler.interviewers.schemas import (
    InterviewerCreate,
    InterviewerPoolRead,
    InterviewerRead,
    InterviewerUpdate,
    OverrideCreate,
    OverrideRead,
    PoolCreate,
)
from shared.http.app import json_response
from shared.http.dependencies import Admin, IdempotencyDep, IfMatch, Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses, not_found
from shared.unit import UnitOfWork

interviewers_router = APIRouter(prefix="/v1/interviewers", tags=["interviewers"])
pools_router = APIRouter(prefix="/v1/pools", tags=["interviewers"])


async def _read(unit: UnitOfWork, interviewer: Interviewer) -> InterviewerRead:
    pools = await service.pool_ids_of(session=unit.session, interviewer_ids=[interviewer.id])
    read = InterviewerRead.model_validate(interviewer)
    read.pool_ids = pools.get(interviewer.id, [])
    return read


def _response(read: InterviewerRead, *, status_code: int = 200, location: bool = False) -> Response:
    headers = {"ETag": f'"{read.version}"'}
    if location:
        headers["Location"] = f"/v1/interviewers/{read.id}"
    return json_response(read, status_code=status_code, headers=headers)


@interviewers_router.post(
    "",
    status_code=201,
    response_model=InterviewerRead,
    summary="Add an interviewer with their time zone, working hours, caps and skills",
    responses=error_responses(401, 403, 409, 422),
)
async def create_interviewer(
    body: InterviewerCreate, unit: Unit, _: Admin, idempotency: IdempotencyDep
) -> Response:
    async def produce() -> Response:
        interviewer = await service.create(unit=unit, body=body)
        return _response(await _read(unit, interviewer), status_code=201, location=True)

    return await idempotency.run(unit, produce)


@interviewers_router.get(
    "",
    response_model=Page[InterviewerRead],
    summary="Interviewers, oldest first; filter by skill, pool or whether active",
    responses=error_responses(400, 401, 403, 422),
)
async def list_interviewers(
    unit: Unit,
    _: Staff,
    page: PageQuery,
    skill: Annotated[str | None, Query(max_length=60, examples=["python"])] = None,
    pool_id: Annotated[
        uuid.UUID | None, Query(examples=["0193b0a5-4a1b-7c1a-9d2e-4b5c6d7e8f91"])
    ] = None,
    active: Annotated[bool | None, Query(examples=[True])] = None,
) -> Page[InterviewerRead]:
    interviewers, next_cursor = await service.list_interviewers(
        session=unit.session, params=page, skill=skill, pool_id=pool_id, active=active
    )
    pools = await service.pool_ids_of(
        session=unit.session, interviewer_ids=[i.id for i in interviewers]
    )
    items = []
    for interviewer in interviewers:
        read = InterviewerRead.model_validate(interviewer)
        read.pool_ids = pools.get(interviewer.id, [])
        items.append(read)
    return Page[InterviewerRead](items=items, next_cursor=next_cursor)


@interviewers_router.get(
    "/me",
    response_model=InterviewerRead,
    summary="The caller's own interviewer record (found by the token's subject)",
    responses=error_responses(401, 404),
)
async def get_my_interviewer(interviewer: MyInterviewer, unit: Unit) -> Response:
    return _response(await _read(unit, interviewer))


@interviewers_router.get(
    "/{interviewer_id}",
    response_model=InterviewerRead,
    summary="One interviewer; its ETag is its version",
    responses=error_responses(401, 403, 404, 422),
)
async def get_interviewer(interviewer_id: uuid.UUID, unit: Unit, _: Staff) -> Response:
    interviewer = await service.get(session=unit.session, interviewer_id=interviewer_id)
    if interviewer is None:
        raise not_found("interviewer", interviewer_id)
    return _response(await _read(unit, interviewer))


@interviewers_router.patch(
    "/{interviewer_id}",
    response_model=InterviewerRead,
    summary="Change an interviewer's hours, zone, caps, skills, calendar or whether active",
    responses=error_responses(400, 401, 403, 404, 412, 422),
)
async def update_interviewer(
    interviewer: LockedInterviewer, body: InterviewerUpdate, unit: Unit, expected_version: IfMatch
) -> Response:
    updated = await service.update(
        unit=unit, interviewer=interviewer, expected_version=expected_version, changes=body
    )
    return _response(await _read(unit, updated))


# Availability overrides.


def _override(override: AvailabilityOverride) -> OverrideRead:
    return OverrideRead(
        id=override.id,
        interviewer_id=override.interviewer_id,
        starts_at=override.during.lower,
        ends_at=override.during.upper,
        kind=override.kind,
        note=override.note,
        created_at=override.created_at,
    )


@interviewers_router.post(
    "/{interviewer_id}/overrides",
    status_code=201,
    response_model=OverrideRead,
    summary="Add extra available time, or time off, once (admins or the interviewer)",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def create_override(
    body: OverrideCreate, interviewer: WritableTime, unit: Unit, idempotency: IdempotencyDep
) -> Response:
    async def produce() -> Response:
        override = await service.create_override(
            unit=unit, interviewer_id=interviewer.id, body=body
        )
        return json_response(
            _override(override),
            status_code=201,
            headers={"Location": f"/v1/interviewers/{interviewer.id}/overrides/{override.id}"},
        )

    return await idempotency.run(unit, produce)


@interviewers_router.get(
    "/{interviewer_id}/overrides",
    response_model=Page[OverrideRead],
    summary="Overrides overlapping a range (at most 180 days)",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_overrides(
    interviewer: ReadableTime, unit: Unit, page: PageQuery, window: RangeQuery
) -> Page[OverrideRead]:
    overrides, next_cursor = await service.list_overrides(
        session=unit.session,
        interviewer_id=interviewer.id,
        start=window.start,
        end=window.end,
        params=page,
    )
    return Page[OverrideRead](items=[_override(o) for o in overrides], next_cursor=next_cursor)


@interviewers_router.delete(
    "/{interviewer_id}/overrides/{override_id}",
    status_code=204,
    summary="Remove an override (admins or the interviewer)",
    responses=error_responses(401, 403, 404, 422),
)
async def delete_override(
    override_id: uuid.UUID, interviewer: WritableTime, unit: Unit
) -> Response:
    await service.delete_override(unit=unit, interviewer_id=interviewer.id, override_id=override_id)
    return Response(status_code=204)


# Pools.


async def _pool(unit: UnitOfWork, pool: Pool) -> InterviewerPoolRead:
    members = await service.pool_members(session=unit.session, pool_ids=[pool.id])
    return InterviewerPoolRead(
        id=pool.id,
        name=pool.name,
        description=pool.description,
        member_ids=members.get(pool.id, []),
        created_at=pool.created_at,
    )


@pools_router.post(
    "",
    status_code=201,
    response_model=InterviewerPoolRead,
    summary="Create a pool of interviewers who can stand in for each other",
    responses=error_responses(401, 403, 409, 422),
)
async def create_pool(
    body: PoolCreate, unit: Unit, _: Admin, idempotency: IdempotencyDep
) -> Response:
    async def produce() -> Response:
        pool = await service.create_pool(unit=unit, body=body)
        return json_response(
            await _pool(unit, pool), status_code=201, headers={"Location": f"/v1/pools/{pool.id}"}
        )

    return await idempotency.run(unit, produce)


@pools_router.get(
    "",
    response_model=Page[InterviewerPoolRead],
    summary="Pools by name, with their members",
    responses=error_responses(400, 401, 403, 422),
)
async def list_pools(unit: Unit, _: Staff, page: PageQuery) -> Page[InterviewerPoolRead]:
    pools, next_cursor = await service.list_pools(session=unit.session, params=page)
    members = await service.pool_members(session=unit.session, pool_ids=[p.id for p in pools])
    return Page[InterviewerPoolRead](
        items=[
            InterviewerPoolRead(
                id=p.id,
                name=p.name,
                description=p.description,
                member_ids=members.get(p.id, []),
                created_at=p.created_at,
            )
            for p in pools
        ],
        next_cursor=next_cursor,
    )


@pools_router.get(
    "/{pool_id}",
    response_model=InterviewerPoolRead,
    summary="One pool with its members",
    responses=error_responses(401, 403, 404, 422),
)
async def get_pool(pool_id: uuid.UUID, unit: Unit, _: Staff) -> InterviewerPoolRead:
    return await _pool(unit, await service.get_pool(session=unit.session, pool_id=pool_id))


@pools_router.put(
    "/{pool_id}/members/{interviewer_id}",
    response_model=InterviewerPoolRead,
    summary="Put an interviewer in a pool (idempotent)",
    responses=error_responses(401, 403, 404, 422),
)
async def add_pool_member(
    pool_id: uuid.UUID, interviewer_id: uuid.UUID, unit: Unit, _: Admin
) -> InterviewerPoolRead:
    await service.add_member(unit=unit, pool_id=pool_id, interviewer_id=interviewer_id)
    return await _pool(unit, await service.get_pool(session=unit.session, pool_id=pool_id))


@pools_router.delete(
    "/{pool_id}/members/{interviewer_id}",
    status_code=204,
    summary="Take an interviewer out of a pool",
    responses=error_responses(401, 403, 404, 422),
)
async def remove_pool_member(
    pool_id: uuid.UUID, interviewer_id: uuid.UUID, unit: Unit, _: Admin
) -> Response:
    await service.remove_member(unit=unit, pool_id=pool_id, interviewer_id=interviewer_id)
    return Response(status_code=204)


router = APIRouter()
router.include_router(interviewers_router)
router.include_router(pools_router)
