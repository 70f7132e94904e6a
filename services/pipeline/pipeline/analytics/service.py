"""Analytics computed in PostgreSQL: each answer is one SQL statement of aggregates over the
applications in scope; Python only shapes the few result rows. A stay is read from the one
``stage_changes`` row that ended it (``from_stage_entered_at`` .. ``occurred_at``, its length
kept in ``stay_seconds``); the stages an application reached from its ``reached_stages``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

import pipeline.analytics.models  # noqa: F401  (the indexes these queries read through)
from pipeline.analytics import workdays
from pipeline.analytics.schemas import (
    AiInterviews,
    EndedHere,
    FirstNotice,
    Funnel,
    FunnelStage,
    NoShowRate,
    NoShowsByPolicy,
    PolicyNoShows,
    ScopeOut,
    SlaBreaches,
    SlaStage,
    SlaTotals,
    TimeInStage,
    TimeInStages,
)
from shared.auth.principal import Principal, Role
from shared.calendar import DEFAULT_TZ

# Analytics sort and hash a few hundred thousand rows; the default 4 MB would spill to disk.
_SESSION_SETTINGS = ("SET LOCAL work_mem = '64MB'", "SET LOCAL jit = off")


@dataclass(frozen=True)
class Scope:
    """What an analytics answer counts: the caller's visible jobs (or one of them) and
    applications created in ``[period_from, period_to)``."""

    principal: Principal
    job_id: uuid.UUID | None = None
    period_from: datetime | None = None
    period_to: datetime | None = None

    @property
    def group_by(self) -> str:
        return "stage" if self.job_id is not None else "kind"

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.job_id is not None:
            params["job_id"] = self.job_id
        if self.principal.role is not Role.ADMIN:
            params["subject"] = self.principal.subject
        if self.period_from is not None:
            params["period_from"] = self.period_from
        if self.period_to is not None:
            params["period_to"] = self.period_to
        return params

    @property
    def stays_condition(self) -> str:
        """Which of the scope's jobs' changes count (``sc``): all of them, unless a period
        narrows the applications."""
        condition = "sc.job_id IN (SELECT id FROM scope_jobs)"
        if self.period_from is not None or self.period_to is not None:
            condition += " AND sc.application_id IN (SELECT id FROM apps)"
        return condition

    def ctes(self) -> str:
        """``scope_jobs``, ``job_stages``, ``stage_groups`` (the row each stage counts in),
        ``labels`` (those rows, in display order) and ``apps`` (applications in scope). Only
        fixed fragments are put together here; every value is a bound parameter."""
        job_conditions = ["true"]
        if self.job_id is not None:
            job_conditions.append("j.id = :job_id")
        if self.principal.role is not Role.ADMIN:
            job_conditions.append("j.owner_ids @> ARRAY[CAST(:subject AS text)]")
        app_conditions = ["a.job_id IN (SELECT id FROM scope_jobs)"]
        if self.period_from is not None:
            app_conditions.append("a.created_at >= :period_from")
        if self.period_to is not None:
            app_conditions.append("a.created_at < :period_to")
        if self.group_by == "stage":
            group = "stage_key"
            labels = """SELECT stage_key AS grp, kind, name_zh, name_en, position AS ord,
                               sla_days
                        FROM job_stages"""
        else:
            group = "kind"
            labels = """SELECT kind AS grp, kind, NULL::text AS name_zh, NULL::text AS name_en,
                               min(position) AS ord, NULL::int AS sla_days
                        FROM job_stages GROUP BY kind"""
        return f"""
scope_jobs AS MATERIALIZED (
    SELECT j.id, j.job_type, j.stages FROM jobs j WHERE {" AND ".join(job_conditions)}
),
job_stages AS MATERIALIZED (
    SELECT j.id AS job_id, s.position::int AS position, s.value ->> 'key' AS stage_key,
           s.value ->> 'kind' AS kind, s.value ->> 'name_zh' AS name_zh,
           s.value ->> 'name_en' AS name_en, (s.value ->> 'sla_days')::int AS sla_days
    FROM scope_jobs j
    CROSS JOIN LATERAL jsonb_array_elements(j.stages) WITH ORDINALITY AS s(value, position)
),
stage_groups AS MATERIALIZED (
    SELECT job_id, stage_key, position, sla_days, {group} AS grp FROM job_stages
),
labels AS ({labels}),
apps AS NOT MATERIALIZED (
    SELECT a.id, a.job_id, a.stage_key, a.status, a.stage_entered_at, a.created_at,
           a.reached_stages
    FROM applications a WHERE {" AND ".join(app_conditions)}
)"""  # noqa: S608  (fixed fragments only)


async def _run(session: AsyncSession, sql: str, params: dict[str, Any]) -> list[sa.Row[Any]]:
    for setting in _SESSION_SETTINGS:
        await session.execute(sa.text(setting))
    result = await session.execute(sa.text(sql), params)
    return list(result.all())


def _ratio(part: int, whole: int | None) -> float | None:
    return round(part / whole, 4) if whole else None


def _scope_out(scope: Scope, applications: int, now: datetime) -> ScopeOut:
    return ScopeOut(
        job_id=scope.job_id,
        period_from=scope.period_from,
        period_to=scope.period_to,
        group_by="stage" if scope.job_id is not None else "kind",
        applications=applications,
        generated_at=now,
    )


def _label(row: sa.Row[Any]) -> dict[str, Any]:
    return {
        "key": row.grp,
        "kind": row.kind,
        "name_zh": row.name_zh,
        "name_en": row.name_en,
        "position": row.ord,
    }


# Applications are folded into "profiles" (job, stages reached, current stage, status);
# applications sharing one are counted together, so the per-stage work is over a few hundred
# profiles rather than every application, and the history is not read at all: the stages an
# application entered are kept on it (``reached_stages``). Its job's first stage counts as
# reached without a change.
_FUNNEL = """
profiles AS (
    SELECT row_number() OVER () AS profile, p.*
    FROM (
        SELECT a.job_id, a.stage_key, a.status, a.reached_stages AS keys, count(*) AS n
        FROM apps a
        GROUP BY 1, 2, 3, 4
    ) p
),
per_group AS (
    SELECT p.profile, g.grp, p.n, p.status,
           bool_or(g.position = 1 OR g.stage_key = ANY (p.keys)) AS reached,
           bool_or(g.stage_key = p.stage_key) AS current
    FROM profiles p JOIN stage_groups g ON g.job_id = p.job_id
    GROUP BY p.profile, g.grp, p.n, p.status
),
counts AS (
    SELECT grp,
           sum(n) FILTER (WHERE reached)::bigint AS reached,
           sum(n) FILTER (WHERE current AND status = 'active')::bigint AS active,
           sum(n) FILTER (WHERE current AND status = 'rejected')::bigint AS rejected,
           sum(n) FILTER (WHERE current AND status = 'withdrawn')::bigint AS withdrawn,
           sum(n) FILTER (WHERE current AND status = 'hired')::bigint AS hired
    FROM per_group GROUP BY grp
)
SELECT l.grp, l.kind, l.name_zh, l.name_en, l.ord,
       coalesce(c.reached, 0) AS reached, coalesce(c.active, 0) AS active,
       coalesce(c.rejected, 0) AS rejected, coalesce(c.withdrawn, 0) AS withdrawn,
       coalesce(c.hired, 0) AS hired,
       lag(coalesce(c.reached, 0)) OVER (ORDER BY l.ord, l.grp) AS previous_reached,
       (SELECT count(*) FROM apps) AS applications
FROM labels l LEFT JOIN counts c ON c.grp = l.grp
ORDER BY l.ord, l.grp
"""


async def _applications(session: AsyncSession, scope: Scope) -> int:
    """Applications in scope, for answers that have no stage rows to carry the count."""
    sql = f"WITH {scope.ctes()} SELECT count(*) AS n FROM apps"  # noqa: S608  (fixed text)
    rows = await _run(session, sql, scope.params())
    return int(rows[0].n)


async def funnel(*, session: AsyncSession, scope: Scope, now: datetime) -> Funnel:
    rows = await _run(session, f"WITH {scope.ctes()},{_FUNNEL}", scope.params())
    applications = int(rows[0].applications) if rows else await _applications(session, scope)
    return Funnel(
        scope=_scope_out(scope, applications, now),
        stages=[
            FunnelStage(
                **_label(row),
                reached=row.reached,
                in_stage_now=row.active,
                ended_here=EndedHere(
                    rejected=row.rejected, withdrawn=row.withdrawn, hired=row.hired
                ),
                conversion_from_previous=_ratio(row.reached, row.previous_reached),
            )
            for row in rows
        ],
    )


# A stay is one row: the stage change that ended it, which records when it began
# (``from_stage_entered_at``, written by ``apply_transition``). Changes that end no stay (a
# reopen after a rejection: the application was not active meanwhile) have none.
def _stays(scope: Scope) -> str:
    return f"""
stays AS (
    SELECT sc.job_id, sc.from_stage AS stage_key, sc.from_stage_entered_at AS entered_at,
           sc.occurred_at AS left_at
    FROM stage_changes sc
    WHERE sc.stay_seconds IS NOT NULL AND {scope.stays_condition}
)"""  # noqa: S608  (fixed fragments only)


# Each row's stays are read per job and stage from the stays index (job, stage, length),
# index-only, and pooled for ``percentile_cont``, which sorts them: one sort per row, none over
# all the stays, and no join of the history to the applications unless a period asks for it.
_TIME_IN_STAGE = """
completed AS (
    SELECT l.grp, c.n, c.percentiles
    FROM labels l
    CROSS JOIN LATERAL (
        SELECT count(*) AS n,
               percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY sc.stay_seconds)
                   AS percentiles
        FROM stage_groups g
        JOIN stage_changes sc ON sc.job_id = g.job_id AND sc.from_stage = g.stage_key
        WHERE g.grp = l.grp AND sc.stay_seconds IS NOT NULL AND {stays}
    ) c
),
open AS (
    SELECT g.grp, count(*) AS n
    FROM apps a JOIN stage_groups g ON g.job_id = a.job_id AND g.stage_key = a.stage_key
    WHERE a.status = 'active'
    GROUP BY g.grp
)
SELECT l.grp, l.kind, l.name_zh, l.name_en, l.ord,
       coalesce(c.n, 0) AS completed, coalesce(o.n, 0) AS open,
       c.percentiles[1] AS median, c.percentiles[2] AS p90,
       (SELECT count(*) FROM apps) AS applications
FROM labels l
LEFT JOIN completed c ON c.grp = l.grp
LEFT JOIN open o ON o.grp = l.grp
ORDER BY l.ord, l.grp
"""


async def time_in_stage(*, session: AsyncSession, scope: Scope, now: datetime) -> TimeInStages:
    query = _TIME_IN_STAGE.format(stays=scope.stays_condition)
    rows = await _run(session, f"WITH {scope.ctes()},{query}", scope.params())
    applications = int(rows[0].applications) if rows else await _applications(session, scope)
    return TimeInStages(
        scope=_scope_out(scope, applications, now),
        stages=[
            TimeInStage(
                **_label(row),
                completed_stays=row.completed,
                open_stays=row.open,
                median_seconds=row.median,
                p90_seconds=row.p90,
            )
            for row in rows
        ],
    )


# Business days, as shared.calendar counts them: a stay entered on day d0 (local) with an SLA
# of n business days is due at the end of the n-th workday after d0 (n = 0: d0 if a workday,
# else the next workday), and is breached from the next day on. ``cal`` numbers the workdays
# (``cum``) from the first day in scope, so the due day is the workday numbered
# cum(d0) + n (+1 for n = 0 on a day off).
_SLA = """
cal AS MATERIALIZED (
    SELECT day, workday, sum(workday::int) OVER (ORDER BY day) AS cum
    FROM (
        SELECT d::date AS day,
               CASE WHEN o.kind IS NOT NULL THEN o.kind = 'workday'
                    WHEN h.day IS NOT NULL THEN false
                    WHEN w.day IS NOT NULL THEN true
                    ELSE extract(isodow FROM d) < 6 END AS workday
        FROM generate_series(
            (SELECT min((created_at AT TIME ZONE :tz)::date) FROM apps),
            CAST(:today AS date), interval '1 day'
        ) AS d
        LEFT JOIN calendar_days o ON o.day = d::date
        LEFT JOIN unnest(CAST(:holidays AS date[])) AS h(day) ON h.day = d::date
        LEFT JOIN unnest(CAST(:workdays AS date[])) AS w(day) ON w.day = d::date
    ) days
),
all_stays AS (
    SELECT job_id, stage_key, entered_at, (left_at AT TIME ZONE :tz)::date AS end_day,
           false AS open
    FROM stays
    UNION ALL
    SELECT job_id, stage_key, stage_entered_at, CAST(:today AS date), true
    FROM apps WHERE status = 'active'
),
judged AS (
    SELECT g.grp, s.open, s.end_day > due.day AS breached
    FROM all_stays s
    JOIN stage_groups g ON g.job_id = s.job_id AND g.stage_key = s.stage_key
    JOIN cal start ON start.day = (s.entered_at AT TIME ZONE :tz)::date
    LEFT JOIN cal due
        ON due.workday AND due.cum = start.cum + greatest(g.sla_days, 1 - start.workday::int)
    WHERE g.sla_days IS NOT NULL
),
counts AS (
    SELECT grp,
           count(*) FILTER (WHERE open) AS open_stays,
           count(*) FILTER (WHERE open AND breached) AS breached_now,
           count(*) FILTER (WHERE NOT open) AS completed_stays,
           count(*) FILTER (WHERE NOT open AND breached) AS breached_past
    FROM judged GROUP BY grp
)
SELECT l.grp, l.kind, l.name_zh, l.name_en, l.ord, l.sla_days,
       coalesce(c.open_stays, 0) AS open_stays, coalesce(c.breached_now, 0) AS breached_now,
       coalesce(c.completed_stays, 0) AS completed_stays,
       coalesce(c.breached_past, 0) AS breached_past,
       (SELECT count(*) FROM apps) AS applications,
       (SELECT min((created_at AT TIME ZONE :tz)::date) FROM apps) AS first_day
FROM labels l LEFT JOIN counts c ON c.grp = l.grp
ORDER BY l.ord, l.grp
"""


async def sla_breaches(
    *, session: AsyncSession, scope: Scope, now: datetime, tz: str = DEFAULT_TZ
) -> SlaBreaches:
    today = now.astimezone(ZoneInfo(tz)).date()
    holidays, extra_workdays = workdays.bundled_exceptions()
    params = {
        **scope.params(),
        "tz": tz,
        "today": today,
        "holidays": holidays,
        "workdays": extra_workdays,
    }
    rows = await _run(session, f"WITH {scope.ctes()},{_stays(scope)},{_SLA}", params)
    applications = int(rows[0].applications) if rows else await _applications(session, scope)
    first_day: date | None = rows[0].first_day if rows else None
    stages = [
        SlaStage(
            **_label(row),
            sla_days=row.sla_days,
            open_stays=row.open_stays,
            breached_now=row.breached_now,
            completed_stays=row.completed_stays,
            breached_past=row.breached_past,
        )
        for row in rows
    ]
    return SlaBreaches(
        scope=_scope_out(scope, applications, now),
        timezone=tz,
        calendar_unknown_years=workdays.unknown_years(first_day, today) if first_day else [],
        totals=SlaTotals(
            open_stays=sum(stage.open_stays for stage in stages),
            breached_now=sum(stage.breached_now for stage in stages),
            completed_stays=sum(stage.completed_stays for stage in stages),
            breached_past=sum(stage.breached_past for stage in stages),
        ),
        stages=stages,
    )


# "Invited" is every AI interview a vendor reported; a no-show expired without completing.
# The first notice is the first result released to the candidate at or after completion.
_AI_INTERVIEWS = """
interviews AS (
    SELECT ai.completed_at, ai.expired_at,
           CASE WHEN ai.completed_at IS NOT NULL THEN (
               SELECT min(r.released_at) FROM results r
               WHERE r.application_id = ai.application_id
                 AND r.released_at IS NOT NULL AND r.released_at >= ai.completed_at
           ) END AS first_notice_at
    FROM ai_interviews ai JOIN apps a ON a.id = ai.application_id
)
SELECT count(*) AS invited,
       count(completed_at) AS completed,
       count(*) FILTER (WHERE completed_at IS NULL AND expired_at IS NOT NULL) AS expired,
       count(*) FILTER (WHERE completed_at IS NULL AND expired_at IS NULL) AS pending,
       count(first_notice_at) AS notified,
       percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (
           ORDER BY date_part('epoch', first_notice_at - completed_at)
       ) AS percentiles,
       (SELECT count(*) FROM apps) AS applications
FROM interviews
"""


async def ai_interviews(*, session: AsyncSession, scope: Scope, now: datetime) -> AiInterviews:
    (row,) = await _run(session, f"WITH {scope.ctes()},{_AI_INTERVIEWS}", scope.params())
    percentiles = row.percentiles or [None, None]
    return AiInterviews(
        scope=_scope_out(scope, int(row.applications), now),
        invited=row.invited,
        completed=row.completed,
        expired_without_completion=row.expired,
        pending=row.pending,
        completion_rate=_ratio(row.completed, row.invited),
        no_show_rate=_ratio(row.expired, row.invited),
        time_to_first_notice=FirstNotice(
            completed=row.completed,
            notified=row.notified,
            awaiting_notice=row.completed - row.notified,
            median_seconds=percentiles[0],
            p90_seconds=percentiles[1],
        ),
    )


# An application counts once per kind (interview, offer) if it reached a stage of that kind.
# Its policy mode is the one recorded with its no-show, if it has one; otherwise the mode its
# job type's release policy has now (``immediate`` without a policy).
_NO_SHOWS = """
reached AS (
    SELECT a.id AS application_id, a.job_id, js.kind
    FROM apps a JOIN job_stages js ON js.job_id = a.job_id AND js.position = 1
    WHERE js.kind IN ('interview', 'offer')
    UNION
    SELECT a.id, a.job_id, js.kind
    FROM apps a
    CROSS JOIN LATERAL unnest(a.reached_stages) AS r(stage_key)
    JOIN job_stages js ON js.job_id = a.job_id AND js.stage_key = r.stage_key
    WHERE js.kind IN ('interview', 'offer')
),
recorded AS (
    SELECT ns.application_id, ns.kind, min(ns.policy_mode) AS policy_mode
    FROM no_shows ns
    WHERE ns.kind IN ('interview', 'offer') AND ns.application_id IN (SELECT id FROM apps)
    GROUP BY ns.application_id, ns.kind
)
SELECT coalesce(n.policy_mode, rp.mode, 'immediate') AS policy_mode, r.kind,
       count(*) AS reached, count(n.application_id) AS no_shows
FROM reached r
JOIN scope_jobs j ON j.id = r.job_id
LEFT JOIN release_policies rp ON rp.job_type = j.job_type
LEFT JOIN recorded n ON n.application_id = r.application_id AND n.kind = r.kind
GROUP BY 1, 2
"""


async def no_shows_by_policy(
    *, session: AsyncSession, scope: Scope, now: datetime
) -> NoShowsByPolicy:
    rows = await _run(session, f"WITH {scope.ctes()},{_NO_SHOWS}", scope.params())
    counts = {(row.policy_mode, row.kind): (row.reached, row.no_shows) for row in rows}

    def rate(mode: str, kind: str) -> NoShowRate:
        reached, no_shows = counts.get((mode, kind), (0, 0))
        return NoShowRate(reached=reached, no_shows=no_shows, rate=_ratio(no_shows, reached))

    return NoShowsByPolicy(
        scope=_scope_out(scope, await _applications(session, scope), now),
        policies=[
            PolicyNoShows(
                policy_mode=mode, interview=rate(mode, "interview"), offer=rate(mode, "offer")
            )
            for mode in ("immediate", "approval")
        ],
    )
