from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import pytest

from pipeline.candidates.contacts import EMAIL_CONTEXT
from shared.crypto import Keyring
from tests.pipeline.factories import HR, application_body, apply, create_job
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth


async def test_application_starts_in_the_jobs_first_stage(pipeline: Running) -> None:
    job = await create_job(pipeline.client)

    response = await pipeline.client.post(
        f"/v1/jobs/{job['id']}/applications", json=application_body(), headers=auth("hr", HR)
    )

    assert response.status_code == 201
    application = response.json()
    assert response.headers["location"] == f"/v1/applications/{application['id']}"
    assert response.headers["etag"] == '"1"'
    assert application["job_id"] == job["id"]
    assert application["stage_key"] == job["stages"][0]["key"]
    assert application["status"] == "active"
    assert application["version"] == 1
    fetched = await pipeline.client.get(response.headers["location"], headers=auth("hr", HR))
    assert fetched.json() == application
    assert fetched.headers["etag"] == '"1"'


async def test_same_email_in_other_case_and_spacing_is_the_same_candidate(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    backend = await create_job(pipeline.client, title="Backend")
    frontend = await create_job(pipeline.client, title="Frontend")

    first = await apply(pipeline.client, backend["id"], email="li.lei@example.com")
    second = await apply(pipeline.client, frontend["id"], email="  LI.Lei@EXAMPLE.com ")

    assert first["candidate_id"] == second["candidate_id"]
    assert first["id"] != second["id"]
    keyring = Keyring.from_settings(pipeline.runtime.settings)
    rows = await db.fetch("SELECT email_ciphertext, email_index FROM pipeline.candidates")
    assert len(rows) == 1
    assert keyring.decrypt(rows[0]["email_ciphertext"], context=EMAIL_CONTEXT) == (
        "li.lei@example.com"
    )
    assert rows[0]["email_index"] == keyring.blind_index(
        "li.lei@example.com", context=EMAIL_CONTEXT
    )


async def test_different_emails_are_different_candidates(pipeline: Running) -> None:
    job = await create_job(pipeline.client)

    first = await apply(pipeline.client, job["id"], email="li.lei@example.com")
    second = await apply(pipeline.client, job["id"], email="han.meimei@example.com")

    assert first["candidate_id"] != second["candidate_id"]


async def test_second_application_of_a_candidate_to_the_same_job_is_refused(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client)
    first = await apply(pipeline.client, job["id"], email="li.lei@example.com")

    response = await pipeline.client.post(
        f"/v1/jobs/{job['id']}/applications",
        json=application_body("Li.Lei@Example.com"),
        headers=auth("hr", HR),
    )

    assert response.status_code == 409
    problem = response.json()
    assert problem["type"] == "urn:recruiting:problem:duplicate-application"
    assert problem["application_id"] == first["id"]
    assert await db.fetchval("SELECT count(*) FROM pipeline.applications") == 1


async def test_hr_not_owning_the_job_cannot_add_applications(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client, hr="hr-bob")

    response = await pipeline.client.post(
        f"/v1/jobs/{job['id']}/applications", json=application_body(), headers=auth("hr", HR)
    )

    assert response.status_code == 404
    assert await db.fetchval("SELECT count(*) FROM pipeline.candidates") == 0


async def test_application_to_unknown_job_is_not_found(pipeline: Running) -> None:
    response = await pipeline.client.post(
        f"/v1/jobs/{uuid.uuid4()}/applications",
        json=application_body(),
        headers=auth("admin", "admin"),
    )

    assert response.status_code == 404


@pytest.mark.parametrize("email", ["not-an-email", "li.lei@", "@example.com", ""])
async def test_invalid_email_is_refused(pipeline: Running, email: str) -> None:
    job = await create_job(pipeline.client)

    response = await pipeline.client.post(
        f"/v1/jobs/{job['id']}/applications",
        json=application_body(email),
        headers=auth("hr", HR),
    )

    assert response.status_code == 422
    assert [error["field"] for error in response.json()["errors"]] == ["candidate.email"]


async def test_interviewer_and_anonymous_callers_cannot_add_applications(
    pipeline: Running,
) -> None:
    job = await create_job(pipeline.client)
    path = f"/v1/jobs/{job['id']}/applications"

    interviewer = await pipeline.client.post(
        path, json=application_body(), headers=auth("interviewer", "iv-dan")
    )
    anonymous = await pipeline.client.post(path, json=application_body())

    assert interviewer.status_code == 403
    assert anonymous.status_code == 401


async def test_application_is_visible_only_to_owners_of_its_job(pipeline: Running) -> None:
    job = await create_job(pipeline.client)
    application = await apply(pipeline.client, job["id"])
    path = f"/v1/applications/{application['id']}"

    owner = await pipeline.client.get(path, headers=auth("hr", HR))
    other_hr = await pipeline.client.get(path, headers=auth("hr", "hr-bob"))
    admin = await pipeline.client.get(path, headers=auth("admin", "admin-zoe"))
    interviewer = await pipeline.client.get(path, headers=auth("interviewer", "iv-dan"))
    anonymous = await pipeline.client.get(path)
    other_history = await pipeline.client.get(f"{path}/history", headers=auth("hr", "hr-bob"))

    assert owner.status_code == 200
    assert other_hr.status_code == 404
    assert admin.status_code == 200
    assert interviewer.status_code == 403
    assert anonymous.status_code == 401
    assert other_history.status_code == 404


async def test_applications_list_only_those_of_jobs_the_hr_owns(pipeline: Running) -> None:
    alice_job = await create_job(pipeline.client, hr=HR)
    bob_job = await create_job(pipeline.client, hr="hr-bob")
    mine = await apply(pipeline.client, alice_job["id"], email="a@example.com")
    await apply(pipeline.client, bob_job["id"], email="b@example.com", hr="hr-bob")

    alice = await pipeline.client.get("/v1/applications", headers=auth("hr", HR))
    alice_on_bobs_job = await pipeline.client.get(
        "/v1/applications", params={"job_id": bob_job["id"]}, headers=auth("hr", HR)
    )
    admin = await pipeline.client.get("/v1/applications", headers=auth("admin", "admin"))

    assert [a["id"] for a in alice.json()["items"]] == [mine["id"]]
    assert alice_on_bobs_job.json()["items"] == []
    assert len(admin.json()["items"]) == 2


async def test_applications_are_filtered_by_job_and_listed_page_by_page(
    pipeline: Running,
) -> None:
    job = await create_job(pipeline.client, title="Wanted")
    other = await create_job(pipeline.client, title="Other")
    wanted = [
        (await apply(pipeline.client, job["id"], email=f"c{n}@example.com"))["id"] for n in range(5)
    ]
    await apply(pipeline.client, other["id"], email="c0@example.com")

    seen: list[str] = []
    cursor: str | None = None
    for _ in range(3):
        params = {"job_id": job["id"], "limit": "2", **({"cursor": cursor} if cursor else {})}
        response = await pipeline.client.get(
            "/v1/applications", params=params, headers=auth("hr", HR)
        )
        assert response.status_code == 200
        seen += [application["id"] for application in response.json()["items"]]
        cursor = response.json()["next_cursor"]

    assert cursor is None
    assert seen == list(reversed(wanted))


@pytest.mark.parametrize("params", [{"job_id": "not-a-uuid"}, {"limit": "0"}, {"limit": "1000"}])
async def test_bad_application_list_parameters_are_refused(
    pipeline: Running, params: dict[str, str]
) -> None:
    response = await pipeline.client.get("/v1/applications", params=params, headers=auth())

    assert response.status_code == 422
    assert response.json()["errors"][0]["location"] == "query"


async def test_application_creation_is_replayed_for_the_same_idempotency_key(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client)
    headers = {**auth("hr", HR), "Idempotency-Key": "apply-li-lei"}
    path = f"/v1/jobs/{job['id']}/applications"

    first = await pipeline.client.post(path, json=application_body(), headers=headers)
    # Without the key, the same request is a duplicate application; with it, a replay.
    replay = await pipeline.client.post(path, json=application_body(), headers=headers)

    assert first.status_code == replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["etag"] == first.headers["etag"] == '"1"'
    assert replay.headers["location"] == first.headers["location"]
    assert replay.headers["idempotent-replayed"] == "true"
    assert await db.fetchval("SELECT count(*) FROM pipeline.applications") == 1


async def test_idempotency_keys_are_kept_apart_per_caller(pipeline: Running) -> None:
    job: dict[str, Any] = await create_job(pipeline.client, hr=HR)
    path = f"/v1/jobs/{job['id']}/applications"

    alice = await pipeline.client.post(
        path,
        json=application_body("a@example.com"),
        headers={**auth("hr", HR), "Idempotency-Key": "same-key"},
    )
    admin = await pipeline.client.post(
        path,
        json=application_body("b@example.com"),
        headers={**auth("admin", "admin-zoe"), "Idempotency-Key": "same-key"},
    )

    assert alice.status_code == admin.status_code == 201
    assert alice.json()["id"] != admin.json()["id"]
    assert "idempotent-replayed" not in admin.headers


async def test_application_records_its_source_and_when_it_entered_its_stage(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client)

    application = await apply(pipeline.client, job["id"])

    row = await db.fetchrow(
        "SELECT source, stage_entered_at, created_at FROM pipeline.applications WHERE id = $1",
        uuid.UUID(application["id"]),
    )
    assert row["source"] == "api"
    assert row["stage_entered_at"] == row["created_at"]


async def test_application_created_is_emitted_without_personal_data(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client)

    application = await apply(pipeline.client, job["id"], email="li.lei@example.com")

    rows = await db.fetch(
        "SELECT subject, payload FROM pipeline.outbox "
        "WHERE event_type = 'pipeline.application_created.v1'"
    )
    assert len(rows) == 1
    assert rows[0]["subject"] == application["id"]
    payload = json.loads(rows[0]["payload"])
    assert payload["sequence"] == 1
    assert payload["data"] == {
        "application_id": application["id"],
        "job_id": job["id"],
        "candidate_id": application["candidate_id"],
        "stage": {"key": "ai_interview", "kind": "ai_interview"},
        "source": "api",
        "locale": "zh-CN",
        "occurred_at": payload["data"]["occurred_at"],
    }
    assert "li.lei" not in rows[0]["payload"]
    assert "Li Lei" not in rows[0]["payload"]


async def test_closed_job_takes_no_new_applications(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    job = await create_job(pipeline.client)
    closed = await pipeline.client.patch(
        f"/v1/jobs/{job['id']}", json={"status": "closed"}, headers=auth("hr", HR)
    )
    assert closed.status_code == 200

    response = await pipeline.client.post(
        f"/v1/jobs/{job['id']}/applications", json=application_body(), headers=auth("hr", HR)
    )

    assert_problem(response, 409, "job-closed")
    assert await db.fetchval("SELECT count(*) FROM pipeline.candidates") == 0


async def test_same_phone_with_another_email_is_the_same_candidate(pipeline: Running) -> None:
    job = await create_job(pipeline.client)
    path = f"/v1/jobs/{job['id']}/applications"
    first = await pipeline.client.post(
        path,
        json=application_body("li.lei@example.com", phone="138 1234 5678"),
        headers=auth("hr", HR),
    )

    second = await pipeline.client.post(
        path,
        json=application_body("lilei.new@example.com", phone="+86 138-1234-5678"),
        headers=auth("hr", HR),
    )

    problem = assert_problem(second, 409, "duplicate-application")
    assert problem["application_id"] == first.json()["id"]


@pytest.mark.parametrize(
    ("candidate", "field"),
    [
        ({"phone": "12345"}, "candidate.phone"),
        ({"phone": "not a phone"}, "candidate.phone"),
        ({"locale": "fr"}, "candidate.locale"),
        ({"full_name": ""}, "candidate.full_name"),
        ({"nickname": "Lei"}, "candidate.nickname"),
    ],
)
async def test_invalid_candidate_fields_are_refused_naming_the_field(
    pipeline: Running, db: asyncpg.Connection, candidate: dict[str, Any], field: str
) -> None:
    job = await create_job(pipeline.client)
    body = {"candidate": {**application_body()["candidate"], **candidate}}

    response = await pipeline.client.post(
        f"/v1/jobs/{job['id']}/applications", json=body, headers=auth("hr", HR)
    )

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == [field]
    assert await db.fetchval("SELECT count(*) FROM pipeline.candidates") == 0
