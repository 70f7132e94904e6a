"""The generic JSON SMS gateway against an HTTP peer playing the gateway, and its receipts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from notifier.channels.base import OutgoingMessage
from notifier.channels.receipts import Receipt, ReceiptRejected, receipt_signature
from notifier.channels.sms import JsonSmsGateway, parse_receipts, to_e164
from notifier.settings import NotifierSettings
from tests.notifier.peers import HttpPeer, Reply, free_port

SECRET = "receipt-secret"


def _message(**overrides: Any) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "delivery_id": uuid.uuid4(),
        "kind": "interview_reminder",
        "address": "138 0013 8000",
        "subject": None,
        "text": "【示例科技】您的面试将于 2 小时后开始。",
        "idempotency_key": "delivery-1:attempt",
    }
    return OutgoingMessage(**{**fields, **overrides})


def _gateway(peer: HttpPeer, **overrides: Any) -> JsonSmsGateway:
    fields: dict[str, Any] = {
        "sms_gateway_url": peer.url("/messages"),
        "sms_sender": "示例科技",
        "sms_timeout_s": 2.0,
    }
    return JsonSmsGateway(NotifierSettings(**{**fields, **overrides}))


async def test_a_message_is_posted_in_e164_with_the_token_and_its_reference() -> None:
    async with HttpPeer(Reply(200, json={"id": "gw-42", "status": "queued"})) as peer:
        gateway = _gateway(peer, sms_gateway_token="gateway-token")
        message = _message()
        result = await gateway.send(message)
        await gateway.close()

    assert result.outcome == "sent"
    assert result.provider_message_id == "gw-42"
    [request] = peer.requests
    assert request.method == "POST"
    assert request.path == "/messages"
    assert request.headers["authorization"] == "Bearer gateway-token"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "to": "+8613800138000",
        "text": message.text,
        "sender": "示例科技",
        "reference": "delivery-1:attempt",
    }


async def test_without_a_token_no_authorization_is_sent_and_a_numeric_id_is_read() -> None:
    async with HttpPeer(Reply(201, json={"id": 981})) as peer:
        gateway = _gateway(peer)
        result = await gateway.send(_message(address="+852 6123 4567"))
        await gateway.close()

    assert result.outcome == "sent"
    assert result.provider_message_id == "981"
    assert "authorization" not in peer.requests[0].headers
    assert peer.requests[0].json()["to"] == "+85261234567"


@pytest.mark.parametrize("address", ["12345", "not a number", "+86 123", "138001380001234", ""])
async def test_an_invalid_number_fails_without_a_request(address: str) -> None:
    async with HttpPeer() as peer:
        gateway = _gateway(peer)
        result = await gateway.send(_message(address=address))
        await gateway.close()

    assert result.outcome == "failed"
    assert result.reason == "The phone number is not valid."
    assert peer.requests == []


def test_numbers_are_normalized_to_e164_with_china_as_the_default_region() -> None:
    assert to_e164("13800138000") == "+8613800138000"
    assert to_e164("+86-138-0013-8000") == "+8613800138000"
    assert to_e164("+1 415 555 2671") == "+14155552671"


@pytest.mark.parametrize(
    ("reply", "retry_after_s"),
    [
        (Reply(429, json={"error": {"code": "rate_limited"}}, headers={"Retry-After": "30"}), 30.0),
        (Reply(503, headers={"Retry-After": "120"}), 120.0),
        (Reply(500), None),
        (Reply(502, body=b"<html>bad gateway</html>"), None),
    ],
)
async def test_rate_limits_and_server_errors_are_retried_honouring_retry_after(
    reply: Reply, retry_after_s: float | None
) -> None:
    async with HttpPeer(reply) as peer:
        gateway = _gateway(peer)
        result = await gateway.send(_message())
        await gateway.close()

    assert result.outcome == "retry"
    assert result.reason == f"The gateway answered {reply.status}."
    assert result.retry_after_s == retry_after_s


async def test_retry_after_as_an_http_date_is_read_as_seconds_from_now() -> None:
    later = datetime.now(UTC) + timedelta(seconds=90)
    date = later.strftime("%a, %d %b %Y %H:%M:%S GMT")
    async with HttpPeer(Reply(503, headers={"Retry-After": date})) as peer:
        gateway = _gateway(peer)
        result = await gateway.send(_message())
        await gateway.close()

    assert result.outcome == "retry"
    assert result.retry_after_s is not None and 80 <= result.retry_after_s <= 90


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (
            Reply(400, json={"error": {"code": "invalid_number", "message": "bad"}}),
            "The gateway refused the message (400 invalid_number).",
        ),
        (Reply(402, json={"code": 1024}), "The gateway refused the message (402 1024)."),
        (Reply(403), "The gateway refused the message (403)."),
        # A "code" that is not a code (here it echoes the number) is not quoted.
        (
            Reply(422, json={"code": "+8613800138000 is blocked"}),
            "The gateway refused the message (422).",
        ),
    ],
)
async def test_other_client_errors_fail_with_the_gateways_code(reply: Reply, reason: str) -> None:
    async with HttpPeer(reply) as peer:
        gateway = _gateway(peer)
        result = await gateway.send(_message())
        await gateway.close()

    assert result.outcome == "failed"
    assert result.reason == reason


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, body=b"<html>OK</html>"),
        Reply(200, json={"status": "queued"}),
        Reply(200, json=["gw-1"]),
        Reply(200, json={"id": ""}),
        Reply(204),
    ],
)
async def test_a_success_without_the_expected_json_is_retried(reply: Reply) -> None:
    async with HttpPeer(reply) as peer:
        gateway = _gateway(peer)
        result = await gateway.send(_message())
        await gateway.close()

    assert result.outcome == "retry"
    assert result.reason == f"The gateway's answer ({reply.status}) was not understood."


async def test_a_gateway_that_does_not_answer_in_time_is_retried() -> None:
    async with HttpPeer(Reply(200, json={"id": "late"}, delay_s=5)) as peer:
        gateway = _gateway(peer, sms_timeout_s=0.3)
        result = await gateway.send(_message())
        await gateway.close()

    assert result.outcome == "retry"
    assert result.reason == "The request timed out."
    assert len(peer.requests) == 1


async def test_an_unreachable_gateway_is_retried() -> None:
    gateway = JsonSmsGateway(
        NotifierSettings(sms_gateway_url=f"http://127.0.0.1:{free_port()}/messages")
    )
    result = await gateway.send(_message())
    await gateway.close()

    assert result.outcome == "retry"
    assert result.reason == "The connection could not be made."


async def test_a_redirect_is_not_followed() -> None:
    async with HttpPeer() as peer:
        peer.reply(Reply(302, headers={"Location": peer.url("/elsewhere")}))
        gateway = _gateway(peer)
        result = await gateway.send(_message())
        await gateway.close()

    assert result.outcome == "failed"
    assert [request.path for request in peer.requests] == ["/messages"]


async def test_a_retry_after_a_failure_carries_the_same_reference() -> None:
    async with HttpPeer(Reply(503), Reply(200, json={"id": "gw-7"})) as peer:
        gateway = _gateway(peer)
        message = _message()
        first = await gateway.send(message)
        second = await gateway.send(message)
        await gateway.close()

    assert (first.outcome, second.outcome) == ("retry", "sent")
    assert peer.requests[0].json()["reference"] == peer.requests[1].json()["reference"]
    assert peer.requests[0].client_port == peer.requests[1].client_port  # connection reused


# Receipts.


def _receipts_body(*receipts: Any) -> bytes:
    return json.dumps({"receipts": list(receipts)}).encode()


def _receipt(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "r-1",
        "message_id": "gw-42",
        "status": "delivered",
        "at": "2026-12-01T10:00:05+08:00",
        **overrides,
    }


def test_signed_receipts_are_parsed() -> None:
    body = _receipts_body(
        _receipt(),
        _receipt(
            id="r-2",
            message_id="gw-43",
            status="failed",
            reason="UNDELIV",
            at="2026-12-01T02:00:06Z",
        ),
        _receipt(id="r-3", message_id="gw-44", status="undelivered", reason=None),
    )
    receipts = parse_receipts(body, receipt_signature(body, SECRET), SECRET)

    assert receipts == [
        Receipt(
            receipt_id="r-1",
            provider_message_id="gw-42",
            status="delivered",
            reason=None,
            occurred_at=datetime(2026, 12, 1, 10, 0, 5, tzinfo=timezone(timedelta(hours=8))),
        ),
        Receipt(
            receipt_id="r-2",
            provider_message_id="gw-43",
            status="undelivered",
            reason="UNDELIV",
            occurred_at=datetime(2026, 12, 1, 2, 0, 6, tzinfo=UTC),
        ),
        Receipt(
            receipt_id="r-3",
            provider_message_id="gw-44",
            status="undelivered",
            reason=None,
            occurred_at=datetime(2026, 12, 1, 10, 0, 5, tzinfo=timezone(timedelta(hours=8))),
        ),
    ]


def test_a_phone_number_in_a_receipts_reason_is_masked() -> None:
    body = _receipts_body(_receipt(status="undelivered", reason="13800138000 is switched off"))
    [receipt] = parse_receipts(body, None, None)

    assert receipt.reason == "[number] is switched off"


def test_receipts_are_accepted_unsigned_only_when_no_secret_is_configured() -> None:
    body = _receipts_body(_receipt())
    assert len(parse_receipts(body, None, None)) == 1
    with pytest.raises(ReceiptRejected) as missing:
        parse_receipts(body, None, SECRET)
    assert missing.value.status_code == 401


@pytest.mark.parametrize(
    "signature",
    [
        "sha256=" + "0" * 64,
        "sha256=nothex",
        "md5=abc",
        "",
        receipt_signature(b"another body", SECRET),
        receipt_signature(_receipts_body(_receipt()), "another secret"),
    ],
)
def test_a_bad_signature_is_rejected_with_401(signature: str) -> None:
    body = _receipts_body(_receipt())
    with pytest.raises(ReceiptRejected) as rejected:
        parse_receipts(body, signature, SECRET)

    assert rejected.value.status_code == 401


def test_the_signature_header_is_case_insensitive_in_its_hex() -> None:
    body = _receipts_body(_receipt())
    signature = "sha256=" + receipt_signature(body, SECRET).removeprefix("sha256=").upper()
    assert len(parse_receipts(body, signature, SECRET)) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "body"),
        (b'["r-1"]', "receipts"),
        (b'{"items": []}', "receipts"),
        (_receipts_body("r-1"), "receipts[0]"),
        (_receipts_body(_receipt(id="")), "receipts[0].id"),
        (_receipts_body(_receipt(), _receipt(message_id=None)), "receipts[1].message_id"),
        (_receipts_body(_receipt(status="read")), "receipts[0].status"),
        (_receipts_body(_receipt(reason=5)), "receipts[0].reason"),
        (_receipts_body(_receipt(at="2026-12-01T10:00:05")), "receipts[0].at"),
        (_receipts_body(_receipt(at="yesterday")), "receipts[0].at"),
        (_receipts_body(_receipt(at="2026-12-01")), "receipts[0].at"),
    ],
)
def test_a_malformed_body_is_rejected_with_422_naming_the_field(body: bytes, field: str) -> None:
    with pytest.raises(ReceiptRejected) as rejected:
        parse_receipts(body, receipt_signature(body, SECRET), SECRET)

    assert rejected.value.status_code == 422
    if field == "body":
        assert rejected.value.message == "The body is not JSON."
    else:
        assert rejected.value.message.startswith(f"{field}:")


def test_an_empty_list_of_receipts_is_fine() -> None:
    body = _receipts_body()
    assert parse_receipts(body, receipt_signature(body, SECRET), SECRET) == []
