from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime
from starlette.responses import Response

from shared.http.app import json_response
from shared.http.dependencies import IdempotencyDep, Staff, Unit
from shared.http.pagination import PageQuery
from shared.problems import Problem, error_responses
from talentpool.no_shows import service
from talentpool.no_shows.schemas import NoShowAction, NoShowActionRead, NoShowPage, NoShowRead
from talentpool.recommendations.dependencies import ManagedJob, require_open
from talentpool.reinvitations.exceptions import nobody_invited
from talentpool.reinvitations.schemas import RefusalRead, ReinvitationRead

router = APIRouter(tags=["no_shows"])

_ACTED: dict[int | str, dict[str, Any]] = {
    202: {"model": NoShowActionRead, "description": "reinvite: requested; invitations follow"}
}


def _invalid(field: str, location: str, message: str, code: str) -> Problem:
    return Problem(
        422,
        "Invalid request",
        message,
        slug="validation-error",
        errors=[{"field": field, "location": location, "message": message, "code": code}],
    )


def _window(
    invited_from: AwareDatetime | None,
    invited_to: AwareDatetime | None,
    expired_only: bool,
    *,
    location: str,
) -> service.Window:
    if invited_from is not None and invited_to is not None and invited_to <= invited_from:
        raise _invalid(
            "invited_to", location, "invited_to must be after invited_from.", "window_order"
        )
    return service.Window(invited_from, invited_to, expired_only)


@router.get(
    "/v1/jobs/{job_id}/no-shows",
    response_model=NoShowPage,
    summary="Who was invited to the job's AI interview in a window and never completed it",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def list_no_shows(
    job: ManagedJob,
    unit: Unit,
    page: PageQuery,
    invited_from: Annotated[
        AwareDatetime | None,
        Query(description="Invited at or after (RFC 3339).", examples=["2025-03-03T00:00:00Z"]),
    ] = None,
    invited_to: Annotated[
        AwareDatetime | None,
        Query(description="Invited before (RFC 3339).", examples=["2025-03-04T00:00:00Z"]),
    ] = None,
    expired_only: Annotated[
        bool, Query(description="Only those whose invitation has expired.")
    ] = False,
) -> NoShowPage:
    """Ordered by invitation time; `count` is the whole group's size. Each person comes with
    a summary of their history with the application (opened, reminders and notifications
    from their timeline, expiry) and their tags."""
    window = _window(invited_from, invited_to, expired_only, location="query")
    items, next_cursor, count = await service.page(
        unit.session, job=job, window=window, params=page, now=unit.clock.now()
    )
    return NoShowPage(
        count=count,
        items=[
            NoShowRead(
                application_id=item.application_id,
                candidate_id=item.candidate_id,
                profile_id=item.profile_id,
                status=item.status,
                stage_key=item.stage_key,
                invited_at=item.invited_at,
                opened=item.opened_at is not None,
                opened_at=item.opened_at,
                started_at=item.started_at,
                expired_at=item.expired_at,
                reminders=item.reminders,
                notifications=item.notifications,
                history=item.history,
                tags=item.tags,
                reinvited_at=item.reinvited_at,
            )
            for item in items
        ],
        next_cursor=next_cursor,
    )


@router.post(
    "/v1/jobs/{job_id}/no-shows/actions",
    response_model=NoShowActionRead,
    summary="Re-invite the no-show group, or set it aside, in one call",
    responses={**_ACTED, **error_responses(400, 401, 403, 404, 409, 422)},
)
async def act_on_no_shows(
    job: ManagedJob,
    principal: Staff,
    body: NoShowAction,
    unit: Unit,
    idempotency: IdempotencyDep,
) -> Response:
    """`reinvite` (202): each person gets a new AI-interview invitation on their application,
    from a `talentpool.reinvitation_requested` event the scheduler acts on; no re-engagement
    consent is needed, since it is the application they made. Refused: `on_hold`,
    `unsubscribed`, `unknown` (not in the group). `set_aside` (200): tagged `set_aside` (not
    recommended again) and, with `until`, `on_hold` until then. When nobody could be acted on:
    422 with the reasons."""
    if (body.profile_ids is None) == (not body.all):
        raise _invalid(
            "profile_ids", "body", "Give either profile_ids or all: true.", "one_of_required"
        )
    window = _window(body.invited_from, body.invited_to, body.expired_only, location="body")
    now = unit.clock.now()
    if body.until is not None:
        if body.action != "set_aside":
            raise _invalid("until", "body", "until applies to set_aside only.", "not_allowed")
        if body.until <= now:
            raise _invalid("until", "body", "until must be in the future.", "in_the_past")
    if body.action == "reinvite":
        require_open(job)
    asked = body.profile_ids or []

    async def produce() -> Response:
        group = await service.members(
            unit.session, job_id=job.id, window=window, profile_ids=body.profile_ids
        )
        if len(group) > service.MAX_ACTION_PEOPLE:
            raise _invalid(
                "all",
                "body",
                f"The group holds more than {service.MAX_ACTION_PEOPLE} people; narrow the "
                "window (invited_from, invited_to).",
                "too_many",
            )
        if body.action == "reinvite":
            result = await service.reinvite(
                unit, job_id=job.id, group=group, asked=asked, requested_by=principal.subject
            )
        else:
            result = await service.set_aside(
                unit, group=group, asked=asked, actor=principal.subject, until=body.until
            )
        if not result.reinvitations and not result.set_aside and result.refusals:
            positions = {pid: i for i, pid in reversed(list(enumerate(asked)))}
            raise nobody_invited(
                result.refusals, positions=positions, title="Nobody in the group could be acted on"
            )
        return json_response(
            NoShowActionRead(
                action=result.action,
                reinvitations=[ReinvitationRead.model_validate(r) for r in result.reinvitations],
                refusals=[RefusalRead.model_validate(r) for r in result.refusals],
                set_aside=result.set_aside,
                until=body.until if body.action == "set_aside" else None,
            ),
            status_code=202 if body.action == "reinvite" else 200,
        )

    return await idempotency.run(unit, produce)
