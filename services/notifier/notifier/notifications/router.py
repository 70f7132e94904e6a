from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query

from notifier.deliveries.schemas import DeliveryRead
from notifier.notifications import service
from notifier.notifications.schemas import NotificationDetail, NotificationRead
from shared.http.dependencies import Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses

router = APIRouter(prefix="/v1/notifications", tags=["notifications"])


@router.get(
    "",
    response_model=Page[NotificationRead],
    summary="Notifications owed and sent, newest first",
    responses=error_responses(400, 401, 403, 422),
)
async def list_notifications(
    unit: Unit,
    principal: Staff,
    page: PageQuery,
    application_id: uuid.UUID | None = None,
    candidate_id: uuid.UUID | None = None,
    job_id: uuid.UUID | None = None,
    kind: Annotated[str | None, Query(max_length=100, examples=["stage_passed"])] = None,
    recipient_kind: Literal["candidate", "staff", "interviewer", "robot", "endpoint"] | None = None,
    recipient_id: Annotated[str | None, Query(max_length=200)] = None,
    status: Literal["pending", "sent", "engaged", "unread", "suppressed", "failed"] | None = None,
) -> Page[NotificationRead]:
    """HR see the notifications of the jobs they own and those addressed to them; admins all."""
    rows, next_cursor = await service.list_notifications(
        session=unit.session,
        principal=principal,
        params=page,
        filters={
            "application_id": application_id,
            "candidate_id": candidate_id,
            "job_id": job_id,
            "kind": kind,
            "recipient_kind": recipient_kind,
            "recipient_id": recipient_id,
            "status": status,
        },
    )
    return Page[NotificationRead](
        items=[NotificationRead.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get(
    "/{notification_id}",
    response_model=NotificationDetail,
    summary="One notification with its deliveries on each channel",
    responses=error_responses(401, 403, 404, 422),
)
async def get_notification(
    unit: Unit,
    principal: Staff,
    notification_id: Annotated[uuid.UUID, Path(description="The notification's id.")],
) -> NotificationDetail:
    notification, deliveries = await service.get_notification(
        session=unit.session, principal=principal, notification_id=notification_id
    )
    return NotificationDetail(
        **NotificationRead.model_validate(notification).model_dump(),
        deliveries=[DeliveryRead.model_validate(d, from_attributes=True) for d in deliveries],
    )
