"""Rows for the analytics, no-show and export tests, inserted straight into the tables (dummy
bytes stand in for the encrypted contact columns)."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from tests.pipeline.factories import STAGES


async def job(
    db: asyncpg.Connection,
    *,
    owner: str = "hr-alice",
    title: str = "Backend engineer",
    job_type: str = "basic",
    stages: Sequence[dict[str, Any]] = STAGES,
    created_at: datetime,
) -> uuid.UUID:
    job_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO pipeline.jobs (id, title, job_type, owner_ids, stages, created_by,
                                      created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $7)""",
        job_id,
        title,
        job_type,
        [owner],
        json.dumps(list(stages)),
        owner,
        created_at,
    )
    return job_id


async def application(
    db: asyncpg.Connection,
    job_id: uuid.UUID,
    *,
    created_at: datetime,
    moves: Sequence[tuple[timedelta, str, str, str]] = (),
    first_stage: str = "ai_interview",
) -> uuid.UUID:
    """An application created at ``created_at`` in ``first_stage`` that then made ``moves``:
    (time after creation, transition, to_stage, status after)."""
    candidate_id = uuid.uuid4()
    await db.execute(
        """INSERT INTO pipeline.candidates (id, full_name, email_ciphertext, email_index,
                                            created_at, updated_at)
           VALUES ($1, 'x', $2, $3, $4, $4)""",
        candidate_id,
        os.urandom(16),
        os.urandom(32),
        created_at,
    )
    application_id = uuid.uuid4()
    stage, status, entered_at = first_stage, "active", created_at
    changes = []
    reached: list[str] = []
    for version, (after, transition, to_stage, status_after) in enumerate(moves, start=2):
        occurred_at = created_at + after
        # As apply_transition records it: the change ends the stay begun when the application
        # entered (or was reopened in) its stage, unless it was not active (a reopen).
        stay_began_at = entered_at if status == "active" else None
        changes.append(
            (
                application_id,
                job_id,
                transition,
                stage,
                to_stage,
                status_after,
                version,
                occurred_at,
                stay_began_at,
            )
        )
        if to_stage not in reached:
            reached.append(to_stage)
        if to_stage != stage or transition == "reopen":
            entered_at = occurred_at
        stage, status = to_stage, status_after
    await db.execute(
        """INSERT INTO pipeline.applications (id, job_id, candidate_id, stage_key, status,
                                              stage_entered_at, reached_stages, version,
                                              created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)""",
        application_id,
        job_id,
        candidate_id,
        stage,
        status,
        entered_at,
        reached,
        len(moves) + 1,
        created_at,
    )
    await db.executemany(
        """INSERT INTO pipeline.stage_changes (application_id, job_id, transition, from_stage,
                                               to_stage, status, actor_kind, actor_id, version,
                                               occurred_at, from_stage_entered_at)
           VALUES ($1, $2, $3, $4, $5, $6, 'hr', 'hr-alice', $7, $8, $9)""",
        changes,
    )
    return application_id


async def release_policy(db: asyncpg.Connection, job_type: str, mode: str) -> None:
    await db.execute(
        """INSERT INTO pipeline.release_policies (job_type, mode, approver_ids, updated_by,
                                                  updated_at)
           VALUES ($1, $2, $3, 'admin-zoe', now())""",
        job_type,
        mode,
        ["hr-lead"] if mode == "approval" else [],
    )


async def released_result(
    db: asyncpg.Connection, application_id: uuid.UUID, released_at: datetime
) -> None:
    await db.execute(
        """INSERT INTO pipeline.results (id, application_id, stage_key, decision, policy_mode,
                                         state, released_at, created_by, version, created_at,
                                         updated_at)
           VALUES ($1, $2, 'ai_interview', 'advance', 'immediate', 'released', $3, 'hr-alice',
                   1, $3, $3)""",
        uuid.uuid4(),
        application_id,
        released_at,
    )


async def ai_interview(
    db: asyncpg.Connection,
    application_id: uuid.UUID,
    *,
    invited_at: datetime,
    completed_at: datetime | None = None,
    expired_at: datetime | None = None,
) -> None:
    status = "completed" if completed_at else "expired" if expired_at else "invited"
    await db.execute(
        """INSERT INTO pipeline.ai_interviews (id, application_id, vendor, status, invited_at,
                                               completed_at, expired_at, version, created_at,
                                               updated_at)
           VALUES ($1, $2, 'acme', $3, $4, $5, $6, 1, $4, $4)""",
        uuid.uuid4(),
        application_id,
        status,
        invited_at,
        completed_at,
        expired_at,
    )


async def no_show(
    db: asyncpg.Connection,
    application_id: uuid.UUID,
    *,
    stage_key: str,
    kind: str,
    policy_mode: str,
    occurred_at: datetime,
) -> None:
    await db.execute(
        """INSERT INTO pipeline.no_shows (id, application_id, stage_key, kind, policy_mode,
                                          recorded_by, occurred_at)
           VALUES ($1, $2, $3, $4, $5, 'hr-alice', $6)""",
        uuid.uuid4(),
        application_id,
        stage_key,
        kind,
        policy_mode,
        occurred_at,
    )
