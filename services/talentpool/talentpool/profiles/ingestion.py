"""Building profiles from the other services' events, a consumer batch at a time.

Per batch, whatever its size and mix of event types:

1. jobs (``job_changed``), newest state first, one statement (only when there are any);
2. one statement that creates a profile (with the candidate's id as its id) and its member row
   for every candidate not seen before, upserts the applications the events name (folded per
   application, ``jobs.service``) and adds the batch's timeline entries (``ON CONFLICT
   (source_event_id)``: an entry already there adds nothing), returning the candidates whose
   timelines changed. The entries of an erased person (their profile anonymized) keep only what
   erasure keeps (``erasure.service.TIMELINE_KEYS``), so a late event stores nothing erasure
   would have removed;
3. the profiles holding those candidates locked (one statement), their counters, dates,
   furthest stage and engagement recomputed from their timelines and applications (one read,
   ``profiles.counters``), and those that changed written (one statement).
"""

from __future__ import annotations

from typing import Any, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from shared.events.envelope import ReceivedEvent
from shared.events.pipeline import JobChangedV1
from shared.unit import UnitOfWork
from talentpool.erasure.service import TIMELINE_KEYS
from talentpool.jobs.service import UPSERT_APPLICATIONS, application_params, record_jobs
from talentpool.profiles.counters import recompute
from talentpool.profiles.models import Profile, ProfileMember
from talentpool.timeline.facts import Fact, JobFact, facts, job_fact
from talentpool.timeline.models import TimelineEntry

_profiles = cast(sa.Table, Profile.__table__)
_members = cast(sa.Table, ProfileMember.__table__)
_timeline = cast(sa.Table, TimelineEntry.__table__)

_INGEST = sa.text(
    f"""
    WITH ev AS (
        SELECT * FROM unnest(
            CAST(:candidate_ids AS uuid[]), CAST(:application_ids AS uuid[]),
            CAST(:job_ids AS uuid[]), CAST(:kinds AS text[]), CAST(:sources AS text[]),
            CAST(:occurred_ats AS timestamptz[]), CAST(:data AS text[]),
            CAST(:event_ids AS uuid[])
        ) AS v(candidate_id, application_id, job_id, kind, source, occurred_at, data, event_id)
    ),
    people AS (
        INSERT INTO {_profiles.fullname} AS p
            (id, first_seen_at, last_activity_at, created_at, updated_at)
        SELECT ev.candidate_id, min(ev.occurred_at), min(ev.occurred_at), :now, :now
        FROM ev
        WHERE NOT EXISTS (
            SELECT 1 FROM {_members.fullname} m WHERE m.candidate_id = ev.candidate_id
        )
        GROUP BY ev.candidate_id
        ORDER BY ev.candidate_id
        ON CONFLICT (id) DO NOTHING
        RETURNING p.id
    ),
    joined AS (
        INSERT INTO {_members.fullname} (candidate_id, profile_id, home_profile_id, joined_at)
        SELECT id, id, id, :now FROM people
        ON CONFLICT (candidate_id) DO NOTHING
    ),
    apps AS ({UPSERT_APPLICATIONS}),
    erased AS (
        SELECT m.candidate_id FROM {_members.fullname} m
        JOIN {_profiles.fullname} p ON p.id = m.profile_id
        WHERE m.candidate_id IN (SELECT candidate_id FROM ev) AND p.anonymized_at IS NOT NULL
    ),
    added AS (
        INSERT INTO {_timeline.fullname} AS t
            (candidate_id, application_id, job_id, kind, source, occurred_at, data,
             source_event_id)
        SELECT candidate_id, application_id, job_id, kind, source, occurred_at,
               CASE WHEN candidate_id IN (SELECT candidate_id FROM erased) THEN (
                   SELECT coalesce(jsonb_object_agg(key, value), CAST('{{}}' AS jsonb))
                   FROM jsonb_each(CAST(data AS jsonb))
                   WHERE key = ANY(CAST(:erased_keep AS text[]))
               ) ELSE CAST(data AS jsonb) END,
               event_id
        FROM ev
        ON CONFLICT (source_event_id) DO UPDATE SET occurred_at = excluded.occurred_at
        WHERE excluded.occurred_at < t.occurred_at
        RETURNING t.candidate_id
    )
    SELECT DISTINCT candidate_id FROM added
    """  # noqa: S608 - table names from the metadata; every value is a bound parameter
).columns(sa.column("candidate_id", UUID(as_uuid=True)))


_KEEP = sorted(TIMELINE_KEYS)


def _entries(found: list[Fact]) -> list[Fact]:
    """One fact per timeline key, the earliest (a batch may report a notifier receipt twice)."""
    by_key: dict[Any, Fact] = {}
    for fact in found:
        known = by_key.get(fact.source_event_id)
        if known is None or fact.occurred_at < known.occurred_at:
            by_key[fact.source_event_id] = fact
    return sorted(by_key.values(), key=lambda f: (f.candidate_id, f.source_event_id))


async def ingest(unit: UnitOfWork, events: list[ReceivedEvent[Any]]) -> None:
    """Store what a batch of events says about people, jobs and applications."""
    found: list[Fact] = []
    jobs: list[JobFact] = []
    for event in events:
        if isinstance(event.data, JobChangedV1):
            jobs.append(job_fact(event.envelope, event.data))
        else:
            found.extend(facts(event.envelope, event.data))
    if jobs:
        await record_jobs(unit=unit, jobs=jobs)
    if not found:
        return
    now = unit.clock.now()
    entries = _entries(found)
    rows = await unit.session.execute(
        _INGEST,
        {
            "now": now,
            "candidate_ids": [f.candidate_id for f in entries],
            "application_ids": [f.application_id for f in entries],
            "job_ids": [f.job_id for f in entries],
            "kinds": [f.kind for f in entries],
            "sources": [f.source for f in entries],
            "occurred_ats": [f.occurred_at for f in entries],
            "data": [orjson.dumps(f.data).decode() for f in entries],
            "event_ids": [f.source_event_id for f in entries],
            "erased_keep": _KEEP,
            **application_params(f.application for f in found if f.application is not None),
        },
    )
    touched = [row.candidate_id for row in rows]
    await recompute(unit.session, now=now, candidate_ids=touched)
