from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Path, Query
from starlette.responses import Response

from shared.auth.principal import Principal
from shared.http.app import json_response
from shared.http.dependencies import IdempotencyDep, KeyringDep, Staff, Unit
from shared.http.pagination import Page, PageQuery, paginate
from shared.problems import Problem, error_responses, not_found
from shared.unit import UnitOfWork
from talentpool.erasure import service
from talentpool.erasure.models import ErasureRequest
from talentpool.erasure.schemas import ErasureCreate, ErasureRead, Reason, report
from talentpool.profiles.dependencies import visible_filter
from talentpool.profiles.models import Profile

router = APIRouter(tags=["erasure"])

ErasureId = Annotated[
    uuid.UUID,
    Path(
        description="The erasure request's id.", examples=["0193e0c4-3333-7000-8000-00000000000c"]
    ),
]

_EXISTING: dict[int | str, dict[str, Any]] = {
    200: {"model": ErasureRead, "description": "The person's erasure was requested before"}
}


def _unknown_person() -> Problem:
    # Never the email or phone itself: the answer (and any log of it) must not repeat them.
    return Problem(404, "Not found", "No such person in the pool.", slug="not-found")


def _respond(erasure: ErasureRead, *, status_code: int) -> Response:
    return json_response(
        erasure,
        status_code=status_code,
        headers={"Location": f"/v1/erasure-requests/{erasure.id}", "Cache-Control": "no-store"},
    )


async def _read(unit: UnitOfWork, erasure: ErasureRequest) -> ErasureRead:
    confirmations = await service.reports_of(unit.session, [erasure])
    return report(erasure, confirmations[erasure.id])


async def _visible(unit: UnitOfWork, principal: Principal, profile_id: uuid.UUID) -> bool:
    condition = visible_filter(principal)
    if condition is None:
        return True
    found = await unit.session.scalar(
        sa.select(Profile.id).where(Profile.id == profile_id, condition)
    )
    return found is not None


@router.post(
    "/v1/erasure-requests",
    status_code=202,
    response_model=ErasureRead,
    summary="Erase a person everywhere: the pool at once, the other services on their "
    "confirmation (asked again: the request already made, 200)",
    description="Give exactly one of `profile_id`, `candidate_id`, `email` or `phone` (found "
    "by keyed blind index). The pool's copy is anonymized in this request; "
    "`talentpool.erasure_requested.v1` asks the pipeline, the scheduler and the notifier to "
    "erase theirs, and the report (`GET /v1/erasure-requests/{id}`) shows each confirmation. "
    "HR without the `talentpool:search` scope may erase only people who applied to jobs they "
    "own (anyone else: 404).",
    responses={**_EXISTING, **error_responses(401, 403, 404, 422)},
)
async def request_erasure(
    body: ErasureCreate,
    unit: Unit,
    principal: Staff,
    keyring: KeyringDep,
    idempotency: IdempotencyDep,
) -> Response:
    async def produce() -> Response:
        session = unit.session
        profile_id: uuid.UUID | None = None
        if body.profile_id is not None:
            profile_id = await service.final_profile(session, body.profile_id)
            if profile_id is None:
                raise not_found("profile", body.profile_id)
        elif body.candidate_id is not None:
            profile_id = await service.profile_of_candidate(session, body.candidate_id)
        elif body.email is not None:
            index = service.email_index(keyring, body.email)
            profile_id = await service.profile_by_index(session, email=index)
            if profile_id is None:
                # Already erased: the profile's index is gone, the request's digest is not.
                digest = service.digest(keyring, index, context=service.EMAIL_DIGEST_CONTEXT)
                earlier = await service.by_digest(session, email=digest)
                profile_id = earlier.profile_id if earlier is not None else None
        elif body.phone is not None:
            index = service.phone_index(keyring, body.phone)
            profile_id = await service.profile_by_index(session, phone=index)
            if profile_id is None:
                digest = service.digest(keyring, index, context=service.PHONE_DIGEST_CONTEXT)
                earlier = await service.by_digest(session, phone=digest)
                profile_id = earlier.profile_id if earlier is not None else None
        if profile_id is None or not await _visible(unit, principal, profile_id):
            raise _unknown_person()
        erasure, created = await service.request(
            unit=unit,
            keyring=keyring,
            profile_id=profile_id,
            reason="hr_request",
            requested_by=principal.subject,
        )
        return _respond(await _read(unit, erasure), status_code=202 if created else 200)

    return await idempotency.run(unit, produce)


@router.get(
    "/v1/erasure-requests/{erasure_id}",
    response_model=ErasureRead,
    summary="The erasure report: each service's confirmation and what it erased, or pending",
    responses=error_responses(401, 403, 404, 422),
)
async def get_erasure(erasure_id: ErasureId, unit: Unit, principal: Staff) -> Response:
    erasure = await service.get(unit.session, erasure_id)
    if erasure is None or not await _visible(unit, principal, erasure.profile_id):
        raise not_found("erasure request", erasure_id)
    return _respond(await _read(unit, erasure), status_code=200)


@router.get(
    "/v1/erasure-requests",
    response_model=Page[ErasureRead],
    summary="Erasure requests the caller may see, newest first",
    responses=error_responses(400, 401, 403, 422),
)
async def list_erasures(
    unit: Unit,
    principal: Staff,
    page: PageQuery,
    status: Annotated[
        Literal["pending", "completed"] | None,
        Query(description="Only pending or only completed requests.", examples=["pending"]),
    ] = None,
    reason: Annotated[
        Reason | None,
        Query(description="Only requests of this reason.", examples=["retention"]),
    ] = None,
) -> Page[ErasureRead]:
    statement = sa.select(ErasureRequest)
    condition = visible_filter(principal)
    if condition is not None:
        statement = statement.join(Profile, Profile.id == ErasureRequest.profile_id).where(
            condition
        )
    if status == "pending":
        statement = statement.where(ErasureRequest.completed_at.is_(None))
    elif status == "completed":
        statement = statement.where(ErasureRequest.completed_at.is_not(None))
    if reason is not None:
        statement = statement.where(ErasureRequest.reason == reason)
    erasures, next_cursor = await paginate(
        unit.session,
        statement,
        order_by=[ErasureRequest.requested_at, ErasureRequest.id],
        params=page,
        descending=True,
    )
    confirmations = await service.reports_of(unit.session, erasures)
    return Page[ErasureRead](
        items=[report(erasure, confirmations[erasure.id]) for erasure in erasures],
        next_cursor=next_cursor,
    )
