from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from notifier.endpoints import service
from notifier.endpoints.dependencies import Settings, WebhookManager
from notifier.endpoints.models import WebhookEndpoint
from notifier.endpoints.schemas import (
    WebhookEndpointCreate,
    WebhookEndpointRead,
    WebhookEndpointUpdate,
    WebhookEndpointWithSecret,
)
from shared.http.app import json_response
from shared.http.dependencies import IfMatch, KeyringDep, Unit
from shared.http.pagination import Page, PageQuery
from shared.problems import error_responses, not_found

router = APIRouter(prefix="/v1/webhook-endpoints", tags=["webhook endpoints"])


def _read(endpoint: WebhookEndpoint) -> Response:
    return json_response(
        WebhookEndpointRead.model_validate(endpoint), headers={"ETag": f'"{endpoint.version}"'}
    )


def _with_secret(endpoint: WebhookEndpoint, secret: str, *, status_code: int = 200) -> Response:
    body = WebhookEndpointWithSecret.model_validate(
        {**WebhookEndpointRead.model_validate(endpoint).model_dump(), "secret": secret}
    )
    headers = {"ETag": f'"{endpoint.version}"', "Cache-Control": "no-store"}
    if status_code == 201:
        headers["Location"] = f"{router.prefix}/{endpoint.id}"
    return json_response(body, status_code=status_code, headers=headers)


async def _load(unit: Unit, endpoint_id: uuid.UUID, *, for_update: bool = False) -> WebhookEndpoint:
    endpoint = await service.get(unit.session, endpoint_id=endpoint_id, for_update=for_update)
    if endpoint is None:
        raise not_found("webhook endpoint", endpoint_id)
    return endpoint


@router.post(
    "",
    status_code=201,
    response_model=WebhookEndpointWithSecret,
    summary="Add a webhook endpoint; the answer shows its signing secret, this once only",
    description="No `Idempotency-Key`: a replayed answer would have to keep the secret in "
    "clear. If the answer is lost, list the endpoints and rotate the new one's secret.",
    responses=error_responses(401, 403, 422),
)
async def create_endpoint(
    body: WebhookEndpointCreate,
    unit: Unit,
    principal: WebhookManager,
    keyring: KeyringDep,
    settings: Settings,
) -> Response:
    endpoint, secret = await service.create(
        unit=unit, keyring=keyring, settings=settings, body=body, created_by=principal.subject
    )
    return _with_secret(endpoint, secret, status_code=201)


@router.get(
    "",
    response_model=Page[WebhookEndpointRead],
    summary="Webhook endpoints, oldest first (never their secrets)",
    responses=error_responses(400, 401, 403, 422),
)
async def list_endpoints(
    unit: Unit,
    _: WebhookManager,
    page: PageQuery,
    enabled: Annotated[bool | None, Query(examples=[False])] = None,
) -> Page[WebhookEndpointRead]:
    endpoints, next_cursor = await service.list_endpoints(
        session=unit.session, params=page, enabled=enabled
    )
    return Page[WebhookEndpointRead](
        items=[WebhookEndpointRead.model_validate(e) for e in endpoints], next_cursor=next_cursor
    )


@router.get(
    "/{endpoint_id}",
    response_model=WebhookEndpointRead,
    summary="One webhook endpoint (not its secret); its ETag is its version",
    responses=error_responses(401, 403, 404, 422),
)
async def get_endpoint(endpoint_id: uuid.UUID, unit: Unit, _: WebhookManager) -> Response:
    return _read(await _load(unit, endpoint_id))


@router.patch(
    "/{endpoint_id}",
    response_model=WebhookEndpointRead,
    summary="Change a webhook endpoint, or disable or re-enable it",
    responses=error_responses(400, 401, 403, 404, 412, 422),
)
async def update_endpoint(
    endpoint_id: uuid.UUID,
    body: WebhookEndpointUpdate,
    unit: Unit,
    _: WebhookManager,
    settings: Settings,
    expected_version: IfMatch,
) -> Response:
    endpoint = await _load(unit, endpoint_id, for_update=True)
    return _read(
        await service.update(
            unit=unit,
            settings=settings,
            endpoint=endpoint,
            changes=body,
            expected_version=expected_version,
        )
    )


@router.post(
    "/{endpoint_id}/secret",
    response_model=WebhookEndpointWithSecret,
    summary="Rotate an endpoint's signing secret; the answer shows the new one, this once only",
    responses=error_responses(400, 401, 403, 404, 412, 422),
)
async def rotate_secret(
    endpoint_id: uuid.UUID,
    unit: Unit,
    _: WebhookManager,
    keyring: KeyringDep,
    expected_version: IfMatch,
) -> Response:
    endpoint = await _load(unit, endpoint_id, for_update=True)
    secret = await service.rotate_secret(
        unit=unit, keyring=keyring, endpoint=endpoint, expected_version=expected_version
    )
    return _with_secret(endpoint, secret)


@router.delete(
    "/{endpoint_id}",
    status_code=204,
    summary="Remove a webhook endpoint",
    responses=error_responses(401, 403, 404, 422),
)
async def delete_endpoint(endpoint_id: uuid.UUID, unit: Unit, _: WebhookManager) -> Response:
    if not await service.delete(session=unit.session, endpoint_id=endpoint_id):
        raise not_found("webhook endpoint", endpoint_id)
    return Response(status_code=204)
