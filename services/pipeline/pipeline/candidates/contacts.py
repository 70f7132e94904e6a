"""How the pipeline encrypts a candidate's contact data: the contexts bound into the
ciphertexts. Normalizing is shared (``shared.contacts``), so one person's email or phone always
gives the same blind index."""

from __future__ import annotations

from shared.contacts import DEFAULT_PHONE_REGION, normalize_email, normalize_phone

EMAIL_CONTEXT = "candidates.email"
PHONE_CONTEXT = "candidates.phone"

__all__ = [
    "DEFAULT_PHONE_REGION",
    "EMAIL_CONTEXT",
    "PHONE_CONTEXT",
    "normalize_email",
    "normalize_phone",
]
