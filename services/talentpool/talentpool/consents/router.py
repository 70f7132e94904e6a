from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from starlette.responses import Response

from shared.http.app import json_response
from shared.http.dependencies import Staff, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses
from talentpool.consents import service
from talentpool.consents.schemas import (
    ConsentChangeRead,
    ConsentRead,
    ConsentsRead,
    ConsentWrite,
    Purpose,
)
from talentpool.profiles.dependencies import LiveProfile, VisibleProfile

router = APIRouter(tags=["consents"])

PurposePath = Annotated[
    Purpose,
    Path(description="talent_pool or re_engagement.", examples=["talent_pool"]),
]

_CREATED: dict[int | str, dict[str, Any]] = {
    201: {"model": ConsentRead, "description": "The first answer recorded for the purpose"}
}


@router.get(
    "/v1/profiles/{profile_id}/consents",
    response_model=ConsentsRead,
    summary="The person's consent in force for each purpose",
    responses=error_responses(401, 403, 404, 422),
)
async def get_consents(profile: VisibleProfile, unit: Unit) -> Response:
    now = unit.clock.now()
    consents = await service.list_for(session=unit.session, profile_id=profile.id)
    return json_response(
        ConsentsRead(items=[service.read(consent, now) for consent in consents]),
        headers={"Cache-Control": "no-store"},
    )


@router.put(
    "/v1/profiles/{profile_id}/consents/{purpose}",
    response_model=ConsentRead,
    summary="Record the person's answer for a purpose (first answer: 201, a change: 200)",
    description="The answer replaces the one in force and is added to the history. A merged "
    "or anonymized profile answers 409.",
    responses={**_CREATED, **error_responses(401, 403, 404, 409, 422)},
)
async def put_consent(
    profile: LiveProfile, purpose: PurposePath, body: ConsentWrite, unit: Unit, principal: Staff
) -> Response:
    consent, created = await service.record(
        unit=unit, profile_id=profile.id, purpose=purpose, body=body, actor=principal.subject
    )
    return json_response(
        service.read(consent, unit.clock.now()),
        status_code=201 if created else 200,
        headers={"Cache-Control": "no-store"},
    )


@router.get(
    "/v1/profiles/{profile_id}/consents/history",
    response_model=Page[ConsentChangeRead],
    summary="Every consent answer recorded for the person, oldest first",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def get_consent_history(
    profile: VisibleProfile, unit: Unit, page: PageQuery
) -> Page[ConsentChangeRead]:
    changes, next_cursor = await service.history(
        session=unit.session, profile_id=profile.id, params=page
    )
    return Page[ConsentChangeRead](
        items=[ConsentChangeRead.model_validate(change) for change in changes],
        next_cursor=next_cursor,
    )
