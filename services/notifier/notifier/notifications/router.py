from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from notifier.notifications import service
from notifier.notifications.schemas import NotificationRead
from shared.http.dependencies import Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])


@router.get(
    "",
    response_model=Page[NotificationRead],
    summary="Notifications, newest first",
    responses=error_responses(400, 401, 403, 422),
)
async def list_notifications(
    unit: Unit,
    _: Staff,
    page: PageQuery,
    application_id: Annotated[uuid.UUID | None, Query()] = None,
    candidate_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Page[NotificationRead]:
    rows, next_cursor = await service.list_notifications(
        session=unit.session, params=page, application_id=application_id, candidate_id=candidate_id
    )
    return Page[NotificationRead](
        items=[NotificationRead.model_validate(row) for row in rows], next_cursor=next_cursor
    )
