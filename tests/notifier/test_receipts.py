"""The SMS gateway's delivery receipts: only signed ones count, each moves its delivery forward
once, and a receipt about a message we do not know yet is held until its send is recorded."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
import structlog.testing

from notifier.channels.receipts import receipt_signature
from notifier.dispatch import lifecycle
from notifier.tracking import service as tracking_service
from shared.logging import get_logger
from tests.notifier.tracking_support import (
    delivery,
    delivery_events,
    notification_status,
    sent_delivery,
    status_changes,
    tracking_api,
)
from tests.support.problems import assert_problem
from tests.support.running import Running

SECRET = "gateway-receipt-secret"
URL = "/v1/receipts/sms"
AT = "2026-03-02T09:00:05+08:00"


@pytest.fixture
async def api() -> AsyncIterator[Running]:
    async with tracking_api(sms_receipt_secret=SECRET, log_level="INFO") as service:
        yield service


def receipt(
    message_id: str,
    *,
    id: str = "rcpt-1",
    status: str = "delivered",
    reason: str | None = None,
    at: str = AT,
) -> dict[str, Any]:
    return {"id": id, "message_id": message_id, "status": status, "reason": reason, "at": at}


async def post(api: Running, receipts: list[dict[str, Any]], *, secret: str | None = SECRET) -> Any:
    body = json.dumps({"receipts": receipts}).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Signature"] = receipt_signature(body, secret)
    return await api.client.post(URL, content=body, headers=headers)


async def test_a_delivered_receipt_marks_the_sms_delivered_and_announces_it(
    api: Running, db: asyncpg.Connection
) -> None:
    notification_id, delivery_id = await sent_delivery(
        db, channel="sms", provider_message_id="gw-1"
    )

    response = await post(api, [receipt("gw-1")])

    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 1, "held": 0}
    row = await delivery(db, delivery_id)
    assert row["status"] == "delivered"
    assert row["delivered_at"] == datetime(2026, 3, 2, 1, 0, 5, tzinfo=UTC)
    events = await delivery_events(db, delivery_id)
    assert [(e["type"], e["value"], e["source"], e["provider_event_id"]) for e in events] == [
        ("status", "delivered", "sms_gateway", "rcpt-1")
    ]
    [change] = await status_changes(db)
    assert change["delivery_id"] == str(delivery_id)
    assert change["notification_id"] == str(notification_id)
    assert (change["channel"], change["status"], change["reason"]) == ("sms", "delivered", None)
    assert datetime.fromisoformat(change["occurred_at"]) == datetime(
        2026, 3, 2, 1, 0, 5, tzinfo=UTC
    )


async def test_an_undelivered_receipt_ends_the_delivery_with_its_reason(
    api: Running, db: asyncpg.Connection
) -> None:
    _, delivery_id = await sent_delivery(db, channel="sms", provider_message_id="gw-2")

    response = await post(
        api, [receipt("gw-2", id="rcpt-2", status="failed", reason="UNDELIV 13812345678")]
    )

    assert response.json() == {"accepted": 1, "held": 0}
    row = await delivery(db, delivery_id)
    assert row["status"] == "undelivered"
    assert row["reason"] == "UNDELIV [number]", "a phone number never reaches our records"
    [change] = await status_changes(db)
    assert (change["status"], change["reason"]) == ("undelivered", "UNDELIV [number]")


async def test_a_repeated_receipt_changes_nothing(api: Running, db: asyncpg.Connection) -> None:
    _, delivery_id = await sent_delivery(db, channel="sms", provider_message_id="gw-3")
    await post(api, [receipt("gw-3", id="rcpt-3")])
    before = await delivery(db, delivery_id)

    again = await post(api, [receipt("gw-3", id="rcpt-3", at="2026-03-02T09:30:00+08:00")])

    assert again.status_code == 200
    assert again.json() == {"accepted": 1, "held": 0}
    assert await delivery(db, delivery_id) == before
    assert len(await delivery_events(db, delivery_id)) == 1
    assert len(await status_changes(db)) == 1


async def test_a_receipt_cannot_bring_an_ended_delivery_back(
    api: Running, db: asyncpg.Connection
) -> None:
    _, delivery_id = await sent_delivery(db, channel="sms", provider_message_id="gw-4")
    await post(api, [receipt("gw-4", id="rcpt-4a", status="undelivered")])

    late = await post(api, [receipt("gw-4", id="rcpt-4b", status="delivered")])

    assert late.status_code == 200
    assert (await delivery(db, delivery_id))["status"] == "undelivered"
    assert [c["status"] for c in await status_changes(db)] == ["undelivered"]


async def test_receipts_about_unknown_messages_are_held_with_a_log_line(
    api: Running, db: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    await sent_delivery(db, channel="sms", provider_message_id="gw-5")
    # The same provider id on an email is not an SMS of ours.
    await sent_delivery(db, channel="email", provider_message_id="gw-email")
    receipts = [
        receipt("gw-5", id="rcpt-5"),
        receipt("gw-unknown", id="rcpt-6", reason="UNDELIV 13812345678"),
        receipt("gw-email", id="rcpt-7"),
    ]

    with structlog.testing.capture_logs() as logged:
        # The module's logger was bound (and cached) at an earlier test's level: a fresh one
        # sees the capture.
        monkeypatch.setattr(tracking_service, "log", get_logger(tracking_service.__name__))
        response = await post(api, receipts)
        again = await post(api, receipts[1:])

    assert response.json() == {"accepted": 1, "held": 2}
    assert again.json() == {"accepted": 0, "held": 2}
    assert len(await status_changes(db)) == 1
    held = await db.fetch(
        "SELECT channel, provider_message_id, receipt_id, status, reason"
        " FROM notifier.held_receipts ORDER BY receipt_id"
    )
    # Each held once, however often it comes; the reason without the phone number.
    assert [tuple(row) for row in held] == [
        ("sms", "gw-unknown", "rcpt-6", "delivered", "UNDELIV [number]"),
        ("sms", "gw-email", "rcpt-7", "delivered", None),
    ]
    lines = [line for line in logged if line["event"] == "receipt.held"]
    assert [line["receipt_id"] for line in lines] == ["rcpt-6", "rcpt-7", "rcpt-6", "rcpt-7"]
    assert "gw-unknown" not in repr(logged)
    assert "13812345678" not in repr(logged)


async def test_a_receipt_that_overtook_the_send_is_applied_when_the_send_is_recorded(
    api: Running, db: asyncpg.Connection
) -> None:
    notification_id, delivery_id = await sent_delivery(db, channel="sms", status="sending")
    # The gateway answered the send with "gw-8" and sent its receipt at once; the dispatcher
    # has not recorded the answer yet.
    early = await post(api, [receipt("gw-8", id="rcpt-8")])
    assert early.json() == {"accepted": 0, "held": 1}
    assert (await delivery(db, delivery_id))["status"] == "sending"

    runtime = api.runtime
    async with runtime.db.transaction() as session:
        applied = await lifecycle.apply(
            runtime.unit(session),
            [
                lifecycle.Change(
                    delivery_id=delivery_id,
                    type="status",
                    value="sent",
                    source="dispatcher",
                    occurred_at=datetime(2026, 3, 2, 1, 0, 1, tzinfo=UTC),
                    provider_message_id="gw-8",
                )
            ],
        )

    assert applied == 2
    row = await delivery(db, delivery_id)
    assert (row["status"], row["provider_message_id"]) == ("delivered", "gw-8")
    assert row["delivered_at"] == datetime(2026, 3, 2, 1, 0, 5, tzinfo=UTC)
    events = await delivery_events(db, delivery_id)
    assert [(e["value"], e["source"], e["provider_event_id"]) for e in events][-1] == (
        "delivered",
        "sms_gateway",
        "rcpt-8",
    )
    assert await db.fetchval("SELECT count(*) FROM notifier.held_receipts") == 0
    assert [c["status"] for c in await status_changes(db)][-1] == "delivered"
    assert await notification_status(db, notification_id) != "pending"
    # The receipt, sent again by the gateway, is a repeat now.
    again = await post(api, [receipt("gw-8", id="rcpt-8")])
    assert again.json() == {"accepted": 1, "held": 0}
    assert len(await delivery_events(db, delivery_id)) == len(events)


async def test_housekeeping_deletes_receipts_held_past_their_time(
    api: Running, db: asyncpg.Connection
) -> None:
    await post(api, [receipt("gw-old", id="rcpt-old"), receipt("gw-new", id="rcpt-new")])
    await db.execute(
        "UPDATE notifier.held_receipts SET received_at = now() - $1::interval"
        " WHERE receipt_id = 'rcpt-old'",
        lifecycle.RECEIPT_HOLD + timedelta(minutes=1),
    )

    await api.runtime.housekeeping()

    assert [
        row["receipt_id"] for row in await db.fetch("SELECT receipt_id FROM notifier.held_receipts")
    ] == ["rcpt-new"]


async def test_an_empty_batch_is_accepted(api: Running) -> None:
    response = await post(api, [])

    assert response.status_code == 200
    assert response.json() == {"accepted": 0, "held": 0}


@pytest.mark.parametrize(
    "signature",
    [None, b"sha256=" + b"0" * 64, b"not-a-signature", "sha256=\xe9".encode("latin-1")],
    ids=["missing", "wrong", "malformed", "non-ascii"],
)
async def test_an_unsigned_or_badly_signed_receipt_is_refused(
    api: Running, db: asyncpg.Connection, signature: bytes | None
) -> None:
    _, delivery_id = await sent_delivery(db, channel="sms", provider_message_id="gw-8")
    body = json.dumps({"receipts": [receipt("gw-8")]}).encode()
    headers = {b"Content-Type": b"application/json"}
    if signature is not None:
        headers[b"X-Signature"] = signature

    response = await api.client.post(URL, content=body, headers=headers)

    assert_problem(response, 401, "unauthorized")
    assert (await delivery(db, delivery_id))["status"] == "sent"
    assert await status_changes(db) == []


async def test_a_receipt_signed_with_another_secret_is_refused(
    api: Running, db: asyncpg.Connection
) -> None:
    await sent_delivery(db, channel="sms", provider_message_id="gw-9")

    response = await post(api, [receipt("gw-9")], secret="someone-elses-secret")

    assert_problem(response, 401, "unauthorized")
    assert await status_changes(db) == []


@pytest.mark.parametrize(
    ("receipts", "field"),
    [
        ([{"id": "r", "message_id": "m", "status": "lost", "at": AT}], "receipts.0.status"),
        ([{"id": "r", "message_id": "m", "status": "delivered"}], "receipts.0.at"),
        ([receipt("m"), {"message_id": "m", "status": "delivered", "at": AT}], "receipts.1.id"),
        ("not a list", "receipts"),
    ],
)
async def test_a_malformed_receipt_is_a_422_naming_the_field(
    api: Running, db: asyncpg.Connection, receipts: Any, field: str
) -> None:
    _, delivery_id = await sent_delivery(db, channel="sms", provider_message_id="m")

    response = await post(api, receipts)

    body = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in body["errors"]] == [field]
    assert (await delivery(db, delivery_id))["status"] == "sent", "all or nothing"


async def test_a_body_that_is_not_json_is_a_422(api: Running) -> None:
    body = b"receipts=1"

    response = await api.client.post(
        URL, content=body, headers={"X-Signature": receipt_signature(body, SECRET)}
    )

    assert_problem(response, 422, "validation-error")


async def test_too_many_receipts_in_one_request_are_refused(api: Running) -> None:
    receipts = [receipt(f"m-{i}", id=f"r-{i}") for i in range(1001)]

    response = await post(api, receipts)

    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["field"] == "receipts"


async def test_without_a_secret_unsigned_receipts_are_taken_outside_production(
    db: asyncpg.Connection,
) -> None:
    _, delivery_id = await sent_delivery(db, channel="sms", provider_message_id="gw-10")

    async with tracking_api() as unsigned:
        response = await post(unsigned, [receipt("gw-10")], secret=None)

    assert response.json() == {"accepted": 1, "held": 0}
    assert (await delivery(db, delivery_id))["status"] == "delivered"


async def test_in_production_receipts_are_refused_until_a_secret_is_set(
    db: asyncpg.Connection,
) -> None:
    _, delivery_id = await sent_delivery(db, channel="sms", provider_message_id="gw-11")

    async with tracking_api(
        environment="production",
        link_secret="a-production-link-secret",
        pipeline_token="a-production-service-token",
    ) as prod:
        response = await post(prod, [receipt("gw-11")], secret=None)

    assert_problem(response, 503, "unavailable")
    assert (await delivery(db, delivery_id))["status"] == "sent"
