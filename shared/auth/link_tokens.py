"""Opaque link tokens for candidates: 256 random bits, stored only as a SHA-256 hash, scoped to
one purpose and one subject (an application, an invitation), with expiry and revocation."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.clock import Clock

TOKEN_BYTES = 32


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


class LinkTokens:
    def __init__(self, table: sa.Table, clock: Clock) -> None:
        self._table = table
        self._clock = clock

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
