"""Opaque link tokens for candidates: 256 random bits, stored only as a SHA-256 hash, scoped to
one purpose and one subject (an application, an invitation), with expiry and revocation."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.clock import Clock

TOKEN_BYTES = 32
# ``lookup`` records use at most this often, so a token read in bursts is not one row write
# (and one row lock) per request.
TOUCH_INTERVAL = timedelta(minutes=1)


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class IssuedToken:
    id: uuid.UUID
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class LinkGrant:
    id: uuid.UUID
    purpose: str
    subject_id: str
    expires_at: datetime


class LinkState(StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    REVOKED = "revoked"


@dataclass(frozen=True)
class LinkLookup:
    """What a presented token is: valid (with its grant), unknown, expired or revoked."""

    state: LinkState
    grant: LinkGrant | None = None


@dataclass(frozen=True)
class LinkRecord:
    """A token's stored facts, without its value (which is never stored)."""

    id: uuid.UUID
    purpose: str
    subject_id: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class LinkTokens:
    def __init__(self, table: sa.Table, clock: Clock) -> None:
        self._table = table
        self._clock = clock
        self._lookup = _lookup_statement(table)

    async def issue(
        self, session: AsyncSession, *, purpose: str, subject_id: str, expires_at: datetime
    ) -> IssuedToken:
        """Create a token; the plain value is returned once and never stored."""
        token = new_token()
        token_id = uuid.uuid4()
        await session.execute(
            sa.insert(self._table).values(
                id=token_id,
                token_hash=hash_token(token),
                purpose=purpose,
                subject_id=subject_id,
                created_at=self._clock.now(),
                expires_at=expires_at,
            )
        )
        return IssuedToken(id=token_id, token=token, expires_at=expires_at)

    async def resolve(self, session: AsyncSession, token: str, *, purpose: str) -> LinkGrant | None:
        """The grant behind a token, or None if it is unknown, expired, revoked or for another
        purpose (the caller answers all of these alike, so tokens cannot be probed)."""
        if not token or len(token) > 128:
            return None
        t = self._table
        now = self._clock.now()
        row = (
            await session.execute(
                sa.update(t)
                .where(
                    t.c.token_hash == hash_token(token),
                    t.c.purpose == purpose,
                    t.c.revoked_at.is_(None),
                    t.c.expires_at > now,
                )
                .values(last_used_at=now)
                .returning(t.c.id, t.c.purpose, t.c.subject_id, t.c.expires_at)
            )
        ).first()
        if row is None:
            return None
        return LinkGrant(
            id=row.id, purpose=row.purpose, subject_id=row.subject_id, expires_at=row.expires_at
        )

    async def revoke(self, session: AsyncSession, *, token_id: uuid.UUID) -> bool:
        t = self._table
        result = await session.execute(
            sa.update(t)
            .where(t.c.id == token_id, t.c.revoked_at.is_(None))
            .values(revoked_at=self._clock.now())
            .returning(t.c.id)
        )
        return result.first() is not None

    async def revoke_all(self, session: AsyncSession, *, purpose: str, subject_id: str) -> int:
        t = self._table
        result = await session.execute(
            sa.update(t)
            .where(t.c.purpose == purpose, t.c.subject_id == subject_id, t.c.revoked_at.is_(None))
            .values(revoked_at=self._clock.now())
            .returning(t.c.id)
        )
        return len(result.all())

    async def lookup(self, session: AsyncSession, token: str, *, purpose: str) -> LinkLookup:
        """Tell a valid token from an unknown, an expired and a revoked one, in one round trip.

        For callers that answer expired or revoked links differently from unknown ones (a
        candidate's link that stopped working is told so). A token of another purpose is
        unknown. A valid token's ``last_used_at`` is refreshed at most once per
        ``TOUCH_INTERVAL``."""
        if not token or len(token) > 128:
            return LinkLookup(LinkState.UNKNOWN)
        now = self._clock.now()
        row = (
            await session.execute(
                self._lookup,
                {
                    "lookup_hash": hash_token(token),
                    "lookup_purpose": purpose,
                    "lookup_now": now,
                    "lookup_touched_before": now - TOUCH_INTERVAL,
                },
            )
        ).first()
        if row is None:
            return LinkLookup(LinkState.UNKNOWN)
        if row.revoked_at is not None:
            return LinkLookup(LinkState.REVOKED)
        if row.expires_at <= now:
            return LinkLookup(LinkState.EXPIRED)
        grant = LinkGrant(
            id=row.id, purpose=purpose, subject_id=row.subject_id, expires_at=row.expires_at
        )
        return LinkLookup(LinkState.VALID, grant)

    async def list_for(
        self, session: AsyncSession, *, purpose: str, subject_id: str
    ) -> list[LinkRecord]:
        """Every token of one subject, newest first, without their values."""
        t = self._table
        rows = await session.execute(
            sa.select(
                t.c.id,
                t.c.purpose,
                t.c.subject_id,
                t.c.created_at,
                t.c.expires_at,
                t.c.revoked_at,
                t.c.last_used_at,
            )
            .where(t.c.purpose == purpose, t.c.subject_id == subject_id)
            .order_by(t.c.created_at.desc(), t.c.id.desc())
        )
        return [LinkRecord(**row._mapping) for row in rows]

    async def revoke_for(
        self, session: AsyncSession, *, token_id: uuid.UUID, purpose: str, subject_id: str
    ) -> LinkRecord | None:
        """Revoke one token of one subject (revoking it again is a no-op); None if that subject
        has no such token, so one subject's caller cannot touch another's tokens."""
        t = self._table
        row = (
            await session.execute(
                sa.update(t)
                .where(t.c.id == token_id, t.c.purpose == purpose, t.c.subject_id == subject_id)
                .values(revoked_at=sa.func.coalesce(t.c.revoked_at, self._clock.now()))
                .returning(
                    t.c.id,
                    t.c.purpose,
                    t.c.subject_id,
                    t.c.created_at,
                    t.c.expires_at,
                    t.c.revoked_at,
                    t.c.last_used_at,
                )
            )
        ).first()
        return LinkRecord(**row._mapping) if row is not None else None


def _lookup_statement(t: sa.Table) -> sa.Select[Any]:
    """Find a token and refresh its ``last_used_at`` (at most once per ``TOUCH_INTERVAL``) in
    one round trip. Built once per table: building it per call cost a third of a candidate's
    page view."""
    found = (
        sa.select(t.c.id, t.c.subject_id, t.c.expires_at, t.c.revoked_at, t.c.last_used_at)
        .where(
            t.c.token_hash == sa.bindparam("lookup_hash"),
            t.c.purpose == sa.bindparam("lookup_purpose"),
        )
        .cte("found")
    )
    touched = (
        sa.update(t)
        .where(
            t.c.id == found.c.id,
            found.c.revoked_at.is_(None),
            found.c.expires_at > sa.bindparam("lookup_now"),
            sa.or_(
                found.c.last_used_at.is_(None),
                found.c.last_used_at <= sa.bindparam("lookup_touched_before"),
            ),
        )
        .values(last_used_at=sa.bindparam("lookup_now"))
        .returning(t.c.id)
        .cte("touched")
    )
    return sa.select(
        found.c.id,
        found.c.subject_id,
        found.c.expires_at,
        found.c.revoked_at,
        sa.select(sa.func.count()).select_from(touched).scalar_subquery(),
    )
