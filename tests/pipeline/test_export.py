from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from pipeline.analytics import export
from pipeline.analytics.service import Scope
from shared.auth.principal import Principal, Role
from tests.pipeline import analytics_rows as rows
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth

MONDAY = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)
URL = "/v1/applications/export.csv"


def _parse(body: bytes) -> list[dict[str, str]]:
    text = body.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


async def test_export_lists_the_callers_applications_with_their_current_stage(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await rows.job(db, title="后端工程师", created_at=MONDAY)
    first = await rows.application(
        db, job, created_at=MONDAY, moves=[(timedelta(days=1), "advance", "round_1", "active")]
    )
    second = await rows.application(db, job, created_at=MONDAY + timedelta(hours=1))
    other = await rows.job(db, owner="hr-bob", created_at=MONDAY)
    await rows.application(db, other, created_at=MONDAY)

    response = await pipeline.client.get(URL, headers=auth("hr", "hr-alice"))

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    exported = _parse(response.content)
    assert [row["application_id"] for row in exported] == [str(first), str(second)]
    assert exported[0] == {
        "application_id": str(first),
        "job_id": str(job),
        "job_title": "后端工程师",
        "candidate_id": exported[0]["candidate_id"],
        "stage_key": "round_1",
        "stage_kind": "interview",
        "stage_name_zh": "一面",
        "stage_name_en": "First round",
        "status": "active",
        "source": "api",
        "stage_entered_at": (MONDAY + timedelta(days=1)).isoformat(),
        "created_at": MONDAY.isoformat(),
    }
    assert list(exported[0]) == list(export.COLUMNS)


async def test_export_has_no_contact_data(pipeline: Running, db: asyncpg.Connection) -> None:
    job = await rows.job(db, created_at=MONDAY)
    await rows.application(db, job, created_at=MONDAY)

    response = await pipeline.client.get(URL, headers=auth("hr", "hr-alice"))

    header = response.content.decode("utf-8").splitlines()[0]
    assert not {"email", "phone", "full_name", "name"} & set(header.lstrip("\ufeff").split(","))


async def test_admin_exports_every_job_and_can_pick_one(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await rows.job(db, created_at=MONDAY)
    await rows.application(db, job, created_at=MONDAY)
    other = await rows.job(db, owner="hr-bob", created_at=MONDAY)
    picked = await rows.application(db, other, created_at=MONDAY)

    everything = await pipeline.client.get(URL, headers=auth("admin", "admin-zoe"))
    one_job = await pipeline.client.get(
        URL, params={"job_id": str(other)}, headers=auth("admin", "admin-zoe")
    )

    assert len(_parse(everything.content)) == 2
    assert [row["application_id"] for row in _parse(one_job.content)] == [str(picked)]


async def test_export_is_written_in_batches_from_a_cursor(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await rows.job(db, created_at=MONDAY)
    count = export.BATCH + 7
    for index in range(count):
        await rows.application(db, job, created_at=MONDAY + timedelta(seconds=index))
    scope = Scope(principal=Principal(subject="hr-alice", role=Role.HR), job_id=job)

    # The generator the response streams (the in-process test client buffers whole bodies).
    chunks = [chunk async for chunk in export.stream(pipeline.runtime.db, scope)]

    assert len(chunks) == 3  # the header, then one chunk per batch of rows
    assert len(chunks[1].decode().splitlines()) == export.BATCH
    exported = _parse(b"".join(chunks))
    assert len(exported) == count
    assert [row["created_at"] for row in exported] == sorted(row["created_at"] for row in exported)


async def test_cells_a_spreadsheet_would_run_as_formulas_are_defused(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await rows.job(db, title='=HYPERLINK("http://evil.example","x")', created_at=MONDAY)
    await rows.application(db, job, created_at=MONDAY)

    response = await pipeline.client.get(URL, headers=auth("hr", "hr-alice"))

    assert _parse(response.content)[0]["job_title"] == '\'=HYPERLINK("http://evil.example","x")'


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_prefix_is_quoted(value: str) -> None:
    assert export.safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["Backend", "1-2", "a=b", ""])
def test_ordinary_cells_are_left_alone(value: str) -> None:
    assert export.safe_cell(value) == value


async def test_export_needs_a_token(pipeline: Running) -> None:
    assert_problem(await pipeline.client.get(URL), 401, "unauthorized")


async def test_interviewers_may_not_export(pipeline: Running) -> None:
    response = await pipeline.client.get(URL, headers=auth("interviewer", "iv-1"))

    assert_problem(response, 403, "forbidden")


async def test_hr_exporting_a_job_they_do_not_own_gets_404(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    other = await rows.job(db, owner="hr-bob", created_at=MONDAY)
    await rows.application(db, other, created_at=MONDAY)

    response = await pipeline.client.get(
        URL, params={"job_id": str(other)}, headers=auth("hr", "hr-alice")
    )

    assert_problem(response, 404, "not-found")
