"""Who may see and steer a campaign: its creator and admins (404 for anyone else)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from shared.http.dependencies import Staff, Unit
from shared.problems import not_found
from talentpool.campaigns import service
from talentpool.campaigns.models import Campaign

CampaignId = Annotated[
    uuid.UUID,
    Path(description="The campaign's id.", examples=["0193b0a5-9a0b-7c1d-8e2f-3a4b5c6d7e8f"]),
]


async def visible_campaign(campaign_id: CampaignId, unit: Unit, principal: Staff) -> Campaign:
    campaign = await service.get_visible(unit.session, principal=principal, campaign_id=campaign_id)
    if campaign is None:
        raise not_found("campaign", campaign_id)
    return campaign


async def locked_campaign(campaign_id: CampaignId, unit: Unit, principal: Staff) -> Campaign:
    """As ``visible_campaign``, locked until the request's transaction ends (a timer handling
    the campaign waits, and sees the change)."""
    campaign = await service.get_visible(
        unit.session, principal=principal, campaign_id=campaign_id, for_update=True
    )
    if campaign is None:
        raise not_found("campaign", campaign_id)
    return campaign


VisibleCampaign = Annotated[Campaign, Depends(visible_campaign)]
LockedCampaign = Annotated[Campaign, Depends(locked_campaign)]
