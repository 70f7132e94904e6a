from __future__ import annotations

from datetime import timedelta
from typing import cast

from fastapi import APIRouter, Request
from starlette.responses import Response

from pipeline.applications.dependencies import LockedApplication, VisibleApplication
from pipeline.messages import service
from pipeline.messages.models import Message
from pipeline.messages.schemas import (
    CandidateMessageRead,
    MarkedRead,
    MessageIn,
    MessageRead,
    UnreadThread,
)
from pipeline.portal.dependencies import Access, LockedPortalApplication
from pipeline.settings import PipelineSettings
from shared.http.app import json_response
from shared.http.dependencies import IdempotencyDep, RuntimeDep, Staff, Unit
from shared.http.idempotency import Idempotency, check_key
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses

router = APIRouter(tags=["messages"])

_SENDER = {"candidate": "candidate", "hr": "recruiter", "admin": "recruiter", "system": "system"}


def _unanswered_after(runtime: RuntimeDep) -> timedelta:
    settings = cast(PipelineSettings, runtime.settings)
    return timedelta(minutes=settings.message_unanswered_after_minutes)


def _for_candidate(message: Message) -> CandidateMessageRead:
    return CandidateMessageRead(
        id=message.id,
        sender=_SENDER[message.sender_kind],
        body=message.body,
        created_at=message.created_at,
        read_at=message.read_at,
    )


# The candidate's side (``Authorization: Bearer <link token>``)


@router.get(
    "/v1/portal/messages",
    response_model=Page[CandidateMessageRead],
    tags=["portal"],
    summary="The candidate's message thread with HR, newest first",
    responses=error_responses(400, 401, 410, 422),
)
async def list_my_messages(
    access: Access, unit: Unit, page: PageQuery
) -> Page[CandidateMessageRead]:
    messages, next_cursor = await service.list_thread(
        session=unit.session, application_id=access.application_id, params=page
    )
    return Page[CandidateMessageRead](
        items=[_for_candidate(message) for message in messages], next_cursor=next_cursor
    )


@router.post(
    "/v1/portal/messages",
    status_code=201,
    response_model=CandidateMessageRead,
    tags=["portal"],
    summary="Write to HR (emits message_posted; unanswered, it reminds HR)",
    responses=error_responses(401, 410, 413, 422),
)
async def post_my_message(
    portal: LockedPortalApplication,
    body: MessageIn,
    unit: Unit,
    runtime: RuntimeDep,
    request: Request,
) -> Response:
    # The staff idempotency dependency reads a JWT; the candidate's key is scoped to their link.
    idempotency = Idempotency(
        table=runtime.spec.infra.idempotency_keys,
        key=check_key(request.headers.get("idempotency-key")),
        principal=f"link:{portal.link_id}",
        method=request.method,
        path=request.url.path,
        body=await request.body(),
        retention=timedelta(hours=runtime.settings.idempotency_retention_hours),
    )

    async def produce() -> Response:
        message = await service.post(
            unit=unit,
            application=portal.application,
            sender_kind="candidate",
            sender_id=None,
            body=body.body,
            unanswered_after=_unanswered_after(runtime),
        )
        return json_response(_for_candidate(message), status_code=201)

    return await idempotency.run(unit, produce)


@router.post(
    "/v1/portal/messages/read",
    response_model=MarkedRead,
    tags=["portal"],
    summary="Mark HR's messages read",
    responses=error_responses(401, 410),
)
async def read_my_messages(access: Access, unit: Unit) -> MarkedRead:
    marked = await service.mark_read(
        unit=unit, application_id=access.application_id, by_candidate=True
    )
    return MarkedRead(marked=marked)


# Staff


@router.get(
    "/v1/applications/{application_id}/messages",
    response_model=Page[MessageRead],
    summary="The application's message thread, newest first",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_messages(
    application: VisibleApplication, unit: Unit, page: PageQuery
) -> Page[MessageRead]:
    messages, next_cursor = await service.list_thread(
        session=unit.session, application_id=application.id, params=page
    )
    return Page[MessageRead](
        items=[MessageRead.model_validate(message) for message in messages],
        next_cursor=next_cursor,
    )


@router.post(
    "/v1/applications/{application_id}/messages",
    status_code=201,
    response_model=MessageRead,
    summary="Write to the candidate (emits message_posted; answers the candidate's messages)",
    responses=error_responses(401, 403, 404, 413, 422),
)
async def post_message(
    application: LockedApplication,
    body: MessageIn,
    unit: Unit,
    principal: Staff,
    runtime: RuntimeDep,
    idempotency: IdempotencyDep,
) -> Response:
    async def produce() -> Response:
        message = await service.post(
            unit=unit,
            application=application,
            sender_kind=principal.role.value,  # type: ignore[arg-type]
            sender_id=principal.subject,
            body=body.body,
            unanswered_after=_unanswered_after(runtime),
        )
        return json_response(MessageRead.model_validate(message), status_code=201)

    return await idempotency.run(unit, produce)


@router.post(
    "/v1/applications/{application_id}/messages/read",
    response_model=MarkedRead,
    summary="Mark the candidate's messages read",
    responses=error_responses(401, 403, 404, 422),
)
async def read_messages(application: VisibleApplication, unit: Unit) -> MarkedRead:
    marked = await service.mark_read(unit=unit, application_id=application.id, by_candidate=False)
    return MarkedRead(marked=marked)


@router.get(
    "/v1/messages/unread",
    response_model=Page[UnreadThread],
    summary="Applications with unread candidate messages, longest waiting first",
    responses=error_responses(400, 401, 403, 422),
)
async def list_unread(unit: Unit, principal: Staff, page: PageQuery) -> Page[UnreadThread]:
    rows, next_cursor = await service.unread_threads(
        session=unit.session, principal=principal, params=page
    )
    return Page[UnreadThread](
        items=[UnreadThread.model_validate(row) for row in rows], next_cursor=next_cursor
    )
