"""Normalizing contact data people give us, the same way in every service: an email address
(syntax only, in lower case) and a phone number (E.164), so that one person's address always
looks the same: to the blind indexes that find them, and to the providers that reach them.
Plain functions: no database, no framework."""

from __future__ import annotations

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
