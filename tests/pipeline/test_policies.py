"""Release policies and rejection reasons: admin configuration, readable by staff."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from tests.pipeline.decision_fixtures import (
    ADMIN,
    DIRECTOR,
    HR,
    LEAD,
    arrange,
    make_job,
    seed_reasons,
    transition,
)
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth

ADMIN_AUTH = auth("admin", ADMIN)
CORE = {
    "mode": "approval",
    "approver_ids": [LEAD, DIRECTOR],
    "step_sla_hours": 8,
    "escalate_to": [DIRECTOR],
}


async def _put(
    pipeline: Running,
    job_type: str,
    body: dict[str, Any],
    *,
    if_match: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    sent = dict(headers or ADMIN_AUTH)
    if if_match is not None:
        sent["If-Match"] = if_match
    return await pipeline.client.put(f"/v1/release-policies/{job_type}", json=body, headers=sent)


async def test_admin_creates_a_policy_then_replaces_it_with_its_version(
    pipeline: Running,
) -> None:
    created = await _put(pipeline, "core", CORE)
    replaced = await _put(
        pipeline, "core", {**CORE, "approver_ids": [DIRECTOR]}, if_match=created.headers["etag"]
    )

    assert created.status_code == 201
    assert created.headers["location"] == "/v1/release-policies/core"
    body = created.json()
    assert {k: body[k] for k in CORE} == CORE
    assert (body["job_type"], body["version"], body["updated_by"]) == ("core", 1, ADMIN)
    assert replaced.status_code == 200
    assert replaced.json()["approver_ids"] == [DIRECTOR]
    assert replaced.json()["version"] == 2
    assert replaced.headers["etag"] == '"2"'


async def test_replacing_with_a_stale_version_is_refused(pipeline: Running) -> None:
    await _put(pipeline, "core", CORE)
    await _put(pipeline, "core", {**CORE, "step_sla_hours": 4})

    response = await _put(pipeline, "core", {**CORE, "step_sla_hours": 2}, if_match='"1"')

    problem = assert_problem(response, 412, "version-mismatch")
    assert problem["current_version"] == 2
    current = await pipeline.client.get("/v1/release-policies/core", headers=auth())
    assert current.json()["step_sla_hours"] == 4


async def test_if_match_on_a_policy_that_does_not_exist_is_not_found(pipeline: Running) -> None:
    response = await _put(pipeline, "core", CORE, if_match='"1"')

    assert_problem(response, 404, "not-found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"mode": "immediate", "approver_ids": [LEAD, DIRECTOR]}, "approver_ids"),
        ({"mode": "approval", "approver_ids": []}, "approver_ids"),
        ({"mode": "approval", "approver_ids": [LEAD, LEAD]}, "approver_ids"),
        ({"mode": "approval", "approver_ids": [LEAD], "step_sla_hours": 0}, "step_sla_hours"),
        ({"mode": "later", "approver_ids": []}, "mode"),
        ({"mode": "immediate", "approvers": []}, "approvers"),
    ],
)
async def test_invalid_policy_is_refused_naming_the_field(
    pipeline: Running, body: dict[str, Any], field: str
) -> None:
    response = await _put(pipeline, "core", body)

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == [field]


async def test_invalid_job_type_in_the_path_is_refused(pipeline: Running) -> None:
    response = await _put(pipeline, "Core Roles", CORE)

    assert_problem(response, 422, "validation-error")


async def test_immediate_policy_may_name_one_approver(pipeline: Running) -> None:
    response = await _put(pipeline, "intern", {"mode": "immediate", "approver_ids": [LEAD]})

    assert response.status_code == 201
    assert response.json()["step_sla_hours"] == 24
    assert response.json()["escalate_to"] == []


async def test_staff_list_and_read_policies(pipeline: Running) -> None:
    await _put(pipeline, "core", CORE)
    await _put(pipeline, "basic", {"mode": "immediate"})

    listed = await pipeline.client.get("/v1/release-policies?limit=1", headers=auth())
    rest = await pipeline.client.get(
        f"/v1/release-policies?limit=1&cursor={listed.json()['next_cursor']}", headers=auth()
    )
    one = await pipeline.client.get("/v1/release-policies/core", headers=auth())
    missing = await pipeline.client.get("/v1/release-policies/nope", headers=auth())

    assert [p["job_type"] for p in listed.json()["items"] + rest.json()["items"]] == [
        "basic",
        "core",
    ]
    assert rest.json()["next_cursor"] is None
    assert one.json()["mode"] == "approval"
    assert one.headers["etag"] == '"1"'
    assert_problem(missing, 404, "not-found")


async def test_policy_access_matrix(pipeline: Running) -> None:
    await _put(pipeline, "core", CORE)

    hr_put = await _put(pipeline, "core", CORE, headers=auth("hr", HR))
    hr_delete = await pipeline.client.delete("/v1/release-policies/core", headers=auth())
    interviewer = await pipeline.client.get(
        "/v1/release-policies", headers=auth("interviewer", "iv-dan")
    )
    anonymous = await pipeline.client.get("/v1/release-policies/core")

    assert_problem(hr_put, 403, "forbidden")
    assert_problem(hr_delete, 403, "forbidden")
    assert_problem(interviewer, 403, "forbidden")
    assert_problem(anonymous, 401, "unauthorized")


async def test_unused_policy_is_deleted(pipeline: Running) -> None:
    await _put(pipeline, "core", CORE)

    deleted = await pipeline.client.delete("/v1/release-policies/core", headers=ADMIN_AUTH)
    again = await pipeline.client.delete("/v1/release-policies/core", headers=ADMIN_AUTH)

    assert deleted.status_code == 204
    assert_problem(again, 404, "not-found")


async def test_policy_a_job_uses_is_not_deleted(pipeline: Running, db: asyncpg.Connection) -> None:
    await _put(pipeline, "core", CORE)
    await make_job(db, job_type="core")

    response = await pipeline.client.delete("/v1/release-policies/core", headers=ADMIN_AUTH)

    problem = assert_problem(response, 409, "release-policy-in-use")
    assert problem["jobs"] == 1
    assert (await pipeline.client.get("/v1/release-policies/core", headers=auth())).is_success


async def test_deleting_with_a_stale_version_is_refused(pipeline: Running) -> None:
    await _put(pipeline, "core", CORE)
    await _put(pipeline, "core", CORE)

    response = await pipeline.client.delete(
        "/v1/release-policies/core", headers={**ADMIN_AUTH, "If-Match": '"1"'}
    )

    assert_problem(response, 412, "version-mismatch")


# Rejection reasons

NEW_REASON = {
    "code": "relocation_declined",
    "label_zh": "不接受工作地点",
    "label_en": "Declined to relocate",
    "candidate_visible": False,
}


async def test_admin_adds_a_reason_that_can_then_be_used(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    _, application_id = await arrange(db)

    created = await pipeline.client.post(
        "/v1/rejection-reasons", json=NEW_REASON, headers=ADMIN_AUTH
    )
    rejected = await transition(
        pipeline.client,
        application_id,
        {"transition": "reject", "reason_code": "relocation_declined"},
    )

    assert created.status_code == 201
    assert created.headers["location"] == "/v1/rejection-reasons/relocation_declined"
    assert {k: created.json()[k] for k in NEW_REASON} == NEW_REASON
    assert created.json()["active"] is True
    assert rejected.json()["rejection_reason"] == "relocation_declined"


async def test_a_reason_code_is_added_only_once(pipeline: Running) -> None:
    await pipeline.client.post("/v1/rejection-reasons", json=NEW_REASON, headers=ADMIN_AUTH)

    again = await pipeline.client.post("/v1/rejection-reasons", json=NEW_REASON, headers=ADMIN_AUTH)

    assert_problem(again, 409, "duplicate")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NEW_REASON, "code": "Bad Code"}, "code"),
        ({**NEW_REASON, "label_zh": ""}, "label_zh"),
        ({k: v for k, v in NEW_REASON.items() if k != "label_en"}, "label_en"),
    ],
)
async def test_invalid_reason_is_refused_naming_the_field(
    pipeline: Running, body: dict[str, Any], field: str
) -> None:
    response = await pipeline.client.post("/v1/rejection-reasons", json=body, headers=ADMIN_AUTH)

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == [field]


async def test_staff_list_reasons_filtered_by_activity(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    await seed_reasons(db)
    await pipeline.client.patch(
        "/v1/rejection-reasons/other", json={"active": False}, headers=ADMIN_AUTH
    )

    everything = await pipeline.client.get("/v1/rejection-reasons", headers=auth())
    active = await pipeline.client.get("/v1/rejection-reasons?active=true", headers=auth())
    one = await pipeline.client.get("/v1/rejection-reasons/not_qualified", headers=auth())

    every_code = [r["code"] for r in everything.json()["items"]]
    active_codes = [r["code"] for r in active.json()["items"]]
    # The migration seeds more reasons than these three; the lists are ordered by code.
    assert every_code == sorted(every_code)
    assert {"failed_interview", "not_qualified", "other"} <= set(every_code)
    assert active_codes == [code for code in every_code if code != "other"]
    assert one.json()["code"] == "not_qualified"
    assert one.json()["label_zh"] and one.json()["label_en"]


async def test_admin_changes_a_reasons_labels(pipeline: Running, db: asyncpg.Connection) -> None:
    await seed_reasons(db)

    response = await pipeline.client.patch(
        "/v1/rejection-reasons/other",
        json={"label_en": "Something else", "candidate_visible": False},
        headers=ADMIN_AUTH,
    )

    assert response.status_code == 200
    assert response.json()["label_en"] == "Something else"
    assert response.json()["label_zh"] == "其他原因"
    assert response.json()["candidate_visible"] is False


async def test_unused_reason_is_deleted(pipeline: Running, db: asyncpg.Connection) -> None:
    await seed_reasons(db)

    deleted = await pipeline.client.delete("/v1/rejection-reasons/other", headers=ADMIN_AUTH)
    gone = await pipeline.client.get("/v1/rejection-reasons/other", headers=auth())

    assert deleted.status_code == 204
    assert_problem(gone, 404, "not-found")


async def test_used_reason_is_deactivated_instead_of_deleted(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    await seed_reasons(db)
    _, application_id = await arrange(db)
    await transition(
        pipeline.client, application_id, {"transition": "reject", "reason_code": "other"}
    )

    response = await pipeline.client.delete("/v1/rejection-reasons/other", headers=ADMIN_AUTH)
    _, another = await arrange(db)
    refused = await transition(
        pipeline.client, another, {"transition": "reject", "reason_code": "other"}
    )

    assert response.status_code == 200
    assert response.json()["active"] is False
    assert response.json()["label_en"] == "Other reasons"
    assert_problem(refused, 422, "unknown-rejection-reason")


async def test_reason_access_matrix(pipeline: Running, db: asyncpg.Connection) -> None:
    await seed_reasons(db)

    hr_post = await pipeline.client.post("/v1/rejection-reasons", json=NEW_REASON, headers=auth())
    hr_patch = await pipeline.client.patch(
        "/v1/rejection-reasons/other", json={"active": False}, headers=auth()
    )
    hr_delete = await pipeline.client.delete("/v1/rejection-reasons/other", headers=auth())
    interviewer = await pipeline.client.get(
        "/v1/rejection-reasons", headers=auth("interviewer", "iv-dan")
    )
    anonymous = await pipeline.client.get("/v1/rejection-reasons")
    missing = await pipeline.client.patch(
        "/v1/rejection-reasons/nope", json={"active": False}, headers=ADMIN_AUTH
    )

    assert_problem(hr_post, 403, "forbidden")
    assert_problem(hr_patch, 403, "forbidden")
    assert_problem(hr_delete, 403, "forbidden")
    assert_problem(interviewer, 403, "forbidden")
    assert_problem(anonymous, 401, "unauthorized")
    assert_problem(missing, 404, "not-found")
