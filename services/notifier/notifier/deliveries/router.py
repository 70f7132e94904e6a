from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from notifier.deliveries import service
from notifier.deliveries.schemas import (
    ChannelName,
    DeliveryDetail,
    DeliveryEventRead,
    DeliveryRead,
    EngagementName,
    ResendRequest,
    StatsRead,
    StatusName,
)
from shared.http.app import json_response
from shared.http.dependencies import IdempotencyDep, Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import Problem, error_responses

router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])

DeliveryId = Annotated[uuid.UUID, Path(description="The delivery's id.")]
MAX_STATS_DAYS = 366


@router.get(
    "",
    response_model=Page[DeliveryRead],
    summary="Deliveries by recipient, application, status or channel, newest first",
    responses=error_responses(400, 401, 403, 422),
)
async def list_deliveries(
    unit: Unit,
    principal: Staff,
    page: PageQuery,
    recipient_kind: Annotated[
        str | None, Query(description="candidate, staff, interviewer, robot or endpoint")
    ] = None,
    recipient_id: Annotated[str | None, Query(max_length=200)] = None,
    application_id: uuid.UUID | None = None,
    job_id: uuid.UUID | None = None,
    kind: Annotated[str | None, Query(max_length=100, examples=["interview_reminder"])] = None,
    status: StatusName | None = None,
    channel: ChannelName | None = None,
    engagement: EngagementName | None = None,
) -> Page[DeliveryRead]:
    """HR see the deliveries of the jobs they own and their own; admins see all."""
    rows, next_cursor = await service.list_deliveries(
        unit.session,
        principal=principal,
        params=page,
        filters={
            "recipient_kind": recipient_kind,
            "recipient_id": recipient_id,
            "application_id": application_id,
            "job_id": job_id,
            "kind": kind,
            "status": status,
            "channel": channel,
            "engagement": engagement,
        },
    )
    return Page[DeliveryRead](
        items=[DeliveryRead.model_validate(row, from_attributes=True) for row in rows],
        next_cursor=next_cursor,
    )


@router.get(
    "/stats",
    response_model=StatsRead,
    summary="Per-channel statistics: how many were sent, delivered, read, and why some failed",
    responses=error_responses(400, 401, 403, 422),
)
async def channel_stats(
    unit: Unit,
    principal: Staff,
    since: Annotated[
        datetime | None,
        Query(description="Default: 30 days ago.", examples=["2026-11-01T00:00:00Z"]),
    ] = None,
    until: Annotated[
        datetime | None, Query(description="Default: now.", examples=["2026-12-01T00:00:00Z"])
    ] = None,
    kind: Annotated[str | None, Query(max_length=100, examples=["interview_reminder"])] = None,
) -> StatsRead:
    end = until or unit.clock.now()
    start = since or end - timedelta(days=30)
    for name, value in (("since", start), ("until", end)):
        if value.tzinfo is None:
            raise Problem(
                422, "Invalid query", f"`{name}` needs a time zone offset.", slug="invalid-range"
            )
    if start >= end or end - start > timedelta(days=MAX_STATS_DAYS):
        raise Problem(
            422,
            "Invalid range",
            f"`since` must be before `until`, at most {MAX_STATS_DAYS} days apart.",
            slug="invalid-range",
        )
    channels = await service.stats(
        unit.session, principal=principal, since=start, until=end, kind=kind
    )
    return StatsRead(since=start.astimezone(UTC), until=end.astimezone(UTC), channels=channels)


@router.get(
    "/{delivery_id}",
    response_model=DeliveryDetail,
    summary="One delivery with its history",
    responses=error_responses(401, 403, 404, 422),
)
async def get_delivery(unit: Unit, principal: Staff, delivery_id: DeliveryId) -> DeliveryDetail:
    row, events = await service.get_delivery(
        unit.session, principal=principal, delivery_id=delivery_id
    )
    return DeliveryDetail(
        **DeliveryRead.model_validate(row, from_attributes=True).model_dump(),
        events=[DeliveryEventRead.model_validate(e, from_attributes=True) for e in events],
    )


@router.post(
    "/{delivery_id}/resend",
    status_code=202,
    response_model=DeliveryRead,
    summary="Send a delivery's message again, on the same or another channel",
    responses=error_responses(400, 401, 403, 404, 409, 413, 422),
)
async def resend_delivery(
    unit: Unit,
    principal: Staff,
    delivery_id: DeliveryId,
    idempotency: IdempotencyDep,
    body: ResendRequest | None = None,
) -> Response:
    """The copy is a new delivery (the original keeps its history), queued at once; send an
    `Idempotency-Key` so that a retried request does not send it twice."""

    async def produce() -> Response:
        new_id = await service.resend(
            unit,
            principal=principal,
            delivery_id=delivery_id,
            channel=body.channel if body else None,
        )
        row, _ = await service.get_delivery(unit.session, principal=principal, delivery_id=new_id)
        return json_response(
            DeliveryRead.model_validate(row, from_attributes=True),
            status_code=202,
            headers={"Location": f"/v1/deliveries/{new_id}"},
        )

    return await idempotency.run(unit, produce)
