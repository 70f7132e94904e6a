"""Webhook endpoints: admins (and HR with the webhooks scope) add and change them; the signing
secret is shown once, stored encrypted and rotated on request; the dispatcher gets the
endpoints of a kind in one query, and an endpoint failing for too long is disabled."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from standardwebhooks.webhooks import Webhook

from notifier.endpoints import service
from notifier.endpoints.service import EndpointTarget
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
AS_INTEGRATOR = auth("hr", HR, scopes=("notifications:webhooks",))
ENDPOINTS = "/v1/webhook-endpoints"
HOOK_URL = "https://hooks.example.com/recruiting"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FIVE_DAYS = timedelta(days=5)


@pytest.fixture
async def api() -> AsyncIterator[Running]:
    async with notifier_api() as service:
        yield service


def endpoint_body(**overrides: Any) -> dict[str, Any]:
    return {
        "url": HOOK_URL,
        "kinds": ["interview_booked", "offer"],
        "description": "ATS sync",
        **overrides,
    }


async def create(api: Running, **overrides: Any) -> dict[str, Any]:
    response = await api.client.post(ENDPOINTS, json=endpoint_body(**overrides), headers=AS_ADMIN)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_admin_adds_an_endpoint_and_sees_its_secret_only_then(api: Running) -> None:
    response = await api.client.post(ENDPOINTS, json=endpoint_body(), headers=AS_ADMIN)

    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["etag"] == '"1"'
    endpoint = response.json()
    assert response.headers["location"] == f"{ENDPOINTS}/{endpoint['id']}"
    secret = endpoint.pop("secret")
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
    assert endpoint == {
        "id": endpoint["id"],
        "url": HOOK_URL,
        "description": "ATS sync",
        "kinds": ["interview_booked", "offer"],
        "enabled": True,
        "disabled_reason": None,
        "failing_since": None,
        "version": 1,
        "created_by": ADMIN,
        "created_at": endpoint["created_at"],
        "updated_at": endpoint["created_at"],
    }
    fetched = await api.client.get(f"{ENDPOINTS}/{endpoint['id']}", headers=AS_ADMIN)
    listed = await api.client.get(ENDPOINTS, headers=AS_ADMIN)
    assert fetched.json() == endpoint
    assert fetched.headers["etag"] == '"1"'
    assert listed.json() == {"items": [endpoint], "next_cursor": None}
    for answer in (fetched, listed):
        assert secret not in answer.text
        assert secret.removeprefix("whsec_") not in answer.text


async def test_the_secret_signs_standard_webhooks_and_is_stored_only_encrypted(
    api: Running, db: asyncpg.Connection
) -> None:
    created = await create(api)
    secret = created["secret"]

    stored = await db.fetchval(
        "SELECT secret_ciphertext FROM notifier.webhook_endpoints WHERE id = $1",
        uuid.UUID(created["id"]),
    )

    assert secret.encode() not in stored
    assert base64.b64decode(secret.removeprefix("whsec_")) not in stored
    decrypted = keyring_in(api).decrypt(stored, context="webhook_endpoints.secret")
    assert decrypted == secret
    payload = '{"type": "offer"}'
    now = datetime.now(UTC)
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign("msg_1", now, payload),
    }
    # The receiver's side: the library verifies what the secret signed.
    assert Webhook(secret).verify(payload, headers) == {"type": "offer"}


async def test_every_kind_when_none_is_named(api: Running) -> None:
    endpoint = await create(api, kinds=[], description=None)

    assert (endpoint["kinds"], endpoint["description"]) == ([], None)


async def test_hr_with_the_webhooks_scope_manage_endpoints(api: Running) -> None:
    response = await api.client.post(ENDPOINTS, json=endpoint_body(), headers=AS_INTEGRATOR)

    assert response.status_code == 201, response.text
    assert response.json()["created_by"] == HR
    listed = await api.client.get(ENDPOINTS, headers=AS_INTEGRATOR)
    assert [e["id"] for e in listed.json()["items"]] == [response.json()["id"]]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"url": "http://127.0.0.1:8080/hook"}, "url"),
        ({"url": "http://[::1]:8080/hook"}, "url"),
        ({"url": "http://172.16.0.5/hook"}, "url"),
        ({"url": "http://localhost/hook"}, "url"),
        ({"url": "ftp://hooks.example.com/hook"}, "url"),
        ({"url": "hooks.example.com/hook"}, "url"),
        ({"url": ""}, "url"),
        ({"kinds": ["offer", "payday"]}, "kinds.1"),
        ({"description": "x" * 501}, "description"),
        ({"secret": "whsec_mine"}, "secret"),
    ],
)
async def test_invalid_endpoints_are_refused_naming_the_field(
    api: Running, overrides: dict[str, Any], field: str
) -> None:
    response = await api.client.post(ENDPOINTS, json=endpoint_body(**overrides), headers=AS_ADMIN)

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == [field]


async def test_a_loopback_endpoint_is_refused_with_the_reason_unless_allowed(
    api: Running,
) -> None:
    url = "http://127.0.0.1:8080/hook"

    refused = await api.client.post(ENDPOINTS, json=endpoint_body(url=url), headers=AS_ADMIN)
    async with notifier_api(outbound_allow_private=True) as on_premise:
        allowed = await on_premise.client.post(
            ENDPOINTS, json=endpoint_body(url=url), headers=AS_ADMIN
        )

    problem = assert_problem(refused, 422, "validation-error")
    assert problem["errors"][0]["message"] == "The URL points at a non-public address (127.0.0.1)."
    assert allowed.status_code == 201, allowed.text
    assert allowed.json()["url"] == url


async def test_plain_http_is_refused_when_https_is_required() -> None:
    async with notifier_api(webhook_require_https=True) as api:
        refused = await api.client.post(
            ENDPOINTS, json=endpoint_body(url="http://hooks.example.com/hook"), headers=AS_ADMIN
        )
        accepted = await api.client.post(ENDPOINTS, json=endpoint_body(), headers=AS_ADMIN)

    problem = assert_problem(refused, 422, "validation-error")
    assert problem["errors"][0]["message"] == "The URL must use https."
    assert accepted.status_code == 201


async def test_endpoints_are_listed_page_by_page_and_filtered(api: Running) -> None:
    first = await create(api)
    second = await create(api)
    await api.client.patch(f"{ENDPOINTS}/{first['id']}", json={"enabled": False}, headers=AS_ADMIN)

    page_1 = (await api.client.get(ENDPOINTS, params={"limit": 1}, headers=AS_ADMIN)).json()
    page_2 = (
        await api.client.get(
            ENDPOINTS, params={"limit": 1, "cursor": page_1["next_cursor"]}, headers=AS_ADMIN
        )
    ).json()
    disabled = (
        await api.client.get(ENDPOINTS, params={"enabled": "false"}, headers=AS_ADMIN)
    ).json()

    assert [e["id"] for e in page_1["items"]] == [first["id"]]
    assert [e["id"] for e in page_2["items"]] == [second["id"]]
    assert page_2["next_cursor"] is None
    assert [e["id"] for e in disabled["items"]] == [first["id"]]


async def test_patch_changes_an_endpoint_and_checks_the_version(api: Running) -> None:
    endpoint = await create(api)
    url = f"{ENDPOINTS}/{endpoint['id']}"

    changed = await api.client.patch(
        url,
        json={"url": "https://hooks.example.com/v2", "kinds": [], "description": None},
        headers={**AS_ADMIN, "If-Match": '"1"'},
    )
    stale = await api.client.patch(
        url, json={"kinds": ["offer"]}, headers={**AS_ADMIN, "If-Match": '"1"'}
    )

    assert changed.status_code == 200, changed.text
    assert changed.headers["etag"] == '"2"'
    body = changed.json()
    assert (body["url"], body["kinds"], body["description"], body["version"]) == (
        "https://hooks.example.com/v2",
        [],
        None,
        2,
    )
    assert "secret" not in body
    assert assert_problem(stale, 412, "version-mismatch")["current_version"] == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"url": "http://10.0.0.8/hook"}, "url"),
        ({"url": None}, "url"),
        ({"kinds": None}, "kinds"),
        ({"kinds": ["unknown"]}, "kinds.0"),
        ({"enabled": None}, "enabled"),
        ({"secret": "whsec_x"}, "secret"),
    ],
)
async def test_invalid_changes_are_refused_naming_the_field(
    api: Running, change: dict[str, Any], field: str
) -> None:
    endpoint = await create(api)

    response = await api.client.patch(
        f"{ENDPOINTS}/{endpoint['id']}", json=change, headers=AS_ADMIN
    )

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == [field]


async def test_disabling_gives_a_reason_and_re_enabling_starts_afresh(
    api: Running, db: asyncpg.Connection
) -> None:
    endpoint = await create(api)
    url = f"{ENDPOINTS}/{endpoint['id']}"

    disabled = await api.client.patch(url, json={"enabled": False}, headers=AS_ADMIN)
    await db.execute(
        "UPDATE notifier.webhook_endpoints SET failing_since = $2, disabled_reason = 'failing'"
        " WHERE id = $1",
        uuid.UUID(endpoint["id"]),
        T0,
    )
    enabled = await api.client.patch(url, json={"enabled": True}, headers=AS_ADMIN)

    assert (disabled.json()["enabled"], disabled.json()["disabled_reason"]) == (
        False,
        "Disabled through the API.",
    )
    assert enabled.status_code == 200, enabled.text
    assert (
        enabled.json()["enabled"],
        enabled.json()["disabled_reason"],
        enabled.json()["failing_since"],
    ) == (True, None, None)


async def test_rotating_the_secret_shows_the_new_one_once(
    api: Running, db: asyncpg.Connection
) -> None:
    endpoint = await create(api)
    url = f"{ENDPOINTS}/{endpoint['id']}"

    rotated = await api.client.post(f"{url}/secret", headers={**AS_ADMIN, "If-Match": '"1"'})
    stale = await api.client.post(f"{url}/secret", headers={**AS_ADMIN, "If-Match": '"1"'})

    assert rotated.status_code == 200, rotated.text
    assert rotated.headers["cache-control"] == "no-store"
    assert rotated.headers["etag"] == '"2"'
    new_secret = rotated.json()["secret"]
    assert new_secret.startswith("whsec_")
    assert new_secret != endpoint["secret"]
    assert_problem(stale, 412, "version-mismatch")
    fetched = await api.client.get(url, headers=AS_ADMIN)
    assert "secret" not in fetched.json()
    assert new_secret not in fetched.text
    stored = await db.fetchval(
        "SELECT secret_ciphertext FROM notifier.webhook_endpoints WHERE id = $1",
        uuid.UUID(endpoint["id"]),
    )
    assert keyring_in(api).decrypt(stored, context="webhook_endpoints.secret") == (new_secret)


async def test_delete_removes_an_endpoint(api: Running) -> None:
    endpoint = await create(api)
    url = f"{ENDPOINTS}/{endpoint['id']}"

    deleted = await api.client.delete(url, headers=AS_INTEGRATOR)

    assert deleted.status_code == 204
    assert_problem(await api.client.get(url, headers=AS_ADMIN), 404, "not-found")


async def test_an_unknown_endpoint_is_not_found(api: Running) -> None:
    url = f"{ENDPOINTS}/{uuid.uuid4()}"

    for response in [
        await api.client.get(url, headers=AS_ADMIN),
        await api.client.patch(url, json={"description": "x"}, headers=AS_ADMIN),
        await api.client.post(f"{url}/secret", headers=AS_ADMIN),
        await api.client.delete(url, headers=AS_ADMIN),
    ]:
        assert_problem(response, 404, "not-found")


async def test_endpoint_routes_need_a_token(api: Running) -> None:
    endpoint = await create(api)
    url = f"{ENDPOINTS}/{endpoint['id']}"

    for response in [
        await api.client.post(ENDPOINTS, json=endpoint_body()),
        await api.client.get(ENDPOINTS),
        await api.client.get(url),
        await api.client.patch(url, json={"description": "x"}),
        await api.client.post(f"{url}/secret"),
        await api.client.delete(url),
    ]:
        assert_problem(response, 401, "unauthorized")


async def test_hr_without_the_scope_interviewers_and_services_may_not_manage_endpoints(
    api: Running,
) -> None:
    endpoint = await create(api)
    url = f"{ENDPOINTS}/{endpoint['id']}"

    for headers in [
        auth("hr", HR),
        auth("hr", HR, scopes=("notifications:read",)),
        auth("interviewer", "int-ivan", scopes=("notifications:webhooks",)),
        auth("service", "svc-pipeline", scopes=("notifications:webhooks",)),
    ]:
        for response in [
            await api.client.post(ENDPOINTS, json=endpoint_body(), headers=headers),
            await api.client.get(ENDPOINTS, headers=headers),
            await api.client.get(url, headers=headers),
            await api.client.patch(url, json={"description": "x"}, headers=headers),
            await api.client.post(f"{url}/secret", headers=headers),
            await api.client.delete(url, headers=headers),
        ]:
            assert_problem(response, 403, "forbidden")


# For the dispatcher


async def test_the_endpoints_of_a_kind_are_the_enabled_ones_that_take_it_in_one_query(
    api: Running,
) -> None:
    bookings = await create(api, kinds=["interview_booked"])
    everything = await create(api, kinds=[])
    await create(api, kinds=["offer"])
    off = await create(api, kinds=["interview_booked"])
    await api.client.patch(f"{ENDPOINTS}/{off['id']}", json={"enabled": False}, headers=AS_ADMIN)
    keyring = keyring_in(api)

    async with api.runtime.db.transaction() as session:
        with counting_statements(api) as statements:
            targets = await service.endpoints_for_kind(session, keyring, "interview_booked")
        for_rejections = await service.endpoints_for_kind(session, keyring, "rejected")

    assert len(statements) == 1
    assert targets == [
        EndpointTarget(id=uuid.UUID(bookings["id"]), url=HOOK_URL, secret=bookings["secret"]),
        EndpointTarget(id=uuid.UUID(everything["id"]), url=HOOK_URL, secret=everything["secret"]),
    ]
    assert [target.id for target in for_rejections] == [uuid.UUID(everything["id"])]


async def test_an_endpoint_failing_longer_than_allowed_is_disabled_once(api: Running) -> None:
    endpoint = await create(api)
    endpoint_id = uuid.UUID(endpoint["id"])

    async def outcome(succeeded: bool, now: datetime) -> bool:
        async with api.runtime.db.transaction() as session:
            return await service.record_endpoint_outcome(
                session,
                endpoint_id=endpoint_id,
                succeeded=succeeded,
                now=now,
                disable_after=FIVE_DAYS,
            )

    async def stored() -> dict[str, Any]:
        response = await api.client.get(f"{ENDPOINTS}/{endpoint['id']}", headers=AS_ADMIN)
        body: dict[str, Any] = response.json()
        return body

    assert await outcome(False, T0) is False
    assert (await stored())["failing_since"] == "2026-03-02T09:00:00Z"
    assert await outcome(False, T0 + timedelta(days=2)) is False
    assert await outcome(True, T0 + timedelta(days=3)) is False
    assert (await stored())["failing_since"] is None
    # A new streak starts at the next failure; five days later it is still only five days.
    assert await outcome(False, T0 + timedelta(days=4)) is False
    assert await outcome(False, T0 + timedelta(days=9)) is False
    assert (await stored())["enabled"] is True
    assert await outcome(False, T0 + timedelta(days=9, seconds=1)) is True
    assert await outcome(False, T0 + timedelta(days=10)) is False

    disabled = await stored()
    assert disabled["enabled"] is False
    assert disabled["failing_since"] == "2026-03-06T09:00:00Z"
    assert disabled["disabled_reason"] == (
        "Disabled automatically: every delivery failed for more than 5 days. "
        "Fix the endpoint, then enable it again."
    )
    assert disabled["version"] == 2
    async with api.runtime.db.transaction() as session:
        assert await service.endpoints_for_kind(session, keyring_in(api), "offer") == []


async def test_an_endpoint_that_keeps_succeeding_is_never_written(
    api: Running, db: asyncpg.Connection
) -> None:
    endpoint_id = uuid.UUID((await create(api))["id"])
    row_version = "SELECT xmin::text FROM notifier.webhook_endpoints WHERE id = $1"
    before = await db.fetchval(row_version, endpoint_id)

    async with api.runtime.db.transaction() as session:
        with counting_statements(api) as statements:
            disabled = await service.record_endpoint_outcome(
                session,
                endpoint_id=endpoint_id,
                succeeded=True,
                now=T0,
                disable_after=FIVE_DAYS,
            )

    assert disabled is False
    assert len(statements) == 1
    assert await db.fetchval(row_version, endpoint_id) == before


async def test_endpoints_by_id_are_the_enabled_ones_decrypted_in_one_query(api: Running) -> None:
    kept = await create(api)
    off = await create(api)
    await api.client.patch(f"{ENDPOINTS}/{off['id']}", json={"enabled": False}, headers=AS_ADMIN)
    removed = await create(api)
    await api.client.delete(f"{ENDPOINTS}/{removed['id']}", headers=AS_ADMIN)
    asked = [uuid.UUID(endpoint["id"]) for endpoint in (kept, off, removed)]
    keyring = keyring_in(api)

    async with api.runtime.db.transaction() as session:
        with counting_statements(api) as statements:
            found = await service.endpoints_by_id(session, keyring, asked)
            nothing = await service.endpoints_by_id(session, keyring, [])

    assert len(statements) == 1
    assert found == {
        uuid.UUID(kept["id"]): EndpointTarget(
            id=uuid.UUID(kept["id"]), url=HOOK_URL, secret=kept["secret"]
        )
    }
    assert nothing == {}


async def test_key_rotation_moves_secrets_to_the_new_key(
    api: Running, db: asyncpg.Connection
) -> None:
    endpoint = await create(api)

    async with notifier_api(**ROTATED) as rotated:
        keyring = keyring_in(rotated)
        async with rotated.runtime.db.transaction() as session:
            moved = await service.rotate_keys(session=session, keyring=keyring)
        async with rotated.runtime.db.transaction() as session:
            left = await service.rotate_keys(session=session, keyring=keyring)
            [target] = await service.endpoints_for_kind(session, keyring, "offer")

    assert (moved, left) == (1, 0)
    assert target.secret == endpoint["secret"]
    stored = await db.fetchval("SELECT secret_ciphertext FROM notifier.webhook_endpoints")
    assert key_id_of(stored) == NEW_KEY
