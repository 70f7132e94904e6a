"""Vendor webhooks signed per Standard Webhooks: a valid signature from a current secret within
five minutes is accepted once; everything else is refused with a problem, never a 500."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from standardwebhooks import Webhook

from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.testkit import WEBHOOK_SECRETS

CURRENT_SECRET, ROTATED_SECRET = WEBHOOK_SECRETS["acme"]
STRANGER_SECRET = "whsec_" + "c29tZW9uZS1lbHNlcy1zZWNyZXQta2V5"


def _signed(
    payload: dict[str, object],
    *,
    secret: str = CURRENT_SECRET,
    webhook_id: str | None = None,
    at: datetime | None = None,
) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(payload)
    webhook_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, at, body),
        "content-type": "application/json",
    }
    return body.encode(), headers


async def _post(service: Running, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return await service.client.post("/v1/webhooks/acme", content=body, headers=headers)


async def _effects(db: asyncpg.Connection) -> list[str]:
    rows = await db.fetch("SELECT note FROM testkit.effects WHERE source = 'webhook' ORDER BY id")
    return [row["note"] for row in rows]


async def test_validly_signed_webhook_is_accepted_once(
    service: Running, db: asyncpg.Connection
) -> None:
    response = await _post(service, *_signed({"note": "interview-completed"}))

    assert response.status_code == 202
    assert response.json() == {"accepted": True, "duplicate": False}
    assert await _effects(db) == ["interview-completed"]


async def test_webhook_signed_with_the_rotated_secret_is_accepted(
    service: Running, db: asyncpg.Connection
) -> None:
    response = await _post(service, *_signed({"note": "rotated"}, secret=ROTATED_SECRET))

    assert response.status_code == 202
    assert await _effects(db) == ["rotated"]


async def test_header_with_several_signatures_is_accepted_if_one_matches(
    service: Running,
) -> None:
    body, headers = _signed({"note": "both"})
    at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    stranger = Webhook(STRANGER_SECRET).sign(headers["webhook-id"], at, body.decode())
    headers["webhook-signature"] = f"{stranger} {headers['webhook-signature']}"

    assert (await _post(service, body, headers)).status_code == 202


async def test_redelivered_webhook_id_is_acknowledged_without_a_second_effect(
    service: Running, db: asyncpg.Connection
) -> None:
    first = await _post(service, *_signed({"note": "once"}, webhook_id="msg_dup"))
    # Vendors re-sign a retry with a fresh timestamp; the id is what stays the same.
    later = datetime.now(UTC) + timedelta(seconds=30)
    again = await _post(service, *_signed({"note": "once"}, webhook_id="msg_dup", at=later))

    assert first.json() == {"accepted": True, "duplicate": False}
    assert again.status_code == 202
    assert again.json() == {"accepted": True, "duplicate": True}
    assert await _effects(db) == ["once"]
    receipts = await db.fetchval("SELECT count(*) FROM testkit.webhook_receipts")
    assert receipts == 1


async def test_webhook_signed_with_another_secret_is_a_401(
    service: Running, db: asyncpg.Connection
) -> None:
    response = await _post(service, *_signed({"note": "forged"}, secret=STRANGER_SECRET))

    assert_problem(response, 401, "invalid-signature")
    assert await _effects(db) == []


async def test_tampered_body_is_a_401(service: Running, db: asyncpg.Connection) -> None:
    body, headers = _signed({"note": "original"})

    response = await _post(service, body.replace(b"original", b"tampered"), headers)

    assert_problem(response, 401, "invalid-signature")
    assert await _effects(db) == []


@pytest.mark.parametrize(
    "offset",
    [timedelta(minutes=-6), timedelta(minutes=6)],
    ids=["older-than-5-minutes", "more-than-5-minutes-ahead"],
)
async def test_timestamp_outside_five_minutes_is_a_401(
    service: Running, db: asyncpg.Connection, offset: timedelta
) -> None:
    response = await _post(service, *_signed({"note": "stale"}, at=datetime.now(UTC) + offset))

    assert_problem(response, 401, "invalid-signature")
    assert await _effects(db) == []


async def test_timestamp_within_five_minutes_is_accepted(service: Running) -> None:
    at = datetime.now(UTC) - timedelta(minutes=4)

    assert (await _post(service, *_signed({"note": "late"}, at=at))).status_code == 202


@pytest.mark.parametrize(
    "signature",
    ["garbage", "v1", "v1,", "v1,!!!not-base64!!!", "v2,abc v1", ",", ""],
    ids=["garbage", "no-comma", "empty-sig", "not-base64", "bad-second", "comma", "empty"],
)
async def test_malformed_signature_header_is_a_401(service: Running, signature: str) -> None:
    body, headers = _signed({"note": "malformed"})
    headers["webhook-signature"] = signature

    assert_problem(await _post(service, body, headers), 401, "invalid-signature")


@pytest.mark.parametrize("header", ["webhook-id", "webhook-timestamp", "webhook-signature"])
async def test_missing_signature_header_is_a_401(service: Running, header: str) -> None:
    body, headers = _signed({"note": "incomplete"})
    del headers[header]

    assert_problem(await _post(service, body, headers), 401, "invalid-signature")


async def test_malformed_timestamp_header_is_a_401(service: Running) -> None:
    body, headers = _signed({"note": "when"})
    headers["webhook-timestamp"] = "yesterday"

    assert_problem(await _post(service, body, headers), 401, "invalid-signature")


async def test_webhook_from_an_unknown_sender_is_a_404(
    service: Running, db: asyncpg.Connection
) -> None:
    body, headers = _signed({"note": "who"})

    response = await service.client.post("/v1/webhooks/globex", content=body, headers=headers)

    assert_problem(response, 404, "unknown-sender")
    assert await _effects(db) == []


async def test_validly_signed_body_that_is_not_json_is_a_400(
    service: Running, db: asyncpg.Connection
) -> None:
    webhook_id, at, body = f"msg_{uuid.uuid4().hex}", datetime.now(UTC), "not json at all"
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(CURRENT_SECRET).sign(webhook_id, at, body),
    }

    response = await _post(service, body.encode(), headers)

    assert_problem(response, 400, "invalid-webhook-body")
    assert await _effects(db) == []
