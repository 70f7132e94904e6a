"""Finding a person's data anywhere in the database: every column of every table of the given
schemas that can hold text (text, varchar, json, jsonb, arrays, bytea) is searched for their
plain values, for blind indexes of them, and for ciphertexts that decrypt to them. Used by the
erasure tests to prove nothing is left."""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg

from notifier.endpoints.service import SIGNING_KEY_CONTEXT as ENDPOINT_SECRET_CONTEXT
from notifier.recipients.contacts import EMAIL_CONTEXT as RECIPIENT_EMAIL
from notifier.recipients.contacts import PHONE_CONTEXT as RECIPIENT_PHONE
from notifier.robots.service import SIGNING_KEY_CONTEXT as ROBOT_SECRET_CONTEXT
from notifier.robots.service import URL_CONTEXT as ROBOT_URL_CONTEXT
from pipeline.candidates.contacts import EMAIL_CONTEXT as CANDIDATE_EMAIL
from pipeline.candidates.contacts import PHONE_CONTEXT as CANDIDATE_PHONE
from shared.crypto import DecryptionError, Keyring, decode_key, key_id_of
from talentpool.profiles import contacts as profile_contacts
from tests.support import environment

CONTEXTS = (
    CANDIDATE_EMAIL,
    CANDIDATE_PHONE,
    RECIPIENT_EMAIL,
    RECIPIENT_PHONE,
    ROBOT_URL_CONTEXT,
    ROBOT_SECRET_CONTEXT,
    ENDPOINT_SECRET_CONTEXT,
    profile_contacts.NAME_CONTEXT,
    profile_contacts.EMAIL_CONTEXT,
    profile_contacts.PHONE_CONTEXT,
    profile_contacts.RESUME_CONTEXT,
    profile_contacts.NOTE_CONTEXT,
)
"""Every context the services encrypt personal data in (a ciphertext in none of them is
reported: an unknown context could hide anything)."""

TEXT_TYPES = ("text", "character varying", "json", "jsonb", "ARRAY")


def keyring() -> Keyring:
    """The test run's keyring (the services' own keys)."""
    return Keyring(
        {kid: decode_key(key) for kid, key in environment.PII_KEYS.items()},
        current=next(iter(environment.PII_KEYS)),
        index_key=decode_key(environment.PII_INDEX_KEY),
    )


def blind_indexes(ring: Keyring, *, email: str, phone: str) -> list[bytes]:
    """The blind indexes a service could keep of this email and phone (normalized)."""
    return [
        ring.blind_index(email, context=context)
        for context in (CANDIDATE_EMAIL, profile_contacts.EMAIL_CONTEXT)
    ] + [
        ring.blind_index(phone, context=context)
        for context in (CANDIDATE_PHONE, profile_contacts.PHONE_CONTEXT)
    ]


async def _columns(db: asyncpg.Connection, schemas: Sequence[str]) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        """SELECT c.table_schema, c.table_name, c.column_name, c.data_type
           FROM information_schema.columns c
           JOIN information_schema.tables t
             ON t.table_schema = c.table_schema AND t.table_name = c.table_name
           WHERE c.table_schema = ANY($1::text[]) AND t.table_type = 'BASE TABLE'
             AND (c.data_type = ANY($2::text[]) OR c.data_type = 'bytea')
           ORDER BY 1, 2, 3""",
        list(schemas),
        list(TEXT_TYPES),
    )
    return rows


def _needle_forms(needles: Sequence[str]) -> list[str]:
    """The values as stored: plainly, and as JSON escapes them (a stored JSON answer)."""
    forms = {needle.lower() for needle in needles}
    forms |= {json.dumps(needle)[1:-1].lower() for needle in needles}
    return sorted(forms)


async def leftovers(
    db: asyncpg.Connection,
    schemas: Sequence[str],
    *,
    needles: Sequence[str],
    indexes: Sequence[bytes] = (),
    ring: Keyring | None = None,
) -> list[str]:
    """``schema.table.column: what`` for every place that still holds one of ``needles`` (case
    ignored), one of ``indexes``, or a ciphertext that decrypts to a needle or cannot be
    decrypted in any known context. Empty when nothing is left."""
    ring = ring or keyring()
    forms = _needle_forms(needles)
    found: list[str] = []
    for column in await _columns(db, schemas):
        where = f'"{column["table_schema"]}"."{column["table_name"]}"'
        name = f'"{column["column_name"]}"'
        label = f"{column['table_schema']}.{column['table_name']}.{column['column_name']}"
        if column["data_type"] != "bytea":
            hits = await db.fetchval(
                f"""SELECT count(*) FROM {where}
                    WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) n
                                  WHERE strpos(lower({name}::text), n) > 0)""",  # noqa: S608
                forms,
            )
            if hits:
                found.append(f"{label}: {hits} row(s) with the plain value")
            continue
        rows = await db.fetch(f"SELECT {name} AS value FROM {where} WHERE {name} IS NOT NULL")  # noqa: S608
        for row in rows:
            value: bytes = row["value"]
            if value in indexes:
                found.append(f"{label}: a blind index of them")
                continue
            lowered = value.lower()
            if any(form.encode() in lowered for form in forms):
                found.append(f"{label}: the plain value")
                continue
            problem = _ciphertext_problem(ring, value, forms)
            if problem:
                found.append(f"{label}: {problem}")
    return found


def _ciphertext_problem(ring: Keyring, value: bytes, forms: Sequence[str]) -> str | None:
    try:
        kid = key_id_of(value)
    except DecryptionError:
        return None  # not a ciphertext (a hash, a token hash, a random index)
    if kid not in ring.key_ids:
        return None
    for context in CONTEXTS:
        try:
            plaintext = ring.decrypt(value, context=context)
        except DecryptionError:
            continue
        if any(form in plaintext.lower() for form in forms):
            return f"a ciphertext of them ({context})"
        return None
    return "a ciphertext in no known context"
