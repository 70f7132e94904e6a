"""The channel registry and the in-app channel."""

from __future__ import annotations

import uuid
from typing import Any

from notifier.channels.base import OutgoingMessage
from notifier.channels.in_app import InAppChannel
from notifier.channels.registry import build_channels, close_channels
from notifier.settings import NotifierSettings
from tests.notifier.peers import HttpPeer, Reply, SmtpPeer

SECRET = "whsec_dGVzdC1zZWNyZXQtZm9yLXJlZ2lzdHJ5LXRlc3RzLTEyMw=="


def _message(**overrides: Any) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "delivery_id": uuid.uuid4(),
        "kind": "stage_passed",
        "address": "candidate:8b0c",
        "subject": "您已进入下一轮",
        "text": "恭喜您通过初试。",
    }
    return OutgoingMessage(**{**fields, **overrides})


async def test_in_app_is_delivered_at_once() -> None:
    channel = InAppChannel()
    result = await channel.send(_message())
    await channel.close()

    assert result.outcome == "delivered"
    assert result.reason is None


async def test_every_channel_is_built_under_its_key_and_named_after_it() -> None:
    channels = build_channels(NotifierSettings())
    try:
        assert set(channels) == {"email", "sms", "in_app", "dingtalk", "wecom", "webhook"}
        assert {key: channel.name for key, channel in channels.items()} == {
            key: key for key in channels
        }
    finally:
        await close_channels(channels)


async def test_built_channels_send_and_the_http_ones_share_connections() -> None:
    async with (
        SmtpPeer() as smtp,
        HttpPeer(
            Reply(200, json={"id": "gw-1"}),
            Reply(200, json={"errcode": 0}),
            Reply(200, json={"errcode": 0}),
            Reply(204),
        ) as http,
    ):
        settings = NotifierSettings(
            **smtp.settings(),
            sms_gateway_url=http.url("/sms"),
            outbound_allow_private=True,
        )
        channels = build_channels(settings)
        results = [
            await channels["email"].send(_message(address="li.lei@example.com")),
            await channels["sms"].send(_message(address="13800138000")),
            await channels["in_app"].send(_message()),
            await channels["dingtalk"].send(_message(address=http.url("/dingtalk"))),
            await channels["wecom"].send(_message(address=http.url("/wecom"))),
            await channels["webhook"].send(
                _message(address=http.url("/hook"), secret=SECRET, payload={"a": 1})
            ),
        ]
        await close_channels(channels)

    assert [result.outcome for result in results] == [
        "sent",
        "sent",
        "delivered",
        "delivered",
        "delivered",
        "delivered",
    ]
    assert [request.path for request in http.requests] == ["/sms", "/dingtalk", "/wecom", "/hook"]
    # One client for all four: each request went over the connection the first one opened.
    assert len({request.client_port for request in http.requests}) == 1
    assert len(smtp.messages) == 1


async def test_closed_channels_ask_to_retry_later_instead_of_raising() -> None:
    channels = build_channels(NotifierSettings(outbound_allow_private=True))
    await close_channels(channels)
    await close_channels(channels)  # closing twice is harmless

    for key in ("email", "sms", "dingtalk", "wecom", "webhook"):
        address = {"email": "li.lei@example.com", "sms": "13800138000"}.get(
            key, "http://127.0.0.1:9/x"
        )
        result = await channels[key].send(_message(address=address, secret=SECRET))
        assert result.outcome == "retry", key
        assert result.reason is not None and "shutting down" in result.reason, key
