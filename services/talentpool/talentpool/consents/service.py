"""Consent per purpose: the answer in force for each purpose, and every answer ever recorded.
Keeping someone in the pool after their applications end needs ``talent_pool`` (retention
reads it); inviting them to other jobs needs ``re_engagement``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.http.pagination import PageParams, paginate
from shared.problems import Problem
from shared.unit import UnitOfWork
from talentpool.consents.models import Consent, ConsentChange
from talentpool.consents.schemas import ConsentRead, ConsentWrite


def in_force(consent: Consent, now: datetime) -> bool:
    return consent.granted and (consent.expires_at is None or consent.expires_at > now)


def in_force_condition(purpose: str, now: datetime) -> sa.ColumnElement[bool]:
    """``Consent`` rows of ``purpose`` that hold at ``now`` (for other domains' queries)."""
    return sa.and_(
        Consent.purpose == purpose,
        Consent.granted.is_(True),
        sa.or_(Consent.expires_at.is_(None), Consent.expires_at > now),
    )


def read(consent: Consent, now: datetime) -> ConsentRead:
    return ConsentRead(
        profile_id=consent.profile_id,
        purpose=consent.purpose,
        granted=consent.granted,
        in_force=in_force(consent, now),
        source=consent.source,
        recorded_by=consent.recorded_by,
        recorded_at=consent.recorded_at,
        expires_at=consent.expires_at,
    )


async def list_for(*, session: AsyncSession, profile_id: uuid.UUID) -> Sequence[Consent]:
    rows = await session.scalars(
        sa.select(Consent).where(Consent.profile_id == profile_id).order_by(Consent.purpose)
    )
    return rows.all()


def _check(body: ConsentWrite, now: datetime) -> None:
    if body.expires_at is None:
        return
    if not body.granted:
        raise _invalid("expires_at", "Only a granted consent can expire.", "not_granted")
    if body.expires_at <= now:
        raise _invalid("expires_at", "The expiry must be in the future.", "in_the_past")


def _invalid(field: str, message: str, code: str) -> Problem:
    return Problem(
        422,
        "Invalid request",
        f"1 invalid field(s): body.{field}",
        slug="validation-error",
        errors=[{"field": field, "location": "body", "message": message, "code": code}],
    )


async def record(
    *, unit: UnitOfWork, profile_id: uuid.UUID, purpose: str, body: ConsentWrite, actor: str
) -> tuple[Consent, bool]:
    """Set the answer for a purpose (replacing the one in force) and add it to the history;
    whether the purpose had no answer before."""
    now = unit.clock.now()
    _check(body, now)
    values = {
        "profile_id": profile_id,
        "purpose": purpose,
        "granted": body.granted,
        "source": body.source,
        "recorded_by": actor,
        "recorded_at": now,
        "expires_at": body.expires_at,
    }
    statement = pg_insert(Consent).values(values)
    inserted: bool = (
        await unit.session.execute(
            statement.on_conflict_do_update(
                index_elements=[Consent.profile_id, Consent.purpose],
                set_={
                    key: statement.excluded[key]
                    for key in values
                    if key not in ("profile_id", "purpose")
                },
            ).returning(sa.literal_column("xmax = 0").label("created"))
        )
    ).scalar_one()
    await unit.session.execute(sa.insert(ConsentChange).values(values))
    consent = await unit.session.get_one(Consent, (profile_id, purpose), populate_existing=True)
    return consent, bool(inserted)


async def history(
    *, session: AsyncSession, profile_id: uuid.UUID, params: PageParams
) -> tuple[list[ConsentChange], str | None]:
    return await paginate(
        session,
        sa.select(ConsentChange).where(ConsentChange.profile_id == profile_id),
        order_by=[ConsentChange.id],
        params=params,
    )
