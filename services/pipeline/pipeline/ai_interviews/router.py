from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Request
from starlette.responses import Response

from pipeline.ai_interviews import service
from pipeline.ai_interviews.dependencies import VerifiedDelivery
from pipeline.ai_interviews.schemas import (
    DELIVERY_EXAMPLES,
    AiInterviewDelivery,
    AiInterviewRead,
    DeliveryAccepted,
    UnmatchedDeliveryRead,
)
from pipeline.applications.dependencies import VisibleApplication
from shared.http.app import json_response
from shared.http.dependencies import Admin, RuntimeDep, Unit
from shared.http.errors import render
from shared.http.pagination import Page, PageQuery
from shared.problems import Problem, error_responses

router = APIRouter(tags=["ai-interviews"])

DeliveryId = Annotated[int, Path(ge=1, description="The unmatched delivery's id.", examples=[42])]


@router.post(
    "/v1/webhooks/ai-interviews/{vendor}",
    status_code=202,
    response_model=DeliveryAccepted,
    summary="Receive a signed AI-interview vendor webhook (Standard Webhooks)",
    responses={
        200: {
            "model": DeliveryAccepted,
            "description": "A delivery with this `webhook-id` was already received; nothing "
            "was done again.",
        },
        **error_responses(401, 404, 413, 422),
    },
    openapi_extra={"security": []},
)
async def receive_delivery(
    request: Request,
    verified: VerifiedDelivery,
    body: Annotated[AiInterviewDelivery, Body(openapi_examples=DELIVERY_EXAMPLES)],
    runtime: RuntimeDep,
) -> Response:
    """Signed per Standard Webhooks with the vendor's secret: `webhook-id`, `webhook-timestamp`
    (within 5 minutes) and `webhook-signature` headers. The body is our contract (see the
    examples). 202: accepted; the interview's state and its events follow within moments,
    after the answer. 200: a replay of a `webhook-id` already received, with no second effect.
    404 `unknown-application`: no application has `application_id` (the delivery is kept for
    reconciliation; a retry may succeed once it exists). A delivery naming another interview
    than the one the application already has at this vendor is accepted (202) and then kept
    for an admin to reconcile; it changes nothing."""
    accepted = await service.accept(
        engine=runtime.db.engine,
        now=runtime.clock.now(),
        vendor=verified.vendor,
        webhook_id=verified.webhook_id,
        delivery=body,
        payload=verified.payload,
    )
    if accepted == "unknown_application":
        return render(
            request,
            Problem(
                404,
                "Unknown application",
                f"No application with id {body.application_id}; the delivery is kept for "
                "reconciliation.",
                slug="unknown-application",
                webhook_id=verified.webhook_id,
                application_id=str(body.application_id),
            ),
        )
    duplicate = accepted == "duplicate"
    return json_response(
        DeliveryAccepted(webhook_id=verified.webhook_id, duplicate=duplicate),
        status_code=200 if duplicate else 202,
    )


@router.get(
    "/v1/applications/{application_id}/ai-interviews",
    response_model=list[AiInterviewRead],
    summary="An application's AI interviews, with their status, scores and report links",
    responses=error_responses(401, 403, 404, 422),
)
async def list_application_interviews(
    application: VisibleApplication, unit: Unit
) -> list[AiInterviewRead]:
    interviews = await service.for_application(session=unit.session, application_id=application.id)
    return [AiInterviewRead.model_validate(interview) for interview in interviews]


@router.get(
    "/v1/ai-interviews/unmatched",
    response_model=Page[UnmatchedDeliveryRead],
    summary="Verified vendor deliveries that named no application we know (admins)",
    responses=error_responses(400, 401, 403, 422),
)
async def list_unmatched(
    unit: Unit,
    _: Admin,
    page: PageQuery,
    resolved: Annotated[
        bool, Query(description="false: those still open (default); true: those resolved.")
    ] = False,
) -> Page[UnmatchedDeliveryRead]:
    deliveries, next_cursor = await service.list_unmatched(
        session=unit.session, params=page, resolved=resolved
    )
    return Page[UnmatchedDeliveryRead](
        items=[UnmatchedDeliveryRead.model_validate(d) for d in deliveries],
        next_cursor=next_cursor,
    )


@router.post(
    "/v1/ai-interviews/unmatched/{delivery_id}/replay",
    response_model=UnmatchedDeliveryRead,
    summary="Apply a kept delivery now that its application exists (admins)",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def replay_unmatched(
    delivery_id: DeliveryId, unit: Unit, principal: Admin
) -> UnmatchedDeliveryRead:
    """Applies the delivery exactly as if the vendor had just sent it (its state, its events)
    and resolves it as `replayed`; if the vendor's own retry got through meanwhile, only
    resolves it as `already_delivered`. 409 `still-unmatched` while the application is still
    unknown (or still has another interview); 409 `already-resolved` for one resolved before."""
    delivery = await service.replay(unit=unit, delivery_id=delivery_id, actor_id=principal.subject)
    return UnmatchedDeliveryRead.model_validate(delivery)


@router.post(
    "/v1/ai-interviews/unmatched/{delivery_id}/dismiss",
    response_model=UnmatchedDeliveryRead,
    summary="Resolve a kept delivery without applying it (admins)",
    responses=error_responses(401, 403, 404, 409, 422),
)
async def dismiss_unmatched(
    delivery_id: DeliveryId, unit: Unit, principal: Admin
) -> UnmatchedDeliveryRead:
    delivery = await service.dismiss(unit=unit, delivery_id=delivery_id, actor_id=principal.subject)
    return UnmatchedDeliveryRead.model_validate(delivery)
