"""The CSV export of applications with their current stage, streamed from a server-side cursor
so memory stays flat whatever the number of rows."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from pipeline.analytics.service import Scope
from shared.db.engine import Database

COLUMNS = (
    "application_id",
    "job_id",
    "job_title",
    "candidate_id",
    "stage_key",
    "stage_kind",
    "stage_name_zh",
    "stage_name_en",
    "status",
    "source",
    "stage_entered_at",
    "created_at",
)
# Rows fetched from the cursor, and written, per chunk.
BATCH = 500
# Excel reads a UTF-8 file as such (Chinese stage names and titles) only with a byte-order mark.
BOM = "\ufeff"
# A cell starting with one of these is a formula to a spreadsheet (CSV injection).
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


def _statement(scope: Scope) -> str:
    conditions = ["true"]
    if scope.job_id is not None:
        conditions.append("a.job_id = :job_id")
    if scope.principal.role.value != "admin":
        conditions.append(
            "a.job_id IN (SELECT id FROM jobs WHERE owner_ids @> ARRAY[CAST(:subject AS text)])"
        )
    return f"""
SELECT a.id, a.job_id, j.title, a.candidate_id, a.stage_key,
       s.value ->> 'kind', s.value ->> 'name_zh', s.value ->> 'name_en',
       a.status, a.source, a.stage_entered_at, a.created_at
FROM applications a
JOIN jobs j ON j.id = a.job_id
LEFT JOIN LATERAL (
    SELECT value FROM jsonb_array_elements(j.stages) WHERE value ->> 'key' = a.stage_key LIMIT 1
) s ON true
WHERE {" AND ".join(conditions)}
ORDER BY a.created_at, a.id
"""  # noqa: S608  (fixed fragments only)


async def stream(db: Database, scope: Scope) -> AsyncIterator[bytes]:
    """The CSV, header first, in chunks of ``BATCH`` rows, oldest application first."""
    yield (BOM + render([COLUMNS])).encode()
    params = {key: value for key, value in scope.params().items() if key in ("job_id", "subject")}
    async with db.engine.connect() as connection:
        result = await connection.stream(
            sa.text(_statement(scope)).execution_options(yield_per=BATCH), params
        )
        async for rows in result.partitions(BATCH):
            yield render(rows).encode()
