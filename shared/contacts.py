"""Normalizing contact data people give us, the same way in every service: an email address
(syntax only, in lower case), a phone number (E.164), so that one person's address always
looks the same: to the blind indexes that find them, and to the providers that reach them; and
a time zone (an IANA name). Plain functions: no database, no framework."""

from __future__ import annotations

from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# A number written without a country code is read as a mainland China number.
DEFAULT_PHONE_REGION = "CN"


def normalize_email(value: str) -> str:
    """The address validated (syntax only: no DNS lookup in a request) and in lower case."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(f"not a valid email address: {error}") from None
    return result.normalized.lower()


def normalize_phone(value: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """The number in E.164 (``+8613812345678``), which is what SMS gateways take; numbers
    without a country code are read as ``region``'s."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset({*available_timezones(), "UTC"})


def check_time_zone(value: str) -> str:
    """An IANA zone name this machine can load (times are computed in it, so a name we cannot
    resolve must be refused rather than fall back to another zone). Only names of the database
    are taken: ``ZoneInfo`` would also open a file by a relative path."""
    if value not in _zone_names():
        raise ValueError(f"{value!r} is not an IANA time zone (such as 'Asia/Shanghai')")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone") from exc
    return value
