"""Outgoing webhooks against an HTTP peer playing a customer's endpoint, which verifies the
Standard Webhooks signature with the reference library."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest
from standardwebhooks import Webhook

from notifier.channels.base import OutgoingMessage
from notifier.channels.webhook import WebhookChannel
from notifier.settings import NotifierSettings
from tests.notifier.peers import HttpPeer, Reply, free_port

SECRET = "whsec_" + base64.b64encode(b"a-customer-endpoint-secret-32byt").decode()
PAYLOAD = {
    "type": "notification.status_changed",
    "data": {"delivery_id": "6a1f...", "status": "delivered", "note": "已送达"},
}


def _message(address: str, **overrides: Any) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "delivery_id": uuid.uuid4(),
        "kind": "notification_status_changed",
        "address": address,
        "subject": None,
        "text": "",
        "secret": SECRET,
        "payload": PAYLOAD,
        "idempotency_key": "msg_2f4b0c",
    }
    return OutgoingMessage(**{**fields, **overrides})


def _channel(**overrides: Any) -> WebhookChannel:
    fields = {"outbound_allow_private": True, "webhook_timeout_s": 2.0, **overrides}
    return WebhookChannel(NotifierSettings(**fields))


async def test_the_payload_is_posted_signed_and_the_receiver_can_verify_it() -> None:
    async with HttpPeer(Reply(204)) as peer:
        channel = _channel()
        result = await channel.send(_message(peer.url("/hooks/recruiting")))
        await channel.close()

    assert result.outcome == "delivered"
    [request] = peer.requests
    assert request.path == "/hooks/recruiting"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == "msg_2f4b0c"
    assert Webhook(SECRET).verify(request.body, request.headers) == PAYLOAD


async def test_a_signature_made_with_another_secret_does_not_verify() -> None:
    async with HttpPeer() as peer:
        channel = _channel()
        other = "whsec_" + base64.b64encode(b"some-other-endpoint-secret-32byt").decode()
        await channel.send(_message(peer.url("/hooks"), secret=other))
        await channel.close()

    with pytest.raises(Exception, match="No matching signature"):
        Webhook(SECRET).verify(peer.requests[0].body, peer.requests[0].headers)


async def test_without_an_idempotency_key_the_delivery_id_is_the_webhook_id() -> None:
    async with HttpPeer() as peer:
        channel = _channel()
        message = _message(peer.url("/hooks"), idempotency_key="")
        await channel.send(message)
        await channel.close()

    assert peer.requests[0].headers["webhook-id"] == str(message.delivery_id)


@pytest.mark.parametrize(
    ("reply", "outcome", "reason"),
    [
        (Reply(200, body=b"whatever"), "delivered", None),
        (Reply(202), "delivered", None),
        (Reply(410), "failed", "The endpoint is gone (410)."),
        (Reply(400), "retry", "The endpoint answered 400."),
        (Reply(401), "retry", "The endpoint answered 401."),
        (Reply(404), "retry", "The endpoint answered 404."),
        (Reply(500), "retry", "The endpoint answered 500."),
        (Reply(503), "retry", "The endpoint answered 503."),
    ],
)
async def test_answers_are_classified_like_svix(
    reply: Reply, outcome: str, reason: str | None
) -> None:
    async with HttpPeer(reply) as peer:
        channel = _channel()
        result = await channel.send(_message(peer.url("/hooks")))
        await channel.close()

    assert result.outcome == outcome
    assert result.reason == reason


async def test_retry_after_of_a_429_is_honoured() -> None:
    async with HttpPeer(Reply(429, headers={"Retry-After": "45"})) as peer:
        channel = _channel()
        result = await channel.send(_message(peer.url("/hooks")))
        await channel.close()

    assert result.outcome == "retry"
    assert result.retry_after_s == 45.0


@pytest.mark.parametrize("status", [301, 302, 307, 308])
async def test_a_redirect_fails_and_is_not_followed(status: int) -> None:
    async with HttpPeer() as peer:
        peer.reply(Reply(status, headers={"Location": peer.url("/elsewhere")}))
        channel = _channel()
        result = await channel.send(_message(peer.url("/hooks")))
        await channel.close()

    assert result.outcome == "failed"
    assert result.reason == f"Redirects are not followed ({status})."
    assert [request.path for request in peer.requests] == ["/hooks"]


async def test_an_endpoint_that_does_not_answer_in_time_is_retried() -> None:
    async with HttpPeer(Reply(200, delay_s=5)) as peer:
        channel = _channel(webhook_timeout_s=0.3)
        result = await channel.send(_message(peer.url("/hooks")))
        await channel.close()

    assert result.outcome == "retry"
    assert result.reason == "The request timed out."


async def test_an_unreachable_endpoint_is_retried() -> None:
    channel = _channel()
    result = await channel.send(_message(f"http://127.0.0.1:{free_port()}/hooks"))
    await channel.close()

    assert result.outcome == "retry"
    assert result.reason == "The connection could not be made."


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "The URL points at a non-public address (127.0.0.1)."),
        ("localhost", "The URL points at this machine (localhost)."),
        ("127.1", "The host resolves to a non-public address (127.0.0.1)."),
        ("2130706433", "The host resolves to a non-public address (127.0.0.1)."),
    ],
)
async def test_non_public_addresses_are_refused_unless_allowed(host: str, reason: str) -> None:
    async with HttpPeer() as peer:
        url = f"http://{host}:{peer.port}/hooks"
        refusing = _channel(outbound_allow_private=False)
        refused = await refusing.send(_message(url))
        await refusing.close()
        assert peer.requests == []

        allowing = _channel(outbound_allow_private=True)
        allowed = await allowing.send(_message(url))
        await allowing.close()

    assert refused.outcome == "failed"
    assert refused.reason == reason
    assert allowed.outcome == "delivered"
    assert len(peer.requests) == 1


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        (
            "http://[::ffff:127.0.0.1]/hooks",
            "The URL points at a non-public address (::ffff:7f00:1).",
        ),
        ("http://[::1]/hooks", "The URL points at a non-public address (::1)."),
        ("http://0.0.0.0/hooks", "The URL points at a non-public address (0.0.0.0)."),
    ],
)
async def test_loopback_in_other_spellings_is_refused(url: str, reason: str) -> None:
    channel = _channel(outbound_allow_private=False)
    result = await channel.send(_message(url))
    await channel.close()

    assert result.outcome == "failed"
    assert result.reason == reason


async def test_https_is_required_when_configured() -> None:
    async with HttpPeer() as peer:
        channel = _channel(webhook_require_https=True)
        result = await channel.send(_message(peer.url("/hooks")))
        await channel.close()

    assert result.outcome == "failed"
    assert result.reason == "The URL must use https."
    assert peer.requests == []


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"secret": None}, "The endpoint has no signing secret."),
        ({"secret": "whsec_"}, "The endpoint's signing secret is not valid."),
        ({"payload": {"at": object()}}, "The payload cannot be written as JSON."),
        ({"payload": {"score": float("nan")}}, "The payload cannot be written as JSON."),
    ],
)
async def test_what_cannot_be_signed_or_serialized_fails_without_a_request(
    overrides: dict[str, Any], reason: str
) -> None:
    async with HttpPeer() as peer:
        channel = _channel()
        result = await channel.send(_message(peer.url("/hooks"), **overrides))
        await channel.close()

    assert result.outcome == "failed"
    assert result.reason == reason
    assert peer.requests == []
