"""Data the benchmarks need, written straight into the run's database with SQL (as a superuser
connection): applications waiting for their AI interview (the webhook part), and a history of
100,000 applications for the analytics part.

Rows are shaped as the pipeline writes them (its tables, its stage keys, its statuses), but
candidates' contacts are placeholders: their "ciphertext" is never decrypted by what is
measured here, and their blind index only has to be unique.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from bench.web import HR_SUBJECT

# The analytics jobs' stages: (key, kind, SLA in business days, notify the candidate).
ANALYTICS_STAGES: tuple[tuple[str, str, int, bool], ...] = (
    ("ai_interview", "ai_interview", 3, True),
    ("assessment", "evaluation", 2, False),
    ("interview_1", "interview", 5, True),
    ("interview_2", "interview", 5, True),
    ("background_check", "background_check", 3, False),
    ("offer", "offer", 5, True),
    ("hired", "hired", 0, True),
)
# How far an application got (number of advances, 0 to 6 = hired): the upper bounds of a
# uniform draw. Generous, so the history has about 4-5 changes per application on average.
DEPTH_BOUNDS = (0.06, 0.14, 0.26, 0.42, 0.62, 0.80)
REJECTION_REASON = "not_qualified"


@dataclass(frozen=True)
class SeededHistory:
    jobs: int
    applications: int
    stage_changes: int
    ai_interviews: int
    seconds: float


def stages_json(stages: tuple[tuple[str, str, int, bool], ...]) -> list[dict[str, Any]]:
    return [
        {
            "key": key,
            "kind": kind,
            "name_zh": key,
            "name_en": key.replace("_", " ").capitalize(),
            "sla_days": sla_days,
            "notify_candidate": notify,
        }
        for key, kind, sla_days, notify in stages
    ]


async def waiting_applications(
    connection: Any, *, job_id: str, stage_key: str, count: int, tag: str
) -> list[str]:
    """``count`` new candidates with an active application in ``stage_key`` of the job; their
    application ids, in order."""
    rows = await connection.fetch(
        """
        WITH made AS (
            SELECT n, gen_random_uuid() AS candidate_id, gen_random_uuid() AS application_id
            FROM generate_series(1, $2::int) AS n
        ), candidates AS (
            INSERT INTO pipeline.candidates
                (id, full_name, email_ciphertext, email_index, created_at, updated_at)
            SELECT candidate_id, 'Bench Candidate ' || n, convert_to($4 || '-' || n, 'UTF8'),
                   sha256(convert_to('bench-' || $4 || '-' || n, 'UTF8')), now(), now()
            FROM made
        ), applications AS (
            INSERT INTO pipeline.applications
                (id, job_id, candidate_id, stage_key, status, stage_entered_at, version,
                 created_at, updated_at)
            SELECT application_id, $1::uuid, candidate_id, $3, 'active', now(), 1, now(), now()
            FROM made
        )
        SELECT application_id FROM made ORDER BY n
        """,
        uuid.UUID(job_id),
        count,
        stage_key,
        tag,
    )
    return [str(row["application_id"]) for row in rows]


async def analytics_history(
    connection: Any, *, applications: int, jobs: int, seed: float = 0.42
) -> SeededHistory:
    """Empty the pipeline's domain tables, then write ``jobs`` jobs and ``applications``
    applications created over the last 180 days, each with its stage changes (advances, then
    for most of those that stopped short a rejection or a withdrawal), its AI interview, and
    realistic times in stage (a few hours up to about 1.4 times the stage's SLA, in calendar
    time). Changes that would lie in the future are left out, so recent applications are still
    under way. Ends with VACUUM (ANALYZE), as autovacuum would soon after a load like this."""
    started = time.perf_counter()
    keys = [stage[0] for stage in ANALYTICS_STAGES]
    slas = [stage[2] for stage in ANALYTICS_STAGES]
    job_ids = [uuid.uuid4() for _ in range(jobs)]
    async with connection.transaction():
        await connection.execute(
            "TRUNCATE pipeline.jobs, pipeline.candidates, pipeline.stage_templates CASCADE"
        )
        await connection.executemany(
            """
            INSERT INTO pipeline.jobs
                (id, title, department, location, job_type, owner_ids, stages, created_by,
                 created_at, updated_at)
            VALUES ($1, $2, 'Platform', 'Shanghai', $3, ARRAY[$4], $5::jsonb, $4,
                    now() - interval '200 days', now() - interval '200 days')
            """,
            [
                (
                    job_id,
                    f"Bench job {number}",
                    "core" if number % 2 else "basic",
                    HR_SUBJECT,
                    json.dumps(stages_json(ANALYTICS_STAGES)),
                )
                for number, job_id in enumerate(job_ids)
            ],
        )
        await connection.execute("SELECT setseed($1)", seed)
        await connection.execute(
            """
            CREATE TEMP TABLE seed_apps ON COMMIT DROP AS
            SELECT n, gen_random_uuid() AS id, gen_random_uuid() AS candidate_id,
                   ($1::uuid[])[1 + n % cardinality($1::uuid[])] AS job_id,
                   now() - random() * interval '180 days' AS created_at,
                   width_bucket(random(), $3::float8[]) AS depth,
                   random() AS ending_draw
            FROM generate_series(1, $2::int) AS n
            """,
            job_ids,
            applications,
            list(DEPTH_BOUNDS),
        )
        last = len(keys) - 1
        await connection.execute("ALTER TABLE seed_apps ADD COLUMN ending text")
        await connection.execute(
            """
            UPDATE seed_apps SET ending = CASE
                WHEN depth = $1::int THEN NULL
                WHEN ending_draw < 0.6 THEN 'reject'
                WHEN ending_draw < 0.7 THEN 'withdraw'
            END
            """,
            last,
        )
        await connection.execute(
            """
            CREATE TEMP TABLE seed_changes ON COMMIT DROP AS
            SELECT a.id AS application_id, a.n, s.k,
                   CASE WHEN s.k <= a.depth
                        THEN CASE WHEN s.k = $3::int THEN 'hire' ELSE 'advance' END
                        ELSE a.ending END AS transition,
                   ($1::text[])[LEAST(s.k, a.depth + 1)] AS from_stage,
                   ($1::text[])[CASE WHEN s.k <= a.depth THEN s.k + 1 ELSE a.depth + 1 END]
                       AS to_stage,
                   CASE WHEN s.k <= a.depth
                        THEN CASE WHEN s.k = $3::int THEN 'hired' ELSE 'active' END
                        WHEN a.ending = 'reject' THEN 'rejected'
                        ELSE 'withdrawn' END AS status,
                   a.created_at + sum(
                       interval '1 hour'
                       * (2 + random() * 24 * 1.4 * (($2::int[])[LEAST(s.k, a.depth + 1)] + 1))
                   ) OVER (PARTITION BY a.id ORDER BY s.k) AS occurred_at
            FROM seed_apps AS a
            CROSS JOIN LATERAL generate_series(1, a.depth + (a.ending IS NOT NULL)::int) AS s(k)
            """,
            keys,
            slas,
            last,
        )
        await connection.execute("DELETE FROM seed_changes WHERE occurred_at >= now()")
        await connection.execute(
            """
            INSERT INTO pipeline.candidates
                (id, full_name, email_ciphertext, email_index, locale, created_at, updated_at)
            SELECT candidate_id, 'Bench Candidate ' || n, convert_to('analytics-' || n, 'UTF8'),
                   sha256(convert_to('bench-analytics-' || n, 'UTF8')),
                   CASE WHEN n % 5 = 0 THEN 'en' ELSE 'zh-CN' END, created_at, created_at
            FROM seed_apps
            """
        )
        await connection.execute(
            """
            INSERT INTO pipeline.applications
                (id, job_id, candidate_id, stage_key, status, stage_entered_at,
                 rejection_reason, source, reached_stages, version, created_at, updated_at)
            SELECT a.id, a.job_id, a.candidate_id,
                   COALESCE(last.to_stage, $1), COALESCE(last.status, 'active'),
                   COALESCE(last.occurred_at, a.created_at),
                   CASE WHEN last.status = 'rejected' THEN $2 END, 'api',
                   COALESCE(reached.stages, '{}'),
                   1 + COALESCE(last.k, 0), a.created_at, COALESCE(last.occurred_at, a.created_at)
            FROM seed_apps AS a
            LEFT JOIN (
                SELECT DISTINCT ON (application_id) application_id, k, to_stage, status,
                       occurred_at
                FROM seed_changes ORDER BY application_id, k DESC
            ) AS last ON last.application_id = a.id
            -- As apply_transition keeps it: each stage moved into, once, in order.
            LEFT JOIN (
                SELECT application_id, array_agg(to_stage ORDER BY first_k) AS stages
                FROM (SELECT application_id, to_stage, min(k) AS first_k
                      FROM seed_changes GROUP BY application_id, to_stage) AS firsts
                GROUP BY application_id
            ) AS reached ON reached.application_id = a.id
            ORDER BY a.created_at
            """,
            keys[0],
            REJECTION_REASON,
        )
        await connection.execute(
            """
            INSERT INTO pipeline.stage_changes
                (application_id, job_id, transition, from_stage, to_stage, status, reason_code,
                 actor_kind, actor_id, version, occurred_at, from_stage_entered_at)
            SELECT c.application_id, a.job_id, c.transition, c.from_stage, c.to_stage, c.status,
                   CASE WHEN c.transition = 'reject' THEN $1 END,
                   CASE WHEN c.transition = 'withdraw' THEN 'candidate' ELSE 'hr' END,
                   CASE WHEN c.transition = 'withdraw' THEN NULL ELSE $2 END,
                   1 + c.k, c.occurred_at,
                   -- Every change here is made while active (no reopens): it ends the stay
                   -- begun by the previous change, or by the application's creation.
                   COALESCE(lag(c.occurred_at) OVER (PARTITION BY c.application_id
                                                     ORDER BY c.k), a.created_at)
            FROM seed_changes AS c JOIN seed_apps AS a ON a.id = c.application_id
            ORDER BY c.occurred_at
            """,
            REJECTION_REASON,
            HR_SUBJECT,
        )
        # Every application was invited to its AI interview. Those that moved on, or were
        # rejected after it, completed it (report ready) some time before that decision; a
        # withdrawal before deciding means it expired; the rest are still open, or expired
        # after a week without a start (a no-show).
        await connection.execute(
            """
            INSERT INTO pipeline.ai_interviews
                (id, application_id, vendor, external_id, status, score, result_source,
                 result_at, invited_at, opened_at, started_at, completed_at, expired_at,
                 report_ready_at, version, created_at, updated_at)
            SELECT gen_random_uuid(), a.id, 'bench', 'iv-' || a.n,
                   CASE WHEN done THEN 'report_ready'
                        WHEN first.occurred_at IS NOT NULL OR age > interval '7 days'
                            THEN 'expired'
                        WHEN draw < 0.4 THEN 'invited'
                        WHEN draw < 0.7 THEN 'opened'
                        ELSE 'started' END,
                   CASE WHEN done AND a.depth >= 1 THEN round((60 + draw * 40)::numeric, 2)
                        WHEN done THEN round((20 + draw * 40)::numeric, 2) END,
                   CASE WHEN done THEN 'report_ready' END,
                   CASE WHEN done THEN finished + interval '20 minutes' END,
                   a.created_at + interval '5 minutes',
                   CASE WHEN done OR (NOT expired AND draw >= 0.4) THEN GREATEST(
                        finished - interval '45 minutes', a.created_at + interval '10 minutes')
                        END,
                   CASE WHEN done OR (NOT expired AND draw >= 0.7) THEN GREATEST(
                        finished - interval '35 minutes', a.created_at + interval '20 minutes')
                        END,
                   CASE WHEN done THEN finished END,
                   CASE WHEN expired THEN COALESCE(first.occurred_at,
                        a.created_at + interval '7 days') END,
                   CASE WHEN done THEN finished + interval '20 minutes' END,
                   CASE WHEN done THEN 5 WHEN expired THEN 2 WHEN draw < 0.4 THEN 1
                        WHEN draw < 0.7 THEN 2 ELSE 3 END,
                   a.created_at + interval '5 minutes',
                   COALESCE(first.occurred_at, a.created_at + interval '5 minutes')
            FROM (
                SELECT a.*, now() - a.created_at AS age, random() AS draw FROM seed_apps AS a
            ) AS a
            LEFT JOIN seed_changes AS first ON first.application_id = a.id AND first.k = 1
            CROSS JOIN LATERAL (
                SELECT first.occurred_at IS NOT NULL
                       AND (a.depth >= 1 OR a.ending = 'reject') AS done,
                       NOT (first.occurred_at IS NOT NULL
                            AND (a.depth >= 1 OR a.ending = 'reject'))
                       AND (first.occurred_at IS NOT NULL OR now() - a.created_at
                            > interval '7 days') AS expired,
                       CASE WHEN first.occurred_at IS NOT NULL
                            THEN a.created_at + (first.occurred_at - a.created_at) * 0.7
                            ELSE a.created_at + (now() - a.created_at) * 0.5 END AS finished
            ) AS derived
            """
        )
        counts = await connection.fetchrow(
            """
            SELECT (SELECT count(*) FROM pipeline.applications) AS applications,
                   (SELECT count(*) FROM pipeline.stage_changes) AS stage_changes,
                   (SELECT count(*) FROM pipeline.ai_interviews) AS ai_interviews
            """
        )
    # VACUUM as well as ANALYZE: autovacuum also vacuums a table after many inserts (since
    # PostgreSQL 13), which sets the visibility map; until then index-only scans (the funnel's
    # read of the history) fetch every heap page, which a long-lived database does not.
    for table in ("jobs", "candidates", "applications", "stage_changes", "ai_interviews"):
        await connection.execute(f"VACUUM (ANALYZE) pipeline.{table}")
    return SeededHistory(
        jobs=jobs,
        applications=int(counts["applications"]),
        stage_changes=int(counts["stage_changes"]),
        ai_interviews=int(counts["ai_interviews"]),
        seconds=time.perf_counter() - started,
    )
