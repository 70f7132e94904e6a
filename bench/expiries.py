"""Expiries: 100,000 invitations falling due at once, expired by the real scheduler process's
timer runner, measured from the first claim to the last ``invite_expired`` in the outbox.

The scheduler process starts first (its own schema in the run's database, migrated here), idle.
Then one transaction writes the invitations (``scheduler.invitations``, of a few jobs in
``scheduler.jobs``, all with the same deadline just past) and their deadline timers, the rows
the invitations service writes when it sends them. From that commit on, the runner's next
interval job drains the backlog batch after batch with the invitations' own batch handler
(``scheduler/invitations/timers.py``); the outbox relay runs too, as in production.

The bench polls the outbox's count of ``scheduler.invite_expired.v1`` rows. The window starts
at the first claim, which is the earliest ``created_at`` of those rows (their transaction's
start: the claim is its first statement), and ends at the first poll that sees all of them
(so it overstates the window by at most one poll interval).

``python -m bench.expiries serve --port N`` is the scheduler service itself (``python -m
scheduler``), with the invitations' timer handlers imported in case ``scheduler/app.py`` does
not import them yet.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from bench import processes
from bench.environment import BenchRun, admin_connection, delete_service_queues
from bench.progress import per_second, poll_count
from bench.report import Figure
from scheduler.app import spec as scheduler_spec
from scheduler.invitations.service import DEADLINE, timer_prefix
from scheduler.settings import SchedulerSettings
from shared.bootstrap import bootstrap
from shared.migrations import upgrade

EVENT_TYPE = "scheduler.invite_expired.v1"
SERVICE = "scheduler"
TARGET_PER_S = 2_000.0


@dataclass(frozen=True)
class ExpiriesPlan:
    invitations: int = 100_000
    jobs: int = 50
    # None: the service's default ``timer_batch_size``.
    batch_size: int | None = None
    poll_interval_s: float = 0.2
    timeout_s: float = 600.0


@dataclass(frozen=True)
class ExpiriesResult:
    invitations: int
    batch_size: int
    seed_s: float
    # From the seeding transaction's commit to the first claim (up to one poll interval).
    wait_s: float
    # From the first claim to the poll that saw the last outbox row.
    window_s: float
    scheduler_cpu_s: float
    published_at_end: int
    states: dict[str, int]
    timeline: list[tuple[float, int]] = field(default_factory=list)
    disturbances: list[str] = field(default_factory=list)

    @property
    def per_s(self) -> float:
        return self.invitations / self.window_s if self.window_s > 0 else 0.0


def scheduler_settings(run: BenchRun) -> SchedulerSettings:
    return run.service_settings(SchedulerSettings, SERVICE)


def _child_env(run: BenchRun, plan: ExpiriesPlan) -> dict[str, str]:
    env = run.service_env(SERVICE)
    if plan.batch_size is not None:
        env["SCHEDULER_TIMER_BATCH_SIZE"] = str(plan.batch_size)
    return env


async def _seed(run: BenchRun, plan: ExpiriesPlan) -> float:
    """Jobs, invitations due a second ago and their deadline timers, in one transaction; the
    seconds it took."""
    started = time.perf_counter()
    connection = await admin_connection(run)
    try:
        async with connection.transaction():
            await connection.execute(
                """INSERT INTO scheduler.jobs (id, title, status, owner_ids, changed_at)
                   SELECT gen_random_uuid(), 'Bench job ' || n, 'open', ARRAY['hr-bench'], now()
                   FROM generate_series(1, $1) AS n""",
                plan.jobs,
            )
            # Invitation kinds, groups (each policy: with and without a make-up window) and
            # states (sent, opened) mixed, as the handler sees them in production.
            await connection.execute(
                """WITH jobs AS (SELECT array_agg(id) AS ids FROM scheduler.jobs),
                   sent AS (
                       INSERT INTO scheduler.invitations
                           (id, kind, application_id, job_id, candidate_id, candidate_group,
                            state, deadline_at, sent_at, opened_at, version, created_by,
                            created_at, updated_at)
                       SELECT gen_random_uuid(),
                              CASE WHEN n % 2 = 0 THEN 'live_interview' ELSE 'ai_interview' END,
                              gen_random_uuid(), jobs.ids[1 + n % cardinality(jobs.ids)],
                              gen_random_uuid(),
                              (ARRAY['default', 'campus', 'experienced'])[1 + n % 3],
                              CASE WHEN n % 4 = 0 THEN 'opened' ELSE 'sent' END,
                              now() - interval '1 second', now() - interval '3 days',
                              CASE WHEN n % 4 = 0 THEN now() - interval '2 days' END,
                              1, 'bench', now() - interval '3 days', now() - interval '3 days'
                       FROM generate_series(1, $1) AS n, jobs
                       RETURNING id, deadline_at)
                   INSERT INTO scheduler.timers (kind, key, due_at, payload)
                   SELECT $2, 'invitation:' || id || ':deadline', deadline_at,
                          jsonb_build_object('invitation_id', id::text)
                   FROM sent""",
                plan.invitations,
                DEADLINE,
            )
            # The seeded keys are the service's own.
            sample = await connection.fetchrow(
                "SELECT key, payload->>'invitation_id' AS id FROM scheduler.timers LIMIT 1"
            )
            assert sample["key"] == f"{timer_prefix(uuid.UUID(sample['id']))}deadline"
    finally:
        await connection.close()
    return time.perf_counter() - started


async def measure(run: BenchRun, plan: ExpiriesPlan) -> ExpiriesResult:
    settings = scheduler_settings(run)
    await bootstrap(settings, scheduler_spec.extensions)
    await asyncio.to_thread(upgrade, settings, scheduler_spec)
    port = processes.free_port()
    try:
        async with processes.service(
            "scheduler-expiries",
            "bench.expiries",
            env=_child_env(run, plan),
            workdir=run.workdir,
            port=port,
        ) as server:
            cpu = server.cpu_seconds()
            seed_s = await _seed(run, plan)
            seeded_at = time.time()
            poller = await admin_connection(run)
            try:
                timeline, finished_at = await poll_count(
                    poller,
                    "SELECT count(*) FROM scheduler.outbox WHERE event_type = $1",
                    EVENT_TYPE,
                    target=plan.invitations,
                    child=server,
                    since=seeded_at,
                    timeout_s=plan.timeout_s,
                    interval_s=plan.poll_interval_s,
                    what="invitations expired",
                )
                scheduler_cpu_s = server.cpu_seconds() - cpu
                first_claim = float(
                    await poller.fetchval(
                        "SELECT extract(epoch FROM min(created_at)) FROM scheduler.outbox "
                        "WHERE event_type = $1",
                        EVENT_TYPE,
                    )
                )
                published = int(
                    await poller.fetchval(
                        "SELECT count(*) FROM scheduler.outbox "
                        "WHERE event_type = $1 AND published_at IS NOT NULL",
                        EVENT_TYPE,
                    )
                )
                states = {
                    row["state"]: row["count"]
                    for row in await poller.fetch(
                        "SELECT state, count(*) FROM scheduler.invitations GROUP BY state"
                    )
                }
                not_done = await poller.fetchval(
                    "SELECT count(*) FROM scheduler.timers WHERE kind = $1 AND state <> 'done'",
                    DEADLINE,
                )
            finally:
                await poller.close()
            disturbances = server.disturbances()
    finally:
        await delete_service_queues(run, SERVICE, settings)
    if not_done or states.get("sent") or states.get("opened"):
        raise RuntimeError(f"not every invitation expired: {states}, {not_done} timers not done")
    return ExpiriesResult(
        invitations=plan.invitations,
        batch_size=plan.batch_size or settings.timer_batch_size,
        seed_s=seed_s,
        wait_s=max(0.0, first_claim - seeded_at),
        window_s=finished_at - first_claim,
        scheduler_cpu_s=scheduler_cpu_s,
        published_at_end=published,
        states=states,
        timeline=per_second(timeline),
        disturbances=disturbances,
    )


def figures(result: ExpiriesResult) -> list[Figure]:
    return [
        Figure(
            key="invitation_expiries",
            title=f"{result.invitations:,} invitations falling due at once, "
            "first claim to last invite_expired in the outbox",
            unit="expiries/s",
            ours=result.per_s,
            floor=None,
            target=TARGET_PER_S,
            comparison="ours>=",
        )
    ]


def details(result: ExpiriesResult) -> dict[str, Any]:
    return {
        **asdict(result),
        "per_s": round(result.per_s, 1),
        "seed_s": round(result.seed_s, 2),
        "wait_s": round(result.wait_s, 3),
        "window_s": round(result.window_s, 3),
        "scheduler_cpu_s": round(result.scheduler_cpu_s, 2),
        "scheduler_cpu_ms_per_expiry": round(
            1000 * result.scheduler_cpu_s / max(1, result.invitations), 3
        ),
    }


def _serve() -> None:
    # The invitations' handlers, in case the app does not import them yet (importing twice
    # registers nothing twice: a module runs once).
    import scheduler.invitations.timers  # noqa: F401
    from shared.cli import main

    main(scheduler_spec, "scheduler.app:create")


if __name__ == "__main__":
    _serve()
