"""Erasing a person from a service's infrastructure tables: what its outbox, idempotency keys,
webhook receipts and link tokens still hold about them. Each service's erasure handler calls
these for its own schema, next to the anonymizing of its domain tables (which stays in the
service); they find rows by the ids the person's data is filed under, never by plain values."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.talentpool import ErasureCompletedV1, ErasureRequestedV1
from shared.logging import get_logger
from shared.unit import UnitOfWork

log = get_logger(__name__)


def _ids(values: Iterable[object]) -> list[str]:
    return sorted({str(value) for value in values})


def _rowcount(result: sa.Result[Any]) -> int:
    return cast("sa.CursorResult[Any]", result).rowcount or 0


async def scrub_outbox(
    session: AsyncSession,
    table: sa.Table,
    *,
    ids: Iterable[object],
    replacements: Mapping[str, Any],
    match_keys: Sequence[str] = ("candidate_id",),
) -> int:
    """Overwrite free-text fields of the events about these people (published or not) with
    neutral values, e.g. ``{"reason": None}``: only fields an event has are replaced, so a
    payload still waiting for the relay stays a valid event. An event is about a person when
    one of ``match_keys`` of its ``data`` is one of ``ids``. Returns the rows changed."""
    wanted = _ids(ids)
    if not wanted or not replacements:
        return 0
    payload = table.c.payload
    data = payload["data"]
    value: sa.ColumnElement[Any] = payload
    for key, replacement in replacements.items():
        value = sa.func.jsonb_set(
            value,
            sa.literal(["data", key], type_=ARRAY(sa.Text)),
            sa.cast(sa.literal(json.dumps(replacement)), JSONB),
            sa.false(),
        )
    about = sa.or_(
        *[data[key].astext == sa.any_(sa.literal(wanted, ARRAY(sa.Text))) for key in match_keys]
    )
    changes = sa.or_(
        *[
            sa.and_(
                data.has_key(key),
                data[key] != sa.cast(sa.literal(json.dumps(replacement)), JSONB),
            )
            for key, replacement in replacements.items()
        ]
    )
    result = await session.execute(sa.update(table).where(about, changes).values(payload=value))
    return _rowcount(result)


async def forget_responses(
    session: AsyncSession,
    table: sa.Table,
    *,
    mentioning: Iterable[object],
    principals: Iterable[str] = (),
) -> int:
    """Delete stored idempotent answers that mention any of these ids (an answer about the
    person names their candidate, application, message... id) or were given to one of
    ``principals`` (a candidate's link). The retry window of those requests is lost; their
    content cannot be kept. Returns the rows deleted."""
    patterns = [f"%{value}%".encode() for value in _ids(mentioning)]
    who = sorted(set(principals))
    if not patterns and not who:
        return 0
    body = table.c.response_body
    condition: sa.ColumnElement[bool] = sa.false()
    if patterns:
        condition = body.op("LIKE", is_comparison=True)(
            sa.any_(sa.literal(patterns, ARRAY(sa.LargeBinary)))
        )
    if who:
        condition = sa.or_(condition, table.c.principal == sa.any_(sa.literal(who, ARRAY(sa.Text))))
    result = await session.execute(sa.delete(table).where(condition))
    return _rowcount(result)


async def scrub_payloads(
    session: AsyncSession, table: sa.Table, column: str, *, mentioning: Iterable[object]
) -> int:
    """Empty a JSON column (``{}``) in every row whose value mentions any of these ids, e.g.
    stored webhook deliveries naming the person's application. Returns the rows changed."""
    patterns = [f"%{value}%" for value in _ids(mentioning)]
    if not patterns:
        return 0
    target = table.c[column]
    text = sa.cast(target, sa.Text)
    result = await session.execute(
        sa.update(table)
        .where(
            text.like(sa.any_(sa.literal(patterns, ARRAY(sa.Text)))),
            target != sa.cast(sa.literal("{}"), JSONB),
        )
        .values({column: sa.cast(sa.literal("{}"), JSONB)})
    )
    return _rowcount(result)


async def delete_link_tokens(
    session: AsyncSession, table: sa.Table, *, subject_ids: Iterable[object]
) -> int:
    """Delete the link tokens given for these subjects (an application, an invitation): the
    links stop working at once. Returns the rows deleted."""
    wanted = _ids(subject_ids)
    if not wanted:
        return 0
    result = await session.execute(
        sa.delete(table).where(table.c.subject_id == sa.any_(sa.literal(wanted, ARRAY(sa.Text))))
    )
    return _rowcount(result)


async def scrub_timers(
    session: AsyncSession, table: sa.Table, *, mentioning: Iterable[object]
) -> int:
    """Empty the payload of timers whose payload mentions any of these ids, cancelling those
    still pending (a reminder for an erased person must not go out, and a payload may carry
    what they sent). Returns the rows changed."""
    patterns = [f"%{value}%" for value in _ids(mentioning)]
    if not patterns:
        return 0
    payload = table.c.payload
    result = await session.execute(
        sa.update(table)
        .where(
            sa.cast(payload, sa.Text).like(sa.any_(sa.literal(patterns, ARRAY(sa.Text)))),
            payload != sa.cast(sa.literal("{}"), JSONB),
        )
        .values(
            payload=sa.cast(sa.literal("{}"), JSONB),
            state=sa.case((table.c.state == "pending", "cancelled"), else_=table.c.state),
            updated_at=sa.func.now(),
        )
    )
    return _rowcount(result)


async def confirm(
    unit: UnitOfWork,
    request: ErasureRequestedV1,
    completed: type[ErasureCompletedV1],
    erased: Mapping[str, int],
) -> None:
    """Tell the talent pool this service erased its copy (``completed`` is the service's own
    ``erasure_completed`` event), in the transaction that erased it."""
    await unit.emit(
        completed(
            erasure_id=request.erasure_id,
            candidate_ids=request.candidate_ids,
            erased=dict(erased),
            completed_at=unit.clock.now(),
        ),
        subject=str(request.erasure_id),
    )
    log.info("erasure.completed", erasure_id=str(request.erasure_id), tables=len(erased))
