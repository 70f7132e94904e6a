"""Normalizing a candidate's contact data, so one person's email or phone always gives the same
blind index. Plain functions: no database, no framework."""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

DEFAULT_PHONE_REGION = "CN"
EMAIL_CONTEXT = "candidates.email"
PHONE_CONTEXT = "candidates.phone"


def normalize_email(value: str) -> str:
    """The address validated (syntax only, no DNS) and normalized, in lower case."""
    try:
        result = validate_email(value.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise ValueError(f"not a valid email address: {error}") from None
    return result.normalized.lower()


def normalize_phone(value: str, region: str = DEFAULT_PHONE_REGION) -> str:
    """The number in E.164 (``+8613812345678``); numbers without a country code are read as
    ``region``'s."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
