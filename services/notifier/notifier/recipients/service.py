"""Recipients: how to reach staff and interviewers, and what every recipient wants (quiet hours,
muted channels, unsubscriptions). Contact data is stored only encrypted; the dispatcher reads
preferences and contacts for many recipients in one query each."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.jobs.models import Job
from notifier.kinds import KINDS
from notifier.notifications.models import Notification
from notifier.recipients.contacts import (
    EMAIL_CONTEXT,
    PHONE_CONTEXT,
    format_clock,
    parse_clock,
)
from notifier.recipients.models import Recipient
from notifier.recipients.schemas import Locale, RecipientKind, RecipientRead, RecipientSettings
from shared.crypto import Keyring
from shared.events.talentpool import CandidateSubscriptionChangedV1
from shared.key_rotation import reencrypt_columns
from shared.problems import Problem, conflict, version_mismatch
from shared.unit import UnitOfWork

RECIPIENT_KINDS = ("candidate", "staff", "interviewer")
# What a candidate's record may not hold: the pipeline owns the candidate's contact data.
_CONTACT_FIELDS = ("email", "phone", "locale")


def invalid(field: str, location: str, message: str) -> Problem:
    """A 422 naming one field, shaped like the framework's validation errors."""
    return Problem(
        422,
        "Invalid request",
        f"{location}.{field}: {message}",
        slug="validation-error",
        errors=[{"field": field, "location": location, "message": message, "code": "invalid"}],
    )


@dataclass(frozen=True)
class Preferences:
    quiet_start: time | None
    quiet_end: time | None
    time_zone: str | None
    locale: str | None
    muted_channels: frozenset[str]
    unsubscribed_kinds: frozenset[str]
    unsubscribed_all: bool


@dataclass(frozen=True)
class Subscription:
    """What a recipient is unsubscribed from, as of ``version`` of their record."""

    unsubscribed_kinds: tuple[str, ...]
    unsubscribed_all: bool
    version: int


@dataclass(frozen=True)
class Contact:
    email: str | None
    phone: str | None
    locale: str | None
    time_zone: str | None


async def candidate_visible_to(
    session: AsyncSession, *, candidate_id: uuid.UUID, subject: str
) -> bool:
    """Whether the candidate has been notified about a job this HR user owns: the notifier's
    own record of which candidate applied where (it reads no other service's tables)."""
    statement = sa.select(
        sa.exists().where(
            Notification.candidate_id == candidate_id,
            Notification.job_id == Job.id,
            Job.owner_ids.contains([subject]),
        )
    )
    return bool(await session.scalar(statement))


async def get(
    session: AsyncSession, *, kind: str, id: str, for_update: bool = False
) -> Recipient | None:
    return await session.get(Recipient, (kind, id), with_for_update=for_update)


def read(recipient: Recipient, keyring: Keyring) -> RecipientRead:
    """The recipient as the API shows it, contact data decrypted."""
    return RecipientRead(
        kind=cast(RecipientKind, recipient.kind),
        id=recipient.id,
        email=_open(keyring, recipient.email_ciphertext, EMAIL_CONTEXT),
        phone=_open(keyring, recipient.phone_ciphertext, PHONE_CONTEXT),
        locale=cast(Locale | None, recipient.locale),
        time_zone=recipient.time_zone,
        quiet_start=format_clock(recipient.quiet_start),
        quiet_end=format_clock(recipient.quiet_end),
        muted_channels=list(recipient.muted_channels),
        unsubscribed_kinds=list(recipient.unsubscribed_kinds),
        unsubscribed_all=recipient.unsubscribed_all,
        version=recipient.version,
        updated_at=recipient.updated_at,
    )


def defaults(*, kind: RecipientKind, id: str) -> RecipientRead:
    """The settings of someone who never saved any (version 0)."""
    return RecipientRead(
        kind=kind,
        id=id,
        email=None,
        phone=None,
        locale=None,
        time_zone=None,
        quiet_start=None,
        quiet_end=None,
        muted_channels=[],
        unsubscribed_kinds=[],
        unsubscribed_all=False,
        version=0,
        updated_at=None,
    )


def _open(keyring: Keyring, ciphertext: bytes | None, context: str) -> str | None:
    return None if ciphertext is None else keyring.decrypt(ciphertext, context=context)


def _seal(keyring: Keyring, plaintext: str | None, context: str) -> bytes | None:
    return None if plaintext is None else keyring.encrypt(plaintext, context=context)


def _check(kind: str, settings: RecipientSettings) -> None:
    if kind == "candidate":
        for field in _CONTACT_FIELDS:
            if getattr(settings, field) is not None:
                raise invalid(
                    field,
                    "body",
                    "a candidate's contact data and language are the pipeline's; "
                    "only preferences are kept here",
                )
    if settings.quiet_start is not None and settings.quiet_end is None:
        raise invalid("quiet_end", "body", "quiet hours need both a start and an end")
    if settings.quiet_end is not None and settings.quiet_start is None:
        raise invalid("quiet_start", "body", "quiet hours need both a start and an end")
    if settings.quiet_start is not None and settings.quiet_start == settings.quiet_end:
        raise invalid("quiet_end", "body", "quiet hours must end at another time than they start")


def _values(keyring: Keyring, settings: RecipientSettings) -> dict[str, object]:
    return {
        "email_ciphertext": _seal(keyring, settings.email, EMAIL_CONTEXT),
        "phone_ciphertext": _seal(keyring, settings.phone, PHONE_CONTEXT),
        "locale": settings.locale,
        "time_zone": settings.time_zone,
        "quiet_start": None if settings.quiet_start is None else parse_clock(settings.quiet_start),
        "quiet_end": None if settings.quiet_end is None else parse_clock(settings.quiet_end),
        "muted_channels": list(dict.fromkeys(settings.muted_channels)),
        "unsubscribed_kinds": list(dict.fromkeys(settings.unsubscribed_kinds)),
        "unsubscribed_all": settings.unsubscribed_all,
    }


async def put(
    *,
    unit: UnitOfWork,
    keyring: Keyring,
    kind: str,
    id: str,
    settings: RecipientSettings,
    expected_version: int | None,
) -> Recipient:
    """Create or replace the recipient's settings. ``expected_version`` (If-Match) 0 means
    "only if never saved"; a stale one is a 412."""
    _check(kind, settings)
    values = _values(keyring, settings)
    now = unit.clock.now()
    session = unit.session
    recipient = await get(session, kind=kind, id=id, for_update=True)
    if recipient is None:
        if expected_version not in (None, 0):
            raise version_mismatch(0)
        created: Recipient | None = await session.scalar(
            pg_insert(Recipient)
            .values(kind=kind, id=id, version=1, updated_at=now, **values)
            .on_conflict_do_nothing()
            .returning(Recipient)
        )
        if created is not None:
            if created.unsubscribed_all or created.unsubscribed_kinds:
                await announce_subscription(unit, kind=kind, id=id, now=now, recipient=created)
            return created
        # Saved by someone else since we looked: lock theirs and replace it, as PUT does.
        recipient = await get(session, kind=kind, id=id, for_update=True)
        if recipient is None:
            raise conflict("The settings changed while being saved; retry.")
    if expected_version is not None and expected_version != recipient.version:
        raise version_mismatch(recipient.version)
    before = (recipient.unsubscribed_all, sorted(recipient.unsubscribed_kinds))
    for field, value in values.items():
        setattr(recipient, field, value)
    recipient.version += 1
    recipient.updated_at = now
    await session.flush()
    if before != (recipient.unsubscribed_all, sorted(recipient.unsubscribed_kinds)):
        await announce_subscription(unit, kind=kind, id=id, now=now, recipient=recipient)
    return recipient


async def announce_subscription(
    unit: UnitOfWork,
    *,
    kind: str,
    id: str,
    now: datetime,
    recipient: Recipient | Subscription,
) -> None:
    """Tell the talent pool that a candidate's unsubscriptions changed (it re-engages nobody
    who left everything); other recipients' changes concern no one else."""
    if kind != "candidate":
        return
    try:
        candidate_id = uuid.UUID(id)
    except ValueError:
        return
    await unit.emit(
        CandidateSubscriptionChangedV1(
            candidate_id=candidate_id,
            unsubscribed_all=recipient.unsubscribed_all,
            unsubscribed_kinds=list(recipient.unsubscribed_kinds),
            occurred_at=now,
        ),
        subject=str(candidate_id),
        sequence=recipient.version,
    )


_RECIPIENT_KEY = sa.tuple_(Recipient.kind, Recipient.id)


async def preferences_for(
    session: AsyncSession, recipients: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Preferences]:
    """The preferences of those recipients who have any, in one query; the others are absent
    (they get the defaults: no quiet hours, nothing muted, subscribed to everything)."""
    if not recipients:
        return {}
    r = Recipient
    rows = await session.execute(
        sa.select(
            r.kind,
            r.id,
            r.quiet_start,
            r.quiet_end,
            r.time_zone,
            r.locale,
            r.muted_channels,
            r.unsubscribed_kinds,
            r.unsubscribed_all,
        ).where(_RECIPIENT_KEY.in_(list(dict.fromkeys(recipients))))
    )
    return {
        (row.kind, row.id): Preferences(
            quiet_start=row.quiet_start,
            quiet_end=row.quiet_end,
            time_zone=row.time_zone,
            locale=row.locale,
            muted_channels=frozenset(row.muted_channels),
            unsubscribed_kinds=frozenset(row.unsubscribed_kinds),
            unsubscribed_all=row.unsubscribed_all,
        )
        for row in rows
    }


async def contacts_for(
    session: AsyncSession, keyring: Keyring, recipients: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], Contact]:
    """The decrypted contacts of those recipients who have a record, in one query. A
    candidate's record never holds an email or phone (ask the pipeline for those)."""
    if not recipients:
        return {}
    r = Recipient
    rows = await session.execute(
        sa.select(
            r.kind, r.id, r.email_ciphertext, r.phone_ciphertext, r.locale, r.time_zone
        ).where(_RECIPIENT_KEY.in_(list(dict.fromkeys(recipients))))
    )
    return {
        (row.kind, row.id): Contact(
            email=_open(keyring, row.email_ciphertext, EMAIL_CONTEXT),
            phone=_open(keyring, row.phone_ciphertext, PHONE_CONTEXT),
            locale=row.locale,
            time_zone=row.time_zone,
        )
        for row in rows
    }


async def unsubscribe(
    session: AsyncSession,
    *,
    kind: str,
    id: str,
    notification_kind: str | None,
    now: datetime,
) -> Subscription | None:
    """Unsubscribe the recipient from one kind of notification, or from all when
    ``notification_kind`` is None (an unsubscribe link, a List-Unsubscribe request). Creates
    the record if needed; doing it again changes nothing (not even the version). Returns what
    the recipient is now unsubscribed from, or None when nothing changed."""
    if kind not in RECIPIENT_KINDS:
        raise ValueError(f"unknown recipient kind {kind!r}")
    if notification_kind is not None and notification_kind not in KINDS:
        raise ValueError(f"unknown notification kind {notification_kind!r}")
    r = Recipient.__table__.c
    insert = pg_insert(Recipient).values(kind=kind, id=id, version=1, updated_at=now)
    if notification_kind is None:
        statement = insert.values(unsubscribed_all=True).on_conflict_do_update(
            index_elements=[r.kind, r.id],
            set_={"unsubscribed_all": True, "version": r.version + 1, "updated_at": now},
            where=r.unsubscribed_all.is_(False),
        )
    else:
        statement = insert.values(unsubscribed_kinds=[notification_kind]).on_conflict_do_update(
            index_elements=[r.kind, r.id],
            set_={
                "unsubscribed_kinds": sa.func.array_append(r.unsubscribed_kinds, notification_kind),
                "version": r.version + 1,
                "updated_at": now,
            },
            where=sa.not_(r.unsubscribed_kinds.contains([notification_kind])),
        )
    changed = (
        await session.execute(
            statement.returning(r.unsubscribed_kinds, r.unsubscribed_all, r.version)
        )
    ).first()
    if changed is None:
        return None
    return Subscription(
        unsubscribed_kinds=tuple(changed.unsubscribed_kinds),
        unsubscribed_all=changed.unsubscribed_all,
        version=changed.version,
    )


# Re-encrypts a batch of recipients whose email or phone is under an old key (``rotate-keys``).
rotate_keys = reencrypt_columns(
    cast(sa.Table, Recipient.__table__),
    {"email_ciphertext": EMAIL_CONTEXT, "phone_ciphertext": PHONE_CONTEXT},
)
