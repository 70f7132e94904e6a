"""Customers' webhook endpoints: where they are, what they receive, their signing secret (stored
only encrypted, shown once) and their health: an endpoint that keeps failing is disabled."""

from __future__ import annotations

import base64
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.endpoints import addresses
from notifier.endpoints.models import WebhookEndpoint
from notifier.endpoints.schemas import WebhookEndpointCreate, WebhookEndpointUpdate
from notifier.recipients.service import invalid
from notifier.settings import NotifierSettings
from shared.crypto import Keyring
from shared.http.pagination import PageParams, paginate
from shared.key_rotation import reencrypt_columns
from shared.logging import get_logger
from shared.problems import version_mismatch
from shared.unit import UnitOfWork

log = get_logger(__name__)

SIGNING_KEY_CONTEXT = "webhook_endpoints.secret"
WHSEC_PREFIX = "whsec_"
_SECRET_BYTES = 32
MANUALLY_DISABLED = "Disabled through the API."


@dataclass(frozen=True)
class EndpointTarget:
    id: uuid.UUID
    url: str
    secret: str


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and the base64 of 32 random bytes."""
    return WHSEC_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


def outgoing_url(url: str, *, settings: NotifierSettings, field: str = "url") -> str:
    """The URL, if requests may go there (``addresses.check_url`` with the service's
    settings); otherwise a 422 on ``field`` saying why."""
    try:
        addresses.check_url(
            url,
            allow_private=settings.outbound_allow_private,
            require_https=settings.webhook_require_https,
        )
    except addresses.AddressRefused as refused:
        raise invalid(field, "body", str(refused)) from None
    return url


async def create(
    *,
    unit: UnitOfWork,
    keyring: Keyring,
    settings: NotifierSettings,
    body: WebhookEndpointCreate,
    created_by: str,
) -> tuple[WebhookEndpoint, str]:
    """The new endpoint and its secret in clear (for the one answer that shows it)."""
    url = outgoing_url(body.url, settings=settings)
    secret = new_secret()
    now = unit.clock.now()
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        url=url,
        description=body.description,
        secret_ciphertext=keyring.encrypt(secret, context=SIGNING_KEY_CONTEXT),
        kinds=list(dict.fromkeys(body.kinds)),
        enabled=True,
        disabled_reason=None,
        failing_since=None,
        version=1,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    unit.session.add(endpoint)
    await unit.session.flush()
    log.info("webhook endpoint created", endpoint_id=str(endpoint.id))
    return endpoint, secret


async def get(
    session: AsyncSession, *, endpoint_id: uuid.UUID, for_update: bool = False
) -> WebhookEndpoint | None:
    return await session.get(WebhookEndpoint, endpoint_id, with_for_update=for_update)


async def list_endpoints(
    *, session: AsyncSession, params: PageParams, enabled: bool | None = None
) -> tuple[list[WebhookEndpoint], str | None]:
    statement = sa.select(WebhookEndpoint)
    if enabled is not None:
        statement = statement.where(WebhookEndpoint.enabled.is_(enabled))
    return await paginate(
        session,
        statement,
        order_by=[WebhookEndpoint.created_at, WebhookEndpoint.id],
        params=params,
    )


def _check_version(endpoint: WebhookEndpoint, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != endpoint.version:
        raise version_mismatch(endpoint.version)


async def update(
    *,
    unit: UnitOfWork,
    settings: NotifierSettings,
    endpoint: WebhookEndpoint,
    changes: WebhookEndpointUpdate,
    expected_version: int | None,
) -> WebhookEndpoint:
    """Apply the fields sent. Re-enabling starts afresh: no reason, no failing streak."""
    _check_version(endpoint, expected_version)
    sent = changes.model_dump(exclude_unset=True)
    if "url" in sent:
        endpoint.url = outgoing_url(sent["url"], settings=settings)
    if "kinds" in sent:
        endpoint.kinds = list(dict.fromkeys(sent["kinds"]))
    if "description" in sent:
        endpoint.description = sent["description"]
    if "enabled" in sent and sent["enabled"] != endpoint.enabled:
        endpoint.enabled = sent["enabled"]
        endpoint.failing_since = None
        endpoint.disabled_reason = None if endpoint.enabled else MANUALLY_DISABLED
    endpoint.version += 1
    endpoint.updated_at = unit.clock.now()
    await unit.session.flush()
    return endpoint


async def rotate_secret(
    *,
    unit: UnitOfWork,
    keyring: Keyring,
    endpoint: WebhookEndpoint,
    expected_version: int | None,
) -> str:
    """Replace the secret (the old one stops signing at once) and return the new one."""
    _check_version(endpoint, expected_version)
    secret = new_secret()
    endpoint.secret_ciphertext = keyring.encrypt(secret, context=SIGNING_KEY_CONTEXT)
    endpoint.version += 1
    endpoint.updated_at = unit.clock.now()
    await unit.session.flush()
    log.info("webhook endpoint secret rotated", endpoint_id=str(endpoint.id))
    return secret


async def delete(*, session: AsyncSession, endpoint_id: uuid.UUID) -> bool:
    """Whether there was such an endpoint (deliveries already made keep their history)."""
    result = await session.execute(
        sa.delete(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id)
        .returning(WebhookEndpoint.id)
    )
    return result.first() is not None


def _target(row: sa.Row[uuid.UUID, str, bytes], keyring: Keyring) -> EndpointTarget:
    return EndpointTarget(
        id=row.id,
        url=row.url,
        secret=keyring.decrypt(row.secret_ciphertext, context=SIGNING_KEY_CONTEXT),
    )


_TARGET_COLUMNS = (WebhookEndpoint.id, WebhookEndpoint.url, WebhookEndpoint.secret_ciphertext)


async def endpoints_for_kind(
    session: AsyncSession, keyring: Keyring, kind: str
) -> list[EndpointTarget]:
    """The enabled endpoints that receive ``kind`` (theirs lists it, or is empty), with their
    secrets decrypted, in one query."""
    e = WebhookEndpoint
    rows = await session.execute(
        sa.select(*_TARGET_COLUMNS)
        .where(
            e.enabled.is_(True),
            sa.or_(sa.func.cardinality(e.kinds) == 0, e.kinds.contains([kind])),
        )
        .order_by(e.created_at, e.id)
    )
    return [_target(row, keyring) for row in rows]


async def endpoints_by_id(
    session: AsyncSession, keyring: Keyring, endpoint_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, EndpointTarget]:
    """The enabled endpoints among ``endpoint_ids``, decrypted, in one query (for sending what
    was planned earlier); one since disabled or deleted is absent."""
    if not endpoint_ids:
        return {}
    e = WebhookEndpoint
    rows = await session.execute(
        sa.select(*_TARGET_COLUMNS).where(e.id.in_(list(set(endpoint_ids))), e.enabled.is_(True))
    )
    return {row.id: _target(row, keyring) for row in rows}


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {name}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"


async def record_endpoint_outcome(
    session: AsyncSession,
    *,
    endpoint_id: uuid.UUID,
    succeeded: bool,
    now: datetime,
    disable_after: timedelta,
) -> bool:
    """Keep the endpoint's failing streak: a success ends it, the first failure starts it, and a
    failure when it started more than ``disable_after`` ago disables the endpoint. True when this
    call disabled it. Most calls change nothing and write nothing."""
    e = WebhookEndpoint
    if succeeded:
        await session.execute(
            sa.update(e)
            .where(e.id == endpoint_id, e.failing_since.is_not(None))
            .values(failing_since=None)
        )
        return False
    started = await session.execute(
        sa.update(e)
        .where(e.id == endpoint_id, e.enabled.is_(True), e.failing_since.is_(None))
        .values(failing_since=now)
        .returning(e.id)
    )
    if started.first() is not None:
        return False
    disabled = await session.execute(
        sa.update(e)
        .where(e.id == endpoint_id, e.enabled.is_(True), e.failing_since < now - disable_after)
        .values(
            enabled=False,
            disabled_reason=f"Disabled automatically: every delivery failed for more than "
            f"{_span(disable_after)}. Fix the endpoint, then enable it again.",
            version=e.version + 1,
            updated_at=now,
        )
        .returning(e.id)
    )
    if disabled.first() is None:
        return False
    log.warning("webhook endpoint disabled after failing", endpoint_id=str(endpoint_id))
    return True


# Re-encrypts a batch of endpoints whose signing secret is under an old key (``rotate-keys``).
rotate_keys = reencrypt_columns(
    cast(sa.Table, WebhookEndpoint.__table__), {"secret_ciphertext": SIGNING_KEY_CONTEXT}
)
