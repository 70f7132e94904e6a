"""The channels a notifier process sends through, built once from its settings and closed on
shutdown. The HTTP channels share one ``httpx.AsyncClient`` so they reuse connections (TLS
handshakes to the same SMS gateway or robot host are paid once)."""

from __future__ import annotations

from collections.abc import Mapping

from notifier.channels.base import Channel
from notifier.channels.chat import DingTalkRobot, WeComRobot
from notifier.channels.email import SmtpChannel
from notifier.channels.http import SharedHttpClient
from notifier.channels.in_app import InAppChannel
from notifier.channels.sms import JsonSmsGateway
from notifier.channels.webhook import WebhookChannel
from notifier.settings import NotifierSettings
from shared.logging import get_logger

log = get_logger(__name__)


def build_channels(settings: NotifierSettings) -> dict[str, Channel]:
    """Every channel by key: ``email``, ``sms``, ``in_app``, ``dingtalk``, ``wecom``,
    ``webhook``. A delivery on the ``chat`` channel is sent with the robot's provider's key."""
    http = SharedHttpClient()
    return {
        "email": SmtpChannel(settings),
        "sms": JsonSmsGateway(settings, http),
        "in_app": InAppChannel(),
        "dingtalk": DingTalkRobot(settings, http),
        "wecom": WeComRobot(settings, http),
        "webhook": WebhookChannel(settings, http),
    }


async def close_channels(channels: Mapping[str, Channel]) -> None:
    """Close each channel once (the shared HTTP client closes with the last of them); one that
    fails to close does not keep the others open."""
    seen: set[int] = set()
    for key, channel in channels.items():
        if id(channel) in seen:
            continue
        seen.add(id(channel))
        try:
            await channel.close()
        except Exception as error:  # shutdown goes on whatever one channel does
            log.warning("channels.close_failed", channel=key, error=type(error).__name__)
