"""Tags on people. Every change (HR's, a rule's, an expiry) goes through ``apply``, which does
its work in a few multi-row statements whatever the number of people: the current tags, their
history, ``Profile.on_hold_until``, the expiry timers and one ``candidate_tagged`` event per
person changed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID, aggregate_order_by
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import Principal
from shared.events.talentpool import CandidateTaggedV1
from shared.http.pagination import PageParams, paginate
from shared.problems import Problem
from shared.unit import UnitOfWork
from talentpool.profiles.dependencies import visible_filter
from talentpool.profiles.models import Profile, ProfileMember
from talentpool.tags.exceptions import invalid_field
from talentpool.tags.models import ProfileTag, TagChange
from talentpool.tags.names import ON_HOLD, TIMED_TAGS, is_tag_name

Action = Literal["add", "remove"]
Source = Literal["manual", "rule"]

EXPIRY_TIMER = "tags.expiry"
"""One durable timer per (profile, tag) with an end date; when it fires the tag is removed."""

REASON_EXPIRED = "expired"
# Rows per multi-row INSERT: far below asyncpg's 32,767 bind parameters at 9 columns a row.
_CHUNK = 1_000
# Rounds of "read, insert what is missing" when concurrent calls keep adding and removing
# the same rows; one is the rule, a second only when another call added a row meanwhile.
_ADD_ATTEMPTS = 5

_UUIDS = ARRAY(UUID(as_uuid=True))


@dataclass(frozen=True)
class Target:
    """One person a change is for, with what is particular to them: the end date, and for a
    rule the rule and the event that fired it (a replayed event changes nothing twice)."""

    profile_id: uuid.UUID
    until: datetime | None = None
    rule_id: uuid.UUID | None = None
    source_event_id: uuid.UUID | None = None
    reason: str | None = None


async def apply(
    unit: UnitOfWork,
    *,
    profile_ids: Sequence[uuid.UUID],
    tag: str,
    action: Action,
    source: Source,
    actor: str | None,
    until: datetime | None = None,
    note: str | None = None,
    reason: str | None = None,
    rule_id: uuid.UUID | None = None,
    source_event_id: uuid.UUID | None = None,
) -> int:
    """Add (or change) or remove ``tag`` for every profile; returns how many changed.

    Adding a tag someone has with the same ``until`` (and no new note) changes nothing: no
    history row, no event. ``on_hold`` needs an ``until`` in the future (422 naming it); so
    does any ``until`` HR gives. The profiles must exist (the caller checked who may see them).
    """
    return await apply_targets(
        unit,
        targets=[
            Target(profile_id, until, rule_id, source_event_id, reason)
            for profile_id in profile_ids
        ],
        tag=tag,
        action=action,
        source=source,
        actor=actor,
        note=note,
    )


async def apply_targets(
    unit: UnitOfWork,
    *,
    targets: Sequence[Target],
    tag: str,
    action: Action,
    source: Source | None,
    actor: str | None,
    note: str | None = None,
    only_expired: bool = False,
) -> int:
    """``apply`` with what differs per person. ``source`` None (removals only) keeps each
    removed tag's own source in its history row; ``only_expired`` removes only tags whose
    ``until`` has passed (the expiry timers)."""
    if not is_tag_name(tag):
        raise invalid_field("tag", "a tag is a lowercase slug: ^[a-z][a-z0-9_]{1,39}$")
    if not targets:
        return 0
    now = unit.clock.now()
    if action == "add":
        if source is None:
            raise ValueError("an added tag needs its source")
        targets = _check_ends(targets, tag=tag, source=source, now=now)
    targets = await _not_seen_before(unit.session, targets, tag=tag, action=action)
    if not targets:
        return 0
    if action == "add":
        assert source is not None
        changes = await _add(unit, targets, tag=tag, source=source, actor=actor, note=note, now=now)
    else:
        changes = await _remove(
            unit, targets, tag=tag, source=source, actor=actor, now=now, only_expired=only_expired
        )
    if not changes:
        return 0
    await _record(unit, changes, tag=tag, now=now)
    return len(changes)


@dataclass(frozen=True)
class _Change:
    profile_id: uuid.UUID
    action: Literal["added", "changed", "removed"]
    source: Source
    until: datetime | None
    rule_id: uuid.UUID | None
    actor: str | None
    reason: str | None
    source_event_id: uuid.UUID | None


def _check_ends(
    targets: Sequence[Target], *, tag: str, source: Source, now: datetime
) -> list[Target]:
    """HR's dates must be in the future (a 422 naming ``until``); a rule's end date that has
    already passed (an event handled late) means there is nothing to add."""
    kept = []
    for target in targets:
        if target.until is None:
            if tag in TIMED_TAGS:
                raise invalid_field("until", f"the tag {tag} needs a date until which it holds")
        elif target.until.tzinfo is None:
            raise invalid_field("until", "give a time zone (RFC 3339 with an offset)")
        elif target.until <= now:
            if source == "manual":
                raise invalid_field("until", "must be in the future")
            continue
        kept.append(target)
    return kept


async def _not_seen_before(
    session: AsyncSession, targets: Sequence[Target], *, tag: str, action: Action
) -> list[Target]:
    """The targets whose event has not already changed this tag of this person (a replay)."""
    event_ids = {t.source_event_id for t in targets if t.source_event_id is not None}
    if not event_ids:
        return list(targets)
    actions = ["added", "changed"] if action == "add" else ["removed"]
    seen = {
        (row[0], row[1])
        for row in await session.execute(
            sa.select(TagChange.source_event_id, TagChange.profile_id).where(
                TagChange.source_event_id == sa.any_(_array(event_ids)),
                TagChange.tag == tag,
                TagChange.action.in_(actions),
            )
        )
    }
    return [t for t in targets if (t.source_event_id, t.profile_id) not in seen]


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    """The later end; None (no end) is the latest."""
    if a is None or b is None:
        return None
    return max(a, b)


def _one_per_profile(targets: Iterable[Target]) -> dict[uuid.UUID, Target]:
    """One target per person (the first; for an addition the one that holds longest), in id
    order, so that concurrent changes lock rows in the same order."""
    chosen: dict[uuid.UUID, Target] = {}
    for target in targets:
        current = chosen.get(target.profile_id)
        if current is None or (_later(current.until, target.until) != current.until):
            chosen[target.profile_id] = target
    return dict(sorted(chosen.items(), key=lambda item: item[0]))


async def _add(
    unit: UnitOfWork,
    targets: Sequence[Target],
    *,
    tag: str,
    source: Source,
    actor: str | None,
    note: str | None,
    now: datetime,
) -> list[_Change]:
    """Add the tag, or change its date or note, for each person; the changes made.

    The rows there are locked first; a person without the tag gets it by ``INSERT ... ON
    CONFLICT DO NOTHING RETURNING``, and only the rows that insert returns are "added". A row
    the insert did not return was added meanwhile by a concurrent call (the insert waited for
    it to commit): it is read and compared like any existing row, so two calls adding the same
    tag at once make one "added" (and at most one "changed"), never two."""
    chosen = _one_per_profile(targets)
    changes: list[_Change] = []
    pending = chosen
    for _ in range(_ADD_ATTEMPTS):
        existing = await _locked_tags(unit.session, tag=tag, profile_ids=list(pending))
        wanted = _wanted(pending, existing, source=source, actor=actor, note=note)
        changes += [c for c in wanted if c.action == "changed"]
        added = [c for c in wanted if c.action == "added"]
        inserted = await _insert_new(unit.session, added, tag=tag, note=note, now=now)
        changes += [c for c in added if c.profile_id in inserted]
        pending = {
            c.profile_id: chosen[c.profile_id] for c in added if c.profile_id not in inserted
        }
        if not pending:
            break
    else:
        # Only if rows keep appearing and vanishing under us, attempt after attempt.
        raise RuntimeError(f"tag {tag}: rows kept changing while they were being added")
    changes.sort(key=lambda c: c.profile_id)
    await _update_changed(
        unit.session, [c for c in changes if c.action == "changed"], tag=tag, note=note, now=now
    )
    timed = [c for c in changes if c.until is not None]
    if timed:
        await schedule_expiries(unit, [(c.profile_id, tag, c.until) for c in timed if c.until])
    return changes


async def _locked_tags(
    session: AsyncSession, *, tag: str, profile_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Any]:
    """The people's rows of this tag, locked in id order."""
    return {
        row.profile_id: row
        for row in await session.execute(
            sa.select(ProfileTag.profile_id, ProfileTag.until, ProfileTag.note)
            .where(ProfileTag.tag == tag, ProfileTag.profile_id == sa.any_(_array(profile_ids)))
            .order_by(ProfileTag.profile_id)
            .with_for_update()
        )
    }


def _wanted(
    chosen: dict[uuid.UUID, Target],
    existing: dict[uuid.UUID, Any],
    *,
    source: Source,
    actor: str | None,
    note: str | None,
) -> list[_Change]:
    """What adding means for each person given the row they have (or not): "added", a
    "changed" date or note, or nothing (left out)."""
    changes: list[_Change] = []
    for profile_id, target in chosen.items():
        old = existing.get(profile_id)
        until = target.until
        if old is None:
            kind: Literal["added", "changed"] = "added"
        else:
            # A rule never shortens what is there (HR's on-hold date, a longer no-show); HR's
            # own change is taken as given.
            if source == "rule":
                until = _later(old.until, until)
            if until == old.until and (note is None or note == old.note):
                continue
            kind = "changed"
        changes.append(
            _Change(
                profile_id=profile_id,
                action=kind,
                source=source,
                until=until,
                rule_id=target.rule_id,
                actor=actor,
                reason=target.reason,
                source_event_id=target.source_event_id,
            )
        )
    return changes


def _rows(
    changes: Sequence[_Change], *, tag: str, note: str | None, now: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "profile_id": c.profile_id,
            "tag": tag,
            "source": c.source,
            "rule_id": c.rule_id,
            "until": c.until,
            "note": note,
            "added_by": c.actor,
            "added_at": now,
        }
        for c in changes
    ]


async def _insert_new(
    session: AsyncSession,
    added: Sequence[_Change],
    *,
    tag: str,
    note: str | None,
    now: datetime,
) -> set[uuid.UUID]:
    """Insert the rows of people who had no such tag; the people whose row this inserted."""
    inserted: set[uuid.UUID] = set()
    for chunk in _chunks(added):
        result = await session.execute(
            pg_insert(ProfileTag)
            .values(_rows(chunk, tag=tag, note=note, now=now))
            .on_conflict_do_nothing(index_elements=[ProfileTag.profile_id, ProfileTag.tag])
            .returning(ProfileTag.profile_id)
        )
        inserted.update(result.scalars())
    return inserted


async def _update_changed(
    session: AsyncSession,
    changed: Sequence[_Change],
    *,
    tag: str,
    note: str | None,
    now: datetime,
) -> None:
    """Write the new date (and note) of rows that are there and locked."""
    table = ProfileTag.__table__
    for chunk in _chunks(changed):
        statement = pg_insert(ProfileTag).values(_rows(chunk, tag=tag, note=note, now=now))
        excluded = statement.excluded
        await session.execute(
            statement.on_conflict_do_update(
                index_elements=[table.c.profile_id, table.c.tag],
                set_={
                    "source": excluded.source,
                    "rule_id": excluded.rule_id,
                    "until": excluded.until,
                    "note": sa.func.coalesce(excluded.note, table.c.note),
                    "added_by": excluded.added_by,
                    "added_at": excluded.added_at,
                },
            )
        )


async def _remove(
    unit: UnitOfWork,
    targets: Sequence[Target],
    *,
    tag: str,
    source: Source | None,
    actor: str | None,
    now: datetime,
    only_expired: bool,
) -> list[_Change]:
    chosen = _one_per_profile(targets)
    statement = sa.delete(ProfileTag).where(
        ProfileTag.tag == tag, ProfileTag.profile_id == sa.any_(_array(chosen))
    )
    if only_expired:
        statement = statement.where(ProfileTag.until <= now)
    removed = await unit.session.execute(
        statement.returning(
            ProfileTag.profile_id, ProfileTag.source, ProfileTag.rule_id, ProfileTag.until
        )
    )
    changes = []
    for row in sorted(removed, key=lambda r: r.profile_id):
        target = chosen[row.profile_id]
        changes.append(
            _Change(
                profile_id=row.profile_id,
                action="removed",
                source=source or row.source,
                until=row.until,
                rule_id=target.rule_id if source is not None else row.rule_id,
                actor=actor,
                reason=target.reason,
                source_event_id=target.source_event_id,
            )
        )
    return changes


async def _record(unit: UnitOfWork, changes: Sequence[_Change], *, tag: str, now: datetime) -> None:
    """The history rows, ``on_hold_until``, and the events."""
    session = unit.session
    for chunk in _chunks(changes):
        await session.execute(
            sa.insert(TagChange).values(
                [
                    {
                        "profile_id": c.profile_id,
                        "tag": tag,
                        "action": c.action,
                        "source": c.source,
                        "rule_id": c.rule_id,
                        "actor": c.actor,
                        "until": c.until,
                        "reason": c.reason,
                        "source_event_id": c.source_event_id,
                        "at": now,
                    }
                    for c in chunk
                ]
            )
        )
    if tag == ON_HOLD:
        values = (
            sa.func.unnest(
                _array([c.profile_id for c in changes]),
                sa.literal(
                    [None if c.action == "removed" else c.until for c in changes],
                    type_=ARRAY(sa.DateTime(timezone=True)),
                ),
            )
            .table_valued("id", "until")
            .render_derived(name="held")
        )
        await session.execute(
            sa.update(Profile)
            .where(Profile.id == values.c.id)
            .values(on_hold_until=values.c.until)
            .execution_options(synchronize_session=False)
        )
    members = await candidate_ids_of(session, [c.profile_id for c in changes])
    await unit.emit_many(
        [
            (
                CandidateTaggedV1(
                    profile_id=c.profile_id,
                    candidate_ids=members.get(c.profile_id, []),
                    tag=tag,
                    action=c.action,
                    source=c.source,
                    until=c.until if c.action != "removed" else None,
                    occurred_at=now,
                ),
                str(c.profile_id),
                None,
            )
            for c in changes
        ]
    )


async def schedule_expiries(
    unit: UnitOfWork, items: Sequence[tuple[uuid.UUID, str, datetime]]
) -> None:
    """Arm the expiry timer of each ``(profile_id, tag, until)``. ``apply`` does it for what it
    adds; code that writes ``ProfileTag`` rows itself (moving tags on a merge) calls this."""
    await unit.timers.schedule_many(
        unit.session,
        [
            {
                "kind": EXPIRY_TIMER,
                "key": f"{profile_id}:{tag}",
                "due_at": until,
                "payload": {"profile_id": str(profile_id), "tag": tag},
            }
            for profile_id, tag, until in items
        ],
    )


async def expire(unit: UnitOfWork, due: Sequence[tuple[uuid.UUID, str]]) -> int:
    """Remove the tags of these ``(profile_id, tag)`` whose ``until`` has passed (history
    "removed", reason "expired"); a tag extended or removed since its timer was set is left
    alone. One ``apply`` per tag."""
    by_tag: dict[str, list[Target]] = {}
    for profile_id, tag in due:
        by_tag.setdefault(tag, []).append(Target(profile_id, reason=REASON_EXPIRED))
    changed = 0
    for tag, targets in sorted(by_tag.items()):
        changed += await apply_targets(
            unit,
            targets=targets,
            tag=tag,
            action="remove",
            source=None,
            actor=None,
            only_expired=True,
        )
    return changed


async def candidate_ids_of(
    session: AsyncSession, profile_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Each profile's pipeline candidate ids, in one query."""
    rows = await session.execute(
        sa.select(
            ProfileMember.profile_id,
            sa.func.array_agg(
                aggregate_order_by(ProfileMember.candidate_id, ProfileMember.candidate_id)
            ),
        )
        .where(ProfileMember.profile_id == sa.any_(_array(profile_ids)))
        .group_by(ProfileMember.profile_id)
    )
    return {profile_id: list(candidates) for profile_id, candidates in rows}


async def profiles_of(
    session: AsyncSession, candidate_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """The live (neither merged nor anonymized) profile of each candidate the pool knows."""
    wanted = set(candidate_ids)
    if not wanted:
        return {}
    rows = await session.execute(
        sa.select(ProfileMember.candidate_id, ProfileMember.profile_id)
        .join(Profile, Profile.id == ProfileMember.profile_id)
        .where(
            ProfileMember.candidate_id == sa.any_(_array(wanted)),
            Profile.merged_into.is_(None),
            Profile.anonymized_at.is_(None),
        )
    )
    return {row[0]: row[1] for row in rows}


# Reading


async def current_tags(
    session: AsyncSession, *, profile_id: uuid.UUID, now: datetime
) -> list[ProfileTag]:
    """The person's tags now, by name (a tag whose date has passed is gone, even if its
    expiry has not run yet)."""
    result = await session.scalars(
        sa.select(ProfileTag)
        .where(
            ProfileTag.profile_id == profile_id,
            sa.or_(ProfileTag.until.is_(None), ProfileTag.until > now),
        )
        .order_by(ProfileTag.tag)
    )
    return list(result.all())


async def current_tag(
    session: AsyncSession, *, profile_id: uuid.UUID, tag: str
) -> ProfileTag | None:
    return await session.get(ProfileTag, (profile_id, tag), populate_existing=True)


async def history(
    session: AsyncSession, *, profile_id: uuid.UUID, tag: str | None, params: PageParams
) -> tuple[list[TagChange], str | None]:
    """The person's tag changes, newest first."""
    statement = sa.select(TagChange).where(TagChange.profile_id == profile_id)
    if tag is not None:
        statement = statement.where(TagChange.tag == tag)
    rows, next_cursor = await paginate(
        session, statement, order_by=[TagChange.at, TagChange.id], params=params, descending=True
    )
    return rows, next_cursor


async def check_bulk_targets(
    session: AsyncSession, *, principal: Principal, profile_ids: Sequence[uuid.UUID]
) -> None:
    """Every profile exists, is visible to the caller and may still change; otherwise a 422
    naming each offending id (unknown and invisible alike, so ids cannot be probed)."""
    statement = sa.select(Profile.id, Profile.merged_into, Profile.anonymized_at).where(
        Profile.id == sa.any_(_array(profile_ids))
    )
    condition = visible_filter(principal)
    if condition is not None:
        statement = statement.where(condition)
    found = {row.id: row for row in await session.execute(statement)}
    errors: list[dict[str, str]] = []
    refused: list[str] = []
    for index, profile_id in enumerate(profile_ids):
        row = found.get(profile_id)
        if row is None:
            message = "no such profile, or not one you may see"
        elif row.merged_into is not None:
            message = f"merged into {row.merged_into}"
        elif row.anonymized_at is not None:
            message = "anonymized"
        else:
            continue
        refused.append(str(profile_id))
        errors.append(
            {
                "field": f"profile_ids.{index}",
                "location": "body",
                "message": message,
                "code": "unknown_profile" if row is None else "profile_not_live",
            }
        )
    if errors:
        raise Problem(
            422,
            "Invalid request",
            f"{len(refused)} of the profiles cannot be tagged; nothing was changed.",
            slug="validation-error",
            errors=errors,
            profile_ids=refused,
        )


def _array(values: Iterable[uuid.UUID]) -> sa.BindParameter[Any]:
    return sa.literal(list(values), type_=_UUIDS)


def _chunks(items: Sequence[_Change]) -> Iterable[Sequence[_Change]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]
