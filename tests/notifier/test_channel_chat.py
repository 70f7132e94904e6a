"""DingTalk and WeCom robots against an HTTP peer playing the robot's webhook."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from typing import Any

import pytest

from notifier.channels.base import OutgoingMessage
from notifier.channels.chat import DingTalkRobot, WeComRobot, dingtalk_signature
from notifier.settings import NotifierSettings
from tests.notifier.peers import HttpPeer, Reply, free_port

OK = Reply(200, json={"errcode": 0, "errmsg": "ok"})
TEXT = "### 待审批\n\n**后端工程师** 候选人的结果等待您的审批。"


def _message(address: str, **overrides: Any) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "delivery_id": uuid.uuid4(),
        "kind": "approval_requested",
        "address": address,
        "subject": "待审批 后端工程师",
        "text": TEXT,
    }
    return OutgoingMessage(**{**fields, **overrides})


def _settings(**overrides: Any) -> NotifierSettings:
    return NotifierSettings(**{"outbound_allow_private": True, "chat_timeout_s": 2.0, **overrides})


async def test_dingtalk_posts_signed_markdown_and_is_delivered() -> None:
    async with HttpPeer(OK) as peer:
        robot = DingTalkRobot(_settings())
        before_ms = time.time() * 1000
        result = await robot.send(
            _message(peer.url("/robot/send?access_token=abc123"), secret="SECd7f1")
        )
        await robot.close()

    assert result.outcome == "delivered"
    [request] = peer.requests
    assert request.path == "/robot/send"
    assert request.query["access_token"] == "abc123"
    timestamp = int(request.query["timestamp"])
    assert before_ms - 1000 <= timestamp <= time.time() * 1000
    # The peer recomputes the signature as DingTalk does.
    assert request.query["sign"] == dingtalk_signature(timestamp, "SECd7f1")
    assert "sign=" in request.raw_query and "%" in request.raw_query.split("sign=")[1]
    assert request.json() == {
        "msgtype": "markdown",
        "markdown": {"title": "待审批 后端工程师", "text": TEXT},
    }


def test_dingtalk_signature_matches_the_documented_algorithm() -> None:
    # HMAC-SHA256 keyed with the secret over "1700000000000\nSECtest", in base64.
    expected = base64.b64encode(
        hmac.new(b"SECtest", b"1700000000000\nSECtest", hashlib.sha256).digest()
    ).decode()
    assert dingtalk_signature(1_700_000_000_000, "SECtest") == expected


async def test_dingtalk_without_a_secret_is_not_signed_and_takes_a_title_from_the_text() -> None:
    async with HttpPeer(OK) as peer:
        robot = DingTalkRobot(_settings())
        result = await robot.send(
            _message(peer.url("/robot/send?access_token=abc123"), subject=None)
        )
        await robot.close()

    assert result.outcome == "delivered"
    [request] = peer.requests
    assert set(request.query) == {"access_token"}
    assert request.json()["markdown"]["title"] == "待审批"


async def test_wecom_posts_markdown_content_and_is_delivered() -> None:
    async with HttpPeer(OK) as peer:
        robot = WeComRobot(_settings())
        result = await robot.send(_message(peer.url("/cgi-bin/webhook/send?key=k-1")))
        await robot.close()

    assert result.outcome == "delivered"
    [request] = peer.requests
    assert request.query == {"key": "k-1"}
    assert request.json() == {"msgtype": "markdown", "markdown": {"content": TEXT}}


async def test_wecom_content_is_cut_to_what_the_robot_accepts() -> None:
    async with HttpPeer(OK) as peer:
        robot = WeComRobot(_settings())
        result = await robot.send(_message(peer.url("/send"), text="面试" * 2000))
        await robot.close()

    assert result.outcome == "delivered"
    content = peer.requests[0].json()["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert content.endswith("…")


@pytest.mark.parametrize(
    ("robot_class", "errcode"),
    [(DingTalkRobot, 130101), (WeComRobot, 45009), (DingTalkRobot, -1), (WeComRobot, -1)],
)
async def test_rate_limits_and_busy_answers_are_retried(
    robot_class: type[DingTalkRobot | WeComRobot], errcode: int
) -> None:
    async with HttpPeer(Reply(200, json={"errcode": errcode, "errmsg": "busy"})) as peer:
        robot = robot_class(_settings())
        result = await robot.send(_message(peer.url("/send")))
        await robot.close()

    assert result.outcome == "retry"
    assert result.reason == f"The robot is busy or rate-limited (errcode {errcode})."


@pytest.mark.parametrize(
    ("robot_class", "errcode"),
    [(DingTalkRobot, 310000), (DingTalkRobot, 300001), (WeComRobot, 93000), (WeComRobot, 40008)],
)
async def test_other_errcodes_fail_with_the_code(
    robot_class: type[DingTalkRobot | WeComRobot], errcode: int
) -> None:
    async with HttpPeer(Reply(200, json={"errcode": errcode, "errmsg": "no"})) as peer:
        robot = robot_class(_settings())
        result = await robot.send(_message(peer.url("/send")))
        await robot.close()

    assert result.outcome == "failed"
    assert result.reason == f"The robot refused the message (errcode {errcode})."


@pytest.mark.parametrize(
    ("reply", "outcome", "reason"),
    [
        (Reply(502), "retry", "The robot answered 502."),
        (Reply(429, headers={"Retry-After": "7"}), "retry", "The robot answered 429."),
        (
            Reply(200, body=b"<html>maintenance</html>"),
            "retry",
            "The robot's answer (200) was not understood.",
        ),
        (
            Reply(200, json={"errmsg": "ok"}),
            "retry",
            "The robot's answer (200) was not understood.",
        ),
        (Reply(404), "failed", "The robot answered 404."),
    ],
)
async def test_http_answers_are_classified(reply: Reply, outcome: str, reason: str) -> None:
    async with HttpPeer(reply) as peer:
        robot = DingTalkRobot(_settings())
        result = await robot.send(_message(peer.url("/send")))
        await robot.close()

    assert result.outcome == outcome
    assert result.reason == reason
    if reply.status == 429:
        assert result.retry_after_s == 7.0


async def test_a_robot_that_does_not_answer_in_time_is_retried() -> None:
    async with HttpPeer(Reply(200, json={"errcode": 0}, delay_s=5)) as peer:
        robot = WeComRobot(_settings(chat_timeout_s=0.3))
        result = await robot.send(_message(peer.url("/send")))
        await robot.close()

    assert result.outcome == "retry"
    assert result.reason == "The request timed out."


async def test_an_unreachable_robot_is_retried() -> None:
    robot = DingTalkRobot(_settings())
    result = await robot.send(_message(f"http://127.0.0.1:{free_port()}/robot/send"))
    await robot.close()

    assert result.outcome == "retry"


async def test_a_redirect_is_not_followed() -> None:
    async with HttpPeer() as peer:
        peer.reply(Reply(302, headers={"Location": peer.url("/elsewhere")}))
        robot = DingTalkRobot(_settings())
        result = await robot.send(_message(peer.url("/send")))
        await robot.close()

    assert result.outcome == "failed"
    assert result.reason == "The robot redirected (302); not followed."
    assert [request.path for request in peer.requests] == ["/send"]


@pytest.mark.parametrize("robot_class", [DingTalkRobot, WeComRobot])
@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("127.0.0.1", "The URL points at a non-public address (127.0.0.1)."),
        ("localhost", "The URL points at this machine (localhost)."),
        # Not an IP literal, so only the check of what it resolves to catches it.
        ("127.1", "The host resolves to a non-public address (127.0.0.1)."),
    ],
)
async def test_non_public_addresses_are_refused_unless_allowed(
    robot_class: type[DingTalkRobot | WeComRobot], host: str, reason: str
) -> None:
    async with HttpPeer(OK) as peer:
        url = f"http://{host}:{peer.port}/send"
        refusing = robot_class(_settings(outbound_allow_private=False))
        refused = await refusing.send(_message(url))
        await refusing.close()
        assert peer.requests == []

        allowing = robot_class(_settings(outbound_allow_private=True))
        allowed = await allowing.send(_message(url))
        await allowing.close()

    assert refused.outcome == "failed"
    assert refused.reason == reason
    assert allowed.outcome == "delivered"
    assert len(peer.requests) == 1


@pytest.mark.parametrize(
    "address", ["ftp://example.com/send", "not a url", "https://user:pw@example.com/send"]
)
async def test_a_url_that_is_not_a_plain_http_url_fails(address: str) -> None:
    robot = WeComRobot(_settings())
    result = await robot.send(_message(address))
    await robot.close()

    assert result.outcome == "failed"
