from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import pytest

from tests.pipeline.factories import HR, application_body, apply, create_job
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth


def _rows(count: int, *, prefix: str = "cand") -> list[dict[str, Any]]:
    return [application_body(f"{prefix}{n}@example.com", f"Candidate {n}") for n in range(count)]


async def _bulk(
    pipeline: Running,
    job_id: str,
    rows: list[Any],
    *,
    headers: dict[str, str] | None = None,
    key: str | None = None,
) -> Any:
    sent = dict(auth("hr", HR) if headers is None else headers)
    if key is not None:
        sent["Idempotency-Key"] = key
    return await pipeline.client.post(
        f"/v1/jobs/{job_id}/applications/bulk", json={"rows": rows}, headers=sent
    )


async def _count(db: asyncpg.Connection, table: str) -> int:
    value: int = await db.fetchval(f"SELECT count(*) FROM pipeline.{table}")  # noqa: S608
    return value


async def _created_events(db: asyncpg.Connection) -> int:
    value: int = await db.fetchval(
        "SELECT count(*) FROM pipeline.outbox WHERE event_type = 'pipeline.application_created.v1'"
    )
    return value


async def test_good_rows_are_created_and_bad_rows_explained_in_order(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client)
    rows: list[Any] = [
        application_body("a@example.com"),
        application_body("not-an-email"),
        application_body("b@example.com", phone="13812345678", locale="en"),
        {"candidate": {"full_name": "", "email": "c@example.com", "phone": "123"}},
        "not an object",
        {"candidate": {"full_name": "D", "email": "d@example.com"}, "extra": 1},
    ]

    response = await _bulk(pipeline, job["id"], rows)

    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["existing"], body["invalid"]) == (2, 0, 4)
    results = body["results"]
    assert [r["index"] for r in results] == list(range(6))
    assert [r["outcome"] for r in results] == [
        "created",
        "invalid",
        "created",
        "invalid",
        "invalid",
        "invalid",
    ]
    assert [e["field"] for e in results[1]["errors"]] == ["candidate.email"]
    assert sorted(e["field"] for e in results[3]["errors"]) == [
        "candidate.full_name",
        "candidate.phone",
    ]
    assert results[4]["errors"][0]["field"] == ""
    assert [e["field"] for e in results[5]["errors"]] == ["extra"]
    assert results[1]["application_id"] is None
    assert "not-an-email" not in response.text
    assert await _count(db, "applications") == 2
    sources = await db.fetch("SELECT DISTINCT source FROM pipeline.applications")
    assert [row["source"] for row in sources] == ["bulk"]
    created = {r["application_id"] for r in results if r["outcome"] == "created"}
    fetched = await pipeline.client.get(
        f"/v1/applications/{results[2]['application_id']}/candidate", headers=auth("hr", HR)
    )
    assert fetched.json()["phone"] == "+8613812345678"
    assert fetched.json()["locale"] == "en"
    assert len(created) == 2


async def test_one_application_created_event_per_created_row(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client)
    rows = [*_rows(3), application_body("bad")]

    response = await _bulk(pipeline, job["id"], rows)

    events = await db.fetch(
        "SELECT subject, payload FROM pipeline.outbox "
        "WHERE event_type = 'pipeline.application_created.v1'"
    )
    created = [r["application_id"] for r in response.json()["results"] if r["outcome"] == "created"]
    assert sorted(event["subject"] for event in events) == sorted(created)
    for event in events:
        payload = json.loads(event["payload"])
        assert payload["data"]["source"] == "bulk"
        assert payload["data"]["application_id"] == event["subject"]
        assert payload["sequence"] == 1
        assert "example.com" not in event["payload"]


async def test_retry_without_a_key_answers_exists_and_creates_nothing_twice(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client)
    rows = [*_rows(3), application_body("bad")]
    first = await _bulk(pipeline, job["id"], rows)

    retry = await _bulk(pipeline, job["id"], rows)

    assert [r["outcome"] for r in retry.json()["results"]] == [
        "exists",
        "exists",
        "exists",
        "invalid",
    ]
    assert [r["application_id"] for r in retry.json()["results"]] == [
        r["application_id"] for r in first.json()["results"]
    ]
    assert await _count(db, "applications") == 3
    assert await _count(db, "candidates") == 3
    assert await _created_events(db) == 3


async def test_retry_with_the_same_key_replays_the_first_answer(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client)
    rows = _rows(3)
    first = await _bulk(pipeline, job["id"], rows, key="bulk-1")

    replay = await _bulk(pipeline, job["id"], rows, key="bulk-1")

    assert replay.status_code == 200
    assert replay.json() == first.json()
    assert replay.headers["idempotent-replayed"] == "true"
    assert await _count(db, "applications") == 3


async def test_same_key_with_other_rows_is_refused(pipeline: Running) -> None:
    job = await create_job(pipeline.client)
    await _bulk(pipeline, job["id"], _rows(2), key="bulk-2")

    response = await _bulk(pipeline, job["id"], _rows(3), key="bulk-2")

    assert_problem(response, 422, "idempotency-key-reused")


async def test_rows_of_people_who_already_applied_are_reported_as_existing(
    pipeline: Running,
) -> None:
    job = await create_job(pipeline.client)
    earlier = await apply(pipeline.client, job["id"], email="cand1@example.com")

    response = await _bulk(pipeline, job["id"], _rows(3))

    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["created", "exists", "created"]
    assert results[1]["application_id"] == earlier["id"]


async def test_the_same_person_twice_in_one_request_is_created_once(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client)
    rows = [
        application_body("li.lei@example.com", phone="13812345678"),
        application_body("LI.LEI@example.com"),
        application_body("other@example.com", phone="+86 138 1234 5678"),
    ]

    response = await _bulk(pipeline, job["id"], rows)

    results = response.json()["results"]
    assert [r["outcome"] for r in results] == ["created", "exists", "exists"]
    assert len({r["application_id"] for r in results}) == 1
    assert await _count(db, "candidates") == 1
    assert await _created_events(db) == 1


async def test_a_thousand_rows_are_accepted(pipeline: Running, db: asyncpg.Connection) -> None:
    job = await create_job(pipeline.client)

    response = await _bulk(pipeline, job["id"], _rows(1000))

    assert response.status_code == 200
    assert response.json()["created"] == 1000
    assert await _count(db, "applications") == 1000
    assert await _created_events(db) == 1000


async def test_more_than_a_thousand_rows_are_refused(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client)

    response = await _bulk(pipeline, job["id"], _rows(1001))

    problem = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == ["rows"]
    assert await _count(db, "applications") == 0


@pytest.mark.parametrize("body", [{"rows": []}, {}, {"rows": "x"}])
async def test_bulk_without_rows_is_refused(pipeline: Running, body: dict[str, Any]) -> None:
    job = await create_job(pipeline.client)

    response = await pipeline.client.post(
        f"/v1/jobs/{job['id']}/applications/bulk", json=body, headers=auth("hr", HR)
    )

    problem = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in problem["errors"]] == ["rows"]


async def test_bulk_into_a_closed_job_is_refused(pipeline: Running, db: asyncpg.Connection) -> None:
    job = await create_job(pipeline.client)
    await pipeline.client.patch(
        f"/v1/jobs/{job['id']}", json={"status": "closed"}, headers=auth("hr", HR)
    )

    response = await _bulk(pipeline, job["id"], _rows(2))

    assert_problem(response, 409, "job-closed")
    assert await _count(db, "candidates") == 0


async def test_bulk_of_only_invalid_rows_creates_nothing(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client)

    response = await _bulk(pipeline, job["id"], [application_body("x"), {"candidate": {}}])

    assert response.json()["invalid"] == 2
    assert await _count(db, "candidates") == 0


async def test_who_may_not_import_applications(pipeline: Running, db: asyncpg.Connection) -> None:
    job = await create_job(pipeline.client)

    other_hr = await _bulk(pipeline, job["id"], _rows(1), headers=auth("hr", "hr-bob"))
    interviewer = await _bulk(pipeline, job["id"], _rows(1), headers=auth("interviewer", "iv"))
    anonymous = await _bulk(pipeline, job["id"], _rows(1), headers={})
    unknown_job = await _bulk(pipeline, str(uuid.uuid4()), _rows(1), headers=auth("admin", "a"))
    admin = await _bulk(pipeline, job["id"], _rows(1), headers=auth("admin", "admin-zoe"))

    assert_problem(other_hr, 404, "not-found")
    assert_problem(interviewer, 403, "forbidden")
    assert_problem(anonymous, 401, "unauthorized")
    assert_problem(unknown_job, 404, "not-found")
    assert admin.json()["created"] == 1
    assert await _count(db, "applications") == 1
