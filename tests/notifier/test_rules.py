"""Rules: staff read them, admins change them with If-Match; a rule names only kinds and
audiences the notifier has, channels a person can be reached on, and fallback steps in order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from notifier.kinds import KINDS
from notifier.rules.service import rules_for
from tests.notifier.tracking_support import tracking_api
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth

ADMIN = "admin-zhao"
AS_ADMIN = auth("admin", ADMIN)
AS_HR = auth("hr", "hr-wang")
URL = "/v1/rules/interview_invitation/candidate"


@pytest.fixture
async def api() -> AsyncIterator[Running]:
    async with tracking_api() as service:
        yield service


def rule(**overrides: Any) -> dict[str, Any]:
    return {
        "channels": ["in_app", "email"],
        "fallback": [
            {"after_minutes": 60, "channels": ["sms"]},
            {"after_minutes": 720, "action": "hr_follow_up"},
        ],
        "urgent": False,
        "enabled": True,
        **overrides,
    }


async def put(api: Running, body: dict[str, Any], url: str = URL, **headers: str) -> Any:
    return await api.client.put(url, json=body, headers={**AS_ADMIN, **headers})


# Reading


async def test_staff_list_every_rule_in_a_stable_order(api: Running) -> None:
    response = await api.client.get("/v1/rules", params={"limit": 200}, headers=AS_HR)

    assert response.status_code == 200, response.text
    body = response.json()
    keys = [(item["kind"], item["audience"]) for item in body["items"]]
    assert keys == sorted(keys)
    assert set(keys) == {(k.name, a) for k in KINDS.values() for a in k.audiences}
    invitation = next(i for i in body["items"] if i["kind"] == "interview_invitation")
    assert invitation["channels"] == ["in_app", "email"]
    assert invitation["fallback"] == [
        {"after_minutes": 120, "channels": ["sms"], "action": None},
        {"after_minutes": 1440, "channels": None, "action": "hr_follow_up"},
    ]
    assert (invitation["version"], invitation["updated_by"]) == (1, "migration")


async def test_the_rules_page_with_a_cursor(api: Running) -> None:
    first = await api.client.get("/v1/rules", params={"limit": 5}, headers=AS_ADMIN)
    second = await api.client.get(
        "/v1/rules", params={"limit": 5, "cursor": first.json()["next_cursor"]}, headers=AS_ADMIN
    )

    everything = await api.client.get("/v1/rules", params={"limit": 200}, headers=AS_ADMIN)
    assert [*first.json()["items"], *second.json()["items"]] == everything.json()["items"][:10]


async def test_one_rule_with_its_version_as_etag(api: Running) -> None:
    response = await api.client.get("/v1/rules/interview_booked/interviewers", headers=AS_HR)

    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    body = response.json()
    assert (body["kind"], body["audience"], body["channels"]) == (
        "interview_booked",
        "interviewers",
        ["in_app", "email"],
    )
    assert (body["urgent"], body["enabled"], body["fallback"]) == (False, True, [])


@pytest.mark.parametrize(
    "path",
    [
        "/v1/rules/no_such_kind/candidate",
        "/v1/rules/interview_invitation/hr",  # a kind without that audience
        "/v1/rules/interview_invitation/everyone",
    ],
)
async def test_an_unknown_kind_or_audience_is_not_found(api: Running, path: str) -> None:
    assert_problem(await api.client.get(path, headers=AS_HR), 404, "not-found")
    assert_problem(await put(api, rule(), path), 404, "not-found")


async def test_a_rule_that_was_removed_is_not_found_until_put_again(
    api: Running, db: asyncpg.Connection
) -> None:
    await db.execute(
        "DELETE FROM notifier.rules WHERE kind = 'interview_invitation' AND audience = 'candidate'"
    )

    assert_problem(await api.client.get(URL, headers=AS_HR), 404, "not-found")
    assert_problem(await put(api, rule(), **{"If-Match": '"3"'}), 412, "version-mismatch")
    created = await put(api, rule())

    assert created.status_code == 201, created.text
    assert created.headers["etag"] == '"1"'
    assert (await api.client.get(URL, headers=AS_HR)).status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/rules"), ("GET", URL), ("PUT", URL)],
)
async def test_who_may_not_read_or_change_rules(api: Running, method: str, path: str) -> None:
    body = rule() if method == "PUT" else None
    assert_problem(await api.client.request(method, path, json=body), 401, "unauthorized")
    forbidden = [auth("interviewer", "int-ivan"), auth("service", "pipeline")]
    if method == "PUT":
        forbidden.append(AS_HR)
    for headers in forbidden:
        response = await api.client.request(method, path, json=body, headers=headers)
        assert_problem(response, 403, "forbidden")


# Changing


async def test_an_admin_replaces_a_rule_and_the_planner_uses_it(
    api: Running, db: asyncpg.Connection
) -> None:
    response = await put(
        api,
        rule(channels=["email", "sms"], urgent=True, enabled=True),
        **{"If-Match": '"1"'},
    )

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    body = response.json()
    assert body["channels"] == ["email", "sms"]
    assert body["fallback"] == [
        {"after_minutes": 60, "channels": ["sms"], "action": None},
        {"after_minutes": 720, "channels": None, "action": "hr_follow_up"},
    ]
    assert (body["urgent"], body["version"], body["updated_by"]) == (True, 2, ADMIN)
    stored = await db.fetchrow(
        "SELECT channels, fallback::text AS fallback, urgent, version FROM notifier.rules"
        " WHERE kind = 'interview_invitation' AND audience = 'candidate'"
    )
    assert stored is not None
    assert stored["channels"] == ["email", "sms"]
    assert stored["version"] == 2
    # Stored as the planner and the fallback timer read it.
    async with api.runtime.db.sessionmaker() as session:
        found = await rules_for(session, [("interview_invitation", "candidate")])
    planned = found[("interview_invitation", "candidate")]
    assert planned.fallback == [
        {"after_minutes": 60, "channels": ["sms"]},
        {"after_minutes": 720, "action": "hr_follow_up"},
    ]


async def test_a_disabled_rule_is_not_planned(api: Running) -> None:
    response = await put(api, rule(enabled=False, fallback=[]))

    assert response.status_code == 200
    assert response.json()["enabled"] is False
    async with api.runtime.db.sessionmaker() as session:
        assert await rules_for(session, [("interview_invitation", "candidate")]) == {}


async def test_a_stale_if_match_is_a_412_and_changes_nothing(
    api: Running, db: asyncpg.Connection
) -> None:
    await put(api, rule(), **{"If-Match": '"1"'})

    stale = await put(api, rule(channels=["in_app"]), **{"If-Match": '"1"'})

    problem = assert_problem(stale, 412, "version-mismatch")
    assert problem["current_version"] == 2
    channels = await db.fetchval(
        "SELECT channels FROM notifier.rules"
        " WHERE kind = 'interview_invitation' AND audience = 'candidate'"
    )
    assert channels == ["in_app", "email"]


async def test_a_malformed_if_match_is_a_400(api: Running) -> None:
    assert_problem(await put(api, rule(), **{"If-Match": "yesterday"}), 400, "invalid-if-match")


async def test_chat_reaches_staff_rules(api: Running) -> None:
    response = await put(
        api,
        {
            "channels": ["in_app", "chat"],
            "fallback": [{"after_minutes": 30, "channels": ["chat", "email"]}],
            "urgent": False,
            "enabled": True,
        },
        "/v1/rules/message_unanswered/hr",
    )

    assert response.status_code == 200, response.text
    assert response.json()["fallback"][0]["channels"] == ["chat", "email"]


# Invalid rules


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (rule(channels=[]), "channels"),
        (rule(channels=["webhook"]), "channels.0"),
        (rule(channels=["in_app", "pigeon"]), "channels.1"),
        (rule(channels=["in_app", "chat"]), "channels.1"),
        (rule(channels=["email", "email"]), "channels.1"),
        (rule(fallback=[{"after_minutes": 0, "channels": ["sms"]}]), "fallback.0.after_minutes"),
        (
            rule(
                fallback=[
                    {"after_minutes": 120, "channels": ["sms"]},
                    {"after_minutes": 120, "channels": ["email"]},
                ]
            ),
            "fallback.1.after_minutes",
        ),
        (
            rule(
                fallback=[
                    {"after_minutes": 120, "channels": ["sms"]},
                    {"after_minutes": 60, "action": "hr_follow_up"},
                ]
            ),
            "fallback.1.after_minutes",
        ),
        (
            rule(
                fallback=[
                    {"after_minutes": 60, "action": "hr_follow_up"},
                    {"after_minutes": 120, "channels": ["sms"]},
                ]
            ),
            "fallback.0.action",
        ),
        (rule(fallback=[{"after_minutes": 60, "channels": ["chat"]}]), "fallback.0.channels.0"),
        (rule(fallback=[{"after_minutes": 60, "channels": ["webhook"]}]), "fallback.0.channels.0"),
        (rule(fallback=[{"after_minutes": 60, "channels": []}]), "fallback.0.channels"),
        (rule(fallback=[{"after_minutes": 60}]), "fallback.0"),
        (
            rule(fallback=[{"after_minutes": 60, "channels": ["sms"], "action": "hr_follow_up"}]),
            "fallback.0",
        ),
        (rule(fallback=[{"after_minutes": 60, "action": "call_them"}]), "fallback.0.action"),
        (
            rule(fallback=[{"after_minutes": 60, "channels": ["sms", "sms"]}]),
            "fallback.0.channels.1",
        ),
        (
            rule(fallback=[{"after_minutes": 60 * 24 * 31, "channels": ["sms"]}]),
            "fallback.0.after_minutes",
        ),
        (rule(urgent="sometimes"), "urgent"),
        ({"channels": ["email"], "fallback": [], "urgent": False}, "enabled"),
        (rule(audience="hr"), "audience"),
    ],
)
async def test_an_invalid_rule_is_a_422_naming_the_field(
    api: Running, db: asyncpg.Connection, body: dict[str, Any], field: str
) -> None:
    response = await put(api, body)

    problem = assert_problem(response, 422)
    assert [error["field"] for error in problem["errors"]] == [field]
    version = await db.fetchval(
        "SELECT version FROM notifier.rules"
        " WHERE kind = 'interview_invitation' AND audience = 'candidate'"
    )
    assert version == 1


async def test_the_unread_follow_up_cannot_follow_itself_up(api: Running) -> None:
    response = await put(
        api,
        {
            "channels": ["in_app"],
            "fallback": [{"after_minutes": 60, "action": "hr_follow_up"}],
            "urgent": False,
            "enabled": True,
        },
        "/v1/rules/unread_follow_up/hr",
    )

    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["field"] == "fallback.0.action"
