from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from shared.http.app import json_response
from shared.http.dependencies import IdempotencyDep, IfMatch, Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses
from shared.unit import UnitOfWork
from talentpool.campaigns import service
from talentpool.campaigns.dependencies import LockedCampaign, VisibleCampaign
from talentpool.campaigns.models import Campaign
from talentpool.campaigns.schemas import (
    CampaignCreate,
    CampaignRead,
    CampaignRecipientRead,
    CampaignStatus,
    RecipientStatus,
)

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])


async def _read(
    unit: UnitOfWork, campaign: Campaign, *, status_code: int = 200, location: bool = False
) -> Response:
    [read] = await service.read(unit.session, [campaign])
    headers = {"ETag": f'"{campaign.version}"'}
    if location:
        headers["Location"] = f"/v1/campaigns/{campaign.id}"
    return json_response(read, status_code=status_code, headers=headers)


@router.post(
    "",
    status_code=201,
    response_model=CampaignRead,
    summary="Invite a segment to a job, throttled, once or on a schedule",
    description="The first run evaluates the segment at once (a durable timer); who may not be "
    "invited (on hold, unsubscribed, without consent, erased, already applied) is recorded "
    "as skipped with the reason.",
    responses=error_responses(401, 403, 409, 422),
)
async def create_campaign(
    body: CampaignCreate, unit: Unit, principal: Staff, idempotency: IdempotencyDep
) -> Response:
    async def produce() -> Response:
        campaign = await service.create(unit=unit, principal=principal, campaign_in=body)
        return await _read(unit, campaign, status_code=201, location=True)

    return await idempotency.run(unit, produce)


@router.get(
    "",
    response_model=Page[CampaignRead],
    summary="Your campaigns (admins: everyone's), newest first, with their results",
    responses=error_responses(400, 401, 403, 422),
)
async def list_campaigns(
    unit: Unit,
    principal: Staff,
    page: PageQuery,
    status: Annotated[
        CampaignStatus | None, Query(description="Only campaigns in this state.")
    ] = None,
) -> Page[CampaignRead]:
    campaigns, next_cursor = await service.list_visible(
        unit.session, principal=principal, params=page, status=status
    )
    return Page[CampaignRead](
        items=await service.read(unit.session, campaigns), next_cursor=next_cursor
    )


@router.get(
    "/{campaign_id}",
    response_model=CampaignRead,
    summary="One campaign and its results (queued, invited, skipped by reason, opened, "
    "applied); its ETag is its version",
    responses=error_responses(401, 403, 404, 422),
)
async def get_campaign(campaign: VisibleCampaign, unit: Unit) -> Response:
    return await _read(unit, campaign)


@router.post(
    "/{campaign_id}/pause",
    response_model=CampaignRead,
    summary="Pause: nothing is sent or run until resumed",
    responses=error_responses(400, 401, 403, 404, 409, 412, 422),
)
async def pause_campaign(
    campaign: LockedCampaign, unit: Unit, expected_version: IfMatch
) -> Response:
    paused = await service.pause(unit=unit, campaign=campaign, expected_version=expected_version)
    return await _read(unit, paused)


@router.post(
    "/{campaign_id}/resume",
    response_model=CampaignRead,
    summary="Resume a paused campaign: sending goes on within the hourly limit",
    responses=error_responses(400, 401, 403, 404, 409, 412, 422),
)
async def resume_campaign(
    campaign: LockedCampaign, unit: Unit, expected_version: IfMatch
) -> Response:
    resumed = await service.resume(unit=unit, campaign=campaign, expected_version=expected_version)
    return await _read(unit, resumed)


@router.post(
    "/{campaign_id}/cancel",
    response_model=CampaignRead,
    summary="Cancel: no more runs or invitations; who was waiting is skipped (cancelled)",
    responses=error_responses(400, 401, 403, 404, 409, 412, 422),
)
async def cancel_campaign(
    campaign: LockedCampaign, unit: Unit, expected_version: IfMatch
) -> Response:
    cancelled = await service.cancel(
        unit=unit, campaign=campaign, expected_version=expected_version
    )
    return await _read(unit, cancelled)


@router.get(
    "/{campaign_id}/recipients",
    response_model=Page[CampaignRecipientRead],
    summary="Whom the campaign reached, in the order found, with what became of each",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_recipients(
    campaign: VisibleCampaign,
    unit: Unit,
    page: PageQuery,
    status: Annotated[
        RecipientStatus | None, Query(description="Only recipients in this state.")
    ] = None,
) -> Page[CampaignRecipientRead]:
    rows, next_cursor = await service.recipients(
        unit.session, campaign=campaign, status=status, params=page
    )
    return Page[CampaignRecipientRead](
        items=[CampaignRecipientRead.model_validate(row) for row in rows], next_cursor=next_cursor
    )
