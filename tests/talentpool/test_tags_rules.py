"""Tag rules through HTTP: HR and admins read them; admins and HR who may search the whole pool
write them; the schema is strict (the trigger picks its conditions, an unknown field is a 422
naming it); built-in rules may be switched off but not deleted or rewritten."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from talentpool.app import spec as talentpool_spec
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.talentpool.tags_support import (
    AS_ADMIN,
    AS_INTERVIEWER,
    AS_OTHER_HR,
    AS_POOL_HR,
    AS_SERVICE,
    BUILT_IN,
)

URL = "/v1/tag-rules"


@pytest.fixture
async def pool() -> AsyncIterator[Running]:
    async with api(talentpool_spec) as service:
        yield service


def a_rule(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Withdrew: hold 90 days",
        "tag": "on_hold",
        "trigger": "application_ended",
        "conditions": {"status": ["withdrawn"]},
        "until_days": 90,
        **overrides,
    }


async def create(
    pool: Running, body: dict[str, Any], headers: dict[str, str] = AS_POOL_HR
) -> httpx.Response:
    return await pool.client.post(URL, json=body, headers=headers)


def _fields(response: httpx.Response) -> list[str]:
    problem = assert_problem(response, 422, "validation-error")
    return [error["field"] for error in problem["errors"]]


# Reading


async def test_the_built_in_rules_are_there_from_the_start(pool: Running) -> None:
    response = await pool.client.get(URL, headers=AS_OTHER_HR)

    assert response.status_code == 200, response.text
    rules = {item["id"]: item for item in response.json()["items"]}
    assert set(rules) == {str(rule_id) for rule_id in BUILT_IN.values()}
    assert all(rule["built_in"] and rule["enabled"] for rule in rules.values())
    expired = rules[str(BUILT_IN["no_show_on_invite_expired"])]
    assert (expired["tag"], expired["trigger"]) == ("no_show", "invite_expired")
    assert expired["conditions"] == {"kind": "any", "final_only": True}
    runner_up = rules[str(BUILT_IN["runner_up"])]
    assert runner_up["conditions"] == {
        "status": ["rejected", "withdrawn"],
        "min_stage_kind": None,
        "passed_stage_kind": "interview",
        "reason_codes": None,
    }
    hired = rules[str(BUILT_IN["runner_up_removed_on_hire"])]
    assert (hired["tag"], hired["action"], hired["conditions"]["status"]) == (
        "runner_up",
        "remove",
        ["hired"],
    )


async def test_rules_are_listed_page_by_page_and_filtered(pool: Running) -> None:
    await create(pool, a_rule())

    first = await pool.client.get(URL, params={"limit": 4}, headers=AS_ADMIN)
    rest = await pool.client.get(
        URL, params={"limit": 4, "cursor": first.json()["next_cursor"]}, headers=AS_ADMIN
    )
    on_hold = await pool.client.get(URL, params={"tag": "on_hold"}, headers=AS_ADMIN)
    ended = await pool.client.get(URL, params={"trigger": "application_ended"}, headers=AS_ADMIN)

    assert len(first.json()["items"]) == 4
    assert len(rest.json()["items"]) == 2
    assert rest.json()["next_cursor"] is None
    assert [r["name"] for r in on_hold.json()["items"]] == ["Withdrew: hold 90 days"]
    assert len(ended.json()["items"]) == 3


# Writing


async def test_hr_searching_the_pool_creates_a_rule_and_reads_it_back(pool: Running) -> None:
    response = await create(pool, a_rule())

    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["location"] == f"{URL}/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert body["built_in"] is False
    assert body["action"] == "add"
    assert body["enabled"] is True
    assert body["created_by"] == "hr-wang"
    # Defaults of the trigger's conditions are filled in.
    assert body["conditions"] == {
        "status": ["withdrawn"],
        "min_stage_kind": None,
        "passed_stage_kind": None,
        "reason_codes": None,
    }
    read = await pool.client.get(f"{URL}/{body['id']}", headers=AS_OTHER_HR)
    assert read.json() == body


@pytest.mark.parametrize(
    "body",
    [
        {"trigger": "invite_expired", "conditions": {"kind": "ai_interview", "final_only": False}},
        {"trigger": "ai_interview_expired"},
        {"trigger": "no_show_recorded", "conditions": {"kind": "interview"}},
        {"trigger": "ai_interview_completed", "conditions": {"min_score": 85}},
        {"trigger": "stage_reached", "conditions": {"stage_kind": "offer"}},
        {"trigger": "notification_unread", "conditions": {"kinds": ["interview_invitation"]}},
        {
            "trigger": "application_ended",
            "conditions": {"status": ["rejected"], "reason_codes": ["position_filled"]},
        },
    ],
)
async def test_every_trigger_takes_its_own_conditions(pool: Running, body: dict[str, Any]) -> None:
    response = await create(
        pool, {"name": f"Rule on {body['trigger']}", "tag": "re_invite", **body}
    )

    assert response.status_code == 201, response.text
    assert response.json()["trigger"] == body["trigger"]
    for name, value in body.get("conditions", {}).items():
        assert response.json()["conditions"][name] == value


async def test_an_unknown_condition_is_refused_naming_it(pool: Running) -> None:
    body = a_rule(conditions={"status": ["withdrawn"], "colour": "red"})

    fields = _fields(await create(pool, body))

    assert fields == ["application_ended.conditions.colour"]


async def test_a_condition_of_another_trigger_is_refused_naming_it(pool: Running) -> None:
    body = a_rule(trigger="invite_expired", conditions={"status": ["withdrawn"]})

    assert _fields(await create(pool, body)) == ["invite_expired.conditions.status"]


async def test_an_unknown_rule_field_is_refused_naming_it(pool: Running) -> None:
    assert _fields(await create(pool, a_rule(priority=1))) == ["application_ended.priority"]


async def test_an_unknown_trigger_is_refused_naming_the_known_ones(pool: Running) -> None:
    response = await create(pool, a_rule(trigger="moon_phase"))

    problem = assert_problem(response, 422, "validation-error")
    [error] = problem["errors"]
    assert error["field"] == "trigger"
    assert "'trigger'" in error["message"]
    assert "'moon_phase'" in error["message"]
    assert "'application_ended'" in error["message"]


async def test_stage_reached_needs_the_stage_kind(pool: Running) -> None:
    body = a_rule(trigger="stage_reached", conditions={}, tag="re_invite", until_days=None)

    assert _fields(await create(pool, body)) == ["stage_reached.conditions.stage_kind"]


async def test_an_unknown_stage_kind_is_refused(pool: Running) -> None:
    body = a_rule(conditions={"status": ["rejected"], "passed_stage_kind": "lunch"})

    assert _fields(await create(pool, body)) == ["application_ended.conditions.passed_stage_kind"]


async def test_a_minimum_score_above_the_maximum_is_refused(pool: Running) -> None:
    body = a_rule(
        trigger="ai_interview_completed",
        tag="re_invite",
        until_days=None,
        conditions={"min_score": 90, "max_score": 60},
    )

    assert _fields(await create(pool, body)) == ["ai_interview_completed.conditions"]


async def test_a_rule_putting_people_on_hold_needs_until_days(pool: Running) -> None:
    assert _fields(await create(pool, a_rule(until_days=None))) == ["until_days"]


async def test_a_rule_removing_a_tag_takes_no_until_days(pool: Running) -> None:
    body = a_rule(tag="re_invite", action="remove", until_days=30)

    assert _fields(await create(pool, body)) == ["until_days"]


async def test_a_bad_tag_name_is_refused(pool: Running) -> None:
    assert _fields(await create(pool, a_rule(tag="On Hold"))) == ["application_ended.tag"]


async def test_two_rules_of_one_name_conflict(pool: Running) -> None:
    assert (await create(pool, a_rule())).status_code == 201

    assert_problem(await create(pool, a_rule(until_days=30)), 409, "rule-name-taken")


async def test_replacing_a_rule_needs_the_version_read(pool: Running) -> None:
    created = (await create(pool, a_rule())).json()
    url = f"{URL}/{created['id']}"

    without = await pool.client.put(url, json=a_rule(until_days=30), headers=AS_POOL_HR)
    stale = await pool.client.put(
        url, json=a_rule(until_days=30), headers={**AS_POOL_HR, "If-Match": '"7"'}
    )
    replaced = await pool.client.put(
        url,
        json=a_rule(until_days=30, enabled=False),
        headers={**AS_POOL_HR, "If-Match": '"1"'},
    )

    assert_problem(without, 428, "if-match-required")
    assert_problem(stale, 412, "version-mismatch")
    assert replaced.status_code == 200, replaced.text
    assert replaced.headers["etag"] == '"2"'
    assert (replaced.json()["until_days"], replaced.json()["enabled"]) == (30, False)


async def test_a_rule_is_deleted(pool: Running) -> None:
    created = (await create(pool, a_rule())).json()

    deleted = await pool.client.delete(f"{URL}/{created['id']}", headers=AS_POOL_HR)

    assert deleted.status_code == 204
    assert_problem(
        await pool.client.get(f"{URL}/{created['id']}", headers=AS_ADMIN), 404, "not-found"
    )


async def test_a_built_in_rule_may_be_disabled_but_not_deleted_or_rewritten(pool: Running) -> None:
    url = f"{URL}/{BUILT_IN['runner_up']}"
    shipped = (await pool.client.get(url, headers=AS_ADMIN)).json()
    fields = ("name", "tag", "action", "trigger", "conditions", "until_days", "enabled")
    body = {name: shipped[name] for name in fields}

    disabled = await pool.client.put(
        url, json={**body, "enabled": False}, headers={**AS_ADMIN, "If-Match": '"1"'}
    )
    rewritten = await pool.client.put(
        url, json={**body, "tag": "re_invite"}, headers={**AS_ADMIN, "If-Match": '"2"'}
    )
    deleted = await pool.client.delete(url, headers=AS_ADMIN)

    assert disabled.status_code == 200, disabled.text
    assert disabled.json()["enabled"] is False
    problem = assert_problem(rewritten, 409, "built-in-rule")
    assert "tag" in problem["detail"]
    assert_problem(deleted, 409, "built-in-rule")
    assert (await pool.client.get(url, headers=AS_ADMIN)).json()["enabled"] is False


async def test_an_unknown_rule_is_404(pool: Running) -> None:
    url = f"{URL}/0193b0a5-0000-7000-8000-0000000000ff"

    assert_problem(await pool.client.get(url, headers=AS_ADMIN), 404, "not-found")
    assert_problem(
        await pool.client.put(url, json=a_rule(), headers={**AS_ADMIN, "If-Match": '"1"'}),
        404,
        "not-found",
    )
    assert_problem(await pool.client.delete(url, headers=AS_ADMIN), 404, "not-found")


# Who may


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({}, 401), (AS_INTERVIEWER, 403), (AS_SERVICE, 403)],
)
async def test_who_may_not_read_rules(
    pool: Running, headers: dict[str, str], expected: int
) -> None:
    assert_problem(await pool.client.get(URL, headers=headers), expected)
    assert_problem(
        await pool.client.get(f"{URL}/{BUILT_IN['runner_up']}", headers=headers), expected
    )


@pytest.mark.parametrize(
    ("headers", "expected"),
    [({}, 401), (AS_INTERVIEWER, 403), (AS_SERVICE, 403), (AS_OTHER_HR, 403)],
)
async def test_who_may_not_write_rules(
    pool: Running, headers: dict[str, str], expected: int
) -> None:
    url = f"{URL}/{BUILT_IN['runner_up']}"

    assert_problem(await create(pool, a_rule(), headers=headers), expected)
    assert_problem(
        await pool.client.put(url, json=a_rule(), headers={**headers, "If-Match": '"1"'}),
        expected,
    )
    assert_problem(await pool.client.delete(url, headers=headers), expected)


async def test_an_admin_writes_rules(pool: Running) -> None:
    assert (await create(pool, a_rule(), headers=AS_ADMIN)).status_code == 201
