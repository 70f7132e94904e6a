"""Chat robots (DingTalk, WeCom group robots) that staff notifications are posted to, for one
job's team or for every job. Their URL (it carries the access token) and signing secret are
stored only encrypted and never shown; the API shows the URL's host and path."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.endpoints.service import outgoing_url
from notifier.recipients.service import invalid
from notifier.robots.models import ChatRobot
from notifier.robots.schemas import ChatRobotCreate, ChatRobotRead, ChatRobotUpdate, Provider
from notifier.settings import NotifierSettings
from shared.crypto import Keyring
from shared.http.pagination import PageParams, paginate
from shared.key_rotation import reencrypt_columns
from shared.logging import get_logger
from shared.unit import UnitOfWork

log = get_logger(__name__)

URL_CONTEXT = "chat_robots.url"
SIGNING_KEY_CONTEXT = "chat_robots.secret"
# Only DingTalk signs robot messages (HMAC-SHA256 of timestamp and secret).
_SIGNED_PROVIDERS = frozenset({"dingtalk"})


@dataclass(frozen=True)
class RobotTarget:
    id: uuid.UUID
    provider: str
    url: str
    secret: str | None


def mask(url: str) -> str:
    """Host (and port) and path: enough to recognise the robot, without its access token."""
    parts = urlsplit(url)
    return f"{parts.netloc}{parts.path}"


def read(robot: ChatRobot, keyring: Keyring) -> ChatRobotRead:
    return ChatRobotRead(
        id=robot.id,
        name=robot.name,
        provider=cast(Provider, robot.provider),
        masked_url=mask(keyring.decrypt(robot.url_ciphertext, context=URL_CONTEXT)),
        signed=robot.secret_ciphertext is not None,
        job_id=robot.job_id,
        active=robot.active,
        created_by=robot.created_by,
        created_at=robot.created_at,
    )


def _check_secret(provider: str, secret: str | None) -> None:
    if secret is not None and provider not in _SIGNED_PROVIDERS:
        raise invalid("secret", "body", f"{provider} robots are not signed; send no secret")


async def create(
    *,
    unit: UnitOfWork,
    keyring: Keyring,
    settings: NotifierSettings,
    body: ChatRobotCreate,
    created_by: str,
) -> ChatRobot:
    url = outgoing_url(body.url, settings=settings)
    _check_secret(body.provider, body.secret)
    robot = ChatRobot(
        id=uuid.uuid4(),
        name=body.name,
        provider=body.provider,
        url_ciphertext=keyring.encrypt(url, context=URL_CONTEXT),
        secret_ciphertext=(
            None
            if body.secret is None
            else keyring.encrypt(body.secret, context=SIGNING_KEY_CONTEXT)
        ),
        job_id=body.job_id,
        active=True,
        created_by=created_by,
        created_at=unit.clock.now(),
    )
    unit.session.add(robot)
    await unit.session.flush()
    log.info("chat robot created", robot_id=str(robot.id), provider=robot.provider)
    return robot


async def get(
    session: AsyncSession, *, robot_id: uuid.UUID, for_update: bool = False
) -> ChatRobot | None:
    return await session.get(ChatRobot, robot_id, with_for_update=for_update)


async def list_robots(
    *,
    session: AsyncSession,
    params: PageParams,
    job_id: uuid.UUID | None = None,
    active: bool | None = None,
) -> tuple[list[ChatRobot], str | None]:
    statement = sa.select(ChatRobot)
    if job_id is not None:
        statement = statement.where(ChatRobot.job_id == job_id)
    if active is not None:
        statement = statement.where(ChatRobot.active.is_(active))
    return await paginate(
        session, statement, order_by=[ChatRobot.created_at, ChatRobot.id], params=params
    )


async def update(
    *,
    unit: UnitOfWork,
    keyring: Keyring,
    settings: NotifierSettings,
    robot: ChatRobot,
    changes: ChatRobotUpdate,
) -> ChatRobot:
    sent = changes.model_dump(exclude_unset=True)
    if "url" in sent:
        url = outgoing_url(sent["url"], settings=settings)
        robot.url_ciphertext = keyring.encrypt(url, context=URL_CONTEXT)
    if "secret" in sent:
        _check_secret(robot.provider, sent["secret"])
        robot.secret_ciphertext = (
            None
            if sent["secret"] is None
            else keyring.encrypt(sent["secret"], context=SIGNING_KEY_CONTEXT)
        )
    for field in ("name", "active", "job_id"):
        if field in sent:
            setattr(robot, field, sent[field])
    await unit.session.flush()
    return robot


async def delete(*, session: AsyncSession, robot_id: uuid.UUID) -> bool:
    result = await session.execute(
        sa.delete(ChatRobot).where(ChatRobot.id == robot_id).returning(ChatRobot.id)
    )
    return result.first() is not None


def _target(row: sa.Row[uuid.UUID, str, bytes, bytes | None], keyring: Keyring) -> RobotTarget:
    return RobotTarget(
        id=row.id,
        provider=row.provider,
        url=keyring.decrypt(row.url_ciphertext, context=URL_CONTEXT),
        secret=(
            None
            if row.secret_ciphertext is None
            else keyring.decrypt(row.secret_ciphertext, context=SIGNING_KEY_CONTEXT)
        ),
    )


_TARGET_COLUMNS = (
    ChatRobot.id,
    ChatRobot.provider,
    ChatRobot.url_ciphertext,
    ChatRobot.secret_ciphertext,
)


async def robots_for_job(
    session: AsyncSession, keyring: Keyring, job_id: uuid.UUID | None
) -> list[RobotTarget]:
    """The active robots that post for ``job_id``: the job's own and the global ones (only the
    global ones for a notification about no job), decrypted, in one query."""
    r = ChatRobot
    scope = r.job_id.is_(None) if job_id is None else sa.or_(r.job_id.is_(None), r.job_id == job_id)
    rows = await session.execute(
        sa.select(*_TARGET_COLUMNS).where(r.active.is_(True), scope).order_by(r.created_at, r.id)
    )
    return [_target(row, keyring) for row in rows]


async def robots_by_id(
    session: AsyncSession, keyring: Keyring, robot_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, RobotTarget]:
    """The active robots among ``robot_ids``, decrypted, in one query (for sending what was
    planned earlier); a robot since removed or deactivated is absent."""
    if not robot_ids:
        return {}
    rows = await session.execute(
        sa.select(*_TARGET_COLUMNS).where(
            ChatRobot.id.in_(list(set(robot_ids))), ChatRobot.active.is_(True)
        )
    )
    return {row.id: _target(row, keyring) for row in rows}


# Re-encrypts a batch of robots whose URL or secret is under an old key (``rotate-keys``).
rotate_keys = reencrypt_columns(
    cast(sa.Table, ChatRobot.__table__),
    {"url_ciphertext": URL_CONTEXT, "secret_ciphertext": SIGNING_KEY_CONTEXT},
)
