from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.pipeline.factories import (
    HR,
    STAGE_KEYS,
    STAGES,
    create_job,
    create_template,
    ensure_release_policy,
    job_body,
)
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth


def _fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem["errors"]]


@pytest.fixture(autouse=True)
async def _basic_policy() -> None:
    await ensure_release_policy("basic")


async def test_created_job_is_returned_with_its_location_and_stages(pipeline: Running) -> None:
    response = await pipeline.client.post("/v1/jobs", json=job_body(), headers=auth("hr", HR))

    assert response.status_code == 201
    job = response.json()
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["title"] == "Backend engineer"
    assert job["job_type"] == "basic"
    assert job["created_by"] == HR
    assert [stage["key"] for stage in job["stages"]] == [stage["key"] for stage in STAGES]
    assert job["stages"][1] == {**STAGES[1], "notify_candidate": False}
    assert job["status"] == "open"
    assert job["template_id"] is None
    assert job["version"] == 1
    assert response.headers["etag"] == '"1"'
    fetched = await pipeline.client.get(response.headers["location"], headers=auth("hr", HR))
    assert fetched.status_code == 200
    assert fetched.json() == job
    assert fetched.headers["etag"] == '"1"'


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


async def test_job_type_without_a_release_policy_is_refused_naming_job_type(
    pipeline: Running, db: Any
) -> None:
    response = await pipeline.client.post(
        "/v1/jobs", json=job_body(job_type="core"), headers=auth("hr", HR)
    )

    problem = assert_problem(response, 422, "validation-error")
    assert _fields(problem) == ["job_type"]
    assert problem["errors"][0]["code"] == "unknown_job_type"
    assert await db.fetchval("SELECT count(*) FROM pipeline.jobs") == 0


async def test_job_type_with_a_release_policy_is_accepted(pipeline: Running) -> None:
    await ensure_release_policy("core", mode="approval")

    response = await pipeline.client.post(
        "/v1/jobs", json=job_body(job_type="core"), headers=auth("hr", HR)
    )

    assert response.status_code == 201
    assert response.json()["job_type"] == "core"


async def test_stage_notification_flags_are_kept(pipeline: Running) -> None:
    stages = [{**STAGES[0], "notify_candidate": True}, STAGES[1]]

    response = await pipeline.client.post(
        "/v1/jobs", json=job_body(stages=stages), headers=auth("hr", HR)
    )

    assert [stage["notify_candidate"] for stage in response.json()["stages"]] == [True, False]


@pytest.mark.parametrize("field", ["ai_advance_min_score", "ai_reject_below_score"])
@pytest.mark.parametrize("score", [-1, 100.5, 50.123])
async def test_ai_thresholds_outside_0_to_100_are_refused(
    pipeline: Running, field: str, score: float
) -> None:
    body = {**job_body(), field: score}

    response = await pipeline.client.post("/v1/jobs", json=body, headers=auth("hr", HR))

    assert _fields(assert_problem(response, 422)) == [field]


async def test_ai_thresholds_are_stored(pipeline: Running) -> None:
    job = await create_job(pipeline.client, ai_advance_min_score=75, ai_reject_below_score=30.5)

    assert job["ai_advance_min_score"] == 75
    assert job["ai_reject_below_score"] == 30.5


async def test_reject_threshold_above_the_advance_threshold_is_refused(
    pipeline: Running,
) -> None:
    response = await pipeline.client.post(
        "/v1/jobs",
        json=job_body(ai_advance_min_score=50, ai_reject_below_score=60),
        headers=auth("hr", HR),
    )

    assert _fields(assert_problem(response, 422)) == ["ai_reject_below_score"]


# -- jobs from templates ---------------------------------------------------------------------


async def test_job_copies_the_latest_template_version_by_default(pipeline: Running) -> None:
    template = await create_template(pipeline.client)
    await _add_version(pipeline, template["id"], STAGES[:2])

    job = await create_job(pipeline.client, stages=None, template_id=template["id"])

    assert job["template_id"] == template["id"]
    assert job["template_version"] == 2
    assert [stage["key"] for stage in job["stages"]] == STAGE_KEYS[:2]


async def test_job_copies_the_template_version_it_names(pipeline: Running) -> None:
    template = await create_template(pipeline.client)
    await _add_version(pipeline, template["id"], STAGES[:2])

    job = await create_job(
        pipeline.client, stages=None, template_id=template["id"], template_version=1
    )

    assert job["template_version"] == 1
    assert [stage["key"] for stage in job["stages"]] == STAGE_KEYS


async def test_editing_a_template_never_changes_a_job_made_from_it(pipeline: Running) -> None:
    template = await create_template(pipeline.client)
    job = await create_job(pipeline.client, stages=None, template_id=template["id"])

    await _add_version(pipeline, template["id"], [{**STAGES[0], "name_en": "Changed"}])
    fetched = await pipeline.client.get(f"/v1/jobs/{job['id']}", headers=auth("hr", HR))

    assert fetched.json()["stages"] == job["stages"]
    assert fetched.json()["template_version"] == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"template_id": "00000000-0000-0000-0000-000000000001"}, "stages"),  # both
        ({"stages": None}, "stages"),  # neither
        ({"stages": None, "template_version": 1}, "stages"),
        ({"template_version": 1}, "template_version"),  # a version without a template
    ],
)
async def test_job_needs_exactly_one_source_of_stages(
    pipeline: Running, fields: dict[str, Any], field: str
) -> None:
    response = await pipeline.client.post(
        "/v1/jobs", json=job_body(**fields), headers=auth("hr", HR)
    )

    assert _fields(assert_problem(response, 422, "validation-error")) == [field]


async def test_unknown_template_is_refused_naming_template_id(pipeline: Running) -> None:
    response = await pipeline.client.post(
        "/v1/jobs",
        json=job_body(stages=None, template_id=str(uuid.uuid4())),
        headers=auth("hr", HR),
    )

    assert _fields(assert_problem(response, 422, "validation-error")) == ["template_id"]


async def test_unknown_template_version_is_refused_naming_template_version(
    pipeline: Running,
) -> None:
    template = await create_template(pipeline.client)

    response = await pipeline.client.post(
        "/v1/jobs",
        json=job_body(stages=None, template_id=template["id"], template_version=2),
        headers=auth("hr", HR),
    )

    assert _fields(assert_problem(response, 422, "validation-error")) == ["template_version"]


async def test_archived_template_cannot_start_a_job(pipeline: Running, db: Any) -> None:
    template = await create_template(pipeline.client)
    archived = await pipeline.client.post(
        f"/v1/stage-templates/{template['id']}/archive", headers=auth("hr", HR)
    )
    assert archived.status_code == 200

    response = await pipeline.client.post(
        "/v1/jobs", json=job_body(stages=None, template_id=template["id"]), headers=auth("hr", HR)
    )

    assert_problem(response, 409, "template-archived")
    assert await db.fetchval("SELECT count(*) FROM pipeline.jobs") == 0


# -- changing a job --------------------------------------------------------------------------


async def _patch(
    pipeline: Running,
    job_id: str,
    body: dict[str, Any],
    *,
    if_match: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    sent = dict(auth("hr", HR) if headers is None else headers)
    if if_match is not None:
        sent["If-Match"] = if_match
    return await pipeline.client.patch(f"/v1/jobs/{job_id}", json=body, headers=sent)


async def test_patch_changes_only_the_fields_sent_and_bumps_the_version(
    pipeline: Running,
) -> None:
    job = await create_job(pipeline.client)

    response = await _patch(
        pipeline,
        job["id"],
        {"title": "SRE", "location": None, "ai_advance_min_score": 80},
        if_match='"1"',
    )

    assert response.status_code == 200
    changed = response.json()
    assert changed["title"] == "SRE"
    assert changed["location"] is None
    assert changed["ai_advance_min_score"] == 80
    assert changed["department"] == job["department"]
    assert changed["stages"] == job["stages"]
    assert changed["version"] == 2
    assert response.headers["etag"] == '"2"'


async def test_patch_with_a_stale_version_is_refused(pipeline: Running) -> None:
    job = await create_job(pipeline.client)
    await _patch(pipeline, job["id"], {"title": "First"}, if_match='"1"')

    response = await _patch(pipeline, job["id"], {"title": "Second"}, if_match='"1"')

    problem = assert_problem(response, 412, "version-mismatch")
    assert problem["current_version"] == 2
    fetched = await pipeline.client.get(f"/v1/jobs/{job['id']}", headers=auth("hr", HR))
    assert fetched.json()["title"] == "First"


async def test_malformed_if_match_is_refused(pipeline: Running) -> None:
    job = await create_job(pipeline.client)

    response = await _patch(pipeline, job["id"], {"title": "X"}, if_match="version-one")

    assert_problem(response, 400, "invalid-if-match")


@pytest.mark.parametrize("field", ["title", "owner_ids", "status"])
async def test_patch_may_not_clear_a_required_field(pipeline: Running, field: str) -> None:
    job = await create_job(pipeline.client)

    response = await _patch(pipeline, job["id"], {field: None})

    assert _fields(assert_problem(response, 422)) == [field]


async def test_patch_with_an_unknown_status_is_refused(pipeline: Running) -> None:
    job = await create_job(pipeline.client)

    response = await _patch(pipeline, job["id"], {"status": "paused"})

    assert _fields(assert_problem(response, 422)) == ["status"]


async def test_patch_may_not_cross_the_ai_thresholds(pipeline: Running) -> None:
    job = await create_job(pipeline.client, ai_advance_min_score=60)

    response = await _patch(pipeline, job["id"], {"ai_reject_below_score": 70})

    assert _fields(assert_problem(response, 422)) == ["ai_reject_below_score"]


async def test_hr_cannot_remove_themselves_from_the_owners(pipeline: Running) -> None:
    job = await create_job(pipeline.client)

    response = await _patch(pipeline, job["id"], {"owner_ids": ["hr-bob"]})

    assert _fields(assert_problem(response, 422)) == ["owner_ids"]


async def test_owners_changed_by_an_admin_change_who_sees_the_job(pipeline: Running) -> None:
    job = await create_job(pipeline.client)

    response = await _patch(
        pipeline, job["id"], {"owner_ids": ["hr-bob"]}, headers=auth("admin", "admin-zoe")
    )

    assert response.status_code == 200
    alice = await pipeline.client.get(f"/v1/jobs/{job['id']}", headers=auth("hr", HR))
    bob = await pipeline.client.get(f"/v1/jobs/{job['id']}", headers=auth("hr", "hr-bob"))
    assert alice.status_code == 404
    assert bob.status_code == 200


async def test_job_can_be_closed_and_reopened(pipeline: Running) -> None:
    job = await create_job(pipeline.client)

    closed = await _patch(pipeline, job["id"], {"status": "closed"})
    reopened = await _patch(pipeline, job["id"], {"status": "open"})

    assert closed.json()["status"] == "closed"
    assert reopened.json()["status"] == "open"
    assert reopened.json()["version"] == 3


async def test_stages_cannot_be_patched(pipeline: Running) -> None:
    job = await create_job(pipeline.client)

    response = await _patch(pipeline, job["id"], {"stages": STAGES[:1]})

    assert _fields(assert_problem(response, 422)) == ["stages"]


async def test_only_owners_and_admins_may_patch_a_job(pipeline: Running) -> None:
    job = await create_job(pipeline.client)

    other_hr = await _patch(pipeline, job["id"], {"title": "X"}, headers=auth("hr", "hr-bob"))
    interviewer = await _patch(
        pipeline, job["id"], {"title": "X"}, headers=auth("interviewer", "iv-dan")
    )
    anonymous = await _patch(pipeline, job["id"], {"title": "X"}, headers={})
    unknown = await _patch(pipeline, str(uuid.uuid4()), {"title": "X"})

    assert_problem(other_hr, 404, "not-found")
    assert_problem(interviewer, 403, "forbidden")
    assert_problem(anonymous, 401, "unauthorized")
    assert_problem(unknown, 404, "not-found")
    fetched = await pipeline.client.get(f"/v1/jobs/{job['id']}", headers=auth("hr", HR))
    assert fetched.json()["title"] == job["title"]


async def _add_version(
    pipeline: Running, template_id: str, stages: list[dict[str, Any]]
) -> dict[str, Any]:
    response = await pipeline.client.post(
        f"/v1/stage-templates/{template_id}/versions",
        json={"stages": stages},
        headers=auth("hr", HR),
    )
    assert response.status_code == 201, response.text
    version: dict[str, Any] = response.json()
    return version
