"""A person's contact data as the pool keeps it: encrypted (AES-GCM, ``shared.crypto``), each
field in a context of its own so a ciphertext cannot be moved to another column, and findable
only by keyed blind indexes of the normalized email and phone (``shared.contacts``)."""

from __future__ import annotations

from shared.contacts import normalize_email, normalize_phone
from shared.crypto import Keyring

NAME_CONTEXT = "talentpool.full_name"
EMAIL_CONTEXT = "talentpool.email"
PHONE_CONTEXT = "talentpool.phone"
RESUME_CONTEXT = "talentpool.resume"
NOTE_CONTEXT = "talentpool.note"


def email_index(keyring: Keyring, email: str | None) -> bytes | None:
    """The blind index of an email address, or None when there is none or it is not valid."""
    if not email:
        return None
    try:
        return keyring.blind_index(normalize_email(email), context=EMAIL_CONTEXT)
    except ValueError:
        return None


def phone_index(keyring: Keyring, phone: str | None) -> bytes | None:
    """The blind index of a phone number (E.164), or None when there is none or it is not
    valid."""
    if not phone:
        return None
    try:
        return keyring.blind_index(normalize_phone(phone), context=PHONE_CONTEXT)
    except ValueError:
        return None


def seal(keyring: Keyring, plaintext: str | None, context: str) -> bytes | None:
    return None if plaintext is None else keyring.encrypt(plaintext, context=context)


def unseal(keyring: Keyring, ciphertext: bytes | None, context: str) -> str | None:
    return None if ciphertext is None else keyring.decrypt(ciphertext, context=context)
