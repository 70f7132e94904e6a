"""Erasure: a request (by HR, by the candidate through the pipeline, or by retention)
anonymizes the talent pool's own copy of the person at once and asks every other service, with
``erasure_requested``, to do the same for theirs; each confirms with its ``erasure_completed``,
and the request is complete when all four have. One request per person: asking again returns
the request already made."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.crypto import Keyring
from shared.erasure import forget_responses
from shared.events.talentpool import ErasureReason, ErasureRequestedV1
from shared.settings import ServiceSettings
from shared.unit import UnitOfWork
from talentpool.db import infra
from talentpool.erasure.models import ErasureConfirmation, ErasureRequest
from talentpool.erasure.schemas import SERVICES
from talentpool.profiles.contacts import EMAIL_CONTEXT, PHONE_CONTEXT
from talentpool.profiles.models import Profile, ProfileMember, ProfileNote
from talentpool.tags.models import ProfileTag, TagChange
from talentpool.timeline.models import TimelineEntry

SERVICE = "talentpool"
# Digests of a person's blind indexes, kept with their erasure request (see ``digest``).
EMAIL_DIGEST_CONTEXT = "erasure_requests.email"
PHONE_DIGEST_CONTEXT = "erasure_requests.phone"
# What a timeline entry's ``data`` may keep once its person is erased: ids, stages, states and
# times. Anything else (a reason typed by HR, a vendor's remark, ...) may be free text.
TIMELINE_KEYS = (
    "action",
    "application_id",
    "by",
    "channel",
    "channels_tried",
    "deadline_at",
    "decision",
    "delivery_id",
    "due_at",
    "ends_at",
    "engagement",
    "final",
    "from_stage",
    "interview_id",
    "invitation",
    "invitation_id",
    "job_id",
    "kind",
    "makeup_until",
    "matched",
    "message_id",
    "no_show_of",
    "notification_id",
    "notification_kind",
    "opened_at",
    "policy_mode",
    "reason_code",
    "recipient_kind",
    "remote",
    "reminder",
    "rescheduled_from",
    "result_id",
    "score",
    "sender_kind",
    "source",
    "stage",
    "stage_key",
    "stage_kind",
    "starts_at",
    "status",
    "to_stage",
    "to_stage_kind",
    "transition",
    "vendor",
    "via",
)
MAX_MERGE_DEPTH = 32

_profiles = cast(sa.Table, Profile.__table__)
_requests = cast(sa.Table, ErasureRequest.__table__)
_confirmations = cast(sa.Table, ErasureConfirmation.__table__)
_keyrings: dict[int, Keyring] = {}


def keyring_of(settings: ServiceSettings | None) -> Keyring:
    """The keyring of a handler's settings, built once per settings object."""
    if settings is None:
        raise RuntimeError("erasure needs the service's settings in the unit of work")
    keyring = _keyrings.get(id(settings))
    if keyring is None:
        keyring = _keyrings[id(settings)] = Keyring.from_settings(settings)
    return keyring


def email_index(keyring: Keyring, email: str) -> bytes:
    return keyring.blind_index(email, context=EMAIL_CONTEXT)


def phone_index(keyring: Keyring, phone: str) -> bytes:
    return keyring.blind_index(phone, context=PHONE_CONTEXT)


def digest(keyring: Keyring, index: bytes | None, *, context: str) -> bytes | None:
    """A keyed one-way digest of a blind index, in a context of its own: it finds the erasure
    request of someone asked for again by email or phone, and matches nothing else (the
    indexes themselves are erased with the profile)."""
    if index is None:
        return None
    return keyring.blind_index(index.hex(), context=context)


# -- finding the person -----------------------------------------------------------------------


async def profile_by_index(
    session: AsyncSession, *, email: bytes | None = None, phone: bytes | None = None
) -> uuid.UUID | None:
    """The profile whose email (or phone) blind index this is; a merged one is followed."""
    column = Profile.email_index if email is not None else Profile.phone_index
    value = email if email is not None else phone
    found = await session.scalar(
        sa.select(Profile.id)
        .where(column == value)
        .order_by(Profile.merged_into.is_not(None), Profile.created_at)
        .limit(1)
    )
    return await final_profile(session, found) if found is not None else None


async def profile_of_candidate(session: AsyncSession, candidate_id: uuid.UUID) -> uuid.UUID | None:
    found = await session.scalar(
        sa.select(ProfileMember.profile_id).where(ProfileMember.candidate_id == candidate_id)
    )
    return await final_profile(session, found) if found is not None else None


async def profile_for_request(
    session: AsyncSession, candidate_id: uuid.UUID, *, now: datetime
) -> tuple[uuid.UUID, bool]:
    """The profile to erase for a candidate's own request, and whether the pool knew them. A
    candidate it has not heard of is given the profile ingestion would give them (the
    candidate's id, one member), created already anonymized and with its contacts marked as
    read: the request, the pool's confirmation (nothing to erase) and the candidate's later
    events then find an erased person, and no personal data is stored for them again."""
    found = await profile_of_candidate(session, candidate_id)
    if found is not None:
        return found, True
    # Ingestion may be creating the same profile in a concurrent transaction: whichever
    # inserts first wins, the other waits for it and inserts nothing.
    await session.execute(
        pg_insert(_profiles)
        .values(
            id=candidate_id,
            first_seen_at=now,
            last_activity_at=now,
            contacts_checked_at=now,
            anonymized_at=now,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing()
    )
    await session.execute(
        pg_insert(ProfileMember)
        .values(
            candidate_id=candidate_id,
            profile_id=candidate_id,
            home_profile_id=candidate_id,
            joined_at=now,
        )
        .on_conflict_do_nothing()
    )
    found = await profile_of_candidate(session, candidate_id)
    if found is None:  # the member row was just written, or found written by ingestion
        raise RuntimeError("the profile of an erased candidate could not be created")
    return found, False


async def final_profile(session: AsyncSession, profile_id: uuid.UUID) -> uuid.UUID | None:
    """The profile a merged one ends in (itself when not merged); None when unknown."""
    current = profile_id
    for _ in range(MAX_MERGE_DEPTH):
        merged_into = (
            await session.execute(sa.select(Profile.merged_into).where(Profile.id == current))
        ).first()
        if merged_into is None:
            return None
        if merged_into[0] is None:
            return current
        current = merged_into[0]
    return current


async def by_digest(
    session: AsyncSession, *, email: bytes | None = None, phone: bytes | None = None
) -> ErasureRequest | None:
    column = ErasureRequest.email_digest if email is not None else ErasureRequest.phone_digest
    value = email if email is not None else phone
    return await session.scalar(sa.select(ErasureRequest).where(column == value).limit(1))


async def for_profile(session: AsyncSession, profile_id: uuid.UUID) -> ErasureRequest | None:
    return await session.scalar(
        sa.select(ErasureRequest).where(ErasureRequest.profile_id == profile_id)
    )


async def get(session: AsyncSession, erasure_id: uuid.UUID) -> ErasureRequest | None:
    return await session.get(ErasureRequest, erasure_id)


async def confirmations_of(
    session: AsyncSession, erasure_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ErasureConfirmation]]:
    found: dict[uuid.UUID, list[ErasureConfirmation]] = {i: [] for i in erasure_ids}
    if not erasure_ids:
        return found
    rows = await session.scalars(
        sa.select(ErasureConfirmation).where(ErasureConfirmation.erasure_id.in_(list(erasure_ids)))
    )
    for confirmation in rows:
        found.setdefault(confirmation.erasure_id, []).append(confirmation)
    return found


async def reports_of(
    session: AsyncSession, erasures: Sequence[ErasureRequest]
) -> dict[uuid.UUID, list[ErasureConfirmation]]:
    """The requests' confirmations, read consistently with the requests: the requests were read
    in an earlier statement, and a request completed in between (its completion commits with
    its last confirmation) would show every confirmation but no completion, so it is read
    again."""
    confirmations = await confirmations_of(session, [erasure.id for erasure in erasures])
    for erasure in erasures:
        confirmed = {c.service for c in confirmations[erasure.id]}
        if erasure.completed_at is None and confirmed >= set(SERVICES):
            await session.refresh(erasure)
    return confirmations


# -- the person's records ---------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Everything of one person in the pool: the profile asked for, every profile merged into
    it (and the ones its candidates started in), and their pipeline candidate ids."""

    profile_id: uuid.UUID
    profile_ids: list[uuid.UUID]
    candidate_ids: list[uuid.UUID]


async def person(session: AsyncSession, profile_id: uuid.UUID) -> Person:
    merged = sa.select(Profile.id).where(Profile.id == profile_id).cte("family", recursive=True)
    family = merged.union(sa.select(Profile.id).join(merged, Profile.merged_into == merged.c.id))
    profile_ids = set((await session.scalars(sa.select(family.c.id))).all())
    members = (
        await session.execute(
            sa.select(ProfileMember.candidate_id, ProfileMember.home_profile_id).where(
                ProfileMember.profile_id.in_(profile_ids)
            )
        )
    ).all()
    profile_ids |= {row.home_profile_id for row in members}
    candidate_ids = sorted({row.candidate_id for row in members})
    others = sorted(profile_ids - {profile_id})
    return Person(profile_id, [profile_id, *others], candidate_ids)


def _ids(values: Iterable[uuid.UUID]) -> sa.BindParameter[Any]:
    return sa.bindparam(None, list(values), type_=ARRAY(UUID(as_uuid=True)))


def _count(result: sa.Result[Any]) -> int:
    return cast("sa.CursorResult[Any]", result).rowcount or 0


async def anonymize(session: AsyncSession, who: Person, *, now: datetime) -> dict[str, int]:
    """Erase the talent pool's copy of the person: contact data, name, resume, skills,
    location and search tokens of their profiles, notes, tag notes, free text in their
    timeline, and stored answers naming them. Kinds, stages, times and counters stay, without
    anything that identifies the person. Repeating it erases nothing new."""
    profiles = _ids(who.profile_ids)
    erased: dict[str, int] = {}
    p = _profiles.c
    erased["profiles"] = _count(
        await session.execute(
            sa.update(_profiles)
            .where(
                p.id == sa.any_(profiles),
                sa.or_(
                    p.anonymized_at.is_(None),
                    p.full_name_ciphertext.is_not(None),
                    p.email_ciphertext.is_not(None),
                    p.email_index.is_not(None),
                    p.phone_ciphertext.is_not(None),
                    p.phone_index.is_not(None),
                    p.resume_ciphertext.is_not(None),
                    p.location.is_not(None),
                    sa.func.cardinality(p.skills) > 0,
                    sa.func.cardinality(p.search_tokens) > 0,
                ),
            )
            .values(
                full_name_ciphertext=None,
                email_ciphertext=None,
                email_index=None,
                phone_ciphertext=None,
                phone_index=None,
                resume_ciphertext=None,
                location=None,
                skills=[],
                search_tokens=[],
                # Nothing left to match: the matcher must not read their contacts again.
                contacts_checked_at=sa.func.coalesce(p.contacts_checked_at, now),
                anonymized_at=sa.func.coalesce(p.anonymized_at, now),
                updated_at=now,
                version=p.version + 1,
            )
        )
    )
    erased["profile_notes"] = _count(
        await session.execute(
            sa.delete(ProfileNote).where(ProfileNote.profile_id == sa.any_(profiles))
        )
    )
    erased["profile_tags"] = _count(
        await session.execute(
            sa.update(ProfileTag)
            .where(ProfileTag.profile_id == sa.any_(profiles), ProfileTag.note.is_not(None))
            .values(note=None)
        )
    )
    erased["tag_changes"] = _count(
        await session.execute(
            sa.update(TagChange)
            .where(TagChange.profile_id == sa.any_(profiles), TagChange.reason.is_not(None))
            .values(reason=None)
        )
    )
    erased["timeline_entries"] = await _scrub_timeline(session, who.candidate_ids)
    erased["idempotency_keys"] = await forget_responses(
        session, infra.idempotency_keys, mentioning=[*who.profile_ids, *who.candidate_ids]
    )
    return {table: count for table, count in erased.items() if count}


async def _scrub_timeline(session: AsyncSession, candidate_ids: Sequence[uuid.UUID]) -> int:
    if not candidate_ids:
        return 0
    keep = sa.bindparam("keep", list(TIMELINE_KEYS), type_=ARRAY(sa.Text))
    data = TimelineEntry.data
    pairs = sa.func.jsonb_each(data).table_valued("key", "value").alias("pair")
    kept = (
        sa.select(
            sa.func.coalesce(
                sa.func.jsonb_object_agg(pairs.c.key, pairs.c.value),
                sa.cast(sa.literal("{}"), JSONB),
            )
        )
        .where(pairs.c.key == sa.any_(keep))
        .scalar_subquery()
    )
    key = sa.func.jsonb_object_keys(data).column_valued("key")
    has_other = sa.select(1).where(key != sa.all_(keep)).exists()
    result = await session.execute(
        sa.update(TimelineEntry)
        .where(TimelineEntry.candidate_id == sa.any_(_ids(candidate_ids)), has_other)
        .values(data=kept)
    )
    return _count(result)


# -- requesting ---------------------------------------------------------------------------------


async def request(
    *,
    unit: UnitOfWork,
    keyring: Keyring,
    profile_id: uuid.UUID,
    reason: ErasureReason,
    requested_by: str,
) -> tuple[ErasureRequest, bool]:
    """Erase the person of ``profile_id`` (already resolved to a profile that is not merged):
    the request, the talent pool's own erasure and confirmation, and ``erasure_requested`` for
    the other services, in the caller's transaction. Returns the request and whether it is new
    (False: the person's request made before)."""
    session = unit.session
    # One request per person even when two arrive at once: the profile row is the lock.
    await session.execute(sa.select(Profile.id).where(Profile.id == profile_id).with_for_update())
    existing = await for_profile(session, profile_id)
    if existing is not None:
        return existing, False
    who = await person(session, profile_id)
    indexes = (
        await session.execute(
            sa.select(Profile.email_index, Profile.phone_index).where(
                Profile.id.in_(who.profile_ids)
            )
        )
    ).all()
    email = next((row.email_index for row in indexes if row.email_index is not None), None)
    phone = next((row.phone_index for row in indexes if row.phone_index is not None), None)
    now = unit.clock.now()
    erasure_id = uuid.uuid4()
    await session.execute(
        pg_insert(_requests).values(
            id=erasure_id,
            profile_id=profile_id,
            candidate_ids=who.candidate_ids,
            reason=reason,
            requested_by=requested_by,
            requested_at=now,
            email_digest=digest(keyring, email, context=EMAIL_DIGEST_CONTEXT),
            phone_digest=digest(keyring, phone, context=PHONE_DIGEST_CONTEXT),
        )
    )
    erased = await anonymize(session, who, now=now)
    await session.execute(
        sa.insert(_confirmations).values(
            erasure_id=erasure_id, service=SERVICE, confirmed_at=now, details={"erased": erased}
        )
    )
    await unit.emit(
        ErasureRequestedV1(
            erasure_id=erasure_id,
            profile_id=profile_id,
            candidate_ids=who.candidate_ids,
            reason=reason,
            requested_at=now,
        ),
        subject=str(erasure_id),
    )
    return await session.get_one(ErasureRequest, erasure_id), True


# -- confirmations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Confirmed:
    erasure_id: uuid.UUID
    service: str
    confirmed_at: datetime
    erased: dict[str, int]


async def record_confirmations(unit: UnitOfWork, confirmed: Sequence[Confirmed]) -> None:
    """Record the services' confirmations (the first one of a service counts; a repeat
    changes nothing), erase again what reached the pool after the request (events already on
    their way then), and complete the requests every service has confirmed."""
    session = unit.session
    ids = sorted({item.erasure_id for item in confirmed})
    # The requests are locked (in id order) before their confirmations are counted: two
    # services' confirmations handled at once would otherwise each count the other's as
    # missing, and the request would never be completed.
    known = set(
        (
            await session.scalars(
                sa.select(ErasureRequest.id)
                .where(ErasureRequest.id.in_(ids))
                .order_by(ErasureRequest.id)
                .with_for_update()
            )
        ).all()
    )
    rows = [
        {
            "erasure_id": item.erasure_id,
            "service": item.service,
            "confirmed_at": item.confirmed_at,
            "details": {"erased": item.erased},
        }
        for item in confirmed
        if item.erasure_id in known
    ]
    if not rows:
        return
    await session.execute(pg_insert(_confirmations).values(rows).on_conflict_do_nothing())
    now = unit.clock.now()
    for erasure_id in sorted(known):
        found = await session.get_one(ErasureRequest, erasure_id)
        late = await anonymize(session, await person(session, found.profile_id), now=now)
        if late:
            await _add_to_own_confirmation(session, erasure_id, late)
    confirmed_services = (
        sa.select(sa.func.count(sa.distinct(ErasureConfirmation.service)))
        .where(
            ErasureConfirmation.erasure_id == ErasureRequest.id,
            ErasureConfirmation.service.in_(SERVICES),
        )
        .scalar_subquery()
    )
    await session.execute(
        sa.update(ErasureRequest)
        .where(
            ErasureRequest.id.in_(sorted(known)),
            ErasureRequest.completed_at.is_(None),
            confirmed_services == len(SERVICES),
        )
        .values(completed_at=now)
    )


async def _add_to_own_confirmation(
    session: AsyncSession, erasure_id: uuid.UUID, late: dict[str, int]
) -> None:
    own = await session.get(ErasureConfirmation, (erasure_id, SERVICE), with_for_update=True)
    if own is None:
        return
    erased = dict(own.details.get("erased", {}))
    for table, count in late.items():
        erased[table] = erased.get(table, 0) + count
    own.details = {**own.details, "erased": erased}
