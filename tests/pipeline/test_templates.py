from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from tests.pipeline.factories import HR, STAGE_KEYS, STAGES, create_template
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth


def _fields(problem: dict[str, Any]) -> list[str]:
    return [error["field"] for error in problem["errors"]]


async def _add_version(
    pipeline: Running,
    template_id: str,
    stages: list[dict[str, Any]],
    *,
    if_match: str | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    sent = dict(auth("hr", HR) if headers is None else headers)
    if if_match is not None:
        sent["If-Match"] = if_match
    return await pipeline.client.post(
        f"/v1/stage-templates/{template_id}/versions", json={"stages": stages}, headers=sent
    )


async def test_created_template_is_version_1_with_its_stages(pipeline: Running) -> None:
    response = await pipeline.client.post(
        "/v1/stage-templates",
        json={"name": "Engineering", "description": "Two rounds", "stages": STAGES},
        headers=auth("hr", HR),
    )

    assert response.status_code == 201
    template = response.json()
    assert response.headers["location"] == f"/v1/stage-templates/{template['id']}"
    assert response.headers["etag"] == '"1"'
    assert template["latest_version"] == 1
    assert template["created_by"] == HR
    assert template["archived_at"] is None
    assert [stage["key"] for stage in template["stages"]] == STAGE_KEYS
    assert template["stages"][0] == {**STAGES[0], "notify_candidate": False}
    assert [v["version"] for v in template["versions"]] == [1]
    fetched = await pipeline.client.get(response.headers["location"], headers=auth("hr", "hr-bob"))
    assert fetched.status_code == 200
    assert fetched.json() == template


async def test_a_new_version_becomes_the_latest_and_the_old_one_stays(pipeline: Running) -> None:
    template = await create_template(pipeline.client)
    changed = [
        {**STAGES[0], "sla_days": 5, "notify_candidate": True},
        {**STAGES[3], "notify_candidate": False},
    ]

    response = await _add_version(pipeline, template["id"], changed, if_match='"1"')

    assert response.status_code == 201
    assert response.json()["version"] == 2
    assert response.headers["etag"] == '"2"'
    assert response.headers["location"] == f"/v1/stage-templates/{template['id']}/versions/2"
    fetched = await pipeline.client.get(
        f"/v1/stage-templates/{template['id']}", headers=auth("hr", HR)
    )
    assert fetched.headers["etag"] == '"2"'
    assert fetched.json()["latest_version"] == 2
    assert fetched.json()["stages"] == changed
    assert [v["version"] for v in fetched.json()["versions"]] == [1, 2]
    first = await pipeline.client.get(
        f"/v1/stage-templates/{template['id']}/versions/1", headers=auth("hr", HR)
    )
    assert [stage["key"] for stage in first.json()["stages"]] == STAGE_KEYS


async def test_version_against_a_stale_latest_version_is_refused(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    template = await create_template(pipeline.client)
    assert (await _add_version(pipeline, template["id"], STAGES[:1])).status_code == 201

    response = await _add_version(pipeline, template["id"], STAGES[:2], if_match='"1"')

    problem = assert_problem(response, 412, "version-mismatch")
    assert problem["current_version"] == 2
    assert await db.fetchval("SELECT count(*) FROM pipeline.stage_template_versions") == 2


async def test_version_without_if_match_is_added(pipeline: Running) -> None:
    template = await create_template(pipeline.client)

    response = await _add_version(pipeline, template["id"], STAGES[:1])

    assert response.status_code == 201
    assert response.json()["version"] == 2


async def test_version_by_another_hr_is_forbidden_but_an_admin_may_add_one(
    pipeline: Running,
) -> None:
    template = await create_template(pipeline.client)

    other = await _add_version(pipeline, template["id"], STAGES, headers=auth("hr", "hr-bob"))
    admin = await _add_version(pipeline, template["id"], STAGES, headers=auth("admin", "zoe"))

    assert_problem(other, 403, "forbidden")
    assert admin.status_code == 201


async def test_archived_template_takes_no_new_version(pipeline: Running) -> None:
    template = await create_template(pipeline.client)
    archived = await pipeline.client.post(
        f"/v1/stage-templates/{template['id']}/archive", headers=auth("hr", HR)
    )

    response = await _add_version(pipeline, template["id"], STAGES)

    assert archived.status_code == 200
    assert archived.json()["archived_at"] is not None
    assert_problem(response, 409, "archived")


async def test_archiving_twice_keeps_the_first_archive_time(pipeline: Running) -> None:
    template = await create_template(pipeline.client)
    path = f"/v1/stage-templates/{template['id']}/archive"

    first = await pipeline.client.post(path, headers=auth("hr", HR))
    second = await pipeline.client.post(path, headers=auth("hr", HR))

    assert second.status_code == 200
    assert second.json()["archived_at"] == first.json()["archived_at"]


async def test_archive_with_a_stale_version_or_by_another_hr_is_refused(
    pipeline: Running,
) -> None:
    template = await create_template(pipeline.client)
    await _add_version(pipeline, template["id"], STAGES[:1])
    path = f"/v1/stage-templates/{template['id']}/archive"

    stale = await pipeline.client.post(path, headers={**auth("hr", HR), "If-Match": '"1"'})
    other = await pipeline.client.post(path, headers=auth("hr", "hr-bob"))

    assert_problem(stale, 412, "version-mismatch")
    assert_problem(other, 403, "forbidden")
    fetched = await pipeline.client.get(
        f"/v1/stage-templates/{template['id']}", headers=auth("hr", HR)
    )
    assert fetched.json()["archived_at"] is None


async def test_list_leaves_archived_templates_out_unless_asked(pipeline: Running) -> None:
    kept = await create_template(pipeline.client, name="Kept")
    gone = await create_template(pipeline.client, name="Gone")
    await pipeline.client.post(f"/v1/stage-templates/{gone['id']}/archive", headers=auth("hr", HR))

    default = await pipeline.client.get("/v1/stage-templates", headers=auth("hr", "hr-bob"))
    everything = await pipeline.client.get(
        "/v1/stage-templates", params={"include_archived": "true"}, headers=auth("hr", HR)
    )

    assert [t["id"] for t in default.json()["items"]] == [kept["id"]]
    assert [t["id"] for t in everything.json()["items"]] == [gone["id"], kept["id"]]
    assert default.json()["next_cursor"] is None


async def test_templates_are_listed_page_by_page(pipeline: Running) -> None:
    created = [(await create_template(pipeline.client, name=f"T{n}"))["id"] for n in range(3)]

    first = await pipeline.client.get(
        "/v1/stage-templates", params={"limit": "2"}, headers=auth("hr", HR)
    )
    second = await pipeline.client.get(
        "/v1/stage-templates",
        params={"limit": "2", "cursor": first.json()["next_cursor"]},
        headers=auth("hr", HR),
    )

    ids = [t["id"] for t in first.json()["items"] + second.json()["items"]]
    assert ids == list(reversed(created))
    assert second.json()["next_cursor"] is None


@pytest.mark.parametrize(
    ("stages", "field"),
    [
        ([], "stages"),
        ([STAGES[0], STAGES[0]], "stages"),
        ([{**STAGES[0], "kind": "AI"}], "stages.0.kind"),
        ([{**STAGES[0], "sla_days": -1}], "stages.0.sla_days"),
        ([{**STAGES[0], "name_en": ""}], "stages.0.name_en"),
        ([{**STAGES[0], "notify_candidate": "sometimes"}], "stages.0.notify_candidate"),
    ],
)
async def test_invalid_stages_are_refused_naming_the_field(
    pipeline: Running, db: asyncpg.Connection, stages: list[dict[str, Any]], field: str
) -> None:
    created = await pipeline.client.post(
        "/v1/stage-templates", json={"name": "Bad", "stages": stages}, headers=auth("hr", HR)
    )
    template = await create_template(pipeline.client)
    version = await _add_version(pipeline, template["id"], stages)

    assert _fields(assert_problem(created, 422, "validation-error")) == [field]
    assert _fields(assert_problem(version, 422, "validation-error")) == [field]
    assert await db.fetchval("SELECT count(*) FROM pipeline.stage_template_versions") == 1


async def test_repeated_stage_keys_are_named_in_the_message(pipeline: Running) -> None:
    response = await pipeline.client.post(
        "/v1/stage-templates",
        json={"name": "Bad", "stages": [STAGES[0], STAGES[1], STAGES[0]]},
        headers=auth("hr", HR),
    )

    problem = assert_problem(response, 422)
    assert "unique" in problem["errors"][0]["message"]
    assert "ai_interview" in problem["errors"][0]["message"]


async def test_template_without_a_name_is_refused(pipeline: Running) -> None:
    response = await pipeline.client.post(
        "/v1/stage-templates", json={"stages": STAGES}, headers=auth("hr", HR)
    )

    assert _fields(assert_problem(response, 422)) == ["name"]


async def test_unknown_template_and_version_are_not_found(pipeline: Running) -> None:
    template = await create_template(pipeline.client)
    unknown = str(uuid.uuid4())

    responses = [
        await pipeline.client.get(f"/v1/stage-templates/{unknown}", headers=auth()),
        await pipeline.client.get(
            f"/v1/stage-templates/{template['id']}/versions/9", headers=auth()
        ),
        await _add_version(pipeline, unknown, STAGES),
        await pipeline.client.post(f"/v1/stage-templates/{unknown}/archive", headers=auth()),
    ]

    for response in responses:
        assert_problem(response, 404, "not-found")


async def test_template_creation_is_replayed_for_the_same_idempotency_key(
    pipeline: Running, db: asyncpg.Connection
) -> None:
    headers = {**auth("hr", HR), "Idempotency-Key": "template-1"}
    body = {"name": "Engineering", "stages": STAGES}

    first = await pipeline.client.post("/v1/stage-templates", json=body, headers=headers)
    second = await pipeline.client.post("/v1/stage-templates", json=body, headers=headers)

    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert await db.fetchval("SELECT count(*) FROM pipeline.stage_templates") == 1


async def test_interviewers_and_anonymous_callers_may_not_use_templates(
    pipeline: Running,
) -> None:
    template = await create_template(pipeline.client)
    path = f"/v1/stage-templates/{template['id']}"
    body = {"name": "X", "stages": STAGES}

    for headers, status in ((auth("interviewer", "iv-dan"), 403), ({}, 401)):
        responses = [
            await pipeline.client.post("/v1/stage-templates", json=body, headers=headers),
            await pipeline.client.get("/v1/stage-templates", headers=headers),
            await pipeline.client.get(path, headers=headers),
            await pipeline.client.get(f"{path}/versions/1", headers=headers),
            await _add_version(pipeline, template["id"], STAGES, headers=headers),
            await pipeline.client.post(f"{path}/archive", headers=headers),
        ]
        assert [r.status_code for r in responses] == [status] * len(responses)
        assert_problem(responses[0], status)
