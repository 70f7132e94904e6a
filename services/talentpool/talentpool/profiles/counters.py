"""A profile's counters, first and last activity, furthest stage and engagement, derived from
its members' timelines and applications in one statement for many profiles at once.

Derived, never incremented: whatever order events arrive in, however often, and however
profiles are merged and unmerged, recomputing gives the same numbers. Invitations are counted
by *thread* (an application's AI interview, an application's live interview scheduling; see
``timeline.facts``): a thread counts as an invitation once it has an ``invited`` entry, unless
it was cancelled before the person responded; responded, done and no-show are read from the
thread's other entries.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.ext.asyncio import AsyncSession

from talentpool.jobs.models import ApplicationRecord
from talentpool.profiles.engagement import Counters, engagement
from talentpool.profiles.models import Profile, ProfileMember
from talentpool.timeline.facts import ACTIVITY_KINDS, DONE_KINDS, RESPONSE_KINDS
from talentpool.timeline.models import TimelineEntry

_profiles = cast(sa.Table, Profile.__table__)
_members = cast(sa.Table, ProfileMember.__table__)
_timeline = cast(sa.Table, TimelineEntry.__table__)
_applications = cast(sa.Table, ApplicationRecord.__table__)

# Profiles are locked (in id order, like every writer of profiles) in a statement of their
# own before they are recomputed: the recompute's snapshot is then taken after every batch that
# touched them before us committed, so its counters include their entries (a recompute in the
# same statement as the lock would read a snapshot from before the wait, and lose them).
_LOCK = sa.text(
    f"""
    SELECT p.id, p.merged_into FROM {_profiles.fullname} p
    WHERE p.id IN (
        SELECT profile_id FROM {_members.fullname}
        WHERE candidate_id = ANY(CAST(:candidate_ids AS uuid[]))
        UNION ALL
        SELECT unnest(CAST(:profile_ids AS uuid[]))
    )
    ORDER BY p.id
    FOR UPDATE
    """  # noqa: S608 - table names from the metadata; every value is a bound parameter
).columns(sa.column("id", UUID(as_uuid=True)), sa.column("merged_into", UUID(as_uuid=True)))

_RECOMPUTE = sa.text(
    f"""
    WITH locked AS (
        SELECT unnest(CAST(:profile_ids AS uuid[])) AS id
    ),
    entries AS MATERIALIZED (
        SELECT m.profile_id, e.kind, e.application_id, e.data ->> 'invitation' AS invitation,
               e.data ->> 'locale' AS locale, e.occurred_at
        FROM {_members.fullname} m
        JOIN {_timeline.fullname} e ON e.candidate_id = m.candidate_id
        WHERE m.profile_id IN (SELECT id FROM locked)
    ),
    threads AS (
        SELECT profile_id,
               min(occurred_at) FILTER (WHERE kind = 'invited') AS invited_at,
               min(occurred_at) FILTER (WHERE kind = ANY(CAST(:responses AS text[])))
                   AS responded_at,
               coalesce(bool_or(kind = ANY(CAST(:done AS text[]))), false) AS done,
               coalesce(bool_or(kind = 'cancelled'), false) AS cancelled,
               coalesce(bool_or(kind = 'expired'), false) AS expired,
               coalesce(bool_or(kind = 'no_show'), false) AS no_show
        FROM entries
        WHERE application_id IS NOT NULL AND invitation IS NOT NULL
        GROUP BY profile_id, application_id, invitation
    ),
    judged AS (
        SELECT *, invited_at IS NOT NULL AND NOT (cancelled AND responded_at IS NULL) AS counted
        FROM threads
    ),
    thread_totals AS (
        SELECT profile_id,
               count(*) FILTER (WHERE counted) AS invited,
               count(*) FILTER (WHERE counted AND responded_at IS NOT NULL) AS responded,
               count(*) FILTER (WHERE counted AND done) AS completed,
               count(*) FILTER (WHERE no_show OR (expired AND NOT done)) AS no_shows,
               coalesce(sum(greatest(0, extract(epoch FROM responded_at - invited_at)))
                        FILTER (WHERE counted AND responded_at IS NOT NULL), 0) AS seconds
        FROM judged
        GROUP BY profile_id
    ),
    entry_totals AS (
        SELECT profile_id,
               min(occurred_at) AS first_seen,
               max(occurred_at) FILTER (WHERE kind = ANY(CAST(:activity AS text[])))
                   AS last_activity,
               count(*) FILTER (WHERE kind = 'no_show'
                                AND (application_id IS NULL OR invitation IS NULL))
                   AS other_no_shows,
               (array_agg(locale ORDER BY occurred_at)
                    FILTER (WHERE kind = 'applied' AND locale IS NOT NULL))[1] AS locale
        FROM entries
        GROUP BY profile_id
    ),
    furthest AS (
        SELECT DISTINCT ON (m.profile_id) m.profile_id, a.furthest_rank, a.furthest_stage_kind
        FROM {_members.fullname} m
        JOIN {_applications.fullname} a ON a.candidate_id = m.candidate_id
        WHERE m.profile_id IN (SELECT id FROM locked)
        ORDER BY m.profile_id, a.furthest_rank DESC, a.furthest_stage_kind ASC NULLS LAST
    )
    SELECT p.id,
           coalesce(t.invited, 0) AS invited_count,
           coalesce(t.responded, 0) AS responded_count,
           coalesce(t.completed, 0) AS completed_count,
           coalesce(t.no_shows, 0) + coalesce(e.other_no_shows, 0) AS no_show_count,
           CAST(coalesce(round(t.seconds), 0) AS bigint) AS response_seconds_total,
           coalesce(t.responded, 0) AS responses_timed,
           coalesce(e.first_seen, p.first_seen_at) AS first_seen_at,
           coalesce(e.last_activity, e.first_seen, p.last_activity_at) AS last_activity_at,
           CAST(coalesce(f.furthest_rank, 0) AS smallint) AS furthest_rank,
           f.furthest_stage_kind,
           coalesce(p.locale, e.locale) AS locale,
           p.invited_count AS old_invited_count, p.responded_count AS old_responded_count,
           p.completed_count AS old_completed_count, p.no_show_count AS old_no_show_count,
           p.response_seconds_total AS old_response_seconds_total,
           p.responses_timed AS old_responses_timed, p.first_seen_at AS old_first_seen_at,
           p.last_activity_at AS old_last_activity_at, p.furthest_rank AS old_furthest_rank,
           p.furthest_stage_kind AS old_furthest_stage_kind, p.locale AS old_locale,
           p.engagement_score AS old_engagement_score,
           p.engagement_parts AS old_engagement_parts
    FROM locked l
    JOIN {_profiles.fullname} p ON p.id = l.id
    LEFT JOIN thread_totals t ON t.profile_id = l.id
    LEFT JOIN entry_totals e ON e.profile_id = l.id
    LEFT JOIN furthest f ON f.profile_id = l.id
    """  # noqa: S608 - table names from the metadata; every value is a bound parameter
).columns(
    sa.column("id", UUID(as_uuid=True)),
    *(sa.column(name, sa.Integer) for name in ("invited_count", "responded_count")),
    *(sa.column(name, sa.Integer) for name in ("completed_count", "no_show_count")),
    sa.column("response_seconds_total", sa.BigInteger),
    sa.column("responses_timed", sa.Integer),
    sa.column("first_seen_at", sa.DateTime(timezone=True)),
    sa.column("last_activity_at", sa.DateTime(timezone=True)),
    sa.column("furthest_rank", sa.SmallInteger),
    sa.column("furthest_stage_kind", sa.Text),
    sa.column("locale", sa.Text),
    *(sa.column(f"old_{name}", sa.Integer) for name in ("invited_count", "responded_count")),
    *(sa.column(f"old_{name}", sa.Integer) for name in ("completed_count", "no_show_count")),
    sa.column("old_response_seconds_total", sa.BigInteger),
    sa.column("old_responses_timed", sa.Integer),
    sa.column("old_first_seen_at", sa.DateTime(timezone=True)),
    sa.column("old_last_activity_at", sa.DateTime(timezone=True)),
    sa.column("old_furthest_rank", sa.SmallInteger),
    sa.column("old_furthest_stage_kind", sa.Text),
    sa.column("old_locale", sa.Text),
    sa.column("old_engagement_score", sa.SmallInteger),
    sa.column("old_engagement_parts", JSONB),
)

# The values a recompute stores; a profile whose values did not change is not written.
_STORED = (
    "invited_count",
    "responded_count",
    "completed_count",
    "no_show_count",
    "response_seconds_total",
    "responses_timed",
    "first_seen_at",
    "last_activity_at",
    "furthest_rank",
    "furthest_stage_kind",
    "locale",
)

_STORE = sa.text(
    f"""
    UPDATE {_profiles.fullname} AS p SET
        invited_count = v.invited_count, responded_count = v.responded_count,
        completed_count = v.completed_count, no_show_count = v.no_show_count,
        response_seconds_total = v.response_seconds_total,
        responses_timed = v.responses_timed, first_seen_at = v.first_seen_at,
        last_activity_at = v.last_activity_at, furthest_rank = v.furthest_rank,
        furthest_stage_kind = v.furthest_stage_kind, locale = v.locale,
        engagement_score = v.engagement_score,
        engagement_parts = CAST(v.engagement_parts AS jsonb), updated_at = :now
    FROM unnest(
        CAST(:ids AS uuid[]), CAST(:invited_count AS integer[]),
        CAST(:responded_count AS integer[]), CAST(:completed_count AS integer[]),
        CAST(:no_show_count AS integer[]), CAST(:response_seconds_total AS bigint[]),
        CAST(:responses_timed AS integer[]), CAST(:first_seen_at AS timestamptz[]),
        CAST(:last_activity_at AS timestamptz[]), CAST(:furthest_rank AS smallint[]),
        CAST(:furthest_stage_kind AS text[]), CAST(:locale AS text[]),
        CAST(:engagement_score AS smallint[]), CAST(:engagement_parts AS text[])
    ) AS v(id, invited_count, responded_count, completed_count, no_show_count,
           response_seconds_total, responses_timed, first_seen_at, last_activity_at,
           furthest_rank, furthest_stage_kind, locale, engagement_score, engagement_parts)
    WHERE p.id = v.id
    """  # noqa: S608 - table names from the metadata; every value is a bound parameter
)

STORE_ENGAGEMENT = sa.text(
    f"""
    UPDATE {_profiles.fullname} AS p
    SET engagement_score = v.score, engagement_parts = CAST(v.parts AS jsonb)
    FROM unnest(CAST(:ids AS uuid[]), CAST(:scores AS smallint[]), CAST(:parts AS text[]))
         AS v(id, score, parts)
    WHERE p.id = v.id
    """  # noqa: S608 - table names from the metadata; every value is a bound parameter
)

_SORTED_RESPONSES = sorted(RESPONSE_KINDS)
_SORTED_DONE = sorted(DONE_KINDS)
_SORTED_ACTIVITY = sorted(ACTIVITY_KINDS)


def counters_of(row: Any) -> Counters:
    """The engagement inputs of a profile (a row or a ``Profile``)."""
    return Counters(
        invited=row.invited_count,
        responded=row.responded_count,
        completed=row.completed_count,
        response_seconds_total=row.response_seconds_total,
        responses_timed=row.responses_timed,
        last_activity_at=row.last_activity_at,
    )


def stored_parts(row: Any, now: datetime) -> tuple[int, dict[str, Any]]:
    """The score and parts to store for a profile on ``now``'s day."""
    result = engagement(counters_of(row), now=now)
    return result.score, {**result.parts(), "as_of": now.date().isoformat()}


async def lock(
    session: AsyncSession,
    *,
    candidate_ids: Sequence[uuid.UUID] = (),
    profile_ids: Sequence[uuid.UUID] = (),
) -> list[uuid.UUID]:
    """Lock the profiles holding these candidates and these profiles, in id order; their ids.

    A profile holding one of the candidates that comes back merged was merged while we waited
    for it: its candidates moved, so the profiles holding them are looked up (and locked) again.
    """
    params = {"candidate_ids": list(candidate_ids), "profile_ids": list(profile_ids)}
    rows = (await session.execute(_LOCK, params)).all()
    locked = {row.id for row in rows}
    if any(row.merged_into is not None and row.id not in profile_ids for row in rows):
        locked |= {row.id for row in await session.execute(_LOCK, params)}
    return sorted(locked)


async def recompute(
    session: AsyncSession,
    *,
    now: datetime,
    candidate_ids: Sequence[uuid.UUID] = (),
    profile_ids: Sequence[uuid.UUID] = (),
) -> None:
    """Recompute the profiles holding these candidates and these profiles (locked first), and
    store, in one statement, the counters and engagement of those whose values changed."""
    if not candidate_ids and not profile_ids:
        return
    locked = await lock(session, candidate_ids=candidate_ids, profile_ids=profile_ids)
    if not locked:
        return
    rows = await session.execute(
        _RECOMPUTE,
        {
            "profile_ids": locked,
            "responses": _SORTED_RESPONSES,
            "done": _SORTED_DONE,
            "activity": _SORTED_ACTIVITY,
        },
    )
    changed: dict[str, list[Any]] = {name: [] for name in ("ids", *_STORED)}
    changed["engagement_score"], changed["engagement_parts"] = [], []
    for row in rows:
        score, parts = stored_parts(row, now)
        if (
            all(getattr(row, name) == getattr(row, f"old_{name}") for name in _STORED)
            and score == row.old_engagement_score
            and parts == row.old_engagement_parts
        ):
            continue
        changed["ids"].append(row.id)
        for name in _STORED:
            changed[name].append(getattr(row, name))
        changed["engagement_score"].append(score)
        changed["engagement_parts"].append(orjson.dumps(parts).decode())
    if changed["ids"]:
        await session.execute(_STORE, {"now": now, **changed})
