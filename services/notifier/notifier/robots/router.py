from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from notifier.endpoints.dependencies import Settings
from notifier.robots import service
from notifier.robots.models import ChatRobot
from notifier.robots.schemas import ChatRobotCreate, ChatRobotRead, ChatRobotUpdate
from shared.http.app import json_response
from shared.http.dependencies import Admin, IdempotencyDep, KeyringDep, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses, not_found

router = APIRouter(prefix="/v1/chat-robots", tags=["chat robots"])


async def _load(unit: Unit, robot_id: uuid.UUID, *, for_update: bool = False) -> ChatRobot:
    robot = await service.get(unit.session, robot_id=robot_id, for_update=for_update)
    if robot is None:
        raise not_found("chat robot", robot_id)
    return robot


@router.post(
    "",
    status_code=201,
    response_model=ChatRobotRead,
    summary="Add a DingTalk or WeCom group robot, for one job or for every job",
    responses=error_responses(400, 401, 403, 409, 422),
)
async def create_robot(
    body: ChatRobotCreate,
    unit: Unit,
    principal: Admin,
    keyring: KeyringDep,
    settings: Settings,
    idempotency: IdempotencyDep,
) -> Response:
    async def produce() -> Response:
        robot = await service.create(
            unit=unit, keyring=keyring, settings=settings, body=body, created_by=principal.subject
        )
        return json_response(
            service.read(robot, keyring),
            status_code=201,
            headers={"Location": f"{router.prefix}/{robot.id}"},
        )

    return await idempotency.run(unit, produce)


@router.get(
    "",
    response_model=Page[ChatRobotRead],
    summary="Chat robots, oldest first; filter by job and active",
    responses=error_responses(400, 401, 403, 422),
)
async def list_robots(
    unit: Unit,
    _: Admin,
    keyring: KeyringDep,
    page: PageQuery,
    job_id: Annotated[
        uuid.UUID | None,
        Query(
            description="Only the robots of this job (not the global ones).",
            examples=["0193b0a5-1a2b-7c3d-8e4f-5a6b7c8d9e0f"],
        ),
    ] = None,
    active: Annotated[bool | None, Query(examples=[True])] = None,
) -> Page[ChatRobotRead]:
    robots, next_cursor = await service.list_robots(
        session=unit.session, params=page, job_id=job_id, active=active
    )
    return Page[ChatRobotRead](
        items=[service.read(robot, keyring) for robot in robots], next_cursor=next_cursor
    )


@router.get(
    "/{robot_id}",
    response_model=ChatRobotRead,
    summary="One chat robot (its URL masked, never its secret)",
    responses=error_responses(401, 403, 404, 422),
)
async def get_robot(
    robot_id: uuid.UUID, unit: Unit, _: Admin, keyring: KeyringDep
) -> ChatRobotRead:
    return service.read(await _load(unit, robot_id), keyring)


@router.patch(
    "/{robot_id}",
    response_model=ChatRobotRead,
    summary="Rename, (de)activate, move to another job, or change a robot's URL or secret",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def update_robot(
    robot_id: uuid.UUID,
    body: ChatRobotUpdate,
    unit: Unit,
    _: Admin,
    keyring: KeyringDep,
    settings: Settings,
) -> ChatRobotRead:
    robot = await _load(unit, robot_id, for_update=True)
    changed = await service.update(
        unit=unit, keyring=keyring, settings=settings, robot=robot, changes=body
    )
    return service.read(changed, keyring)


@router.delete(
    "/{robot_id}",
    status_code=204,
    summary="Remove a chat robot",
    responses=error_responses(401, 403, 404, 422),
)
async def delete_robot(robot_id: uuid.UUID, unit: Unit, _: Admin) -> Response:
    if not await service.delete(session=unit.session, robot_id=robot_id):
        raise not_found("chat robot", robot_id)
    return Response(status_code=204)
