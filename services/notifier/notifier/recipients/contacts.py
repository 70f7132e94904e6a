"""Checking and normalizing what people tell us about themselves: an email address, a phone
number, a time zone, a clock time. Plain functions (no database, no framework), used by the
request schemas so that bad input is a 422 naming its field."""

from __future__ import annotations

from datetime import time

from shared.contacts import (
    DEFAULT_PHONE_REGION,
    check_time_zone,
    normalize_email,
    normalize_phone,
)

EMAIL_CONTEXT = "recipients.email"
PHONE_CONTEXT = "recipients.phone"

__all__ = [
    "DEFAULT_PHONE_REGION",
    "EMAIL_CONTEXT",
    "PHONE_CONTEXT",
    "check_time_zone",
    "format_clock",
    "normalize_email",
    "normalize_phone",
    "parse_clock",
]


def parse_clock(value: str) -> time:
    """``"22:00"`` as a ``time``; the schema has already checked the ``HH:MM`` shape."""
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def format_clock(value: time | None) -> str | None:
    return None if value is None else value.strftime("%H:%M")
