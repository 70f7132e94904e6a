"""Chat robots: admins add, change and remove them; their URL (with its access token) and
signing secret are stored encrypted and never shown; the dispatcher gets a job's robots and the
global ones, decrypted, in one query."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from notifier.robots import service
from notifier.robots.service import RobotTarget
from shared.crypto import key_id_of
from tests.notifier.recipients_support import (
    ADMIN,
    HR,
    NEW_KEY,
    ROTATED,
    counting_statements,
    keyring_in,
    notifier_api,
)
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth

AS_ADMIN = auth("admin", ADMIN)
TOKEN = "4f0c9e1b7a2d48c6b1e3a5f7d9c0b2e4a6f8d0c2b4e6a8f0d2c4b6e8a0f2d4c6"
SIGNING_SECRET = "SEC6a1f0d3b5c7e9a1b3d5f7e9c1a3b5d7f9e1c3a5b7d9f1e3c5a7b9d1f3e5c7a9b1"
DINGTALK_URL = f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}"
WECOM_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0"
ROBOTS = "/v1/chat-robots"


@pytest.fixture
async def api() -> AsyncIterator[Running]:
    async with notifier_api() as service:
        yield service


@pytest.fixture
async def on_premise() -> AsyncIterator[Running]:
    """A deployment that allows robots on its own network."""
    async with notifier_api(outbound_allow_private=True) as service:
        yield service


def robot_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Backend hiring group",
        "provider": "dingtalk",
        "url": DINGTALK_URL,
        "secret": SIGNING_SECRET,
        **overrides,
    }


async def create(api: Running, **overrides: Any) -> dict[str, Any]:
    response = await api.client.post(ROBOTS, json=robot_body(**overrides), headers=AS_ADMIN)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_admin_adds_a_robot_and_sees_it_without_its_token_or_secret(api: Running) -> None:
    job_id = str(uuid.uuid4())

    response = await api.client.post(ROBOTS, json=robot_body(job_id=job_id), headers=AS_ADMIN)

    assert response.status_code == 201, response.text
    robot = response.json()
    assert response.headers["location"] == f"{ROBOTS}/{robot['id']}"
    assert robot == {
        "id": robot["id"],
        "name": "Backend hiring group",
        "provider": "dingtalk",
        "masked_url": "oapi.dingtalk.com/robot/send",
        "signed": True,
        "job_id": job_id,
        "active": True,
        "created_by": ADMIN,
        "created_at": robot["created_at"],
    }
    fetched = await api.client.get(f"{ROBOTS}/{robot['id']}", headers=AS_ADMIN)
    listed = await api.client.get(ROBOTS, headers=AS_ADMIN)
    assert fetched.json() == robot
    assert listed.json() == {"items": [robot], "next_cursor": None}
    for answer in (response, fetched, listed):
        assert TOKEN not in answer.text
        assert SIGNING_SECRET not in answer.text


async def test_a_robots_url_and_secret_are_stored_only_encrypted(
    api: Running, db: asyncpg.Connection
) -> None:
    robot = await create(api)

    row = await db.fetchrow(
        "SELECT url_ciphertext, secret_ciphertext FROM notifier.chat_robots WHERE id = $1",
        uuid.UUID(robot["id"]),
    )

    assert row is not None
    assert TOKEN.encode() not in row["url_ciphertext"]
    assert b"dingtalk" not in row["url_ciphertext"]
    assert SIGNING_SECRET.encode() not in row["secret_ciphertext"]


async def test_a_wecom_robot_has_no_secret(api: Running) -> None:
    robot = await create(api, provider="wecom", url=WECOM_URL, secret=None)
    refused = await api.client.post(
        ROBOTS, json=robot_body(provider="wecom", url=WECOM_URL), headers=AS_ADMIN
    )

    assert (robot["masked_url"], robot["signed"], robot["job_id"]) == (
        "qyapi.weixin.qq.com/cgi-bin/webhook/send",
        False,
        None,
    )
    problem = assert_problem(refused, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == ["secret"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"provider": "slack"}, "provider"),
        ({"name": ""}, "name"),
        ({"url": "oapi.dingtalk.com/robot/send"}, "url"),
        ({"url": "ftp://oapi.dingtalk.com/robot/send"}, "url"),
        ({"url": "http://127.0.0.1:9000/robot/send?access_token=x"}, "url"),
        ({"url": "http://10.1.2.3/robot/send"}, "url"),
        ({"url": "http://localhost:9000/robot/send"}, "url"),
        ({"url": "https://user:pw@oapi.dingtalk.com/robot/send"}, "url"),
        ({"job_id": "backend"}, "job_id"),
        ({"secret": ""}, "secret"),
    ],
)
async def test_invalid_robots_are_refused_naming_the_field(
    api: Running, overrides: dict[str, Any], field: str
) -> None:
    response = await api.client.post(ROBOTS, json=robot_body(**overrides), headers=AS_ADMIN)

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == [field]


async def test_a_private_address_is_refused_with_the_reason(api: Running) -> None:
    response = await api.client.post(
        ROBOTS, json=robot_body(url="http://192.168.1.20/robot/send"), headers=AS_ADMIN
    )

    problem = assert_problem(response, 422, "validation-error")
    assert "non-public address (192.168.1.20)" in problem["errors"][0]["message"]


async def test_a_private_address_is_allowed_when_configured(on_premise: Running) -> None:
    robot = await create(on_premise, url="http://127.0.0.1:9000/robot/send?access_token=x")

    assert robot["masked_url"] == "127.0.0.1:9000/robot/send"


async def test_plain_http_is_refused_when_https_is_required() -> None:
    async with notifier_api(webhook_require_https=True) as api:
        response = await api.client.post(
            ROBOTS, json=robot_body(url="http://oapi.dingtalk.com/robot/send"), headers=AS_ADMIN
        )

    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["message"] == "The URL must use https."


async def test_the_same_idempotency_key_adds_one_robot(
    api: Running, db: asyncpg.Connection
) -> None:
    headers = {**AS_ADMIN, "Idempotency-Key": "robot-1"}

    first = await api.client.post(ROBOTS, json=robot_body(), headers=headers)
    again = await api.client.post(ROBOTS, json=robot_body(), headers=headers)

    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert await db.fetchval("SELECT count(*) FROM notifier.chat_robots") == 1


async def test_robots_are_listed_oldest_first_page_by_page_and_filtered(api: Running) -> None:
    job_id = str(uuid.uuid4())
    first = await create(api, name="A")
    second = await create(api, name="B", job_id=job_id)
    third = await create(api, name="C")
    await api.client.patch(f"{ROBOTS}/{third['id']}", json={"active": False}, headers=AS_ADMIN)

    page_1 = (await api.client.get(f"{ROBOTS}?limit=2", headers=AS_ADMIN)).json()
    page_2 = (
        await api.client.get(
            ROBOTS, params={"limit": 2, "cursor": page_1["next_cursor"]}, headers=AS_ADMIN
        )
    ).json()
    of_job = (await api.client.get(ROBOTS, params={"job_id": job_id}, headers=AS_ADMIN)).json()
    inactive = (await api.client.get(ROBOTS, params={"active": "false"}, headers=AS_ADMIN)).json()

    assert [r["id"] for r in page_1["items"]] == [first["id"], second["id"]]
    assert [r["id"] for r in page_2["items"]] == [third["id"]]
    assert page_2["next_cursor"] is None
    assert [r["id"] for r in of_job["items"]] == [second["id"]]
    assert [r["id"] for r in inactive["items"]] == [third["id"]]


async def test_patch_changes_name_activity_job_url_and_secret(
    api: Running, db: asyncpg.Connection
) -> None:
    robot = await create(api, job_id=str(uuid.uuid4()))
    url = f"{ROBOTS}/{robot['id']}"

    renamed = await api.client.patch(
        url, json={"name": "All hiring", "active": False, "job_id": None}, headers=AS_ADMIN
    )
    moved = await api.client.patch(
        url,
        json={"url": "https://oapi.dingtalk.com/robot/v2/send?access_token=n3w", "secret": None},
        headers=AS_ADMIN,
    )

    assert renamed.status_code == 200, renamed.text
    assert (renamed.json()["name"], renamed.json()["active"], renamed.json()["job_id"]) == (
        "All hiring",
        False,
        None,
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["masked_url"], moved.json()["signed"]) == (
        "oapi.dingtalk.com/robot/v2/send",
        False,
    )
    row = await db.fetchrow(
        "SELECT url_ciphertext, secret_ciphertext FROM notifier.chat_robots WHERE id = $1",
        uuid.UUID(robot["id"]),
    )
    assert row is not None
    assert row["secret_ciphertext"] is None
    assert b"n3w" not in row["url_ciphertext"]
    assert (await api.client.get(url, headers=AS_ADMIN)).json() == moved.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": None}, "name"),
        ({"active": None}, "active"),
        ({"url": None}, "url"),
        ({"url": "http://169.254.169.254/latest/meta-data"}, "url"),
        ({"provider": "wecom"}, "provider"),
    ],
)
async def test_invalid_changes_are_refused_naming_the_field(
    api: Running, change: dict[str, Any], field: str
) -> None:
    robot = await create(api)

    response = await api.client.patch(f"{ROBOTS}/{robot['id']}", json=change, headers=AS_ADMIN)

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == [field]


async def test_a_wecom_robot_cannot_be_given_a_secret(api: Running) -> None:
    robot = await create(api, provider="wecom", url=WECOM_URL, secret=None)

    response = await api.client.patch(
        f"{ROBOTS}/{robot['id']}", json={"secret": "SECx"}, headers=AS_ADMIN
    )

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == ["secret"]


async def test_delete_removes_a_robot(api: Running) -> None:
    robot = await create(api)
    url = f"{ROBOTS}/{robot['id']}"

    deleted = await api.client.delete(url, headers=AS_ADMIN)

    assert deleted.status_code == 204
    assert_problem(await api.client.get(url, headers=AS_ADMIN), 404, "not-found")


async def test_an_unknown_robot_is_not_found(api: Running) -> None:
    url = f"{ROBOTS}/{uuid.uuid4()}"

    for response in [
        await api.client.get(url, headers=AS_ADMIN),
        await api.client.patch(url, json={"name": "X"}, headers=AS_ADMIN),
        await api.client.delete(url, headers=AS_ADMIN),
    ]:
        assert_problem(response, 404, "not-found")


async def test_robot_routes_need_a_token(api: Running) -> None:
    robot = await create(api)
    url = f"{ROBOTS}/{robot['id']}"

    for response in [
        await api.client.post(ROBOTS, json=robot_body()),
        await api.client.get(ROBOTS),
        await api.client.get(url),
        await api.client.patch(url, json={"name": "X"}),
        await api.client.delete(url),
    ]:
        assert_problem(response, 401, "unauthorized")


async def test_only_admins_manage_robots(api: Running) -> None:
    robot = await create(api)
    url = f"{ROBOTS}/{robot['id']}"

    for headers in [
        auth("hr", HR, scopes=("notifications:webhooks",)),
        auth("interviewer", "int-ivan"),
        auth("service", "svc-pipeline"),
    ]:
        for response in [
            await api.client.post(ROBOTS, json=robot_body(), headers=headers),
            await api.client.get(ROBOTS, headers=headers),
            await api.client.get(url, headers=headers),
            await api.client.patch(url, json={"name": "X"}, headers=headers),
            await api.client.delete(url, headers=headers),
        ]:
            assert_problem(response, 403, "forbidden")


async def test_a_jobs_robots_are_its_own_and_the_global_active_ones_in_one_query(
    api: Running,
) -> None:
    job_id, other_job = uuid.uuid4(), uuid.uuid4()
    own = await create(api, name="Own", job_id=str(job_id))
    everyone = await create(api, name="Global", provider="wecom", url=WECOM_URL, secret=None)
    await create(api, name="Other job's", job_id=str(other_job))
    retired = await create(api, name="Retired", job_id=str(job_id))
    await api.client.patch(f"{ROBOTS}/{retired['id']}", json={"active": False}, headers=AS_ADMIN)
    keyring = keyring_in(api)

    async with api.runtime.db.transaction() as session:
        with counting_statements(api) as statements:
            for_job = await service.robots_for_job(session, keyring, job_id)
        for_no_job = await service.robots_for_job(session, keyring, None)

    assert len(statements) == 1
    assert for_job == [
        RobotTarget(
            id=uuid.UUID(own["id"]), provider="dingtalk", url=DINGTALK_URL, secret=SIGNING_SECRET
        ),
        RobotTarget(id=uuid.UUID(everyone["id"]), provider="wecom", url=WECOM_URL, secret=None),
    ]
    assert [target.id for target in for_no_job] == [uuid.UUID(everyone["id"])]


async def test_robots_by_id_are_the_active_ones_decrypted_in_one_query(api: Running) -> None:
    kept = await create(api)
    retired = await create(api, name="Retired")
    await api.client.patch(f"{ROBOTS}/{retired['id']}", json={"active": False}, headers=AS_ADMIN)
    removed = await create(api, name="Removed")
    await api.client.delete(f"{ROBOTS}/{removed['id']}", headers=AS_ADMIN)
    asked = [uuid.UUID(robot["id"]) for robot in (kept, retired, removed, kept)]
    keyring = keyring_in(api)

    async with api.runtime.db.transaction() as session:
        with counting_statements(api) as statements:
            found = await service.robots_by_id(session, keyring, asked)
            nothing = await service.robots_by_id(session, keyring, [])

    assert len(statements) == 1
    assert found == {
        uuid.UUID(kept["id"]): RobotTarget(
            id=uuid.UUID(kept["id"]), provider="dingtalk", url=DINGTALK_URL, secret=SIGNING_SECRET
        )
    }
    assert nothing == {}


async def test_key_rotation_moves_urls_and_secrets_to_the_new_key(
    api: Running, db: asyncpg.Connection
) -> None:
    signed = await create(api)
    unsigned = await create(api, provider="wecom", url=WECOM_URL, secret=None)

    async with notifier_api(**ROTATED) as rotated:
        keyring = keyring_in(rotated)
        async with rotated.runtime.db.transaction() as session:
            moved = await service.rotate_keys(session=session, keyring=keyring)
        async with rotated.runtime.db.transaction() as session:
            left = await service.rotate_keys(session=session, keyring=keyring)
            targets = await service.robots_by_id(
                session, keyring, [uuid.UUID(signed["id"]), uuid.UUID(unsigned["id"])]
            )

    assert (moved, left) == (2, 0)
    assert targets[uuid.UUID(signed["id"])].url == DINGTALK_URL
    assert targets[uuid.UUID(signed["id"])].secret == SIGNING_SECRET
    assert targets[uuid.UUID(unsigned["id"])].url == WECOM_URL
    rows = await db.fetch("SELECT url_ciphertext, secret_ciphertext FROM notifier.chat_robots")
    assert {key_id_of(row["url_ciphertext"]) for row in rows} == {NEW_KEY}
    assert [key_id_of(r["secret_ciphertext"]) for r in rows if r["secret_ciphertext"]] == [NEW_KEY]
