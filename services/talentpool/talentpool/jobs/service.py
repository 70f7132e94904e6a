"""The pool's projections of the pipeline's jobs and applications, kept from events in one
multi-row statement each per consumer batch. Both are order-proof: a job changes only to a
newer state, an application's stage only to a higher version (the pipeline's sequence), its
furthest stage only further, and its AI interview's times fold with least/greatest, so
redelivered or reordered events leave the same rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared.unit import UnitOfWork
from talentpool.jobs.models import ApplicationRecord, Job
from talentpool.profiles.stages import further, rank
from talentpool.timeline.facts import ApplicationChange, JobFact

_applications = cast(sa.Table, ApplicationRecord.__table__)
_jobs = cast(sa.Table, Job.__table__)


@dataclass(frozen=True)
class Folded:
    change: ApplicationChange
    furthest: tuple[int, str | None]


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def fold(changes: Iterable[ApplicationChange]) -> list[Folded]:
    """One change per application: what the batch's changes of it add up to, the way the
    upsert would fold them one by one (so the statement touches each row once)."""
    folded: dict[uuid.UUID, Folded] = {}
    for change in changes:
        mark = (rank(change.reached_kind), change.reached_kind)
        known = folded.get(change.application_id)
        if known is None:
            folded[change.application_id] = Folded(change, mark)
            continue
        old = known.change
        staged = change if change.version > old.version else old
        furthest = further(known.furthest, mark)
        folded[change.application_id] = Folded(
            replace(
                staged,
                reached_kind=furthest[1],
                applied_at=_earliest(old.applied_at, change.applied_at),
                ai_invited_at=_latest(old.ai_invited_at, change.ai_invited_at),
                ai_started_at=_earliest(old.ai_started_at, change.ai_started_at),
                ai_completed_at=_earliest(old.ai_completed_at, change.ai_completed_at),
                ai_expired_at=_latest(old.ai_expired_at, change.ai_expired_at),
                ai_score=max(
                    (s for s in (old.ai_score, change.ai_score) if s is not None), default=None
                ),
            ),
            furthest,
        )
    return sorted(folded.values(), key=lambda f: f.change.application_id)


# Stage fields move only to a higher version; "further" is the rank, ties broken by the smaller
# kind name (as profiles.stages.further); the AI interview's latest invitation and expiry, and
# its first start and completion.
UPSERT_APPLICATIONS = f"""
    INSERT INTO {_applications.fullname} AS a (
        id, candidate_id, job_id, stage_key, stage_kind, status, furthest_rank,
        furthest_stage_kind, reason_code, version, applied_at, updated_at, ai_invited_at,
        ai_started_at, ai_completed_at, ai_expired_at, ai_score)
    SELECT v.id, v.candidate_id, v.job_id, v.stage_key, v.stage_kind,
           coalesce(v.status, 'active'), v.furthest_rank, v.furthest_kind, v.reason_code,
           v.version, v.applied_at, :now, v.ai_invited_at, v.ai_started_at, v.ai_completed_at,
           v.ai_expired_at, v.ai_score
    FROM unnest(
        CAST(:app_ids AS uuid[]), CAST(:app_candidate_ids AS uuid[]),
        CAST(:app_job_ids AS uuid[]), CAST(:app_stage_keys AS text[]),
        CAST(:app_stage_kinds AS text[]), CAST(:app_statuses AS text[]),
        CAST(:app_furthest_ranks AS smallint[]), CAST(:app_furthest_kinds AS text[]),
        CAST(:app_reason_codes AS text[]), CAST(:app_versions AS integer[]),
        CAST(:app_applied_ats AS timestamptz[]), CAST(:app_ai_invited_ats AS timestamptz[]),
        CAST(:app_ai_started_ats AS timestamptz[]),
        CAST(:app_ai_completed_ats AS timestamptz[]),
        CAST(:app_ai_expired_ats AS timestamptz[]), CAST(:app_ai_scores AS double precision[])
    ) AS v(id, candidate_id, job_id, stage_key, stage_kind, status, furthest_rank,
           furthest_kind, reason_code, version, applied_at, ai_invited_at, ai_started_at,
           ai_completed_at, ai_expired_at, ai_score)
    ON CONFLICT (id) DO UPDATE SET
        stage_key = CASE WHEN excluded.version > a.version
                         THEN excluded.stage_key ELSE a.stage_key END,
        stage_kind = CASE WHEN excluded.version > a.version
                          THEN excluded.stage_kind ELSE a.stage_kind END,
        status = CASE WHEN excluded.version > a.version THEN excluded.status ELSE a.status END,
        reason_code = CASE WHEN excluded.version > a.version
                           THEN excluded.reason_code ELSE a.reason_code END,
        version = greatest(a.version, excluded.version),
        furthest_rank = greatest(a.furthest_rank, excluded.furthest_rank),
        furthest_stage_kind = CASE
            WHEN excluded.furthest_rank > a.furthest_rank
              OR (excluded.furthest_rank = a.furthest_rank
                  AND excluded.furthest_stage_kind IS NOT NULL
                  AND (a.furthest_stage_kind IS NULL
                       OR excluded.furthest_stage_kind < a.furthest_stage_kind))
            THEN excluded.furthest_stage_kind ELSE a.furthest_stage_kind END,
        applied_at = least(a.applied_at, excluded.applied_at),
        ai_invited_at = greatest(a.ai_invited_at, excluded.ai_invited_at),
        ai_started_at = least(a.ai_started_at, excluded.ai_started_at),
        ai_completed_at = least(a.ai_completed_at, excluded.ai_completed_at),
        ai_expired_at = greatest(a.ai_expired_at, excluded.ai_expired_at),
        ai_score = greatest(a.ai_score, excluded.ai_score),
        updated_at = excluded.updated_at
"""  # noqa: S608 - table names from the metadata; every value is a bound parameter
"""The upsert of a batch's applications (a statement, or a CTE of one: ``profiles.ingestion``
runs it with the batch's other writes); its parameters are ``application_params``'s and
``:now``."""


def application_params(changes: Iterable[ApplicationChange]) -> dict[str, list[Any]]:
    """The parameters of ``UPSERT_APPLICATIONS`` for the changes, folded per application."""
    folded = fold(changes)
    rows = [f.change for f in folded]
    return {
        "app_ids": [c.application_id for c in rows],
        "app_candidate_ids": [c.candidate_id for c in rows],
        "app_job_ids": [c.job_id for c in rows],
        "app_stage_keys": [c.stage_key for c in rows],
        "app_stage_kinds": [c.stage_kind for c in rows],
        "app_statuses": [c.status for c in rows],
        "app_furthest_ranks": [f.furthest[0] for f in folded],
        "app_furthest_kinds": [f.furthest[1] for f in folded],
        "app_reason_codes": [c.reason_code for c in rows],
        "app_versions": [c.version for c in rows],
        "app_applied_ats": [c.applied_at for c in rows],
        "app_ai_invited_ats": [c.ai_invited_at for c in rows],
        "app_ai_started_ats": [c.ai_started_at for c in rows],
        "app_ai_completed_ats": [c.ai_completed_at for c in rows],
        "app_ai_expired_ats": [c.ai_expired_at for c in rows],
        "app_ai_scores": [c.ai_score for c in rows],
    }


async def record_jobs(*, unit: UnitOfWork, jobs: Iterable[JobFact]) -> None:
    """The newest state of each job (by the pipeline's version, then time) in one statement;
    an older state than the one stored changes nothing."""
    newest: dict[uuid.UUID, JobFact] = {}
    for job in jobs:
        known = newest.get(job.job_id)
        if known is None or (job.version, job.changed_at) > (known.version, known.changed_at):
            newest[job.job_id] = job
    if not newest:
        return
    statement = pg_insert(Job).values(
        [
            {
                "id": j.job_id,
                "title": j.title,
                "job_type": j.job_type,
                "status": j.status,
                "owner_ids": j.owner_ids,
                "changed_at": j.changed_at,
            }
            for j in sorted(newest.values(), key=lambda j: j.job_id)
        ]
    )
    await unit.session.execute(
        statement.on_conflict_do_update(
            index_elements=[_jobs.c.id],
            set_={
                "title": statement.excluded.title,
                "job_type": statement.excluded.job_type,
                "status": statement.excluded.status,
                "owner_ids": statement.excluded.owner_ids,
                "changed_at": statement.excluded.changed_at,
            },
            where=_jobs.c.changed_at <= statement.excluded.changed_at,
        )
    )
