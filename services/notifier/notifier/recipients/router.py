from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from notifier.recipients import service
from notifier.recipients.dependencies import ManagedRecipient, StaffMember
from notifier.recipients.schemas import RecipientRead, RecipientSettings
from shared.http.app import json_response
from shared.http.dependencies import IfMatch, KeyringDep, Unit
from shared.problems import error_responses, not_found

router = APIRouter(tags=["recipients"])

_CREATED: dict[int | str, dict[str, Any]] = {
    201: {"model": RecipientRead, "description": "Saved for the first time"}
}


def _respond(settings: RecipientRead, *, status_code: int = 200) -> Response:
    # Contact data is personal: no cache (browser, proxy) may keep a copy.
    return json_response(
        settings,
        status_code=status_code,
        headers={"ETag": f'"{settings.version}"', "Cache-Control": "no-store"},
    )


@router.get(
    "/v1/recipients/{kind}/{recipient_id}",
    response_model=RecipientRead,
    summary="A recipient's contact data and notification preferences; its ETag is its version",
    responses=error_responses(401, 403, 404, 422),
)
async def get_recipient(recipient: ManagedRecipient, unit: Unit, keyring: KeyringDep) -> Response:
    kind, recipient_id = recipient
    stored = await service.get(unit.session, kind=kind, id=recipient_id)
    if stored is None:
        raise not_found("recipient", f"{kind}/{recipient_id}")
    return _respond(service.read(stored, keyring))


@router.put(
    "/v1/recipients/{kind}/{recipient_id}",
    response_model=RecipientRead,
    summary="Replace a recipient's contact data and preferences (created: 201, changed: 200)",
    responses={**_CREATED, **error_responses(400, 401, 403, 404, 409, 412, 422)},
)
async def put_recipient(
    recipient: ManagedRecipient,
    body: RecipientSettings,
    unit: Unit,
    keyring: KeyringDep,
    expected_version: IfMatch,
) -> Response:
    kind, recipient_id = recipient
    stored = await service.put(
        unit=unit,
        keyring=keyring,
        kind=kind,
        id=recipient_id,
        settings=body,
        expected_version=expected_version,
    )
    return _respond(service.read(stored, keyring), status_code=201 if stored.version == 1 else 200)


@router.get(
    "/v1/me/notification-settings",
    response_model=RecipientRead,
    summary="Your own contact data and notification preferences (version 0: never saved)",
    responses=error_responses(401, 403),
)
async def get_my_settings(principal: StaffMember, unit: Unit, keyring: KeyringDep) -> Response:
    stored = await service.get(unit.session, kind="staff", id=principal.subject)
    if stored is None:
        return _respond(service.defaults(kind="staff", id=principal.subject))
    return _respond(service.read(stored, keyring))


@router.put(
    "/v1/me/notification-settings",
    response_model=RecipientRead,
    summary="Replace your own contact data and preferences (created: 201, changed: 200)",
    responses={**_CREATED, **error_responses(400, 401, 403, 409, 412, 422)},
)
async def put_my_settings(
    principal: StaffMember,
    body: RecipientSettings,
    unit: Unit,
    keyring: KeyringDep,
    expected_version: IfMatch,
) -> Response:
    stored = await service.put(
        unit=unit,
        keyring=keyring,
        kind="staff",
        id=principal.subject,
        settings=body,
        expected_version=expected_version,
    )
    return _respond(service.read(stored, keyring), status_code=201 if stored.version == 1 else 200)
