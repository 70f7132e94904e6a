"""The CSV export of invitations, streamed from a server-side cursor (memory stays flat). Ids,
states and times only: no personal data."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa

from scheduler.invitations.models import Invitation
from scheduler.jobs.dependencies import visible_job_ids
from shared.auth.principal import Principal
from shared.db.engine import Database

COLUMNS = (
    "invitation_id",
    "kind",
    "job_id",
    "application_id",
    "candidate_id",
    "candidate_group",
    "state",
    "sent_at",
    "opened_at",
    "responded_at",
    "deadline_at",
    "makeup_until",
    "expired_at",
    "closed_at",
    "completed_at",
    "interview_id",
)
BATCH = 1000
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A cell as text, with a leading quote where a spreadsheet would see a formula."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def render(rows: Iterable[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([safe_cell(value) for value in row] for row in rows)
    return buffer.getvalue()


def statement(
    principal: Principal, *, job_id: uuid.UUID | None, state: str | None
) -> sa.Select[Any]:
    i = Invitation
    query: Any = sa.select(
        i.id,
        i.kind,
        i.job_id,
        i.application_id,
        i.candidate_id,
        i.candidate_group,
        i.state,
        i.sent_at,
        i.opened_at,
        i.responded_at,
        i.deadline_at,
        i.makeup_until,
        i.expired_at,
        i.closed_at,
        i.completed_at,
        i.interview_id,
    ).where(visible_job_ids(principal, i.job_id))
    if job_id is not None:
        query = query.where(i.job_id == job_id)
    if state is not None:
        query = query.where(i.state == state)
    return cast(sa.Select[Any], query.order_by(i.sent_at, i.id))


async def stream(db: Database, query: sa.Select[Any]) -> AsyncIterator[bytes]:
    yield render([COLUMNS]).encode()
    async with db.engine.connect() as connection:
        result = await connection.stream(query.execution_options(yield_per=BATCH))
        async for rows in result.partitions(BATCH):
            yield render(rows).encode()
