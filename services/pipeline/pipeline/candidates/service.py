"""Candidates: people recognised across applications by a keyed blind index of their email or
phone, their contact data stored only encrypted.

Matching rules (see docs/pipeline/intake.md): the email decides first, then the phone. When the
email names one person and the phone another, the email's person is taken and the phone is left
with its owner. Contact data already stored is never overwritten by an application; a phone is
only added to a person who had none and whose number no one else has.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from pipeline.candidates.contacts import EMAIL_CONTEXT, PHONE_CONTEXT
from pipeline.candidates.models import Candidate
from pipeline.candidates.schemas import CandidateIn, CandidateRead, CandidateUpdate, ContactRead
from shared.crypto import Keyring
from shared.events.pipeline import Actor, CandidateChangedV1
from shared.key_rotation import reencrypt_columns
from shared.problems import Problem, conflict
from shared.unit import UnitOfWork

_candidates = cast(sa.Table, Candidate.__table__)
_c = _candidates.c

# Built once; each call only binds values.
_matching = sa.select(_c.id, _c.email_index, _c.phone_index, _c.locale).where(
    sa.or_(
        _c.email_index == sa.any_(sa.bindparam("emails", type_=ARRAY(sa.LargeBinary))),
        _c.phone_index == sa.any_(sa.bindparam("phones", type_=ARRAY(sa.LargeBinary))),
    )
)
_insert = pg_insert(_candidates).on_conflict_do_nothing().returning(_c.id)
_add_phone = (
    sa.update(_candidates)
    .where(_c.id == sa.bindparam("candidate_id"), _c.phone_index.is_(None))
    .values(
        phone_ciphertext=sa.bindparam("new_phone_ciphertext"),
        phone_index=sa.bindparam("new_phone_index"),
        updated_at=sa.bindparam("now"),
    )
)
# Attempts at resolving a batch: a second is needed only when a concurrent request inserted
# one of the same people between our lookup and our insert.
_ATTEMPTS = 3


@dataclass(frozen=True)
class Resolved:
    candidate_id: uuid.UUID
    locale: str
    new: bool


@dataclass
class _Known:
    candidate_id: uuid.UUID
    locale: str
    has_phone: bool
    new: bool = False


def _indexes(keyring: Keyring, person: CandidateIn) -> tuple[bytes, bytes | None]:
    email_index = keyring.blind_index(person.email, context=EMAIL_CONTEXT)
    phone_index = keyring.blind_index(person.phone, context=PHONE_CONTEXT) if person.phone else None
    return email_index, phone_index


async def resolve(
    *, unit: UnitOfWork, keyring: Keyring, people: Sequence[CandidateIn]
) -> list[Resolved]:
    """The candidate of each person, in order, creating those not known yet. Two entries for
    the same person resolve to the same candidate. A few statements for the whole batch."""
    indexes = [_indexes(keyring, person) for person in people]
    for _ in range(_ATTEMPTS):
        resolved = await _resolve_once(unit, keyring, people, indexes)
        if resolved is not None:
            return resolved
    raise RuntimeError(f"candidates kept conflicting after {_ATTEMPTS} attempts")


async def _resolve_once(
    unit: UnitOfWork,
    keyring: Keyring,
    people: Sequence[CandidateIn],
    indexes: list[tuple[bytes, bytes | None]],
) -> list[Resolved] | None:
    session = unit.session
    rows = await session.execute(
        _matching,
        {
            "emails": [email for email, _ in indexes],
            "phones": [phone for _, phone in indexes if phone is not None],
        },
    )
    by_email: dict[bytes, _Known] = {}
    by_phone: dict[bytes, _Known] = {}
    for row in rows:
        known = _Known(row.id, row.locale, has_phone=row.phone_index is not None)
        by_email[row.email_index] = known
        if row.phone_index is not None:
            by_phone[row.phone_index] = known

    now = unit.clock.now()
    inserts: list[dict[str, object]] = []
    phone_additions: list[dict[str, object]] = []
    chosen: list[_Known] = []
    for person, (email_index, phone_index) in zip(people, indexes, strict=True):
        found = by_email.get(email_index)
        if found is None and phone_index is not None:
            found = by_phone.get(phone_index)
        if found is None:
            known = _Known(uuid.uuid4(), person.locale, has_phone=phone_index is not None, new=True)
            by_email[email_index] = known
            if phone_index is not None:
                by_phone[phone_index] = known
            inserts.append(
                {
                    "id": known.candidate_id,
                    "full_name": person.full_name,
                    "email_ciphertext": keyring.encrypt(person.email, context=EMAIL_CONTEXT),
                    "email_index": email_index,
                    "phone_ciphertext": (
                        keyring.encrypt(person.phone, context=PHONE_CONTEXT)
                        if person.phone
                        else None
                    ),
                    "phone_index": phone_index,
                    "locale": person.locale,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        else:
            known = found
            if (
                person.phone is not None
                and phone_index is not None
                and not known.has_phone
                and phone_index not in by_phone
            ):
                known.has_phone = True
                by_phone[phone_index] = known
                phone_additions.append(
                    {
                        "candidate_id": known.candidate_id,
                        "new_phone_ciphertext": keyring.encrypt(
                            person.phone, context=PHONE_CONTEXT
                        ),
                        "new_phone_index": phone_index,
                        "now": now,
                    }
                )
        chosen.append(known)

    if inserts:
        inserted = set((await session.execute(_insert, inserts)).scalars())
        if len(inserted) != len(inserts):
            # Someone else created one of these people meanwhile: what we did insert stays
            # (this transaction sees it), and the next attempt finds the others.
            return None
    if phone_additions:
        # Filling in phones is a courtesy: if a concurrent request took one of the numbers,
        # the unique index refuses it and the candidates simply keep no phone.
        try:
            async with session.begin_nested():
                await session.execute(_add_phone, phone_additions)
        except IntegrityError:
            pass
    return [Resolved(k.candidate_id, k.locale, k.new) for k in chosen]


async def read_contact(
    *, session: AsyncSession, keyring: Keyring, candidate_id: uuid.UUID
) -> CandidateRead:
    candidate = await session.get_one(Candidate, candidate_id)
    return CandidateRead(
        id=candidate.id,
        full_name=candidate.full_name,
        email=keyring.decrypt(candidate.email_ciphertext, context=EMAIL_CONTEXT),
        phone=(
            keyring.decrypt(candidate.phone_ciphertext, context=PHONE_CONTEXT)
            if candidate.phone_ciphertext is not None
            else None
        ),
        locale=candidate.locale,
        created_at=candidate.created_at,
        updated_at=candidate.updated_at,
    )


async def update_contact(
    *,
    unit: UnitOfWork,
    keyring: Keyring,
    candidate_id: uuid.UUID,
    body: CandidateUpdate,
    actor: Actor,
) -> CandidateRead:
    """Correct a candidate's name, email, phone or language. A new email or phone gets its new
    blind index, so the person is recognised by it from now on; one that another candidate has
    is a 409 ``contact-in-use`` (naming nobody). When something changed, ``candidate_changed``
    names the fields (never their values) for the services that keep a copy."""
    session = unit.session
    candidate = (
        await session.execute(
            sa.select(Candidate).where(Candidate.id == candidate_id).with_for_update()
        )
    ).scalar_one()
    current = await read_contact(session=session, keyring=keyring, candidate_id=candidate_id)
    given = body.model_dump(exclude_unset=True)
    changed = [
        name
        for name in ("full_name", "email", "phone", "locale")
        if name in given and given[name] != getattr(current, name)
    ]
    if not changed:
        return current
    # Both checked before anything is assigned (a query would flush a half-made change).
    email: str | None = given["email"] if "email" in changed else None
    phone: str | None = given.get("phone")
    email_index = keyring.blind_index(email, context=EMAIL_CONTEXT) if email else None
    phone_index = keyring.blind_index(phone, context=PHONE_CONTEXT) if phone else None
    if email_index is not None:
        await _refuse_taken(session, _c.email_index, email_index, candidate_id, "email address")
    if "phone" in changed and phone_index is not None:
        await _refuse_taken(session, _c.phone_index, phone_index, candidate_id, "phone number")
    if email and email_index is not None:
        candidate.email_index = email_index
        candidate.email_ciphertext = keyring.encrypt(email, context=EMAIL_CONTEXT)
    if "phone" in changed:
        candidate.phone_index = phone_index
        candidate.phone_ciphertext = (
            keyring.encrypt(phone, context=PHONE_CONTEXT) if phone else None
        )
    if "full_name" in changed:
        candidate.full_name = given["full_name"]
    if "locale" in changed:
        candidate.locale = given["locale"]
    now = unit.clock.now()
    candidate.updated_at = now
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        # Taken by a concurrent change or application between the check and the write.
        raise _taken("email address or phone number") from None
    await unit.emit(
        CandidateChangedV1(
            candidate_id=candidate_id, changed=changed, actor=actor, occurred_at=now
        ),
        subject=str(candidate_id),
    )
    return await read_contact(session=session, keyring=keyring, candidate_id=candidate_id)


async def _refuse_taken(
    session: AsyncSession,
    column: sa.ColumnElement[bytes | None],
    index: bytes,
    candidate_id: uuid.UUID,
    what: str,
) -> None:
    other = await session.scalar(
        sa.select(_c.id).where(column == index, _c.id != candidate_id).limit(1)
    )
    if other is not None:
        raise _taken(what)


def _taken(what: str) -> Problem:
    return conflict(f"Another candidate has this {what}.", slug="contact-in-use")


async def read_contacts(
    *, session: AsyncSession, keyring: Keyring, candidate_ids: Sequence[uuid.UUID]
) -> list[ContactRead]:
    """Several candidates' contact data in one query; unknown ids are skipped."""
    rows = await session.execute(
        sa.select(
            Candidate.id,
            Candidate.full_name,
            Candidate.email_ciphertext,
            Candidate.phone_ciphertext,
            Candidate.locale,
        ).where(Candidate.id.in_(list(dict.fromkeys(candidate_ids))))
    )
    return [
        ContactRead(
            id=row.id,
            full_name=row.full_name,
            email=keyring.decrypt(row.email_ciphertext, context=EMAIL_CONTEXT),
            phone=(
                keyring.decrypt(row.phone_ciphertext, context=PHONE_CONTEXT)
                if row.phone_ciphertext is not None
                else None
            ),
            locale=row.locale,
        )
        for row in rows
    ]


# Re-encrypts a batch of candidates whose email or phone is under an old key (``rotate-keys``).
rotate_keys = reencrypt_columns(
    _candidates, {"email_ciphertext": EMAIL_CONTEXT, "phone_ciphertext": PHONE_CONTEXT}
)
