from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.pipeline.factories import HR, STAGES, create_job, job_body
from tests.support.running import Running
from tests.support.tokens import auth


def _fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem["errors"]]


async def test_created_job_is_returned_with_its_location_and_stages(pipeline: Running) -> None:
    response = await pipeline.client.post("/v1/jobs", json=job_body(), headers=auth("hr", HR))

    assert response.status_code == 201
    job = response.json()
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["title"] == "Backend engineer"
    assert job["job_type"] == "basic"
    assert job["created_by"] == HR
    assert [stage["key"] for stage in job["stages"]] == [stage["key"] for stage in STAGES]
    assert job["stages"][1] == STAGES[1]
    fetched = await pipeline.client.get(response.headers["location"], headers=auth("hr", HR))
    assert fetched.status_code == 200
    assert fetched.json() == job


async def test_creating_hr_is_added_to_the_owners(pipeline: Running) -> None:
    response = await pipeline.client.post(
        "/v1/jobs", json=job_body(owner_ids=["hr-bob", "hr-bob"]), headers=auth("hr", HR)
    )

    assert response.status_code == 201
    assert response.json()["owner_ids"] == [HR, "hr-bob"]
    # hr-bob was named an owner, so the job is visible to him too.
    shared = await pipeline.client.get(
        f"/v1/jobs/{response.json()['id']}", headers=auth("hr", "hr-bob")
    )
    assert shared.status_code == 200


async def test_admin_creating_a_job_is_not_made_an_owner(pipeline: Running) -> None:
    response = await pipeline.client.post(
        "/v1/jobs", json=job_body(owner_ids=["hr-bob"]), headers=auth("admin", "admin-zoe")
    )

    assert response.status_code == 201
    assert response.json()["owner_ids"] == ["hr-bob"]
    assert response.json()["created_by"] == "admin-zoe"


async def test_duplicate_stage_keys_are_refused_naming_the_stages(pipeline: Running) -> None:
    stages = [STAGES[0], {**STAGES[1], "key": STAGES[0]["key"]}]

    response = await pipeline.client.post(
        "/v1/jobs", json=job_body(stages=stages), headers=auth("hr", HR)
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:recruiting:problem:validation-error"
    assert _fields(problem) == ["stages"]
    assert "unique" in problem["errors"][0]["message"]
    assert "body.stages" in problem["detail"]


async def test_job_without_stages_is_refused(pipeline: Running) -> None:
    response = await pipeline.client.post(
        "/v1/jobs", json=job_body(stages=[]), headers=auth("hr", HR)
    )

    assert response.status_code == 422
    assert _fields(response.json()) == ["stages"]
    assert response.json()["errors"][0]["code"] == "too_short"


@pytest.mark.parametrize("bad_key", ["Round1", "1st_round", "round-1", "", "r" * 41])
async def test_stage_key_outside_the_pattern_is_refused(pipeline: Running, bad_key: str) -> None:
    stages = [STAGES[0], {**STAGES[1], "key": bad_key}]

    response = await pipeline.client.post(
        "/v1/jobs", json=job_body(stages=stages), headers=auth("hr", HR)
    )

    assert response.status_code == 422
    assert _fields(response.json()) == ["stages.1.key"]


async def test_unknown_job_field_is_refused(pipeline: Running) -> None:
    response = await pipeline.client.post(
        "/v1/jobs", json={**job_body(), "salary": 1}, headers=auth("hr", HR)
    )

    assert response.status_code == 422
    assert _fields(response.json()) == ["salary"]


async def test_hr_lists_only_the_jobs_they_own(pipeline: Running) -> None:
    alice_job = await create_job(pipeline.client, hr=HR, title="Alice's")
    bob_job = await create_job(pipeline.client, hr="hr-bob", title="Bob's")

    alice = await pipeline.client.get("/v1/jobs", headers=auth("hr", HR))
    bob = await pipeline.client.get("/v1/jobs", headers=auth("hr", "hr-bob"))
    carol = await pipeline.client.get("/v1/jobs", headers=auth("hr", "hr-carol"))

    assert [job["id"] for job in alice.json()["items"]] == [alice_job["id"]]
    assert [job["id"] for job in bob.json()["items"]] == [bob_job["id"]]
    assert carol.json() == {"items": [], "next_cursor": None}


async def test_admin_lists_every_job_newest_first(pipeline: Running) -> None:
    first = await create_job(pipeline.client, hr=HR)
    second = await create_job(pipeline.client, hr="hr-bob")

    response = await pipeline.client.get("/v1/jobs", headers=auth("admin", "admin-zoe"))

    assert response.status_code == 200
    assert [job["id"] for job in response.json()["items"]] == [second["id"], first["id"]]


async def test_another_hrs_job_is_not_found(pipeline: Running) -> None:
    job = await create_job(pipeline.client, hr="hr-bob")

    response = await pipeline.client.get(f"/v1/jobs/{job['id']}", headers=auth("hr", HR))

    assert response.status_code == 404
    assert response.json()["type"] == "urn:recruiting:problem:not-found"
    admin = await pipeline.client.get(f"/v1/jobs/{job['id']}", headers=auth("admin", "admin"))
    assert admin.status_code == 200


async def test_unknown_job_is_not_found(pipeline: Running) -> None:
    response = await pipeline.client.get(f"/v1/jobs/{uuid.uuid4()}", headers=auth("admin", "a"))

    assert response.status_code == 404


async def test_interviewer_may_not_use_jobs(pipeline: Running) -> None:
    headers = auth("interviewer", "iv-dan")

    created = await pipeline.client.post("/v1/jobs", json=job_body(), headers=headers)
    listed = await pipeline.client.get("/v1/jobs", headers=headers)

    assert created.status_code == 403
    assert created.json()["type"] == "urn:recruiting:problem:forbidden"
    assert listed.status_code == 403


async def test_jobs_need_a_bearer_token(pipeline: Running) -> None:
    job = await create_job(pipeline.client)

    created = await pipeline.client.post("/v1/jobs", json=job_body())
    listed = await pipeline.client.get("/v1/jobs")
    fetched = await pipeline.client.get(f"/v1/jobs/{job['id']}")

    assert [created.status_code, listed.status_code, fetched.status_code] == [401, 401, 401]
    assert listed.headers["www-authenticate"] == "Bearer"


async def test_jobs_are_listed_page_by_page(pipeline: Running) -> None:
    created = [(await create_job(pipeline.client, title=f"Job {n}"))["id"] for n in range(5)]

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = await pipeline.client.get("/v1/jobs", params=params, headers=auth("hr", HR))
        assert response.status_code == 200
        page = response.json()
        assert len(page["items"]) <= 2
        seen += [job["id"] for job in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert pages == 3
    assert seen == list(reversed(created))


@pytest.mark.parametrize(
    ("params", "status"),
    [({"limit": "0"}, 422), ({"limit": "201"}, 422), ({"cursor": "not-a-cursor"}, 400)],
)
async def test_bad_paging_parameters_are_refused(
    pipeline: Running, params: dict[str, str], status: int
) -> None:
    response = await pipeline.client.get("/v1/jobs", params=params, headers=auth("hr", HR))

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"


async def test_job_creation_is_replayed_for_the_same_idempotency_key(
    pipeline: Running, db: Any
) -> None:
    headers = {**auth("hr", HR), "Idempotency-Key": "job-create-1"}

    first = await pipeline.client.post("/v1/jobs", json=job_body(), headers=headers)
    second = await pipeline.client.post("/v1/jobs", json=job_body(), headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["location"] == first.headers["location"]
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert await db.fetchval("SELECT count(*) FROM pipeline.jobs") == 1


async def test_idempotency_key_reused_with_another_body_is_refused(
    pipeline: Running, db: Any
) -> None:
    headers = {**auth("hr", HR), "Idempotency-Key": "job-create-2"}

    first = await pipeline.client.post("/v1/jobs", json=job_body("One"), headers=headers)
    second = await pipeline.client.post("/v1/jobs", json=job_body("Two"), headers=headers)

    assert first.status_code == 201
    assert second.status_code == 422
    assert second.json()["type"] == "urn:recruiting:problem:idempotency-key-reused"
    assert await db.fetchval("SELECT count(*) FROM pipeline.jobs") == 1
