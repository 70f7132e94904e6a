"""Group chat robots: DingTalk and WeCom (企业微信) custom robots, for staff notifications.

``message.address`` is the robot's webhook URL (it carries the robot's access token, so it is
never logged), ``message.text`` the Markdown body and ``message.subject`` the title. Both
robots answer HTTP 200 with ``{"errcode": 0}`` on success and another ``errcode`` otherwise;
the posted message is then in the group, so success is ``delivered``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any, ClassVar

import httpx

from notifier.channels.base import OutgoingMessage, SendResult
from notifier.channels.http import (
    CLOSED,
    REQUEST_ERRORS,
    SharedHttpClient,
    is_retryable_status,
    post,
    refusal,
    retry_after_s,
    transport_failure,
)
from notifier.settings import NotifierSettings
from shared.logging import get_logger

log = get_logger(__name__)

# "System busy", which both platforms answer while overloaded.
SYSTEM_BUSY = -1
DINGTALK_RATE_LIMITED = 130101  # more than 20 messages a minute to one robot
WECOM_RATE_LIMITED = 45009  # more than 20 messages a minute to one robot
MAX_TITLE_LENGTH = 64


def dingtalk_signature(timestamp_ms: int, secret: str) -> str:
    """DingTalk's ``sign``: base64 of HMAC-SHA256 over ``"{timestamp}\\n{secret}"`` keyed with
    the secret (sent URL-encoded as a query parameter)."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def truncate_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` of UTF-8 (on a character boundary), with an
    ellipsis when cut: the robots refuse longer messages outright."""
    encoded = text.encode()
    if len(encoded) <= max_bytes:
        return text
    ellipsis = "…"
    room = max_bytes - len(ellipsis.encode())
    return encoded[:room].decode("utf-8", errors="ignore") + ellipsis


def _title(message: OutgoingMessage) -> str:
    if message.subject:
        return message.subject[:MAX_TITLE_LENGTH]
    first_line = message.text.strip().splitlines()[0] if message.text.strip() else message.kind
    return first_line.lstrip("#").strip()[:MAX_TITLE_LENGTH] or message.kind


class _Robot:
    """What both robots share: the address check, the request and reading ``errcode``."""

    name: str
    provider: ClassVar[str]
    retry_codes: ClassVar[frozenset[int]]
    max_bytes: ClassVar[int]

    def __init__(self, settings: NotifierSettings, http: SharedHttpClient | None = None) -> None:
        self._settings = settings
        self._http = http if http is not None else SharedHttpClient()
        self._client = self._http.acquire()
        self._closed = False

    def _request(self, message: OutgoingMessage) -> tuple[httpx.URL, dict[str, Any]]:
        raise NotImplementedError

    async def send(self, message: OutgoingMessage) -> SendResult:
        if self._closed:
            return CLOSED
        refused = await refusal(
            message.address,
            allow_private=self._settings.outbound_allow_private,
            require_https=False,
        )
        if refused is not None:
            return self._logged(refused)
        try:
            url, body = self._request(message)
            answer = await post(
                self._client,
                url,
                content=json.dumps(body, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/json; charset=utf-8"},
                timeout_s=self._settings.chat_timeout_s,
            )
        except REQUEST_ERRORS as error:
            return self._logged(transport_failure(error))
        return self._logged(self._classify(answer.status, answer.headers, answer.body))

    def _classify(self, status: int, headers: httpx.Headers, body: bytes) -> SendResult:
        if 200 <= status < 300:
            try:
                answer = json.loads(body)
            except ValueError:
                answer = None
            code = answer.get("errcode") if isinstance(answer, dict) else None
            if not isinstance(code, int) or isinstance(code, bool):
                return SendResult(
                    "retry", reason=f"The robot's answer ({status}) was not understood."
                )
            if code == 0:
                return SendResult("delivered")
            if code in self.retry_codes:
                return SendResult(
                    "retry",
                    reason=f"The robot is busy or rate-limited (errcode {code}).",
                    retry_after_s=retry_after_s(headers),
                )
            return SendResult("failed", reason=f"The robot refused the message (errcode {code}).")
        if is_retryable_status(status):
            return SendResult(
                "retry",
                reason=f"The robot answered {status}.",
                retry_after_s=retry_after_s(headers),
            )
        if 300 <= status < 400:
            return SendResult("failed", reason=f"The robot redirected ({status}); not followed.")
        return SendResult("failed", reason=f"The robot answered {status}.")

    def _logged(self, result: SendResult) -> SendResult:
        if result.outcome not in ("sent", "delivered"):
            log.info(
                "chat.not_delivered",
                provider=self.provider,
                outcome=result.outcome,
                reason=result.reason,
            )
        return result

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            await self._http.release()


class DingTalkRobot(_Robot):
    """A DingTalk custom robot; signed when the robot has a secret ("加签")."""

    name = "dingtalk"
    provider: ClassVar[str] = "dingtalk"
    retry_codes: ClassVar[frozenset[int]] = frozenset({SYSTEM_BUSY, DINGTALK_RATE_LIMITED})
    max_bytes: ClassVar[int] = 20_000

    def _request(self, message: OutgoingMessage) -> tuple[httpx.URL, dict[str, Any]]:
        url = httpx.URL(message.address)
        if message.secret:
            timestamp_ms = round(time.time() * 1000)
            url = url.copy_merge_params(
                {
                    "timestamp": str(timestamp_ms),
                    "sign": dingtalk_signature(timestamp_ms, message.secret),
                }
            )
        body = {
            "msgtype": "markdown",
            "markdown": {
                "title": _title(message),
                "text": truncate_utf8(message.text, self.max_bytes),
            },
        }
        return url, body


class WeComRobot(_Robot):
    """A WeCom group robot (群机器人); it has no signing, the key in its URL is the secret."""

    name = "wecom"
    provider: ClassVar[str] = "wecom"
    retry_codes: ClassVar[frozenset[int]] = frozenset({SYSTEM_BUSY, WECOM_RATE_LIMITED})
    max_bytes: ClassVar[int] = 4_096

    def _request(self, message: OutgoingMessage) -> tuple[httpx.URL, dict[str, Any]]:
        body = {
            "msgtype": "markdown",
            "markdown": {"content": truncate_utf8(message.text, self.max_bytes)},
        }
        return httpx.URL(message.address), body
