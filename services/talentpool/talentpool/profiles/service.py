"""People in the pool: reading them (contact data decrypted for staff who may see them),
editing what HR keeps about them, notes, search tokens, and merging and unmerging.

A merge moves the members (the pipeline's candidate ids) of one profile into another and
records which; the merged profile keeps its own row, with ``merged_into`` set, so an unmerge
moves exactly those members back. Counters are recomputed from the timelines after both, so a
merge changes no history. Notes and resume text of profiles merged into another are shown with
and searched through the surviving profile. ``KEY_ROTATIONS`` re-encrypt the profiles' and
notes' ciphertexts under the current PII key (``rotate-keys``).
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import Principal
from shared.contacts import normalize_email, normalize_phone
from shared.crypto import Keyring
from shared.http.pagination import PageParams, paginate
from shared.key_rotation import KeyRotation, reencrypt_columns
from shared.problems import Problem, conflict, not_found, version_mismatch
from shared.unit import UnitOfWork
from talentpool.campaigns.subscriptions import refresh_unsubscribed
from talentpool.consents.models import Consent, ConsentChange
from talentpool.profiles.contacts import (
    EMAIL_CONTEXT,
    NAME_CONTEXT,
    NOTE_CONTEXT,
    PHONE_CONTEXT,
    RESUME_CONTEXT,
    seal,
    unseal,
)
from talentpool.profiles.counters import counters_of, recompute
from talentpool.profiles.dependencies import load_visible, require_live, visible_filter
from talentpool.profiles.engagement import engagement
from talentpool.profiles.models import Profile, ProfileMember, ProfileMerge, ProfileNote
from talentpool.profiles.schemas import (
    EngagementRead,
    MergeRead,
    NoteRead,
    ProfileChange,
    ProfileRead,
    ProfileSummary,
)
from talentpool.segments.text import index_tokens
from talentpool.tags import service as tags
from talentpool.tags.models import ProfileTag

_profiles = cast(sa.Table, Profile.__table__)
_TAGS = cast(sa.Table, ProfileTag.__table__)
_CONSENTS = cast(sa.Table, Consent.__table__)


def invalid(field: str, location: str, message: str) -> Problem:
    """A 422 naming one field, shaped like the framework's validation errors."""
    return Problem(
        422,
        "Invalid request",
        f"{location}.{field}: {message}",
        slug="validation-error",
        errors=[{"field": field, "location": location, "message": message, "code": "invalid"}],
    )


# -- reading -----------------------------------------------------------------------------------


async def members_of(
    session: AsyncSession, profile_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Each profile's candidate ids, in the order they joined."""
    rows = await session.execute(
        sa.select(ProfileMember.profile_id, ProfileMember.candidate_id)
        .where(ProfileMember.profile_id.in_(profile_ids))
        .order_by(ProfileMember.joined_at, ProfileMember.candidate_id)
    )
    found: dict[uuid.UUID, list[uuid.UUID]] = {profile_id: [] for profile_id in profile_ids}
    for profile_id, candidate_id in rows:
        found[profile_id].append(candidate_id)
    return found


async def tags_of(
    session: AsyncSession, profile_ids: Sequence[uuid.UUID], now: datetime
) -> dict[uuid.UUID, list[str]]:
    """Each profile's tags in force (an ended one may wait a moment for its expiry timer)."""
    rows = await session.execute(
        sa.select(ProfileTag.profile_id, ProfileTag.tag)
        .where(
            ProfileTag.profile_id.in_(profile_ids),
            sa.or_(ProfileTag.until.is_(None), ProfileTag.until > now),
        )
        .order_by(ProfileTag.tag)
    )
    found: dict[uuid.UUID, list[str]] = {profile_id: [] for profile_id in profile_ids}
    for profile_id, tag in rows:
        found[profile_id].append(tag)
    return found


def engagement_of(profile: Profile, now: datetime) -> EngagementRead:
    """The engagement as of now (recency is computed on reading; the stored score, used to
    filter segments, is refreshed when the counters change)."""
    result = engagement(counters_of(profile), now=now)
    return EngagementRead(
        score=result.score,
        response_rate=result.response_rate,
        response_speed=result.response_speed,
        completion=result.completion,
        recency=result.recency,
        invited=profile.invited_count,
        responded=profile.responded_count,
        completed=profile.completed_count,
        no_shows=profile.no_show_count,
        mean_response_seconds=(
            round(profile.response_seconds_total / profile.responses_timed)
            if profile.responses_timed
            else None
        ),
    )


def _summary_fields(profile: Profile, keyring: Keyring, tags: list[str]) -> dict[str, Any]:
    return {
        "id": profile.id,
        "full_name": unseal(keyring, profile.full_name_ciphertext, NAME_CONTEXT),
        "email": unseal(keyring, profile.email_ciphertext, EMAIL_CONTEXT),
        "phone": unseal(keyring, profile.phone_ciphertext, PHONE_CONTEXT),
        "locale": profile.locale,
        "location": profile.location,
        "skills": list(profile.skills),
        "tags": tags,
        "engagement_score": profile.engagement_score,
        "furthest_stage_kind": profile.furthest_stage_kind,
        "furthest_rank": profile.furthest_rank,
        "first_seen_at": profile.first_seen_at,
        "last_activity_at": profile.last_activity_at,
        "on_hold_until": profile.on_hold_until,
        "merged_into": profile.merged_into,
        "anonymized_at": profile.anonymized_at,
    }


def summary(profile: Profile, keyring: Keyring, tags: list[str]) -> ProfileSummary:
    return ProfileSummary(**_summary_fields(profile, keyring, tags))


async def read(
    session: AsyncSession, profile: Profile, keyring: Keyring, now: datetime
) -> ProfileRead:
    members = await members_of(session, [profile.id])
    tags = await tags_of(session, [profile.id], now)
    return ProfileRead(
        **_summary_fields(profile, keyring, tags[profile.id]),
        resume_text=unseal(keyring, profile.resume_ciphertext, RESUME_CONTEXT),
        candidate_ids=members[profile.id],
        engagement=engagement_of(profile, now),
        unsubscribed_at=profile.unsubscribed_at,
        contacts_checked_at=profile.contacts_checked_at,
        version=profile.version,
        created_at=profile.created_at,
        updated_at=profile.updated_at,
    )


async def listing(
    session: AsyncSession,
    *,
    principal: Principal,
    keyring: Keyring,
    params: PageParams,
    now: datetime,
    email: str | None = None,
    phone: str | None = None,
    candidate_id: uuid.UUID | None = None,
) -> tuple[list[ProfileSummary], str | None]:
    """Profiles the caller may see, most recently active first; merged ones are left out (their
    people are in the profiles they were merged into)."""
    statement = sa.select(Profile).where(Profile.merged_into.is_(None))
    condition = visible_filter(principal)
    if condition is not None:
        statement = statement.where(condition)
    if email is not None:
        try:
            index = keyring.blind_index(normalize_email(email), context=EMAIL_CONTEXT)
        except ValueError as error:
            raise invalid("email", "query", str(error)) from None
        statement = statement.where(Profile.email_index == index)
    if phone is not None:
        try:
            index = keyring.blind_index(normalize_phone(phone), context=PHONE_CONTEXT)
        except ValueError as error:
            raise invalid("phone", "query", str(error)) from None
        statement = statement.where(Profile.phone_index == index)
    if candidate_id is not None:
        statement = statement.where(
            sa.select(ProfileMember.candidate_id)
            .where(
                ProfileMember.profile_id == Profile.id, ProfileMember.candidate_id == candidate_id
            )
            .exists()
        )
    profiles, next_cursor = await paginate(
        session,
        statement,
        order_by=[Profile.last_activity_at, Profile.id],
        params=params,
        descending=True,
    )
    tags = await tags_of(session, [p.id for p in profiles], now)
    return [summary(p, keyring, tags[p.id]) for p in profiles], next_cursor


# -- editing -----------------------------------------------------------------------------------


def normalized_skills(skills: Sequence[str]) -> list[str]:
    """Skills as stored: NFKC, case-folded, trimmed, each once (so a filter on ``python``
    finds ``Python``), in the order given."""
    cleaned = (unicodedata.normalize("NFKC", s).strip().casefold() for s in skills)
    return list(dict.fromkeys(s for s in cleaned if s))


def check_version(profile: Profile, expected: int | None) -> None:
    if expected is not None and expected != profile.version:
        raise version_mismatch(profile.version)


async def change(
    *,
    unit: UnitOfWork,
    keyring: Keyring,
    profile: Profile,
    body: ProfileChange,
    expected_version: int | None,
) -> Profile:
    """Apply HR's changes (only the fields given); the resume's words are re-indexed."""
    check_version(profile, expected_version)
    given = body.model_fields_set
    if "skills" in given:
        profile.skills = normalized_skills(body.skills or [])
    if "location" in given:
        profile.location = body.location
    if "locale" in given:
        profile.locale = body.locale
    if "resume_text" in given:
        profile.resume_ciphertext = seal(keyring, body.resume_text, RESUME_CONTEXT)
    profile.version += 1
    profile.updated_at = unit.clock.now()
    await unit.session.flush()
    if "resume_text" in given:
        await reindex(unit.session, keyring, profile.id)
    return profile


async def family(session: AsyncSession, profile_id: uuid.UUID) -> list[uuid.UUID]:
    """The profile and every profile merged into it, directly or through another."""
    tree = sa.select(sa.literal(profile_id, type_=_profiles.c.id.type).label("id")).cte(
        "tree", recursive=True
    )
    tree = tree.union(sa.select(Profile.id).where(Profile.merged_into == tree.c.id))
    return list((await session.scalars(sa.select(tree.c.id))).all())


async def reindex(session: AsyncSession, keyring: Keyring, profile_id: uuid.UUID) -> None:
    """Store the search tokens of the profile's resume and notes, and those of the profiles
    merged into it."""
    ids = await family(session, profile_id)
    resumes = await session.scalars(
        sa.select(Profile.resume_ciphertext).where(
            Profile.id.in_(ids), Profile.resume_ciphertext.is_not(None)
        )
    )
    notes = await session.scalars(
        sa.select(ProfileNote.body_ciphertext).where(
            ProfileNote.profile_id.in_(ids), ProfileNote.body_ciphertext.is_not(None)
        )
    )
    texts = [unseal(keyring, c, RESUME_CONTEXT) for c in resumes]
    texts += [unseal(keyring, c, NOTE_CONTEXT) for c in notes]
    await session.execute(
        sa.update(Profile)
        .where(Profile.id == profile_id)
        .values(search_tokens=index_tokens(keyring, *texts))
    )


# -- notes -------------------------------------------------------------------------------------


def note_read(note: ProfileNote, keyring: Keyring) -> NoteRead:
    return NoteRead(
        id=note.id,
        profile_id=note.profile_id,
        author_id=note.author_id,
        body=unseal(keyring, note.body_ciphertext, NOTE_CONTEXT),
        created_at=note.created_at,
    )


async def add_note(
    *, unit: UnitOfWork, keyring: Keyring, profile: Profile, author: str, body: str
) -> ProfileNote:
    note = ProfileNote(
        id=uuid.uuid4(),
        profile_id=profile.id,
        author_id=author,
        body_ciphertext=seal(keyring, body, NOTE_CONTEXT),
        created_at=unit.clock.now(),
    )
    unit.session.add(note)
    await unit.session.flush()
    await reindex(unit.session, keyring, profile.id)
    return note


async def notes(
    session: AsyncSession, *, profile_id: uuid.UUID, params: PageParams
) -> tuple[list[ProfileNote], str | None]:
    """Notes on the profile and on the profiles merged into it, newest first."""
    ids = await family(session, profile_id)
    found, next_cursor = await paginate(
        session,
        sa.select(ProfileNote).where(ProfileNote.profile_id.in_(ids)),
        order_by=[ProfileNote.created_at, ProfileNote.id],
        params=params,
        descending=True,
    )
    return list(found), next_cursor


# -- merging -----------------------------------------------------------------------------------


async def merge(
    session: AsyncSession,
    *,
    into: Profile,
    source: Profile,
    matched_by: str,
    by: str | None,
    now: datetime,
    keyring: Keyring,
) -> ProfileMerge:
    """Merge ``source`` into ``into`` (both locked by the caller, both live)."""
    candidate_ids = list(
        (
            await session.scalars(
                sa.select(ProfileMember.candidate_id)
                .where(ProfileMember.profile_id == source.id)
                .order_by(ProfileMember.candidate_id)
            )
        ).all()
    )
    record = ProfileMerge(
        id=uuid.uuid4(),
        into_profile_id=into.id,
        from_profile_id=source.id,
        candidate_ids=candidate_ids,
        matched_by=matched_by,
        merged_by=by,
        merged_at=now,
    )
    session.add(record)
    await session.execute(
        sa.update(ProfileMember)
        .where(ProfileMember.profile_id == source.id)
        .values(profile_id=into.id)
    )
    source.merged_into = into.id
    for profile in (source, into):
        profile.version += 1
        profile.updated_at = now
    await session.flush()
    record.carried = await _carry_over(session, into=into.id, source=source.id, by=by, now=now)
    await recompute(session, now=now, profile_ids=sorted([into.id, source.id]))
    await refresh_unsubscribed(session, sorted([into.id, source.id]))
    await reindex(session, keyring, into.id)
    await session.refresh(into)
    await session.refresh(source)
    return record


# What the merged profile carried goes to the one it joins: its tags still in force (a tag both
# have keeps the later end; no end wins), with a history row each, and its consents where they
# were recorded later than the survivor's own answer for the purpose. The merge records what
# this changed, and unmerging takes back what nobody changed since.
_CARRY_TAGS = sa.text(
    """
    WITH moved AS (
        INSERT INTO talentpool.profile_tags AS t
            (profile_id, tag, source, rule_id, until, note, added_by, added_at)
        SELECT :into, tag, source, rule_id, until, note, added_by, added_at
        FROM talentpool.profile_tags
        WHERE profile_id = :source AND (until IS NULL OR until > :now)
        ON CONFLICT (profile_id, tag) DO UPDATE SET until = CASE
            WHEN t.until IS NULL OR excluded.until IS NULL THEN NULL
            ELSE greatest(t.until, excluded.until) END
        WHERE t.until IS NOT NULL AND (excluded.until IS NULL OR excluded.until > t.until)
        RETURNING t.tag, t.source, t.rule_id, t.until, (xmax = 0) AS added
    ), logged AS (
        INSERT INTO talentpool.tag_changes
            (profile_id, tag, action, source, rule_id, actor, until, reason, at)
        SELECT :into, tag, CASE WHEN added THEN 'added' ELSE 'changed' END, source, rule_id,
               :by, until, 'merged', :now
        FROM moved
    )
    UPDATE talentpool.profiles AS p
    SET on_hold_until = (
        SELECT max(until) FROM talentpool.profile_tags
        WHERE profile_id = :into AND tag = 'on_hold' AND until > :now
    )
    WHERE p.id = :into
    """
)
_CARRY_CONSENTS = sa.text(
    """
    WITH moved AS (
        INSERT INTO talentpool.consents AS c
            (profile_id, purpose, granted, source, recorded_by, recorded_at, expires_at)
        SELECT :into, purpose, granted, source, recorded_by, recorded_at, expires_at
        FROM talentpool.consents WHERE profile_id = :source
        ON CONFLICT (profile_id, purpose) DO UPDATE SET
            granted = excluded.granted, source = excluded.source,
            recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at,
            expires_at = excluded.expires_at
        WHERE excluded.recorded_at > c.recorded_at
        RETURNING c.purpose, c.granted, c.source, c.recorded_by, c.recorded_at, c.expires_at
    )
    INSERT INTO talentpool.consent_changes
        (profile_id, purpose, granted, source, recorded_by, recorded_at, expires_at)
    SELECT :into, purpose, granted, source, recorded_by, recorded_at, expires_at FROM moved
    RETURNING id
    """
)
# A tag's note is HR's free text, which may be personal: it is not copied into the merge's
# record (a carry never changes the note of a tag the profile had; a re-tag since changes
# ``added_at``, so "changed since the merge" is still seen).
_TAG_COLUMNS = ("source", "rule_id", "until", "added_by", "added_at")
_CONSENT_COLUMNS = ("granted", "source", "recorded_by", "recorded_at", "expires_at")
UNMERGED = "unmerged"


async def _carry_over(
    session: AsyncSession,
    *,
    into: uuid.UUID,
    source: uuid.UUID,
    by: str | None,
    now: datetime,
) -> dict[str, Any]:
    """Carry the merged profile's tags and consents over; what that changed on ``into``, each
    row before and after (JSON), with the consent history rows it wrote."""
    params = {"into": into, "source": source, "by": by, "now": now}
    tags_before = await _rows(session, _TAGS, "tag", _TAG_COLUMNS, into)
    consents_before = await _rows(session, _CONSENTS, "purpose", _CONSENT_COLUMNS, into)
    await session.execute(_CARRY_TAGS, params)
    history = list((await session.scalars(_CARRY_CONSENTS, params)).all())
    return {
        "tags": _changes(tags_before, await _rows(session, _TAGS, "tag", _TAG_COLUMNS, into)),
        "consents": _changes(
            consents_before, await _rows(session, _CONSENTS, "purpose", _CONSENT_COLUMNS, into)
        ),
        "consent_changes": history,
    }


async def _rows(
    session: AsyncSession, table: sa.Table, key: str, columns: Sequence[str], profile_id: uuid.UUID
) -> dict[str, dict[str, Any]]:
    """A profile's tags or consents by tag or purpose, as JSON values."""
    found = await session.execute(
        sa.select(table.c[key], *(table.c[c] for c in columns)).where(
            table.c.profile_id == profile_id
        )
    )
    return {
        row[0]: {column: _json(value) for column, value in zip(columns, row[1:], strict=True)}
        for row in found
    }


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def _changes(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    return [
        {"key": key, "before": before.get(key), "after": row}
        for key, row in sorted(after.items())
        if before.get(key) != row
    ]


async def _take_back(
    unit: UnitOfWork, *, into: uuid.UUID, carried: dict[str, Any], actor: str
) -> None:
    """Undo what a merge carried into ``into``: a tag or consent it added goes, one it changed
    gets its earlier value back, unless it changed again since the merge (that later word, HR's
    or a rule's, stands). Tags change through the tag service (history row with reason
    ``unmerged``, ``on_hold_until``, ``candidate_tagged``); a tag whose earlier end has passed
    meanwhile is removed. The consent history rows the merge copied go too: they were the
    other person's answers, not this one's."""
    session = unit.session
    now = unit.clock.now()
    current = await _rows(session, _TAGS, "tag", _TAG_COLUMNS, into)
    for item in carried.get("tags", []):
        tag, before = item["key"], item["before"]
        if current.get(tag) != item["after"]:
            continue
        until = datetime.fromisoformat(before["until"]) if before and before["until"] else None
        if before is None or (until is not None and until <= now):
            await tags.apply_targets(
                unit,
                targets=[tags.Target(into, reason=UNMERGED)],
                tag=tag,
                action="remove",
                source=None,
                actor=actor,
            )
            continue
        rule_id = uuid.UUID(before["rule_id"]) if before["rule_id"] else None
        await tags.apply_targets(
            unit,
            targets=[tags.Target(into, until=until, rule_id=rule_id, reason=UNMERGED)],
            tag=tag,
            action="add",
            source=before["source"],
            actor=actor,
        )
    consents = await _rows(session, _CONSENTS, "purpose", _CONSENT_COLUMNS, into)
    for item in carried.get("consents", []):
        purpose, before = item["key"], item["before"]
        if consents.get(purpose) != item["after"]:
            continue
        mine = (_CONSENTS.c.profile_id == into) & (_CONSENTS.c.purpose == purpose)
        if before is None:
            await session.execute(sa.delete(_CONSENTS).where(mine))
            continue
        await session.execute(
            sa.update(_CONSENTS)
            .where(mine)
            .values(
                granted=before["granted"],
                source=before["source"],
                recorded_by=before["recorded_by"],
                recorded_at=datetime.fromisoformat(before["recorded_at"]),
                expires_at=(
                    datetime.fromisoformat(before["expires_at"]) if before["expires_at"] else None
                ),
            )
        )
    if carried.get("consent_changes"):
        history = cast(sa.Table, ConsentChange.__table__)
        await session.execute(
            sa.delete(history).where(
                history.c.profile_id == into, history.c.id.in_(carried["consent_changes"])
            )
        )


async def lock_in_order(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Profile]:
    """Lock profiles in id order (as every writer of profiles does, so two writers never wait
    for each other in a circle) and load their current state."""
    found = await session.scalars(
        sa.select(Profile)
        .where(Profile.id.in_(list(ids)))
        .order_by(Profile.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {profile.id: profile for profile in found}


async def merge_by_hr(
    *,
    unit: UnitOfWork,
    keyring: Keyring,
    principal: Principal,
    profile: Profile,
    other_id: uuid.UUID,
) -> ProfileMerge:
    """HR merging another profile into this one: both must be visible to them and live."""
    if other_id == profile.id:
        raise invalid("other_profile_id", "body", "a profile cannot be merged with itself")
    await load_visible(unit, principal, other_id)
    locked = await lock_in_order(unit.session, [profile.id, other_id])
    into = require_live(locked[profile.id])
    other = require_live(locked[other_id])
    return await merge(
        unit.session,
        into=into,
        source=other,
        matched_by="hr",
        by=principal.subject,
        now=unit.clock.now(),
        keyring=keyring,
    )


async def unmerge(
    *,
    unit: UnitOfWork,
    keyring: Keyring,
    principal: Principal,
    profile: Profile,
    merge_id: uuid.UUID,
) -> ProfileMerge:
    """Undo a merge into this profile (which must still be live): the members it moved go
    back to the profile they came from, and what it carried over is taken back."""
    session = unit.session
    record = await session.scalar(
        sa.select(ProfileMerge).where(
            ProfileMerge.id == merge_id, ProfileMerge.into_profile_id == profile.id
        )
    )
    if record is None:
        raise not_found("merge", merge_id)
    locked = await lock_in_order(session, [profile.id, record.from_profile_id])
    profile = require_live(locked[profile.id])
    await session.refresh(record, with_for_update=True)
    if record.undone_at is not None:
        raise conflict("This merge was already undone.", slug="merge-undone")
    source = locked[record.from_profile_id]
    if source.merged_into != profile.id:  # pragma: no cover - kept in step by the checks above
        raise conflict("The merged profile has moved since.", slug="merge-moved")
    now = unit.clock.now()
    await session.execute(
        sa.update(ProfileMember)
        .where(
            ProfileMember.candidate_id.in_(record.candidate_ids),
            ProfileMember.profile_id == profile.id,
        )
        .values(profile_id=source.id)
    )
    source.merged_into = None
    record.undone_by = principal.subject
    record.undone_at = now
    for changed in (source, profile):
        changed.version += 1
        changed.updated_at = now
    await session.flush()
    await _take_back(unit, into=profile.id, carried=record.carried, actor=principal.subject)
    await recompute(session, now=now, profile_ids=sorted([profile.id, source.id]))
    await refresh_unsubscribed(session, sorted([profile.id, source.id]))
    await reindex(session, keyring, profile.id)
    await reindex(session, keyring, source.id)
    await session.refresh(profile)
    return record


async def unmerged_before(session: AsyncSession, one: uuid.UUID, other: uuid.UUID) -> bool:
    """Whether HR undid a merge between these two profiles (either way): the matcher does not
    merge them again, whatever their contacts say."""
    pair = sa.or_(
        sa.and_(ProfileMerge.into_profile_id == one, ProfileMerge.from_profile_id == other),
        sa.and_(ProfileMerge.into_profile_id == other, ProfileMerge.from_profile_id == one),
    )
    found = await session.scalar(
        sa.select(ProfileMerge.id).where(pair, ProfileMerge.undone_at.is_not(None)).limit(1)
    )
    return found is not None


async def read_contacts_again(session: AsyncSession, *, candidate_id: uuid.UUID) -> int:
    """The pipeline corrected this candidate's contact: the live profile holding them is read
    again by the matcher (and matched by the new email or phone). Returns the profiles marked
    (0 when the pool does not know the candidate or the person was anonymized)."""
    holder = (
        sa.select(ProfileMember.profile_id)
        .where(ProfileMember.candidate_id == candidate_id)
        .scalar_subquery()
    )
    result = await session.execute(
        sa.update(Profile)
        .where(Profile.id == holder, Profile.anonymized_at.is_(None))
        .values(contacts_checked_at=None, contacts_claimed_until=None)
        .execution_options(synchronize_session=False)
    )
    return int(cast("sa.CursorResult[Any]", result).rowcount or 0)


def merge_read(record: ProfileMerge) -> MergeRead:
    return MergeRead.model_validate(record)


async def merges(
    session: AsyncSession, *, profile_id: uuid.UUID, params: PageParams
) -> tuple[list[ProfileMerge], str | None]:
    """Merges into or out of the profile, newest first."""
    found, next_cursor = await paginate(
        session,
        sa.select(ProfileMerge).where(
            sa.or_(
                ProfileMerge.into_profile_id == profile_id,
                ProfileMerge.from_profile_id == profile_id,
            )
        ),
        order_by=[ProfileMerge.merged_at, ProfileMerge.id],
        params=params,
        descending=True,
    )
    return list(found), next_cursor


# -- key rotation -----------------------------------------------------------------------------

# Blind indexes and search tokens are keyed with the index key, not these: they stay as they are.
KEY_ROTATIONS = (
    KeyRotation(
        Profile.__tablename__,
        reencrypt_columns(
            _profiles,
            {
                "full_name_ciphertext": NAME_CONTEXT,
                "email_ciphertext": EMAIL_CONTEXT,
                "phone_ciphertext": PHONE_CONTEXT,
                "resume_ciphertext": RESUME_CONTEXT,
            },
        ),
    ),
    KeyRotation(
        ProfileNote.__tablename__,
        reencrypt_columns(cast(sa.Table, ProfileNote.__table__), {"body_ciphertext": NOTE_CONTEXT}),
    ),
)
"""The talent pool's encrypted columns, table by table, for ``ServiceSpec.key_rotations``."""
