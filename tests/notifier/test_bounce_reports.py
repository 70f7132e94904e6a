"""Bounce reports (RFC 3464 delivery status notifications) posted as they came from the return
path mailbox: a failed recipient bounces the email the report returns the Message-ID of, a
delivered one marks it delivered, a delayed one says nothing yet; only signed reports count."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from notifier.channels.receipts import receipt_signature
from tests.notifier.tracking_support import (
    delivery,
    delivery_events,
    sent_delivery,
    status_changes,
    tracking_api,
)
from tests.support.problems import assert_problem
from tests.support.running import Running

SECRET = "bounce-mailbox-secret"
URL = "/v1/receipts/email/dsn"
MESSAGE_ID = "<0193b0a5-7a8b-7c9d-8e0f-1a2b3c4d5e6f@acme.example>"


@pytest.fixture
async def api() -> AsyncIterator[Running]:
    async with tracking_api(email_receipt_secret=SECRET) as service:
        yield service


def report(
    *,
    action: str = "failed",
    status: str = "5.1.1",
    message_id: str | None = MESSAGE_ID,
    whole_message: bool = False,
) -> bytes:
    """A delivery status notification as a mail server writes it, about one recipient."""
    original = "From: Acme <jobs@acme.example>\r\nTo: gone@example.com\r\nSubject: Interview\r\n"
    if message_id is not None:
        original += f"Message-ID: {message_id}\r\n"
    returned = (
        f"Content-Type: message/rfc822\r\n\r\n{original}\r\nHello\r\n"
        if whole_message
        else f"Content-Type: text/rfc822-headers\r\n\r\n{original}"
    )
    return (
        "From: MAILER-DAEMON@mx.example.com\r\n"
        "To: bounces@acme.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Date: Mon, 02 Mar 2026 09:00:05 +0800\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe mail system could not deliver it.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n"
        "Arrival-Date: Mon, 02 Mar 2026 09:00:00 +0800\r\n\r\n"
        "Final-Recipient: rfc822; gone@example.com\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <gone@example.com>: Recipient address rejected\r\n"
        f"\r\n--B\r\n{returned}\r\n--B--\r\n"
    ).encode()


async def post(api: Running, body: bytes, *, secret: str | None = SECRET) -> httpx.Response:
    headers = {"Content-Type": "message/rfc822"}
    if secret is not None:
        headers["X-Signature"] = receipt_signature(body, secret)
    return await api.client.post(URL, content=body, headers=headers)


@pytest.mark.parametrize("whole_message", [False, True], ids=["headers", "whole-message"])
async def test_a_failed_recipient_bounces_the_email_with_its_status_code(
    api: Running, db: asyncpg.Connection, whole_message: bool
) -> None:
    _, delivery_id = await sent_delivery(db, provider_message_id=MESSAGE_ID)
    body = report(whole_message=whole_message)

    first = await post(api, body)
    again = await post(api, body)

    assert first.status_code == 200, first.text
    assert first.json() == again.json() == {"accepted": 1, "held": 0}
    row = await delivery(db, delivery_id)
    assert (row["status"], row["reason"]) == ("bounced", "5.1.1")
    events = await delivery_events(db, delivery_id)
    assert [(e["type"], e["value"], e["source"]) for e in events] == [
        ("status", "bounced", "email_provider")
    ]
    [change] = await status_changes(db)
    assert (change["status"], change["reason"]) == ("bounced", "5.1.1")
    assert datetime.fromisoformat(change["occurred_at"]) == datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
    assert "gone@example.com" not in str(await db.fetch("SELECT * FROM notifier.deliveries"))


async def test_a_delivered_report_marks_the_email_delivered_and_a_delayed_one_nothing(
    api: Running, db: asyncpg.Connection
) -> None:
    _, delivery_id = await sent_delivery(db, provider_message_id=MESSAGE_ID)

    delayed = await post(api, report(action="delayed", status="4.4.1"))
    after_delay = (await delivery(db, delivery_id))["status"]
    delivered = await post(api, report(action="delivered", status="2.0.0"))

    assert delayed.json() == {"accepted": 0, "held": 0}
    assert after_delay == "sent"
    assert delivered.json() == {"accepted": 1, "held": 0}
    row = await delivery(db, delivery_id)
    assert (row["status"], row["reason"]) == ("delivered", None)


async def test_only_signed_reports_count(api: Running, db: asyncpg.Connection) -> None:
    _, delivery_id = await sent_delivery(db, provider_message_id=MESSAGE_ID)

    unsigned = await post(api, report(), secret=None)
    forged = await post(api, report(), secret="another-secret")

    assert_problem(unsigned, 401, "unauthorized")
    assert_problem(forged, 401, "unauthorized")
    assert (await delivery(db, delivery_id))["status"] == "sent"


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        (b"just some text", "multipart/report"),
        (report(message_id=None), "Message-ID"),
        (report(message_id="not-a-message-id"), "Message-ID"),
    ],
    ids=["not-a-report", "no-message-id", "bad-message-id"],
)
async def test_what_is_not_a_report_about_one_of_our_emails_is_a_422(
    api: Running, body: bytes, missing: str
) -> None:
    response = await post(api, body)

    problem = assert_problem(response, 422, "validation-error")
    assert missing in problem["detail"] or missing in str(problem.get("errors"))


async def test_in_production_reports_are_refused_until_a_secret_is_set(
    db: asyncpg.Connection,
) -> None:
    _, delivery_id = await sent_delivery(db, provider_message_id=MESSAGE_ID)

    async with tracking_api(
        environment="production",
        link_secret="a-production-link-secret",
        pipeline_token="a-production-service-token",
    ) as prod:
        response = await post(prod, report(), secret=None)

    problem = assert_problem(response, 503, "unavailable")
    assert "NOTIFIER_EMAIL_RECEIPT_SECRET" in problem["detail"]
    assert (await delivery(db, delivery_id))["status"] == "sent"
