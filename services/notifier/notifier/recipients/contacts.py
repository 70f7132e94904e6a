"""Checking and normalizing what people tell us about themselves: an email address, a phone
number, a time zone, a clock time. Plain functions (no database, no framework), used by the
request schemas so that bad input is a 422 naming its field."""

from __future__ import annotations

from datetime import time
from functools import lru_cache
from zoneinfo import available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# A number written without a country code is read as a mainland China number.
DEFAULT_PHONE_REGION = "CN"
EMAIL_CONTEXT = "recipients.email"
PHONE_CONTEXT = "recipients.phone"


def normalize_email(value: str) -> str:
    """The address validated (syntax only: no DNS lookup in a request) and in lower case."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(f"not a valid email address: {error}") from None
    return result.normalized.lower()


def normalize_phone(value: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """The number in E.164 (``+8613812345678``), which is what SMS gateways take."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_time_zone(value: str) -> str:
    """An IANA zone name known to this machine's zone database (quiet hours are computed in it,
    so a name we cannot resolve would silently fall back to another zone)."""
    if value not in _zones():
        raise ValueError(f"{value!r} is not an IANA time zone (such as 'Asia/Shanghai')")
    return value


def parse_clock(value: str) -> time:
    """``"22:00"`` as a ``time``; the schema has already checked the ``HH:MM`` shape."""
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def format_clock(value: time | None) -> str | None:
    return None if value is None else value.strftime("%H:%M")
