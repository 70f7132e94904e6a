from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Annotated, cast

from fastapi import APIRouter, Body, Path
from starlette.responses import Response

from pipeline.applications.dependencies import LockedApplication, VisibleApplication
from pipeline.calendar.dependencies import CurrentCalendar
from pipeline.portal import service
from pipeline.portal.dependencies import Access, LockedPortalApplication, RequestLocale
from pipeline.portal.schemas import (
    HumanReviewRequested,
    LinkCreate,
    LinkIssued,
    LinkRead,
    PortalView,
)
from pipeline.settings import PipelineSettings
from shared.auth.link_tokens import LinkTokens
from shared.http.app import json_response
from shared.http.dependencies import RuntimeDep, Staff, Unit
from shared.problems import error_responses, not_found

router = APIRouter(tags=["portal"])


def _tokens(runtime: RuntimeDep) -> LinkTokens:
    assert runtime.link_tokens is not None  # the pipeline defines the link_tokens table
    return runtime.link_tokens


# Staff: the candidate's links


@router.post(
    "/v1/applications/{application_id}/links",
    status_code=201,
    response_model=LinkIssued,
    summary="Issue a link token for the candidate's view; the token is shown only here",
    description="Not idempotent on purpose: the token is never stored, so a retry cannot "
    "return it again and issues another link instead (revoke the one not sent).",
    responses=error_responses(401, 403, 404, 422),
)
async def issue_link(
    application: LockedApplication,
    unit: Unit,
    principal: Staff,
    runtime: RuntimeDep,
    body: Annotated[LinkCreate | None, Body()] = None,
) -> Response:
    settings = cast(PipelineSettings, runtime.settings)
    issued = await service.issue_link(
        unit=unit,
        tokens=_tokens(runtime),
        application_id=application.id,
        ttl=timedelta(days=settings.candidate_link_ttl_days),
        revoke_previous=body.revoke_previous if body else False,
    )
    return json_response(
        issued,
        status_code=201,
        headers={
            "Location": f"/v1/applications/{application.id}/links/{issued.id}",
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/v1/applications/{application_id}/links",
    response_model=list[LinkRead],
    summary="The application's links, newest first (never their tokens)",
    responses=error_responses(401, 403, 404, 422),
)
async def list_links(
    application: VisibleApplication, unit: Unit, runtime: RuntimeDep
) -> list[LinkRead]:
    records = await _tokens(runtime).list_for(
        unit.session, purpose=service.PURPOSE, subject_id=str(application.id)
    )
    now = unit.clock.now()
    return [service.link_read(record, now) for record in records]


@router.delete(
    "/v1/applications/{application_id}/links/{link_id}",
    status_code=204,
    summary="Revoke a link; the candidate then gets 410 with it (revoking twice is a no-op)",
    responses=error_responses(401, 403, 404, 422),
)
async def revoke_link(
    application: VisibleApplication,
    link_id: Annotated[uuid.UUID, Path(description="The link's id.")],
    unit: Unit,
    runtime: RuntimeDep,
) -> Response:
    revoked = await _tokens(runtime).revoke_for(
        unit.session, token_id=link_id, purpose=service.PURPOSE, subject_id=str(application.id)
    )
    if revoked is None:
        raise not_found("link", link_id)
    return Response(status_code=204)


# The candidate (``Authorization: Bearer <link token>``)


@router.get(
    "/v1/portal/application",
    response_model=PortalView,
    summary="The candidate's own application: a timeline with expected dates, released "
    "results, review progress and messages",
    responses=error_responses(401, 410),
)
async def get_my_application(
    access: Access, unit: Unit, calendar: CurrentCalendar, locale: RequestLocale
) -> Response:
    view = await service.view(
        session=unit.session,
        application_id=access.application_id,
        calendar=calendar,
        now=unit.clock.now(),
        locale=locale,
    )
    if view is None:
        raise not_found("application", access.application_id)
    return json_response(
        view,
        headers={
            "Content-Language": view.locale,
            "Vary": "Accept-Language",
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/v1/portal/human-review",
    status_code=201,
    response_model=HumanReviewRequested,
    summary="Ask for a person to review an AI-based decision (emits human_review_requested)",
    responses=error_responses(401, 409, 410),
)
async def request_human_review(portal: LockedPortalApplication, unit: Unit) -> Response:
    requested_at = await service.request_human_review(
        unit=unit, application=portal.application, job=portal.job
    )
    return json_response(HumanReviewRequested(requested_at=requested_at), status_code=201)
