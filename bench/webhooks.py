"""Signed AI-interview webhooks: ``POST /v1/webhooks/ai-interviews/{vendor}`` on the real
pipeline service against the bare FastAPI + asyncpg floor (``bench/floor_http.py``), each in its
own uvicorn process, loaded by the same generator at the same concurrency.

Every request to ours carries its own Standard Webhooks signature (a new ``webhook-id``, a
current ``webhook-timestamp``, HMAC-SHA256 with the vendor's secret), built in a pool
(``bench/pool.py``) just before the round that sends it. The secret is generated for the run
and given to the service through ``PIPELINE_VENDOR_SECRETS``; it is never written anywhere
else.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace

from bench import pool, processes, seed
from bench.environment import BenchRun, admin_connection
from bench.loadgen import LoadResult, combine
from bench.web import JOB, bearer, count, create_job, load_pool

VENDOR = "bench"


@dataclass(frozen=True)
class WebhookPlan:
    connections: int = 64
    seconds: float = 15.0
    # Ours and the floor take turns, so a change in the machine's load hits both alike.
    rounds: int = 3
    warmup_seconds: float = 3.0
    # Applications waiting for their AI interview, which the deliveries name in turn.
    applications: int = 10_000
    # A round's pool holds this many times the requests the warm-up rate would send in it, so
    # no webhook-id is ever sent twice (a round that runs out fails the measurement).
    pool_headroom: float = 3.0
    min_pool: int = 5_000
    max_pool: int = 500_000
    warmup_pool: int = 20_000


@dataclass(frozen=True)
class WebhookResult:
    ours: LoadResult
    floor: LoadResult
    # What building a pool cost per request (mostly signing), in the benchmark process.
    signing_us_per_request: float
    pool_sizes: list[int]
    deliveries_recorded: int
    disturbances: list[str]


def _pool_size(plan: WebhookPlan, warmup: LoadResult) -> int:
    wanted = math.ceil(warmup.per_s * plan.seconds / plan.rounds * plan.pool_headroom)
    return max(plan.min_pool, min(plan.max_pool, wanted))


async def measure(run: BenchRun, plan: WebhookPlan) -> WebhookResult:
    secret = pool.new_webhook_secret()
    env = run.child_env(PIPELINE_VENDOR_SECRETS=json.dumps({VENDOR: [secret]}))
    ours_port, floor_port = processes.free_port(), processes.free_port()
    async with (
        processes.service(
            "pipeline-webhooks", "pipeline", env=env, workdir=run.workdir, port=ours_port
        ) as ours_server,
        processes.service(
            "floor-http-webhooks",
            "bench.floor_http",
            env=env,
            workdir=run.workdir,
            port=floor_port,
            ready_path=None,
        ) as floor_server,
    ):
        base = f"http://127.0.0.1:{ours_port}"
        job_id = await create_job(base, bearer(run), JOB)
        connection = await admin_connection(run)
        try:
            application_ids = await seed.waiting_applications(
                connection,
                job_id=job_id,
                stage_key=JOB["stages"][0]["key"],
                count=plan.applications,
                tag=f"webhooks-{run.run_id}",
            )
        finally:
            await connection.close()
        ours_url = f"{base}/v1/webhooks/ai-interviews/{VENDOR}"
        floor_url = f"http://127.0.0.1:{floor_port}/v1/rows"
        numbers = {"pipeline": 0, "floor": 0}
        built: list[pool.Pool] = []

        def make_pool(target: str, size: int, phase: str) -> pool.Pool:
            start, numbers[target] = numbers[target], numbers[target] + size
            path = run.workdir / f"{target}-{phase}.pool"
            if target == "pipeline":
                requests = pool.webhook_requests(
                    ours_url,
                    secret=secret,
                    application_ids=application_ids,
                    start=start,
                    count=size,
                    id_prefix=f"msg_{run.run_id}",
                )
                made = pool.write(path, ours_url, requests)
                built.append(made)
                return made
            prefix = f"floor-{run.run_id}"
            return pool.write(
                path,
                floor_url,
                pool.floor_requests(floor_url, start=start, count=size, prefix=prefix),
            )

        servers = {"pipeline": ours_server, "floor": floor_server}
        warm: dict[str, LoadResult] = {}
        for target in ("floor", "pipeline"):
            warm[target] = await load_pool(
                run,
                target,
                make_pool(target, plan.warmup_pool, "warmup"),
                connections=plan.connections,
                seconds=plan.warmup_seconds,
            )
        for leftover in run.workdir.glob("*-warmup.pool"):
            leftover.unlink()
        sizes = {target: _pool_size(plan, result) for target, result in warm.items()}
        before = await count(run, "SELECT count(*) FROM pipeline.webhook_receipts")
        results: dict[str, list[LoadResult]] = {"floor": [], "pipeline": []}
        for number in range(plan.rounds):
            for target in ("floor", "pipeline"):
                made = make_pool(target, sizes[target], f"round{number}")
                cpu = servers[target].cpu_seconds()
                result = await load_pool(
                    run,
                    target,
                    made,
                    connections=plan.connections,
                    seconds=plan.seconds / plan.rounds,
                )
                if result.passes:
                    raise RuntimeError(
                        f"{target} round {number} used up its pool of {made.count} requests "
                        f"({result.requests} answered): raise WebhookPlan.pool_headroom"
                    )
                used = servers[target].cpu_seconds() - cpu
                results[target].append(replace(result, server_cpu_s=used))
                made.path.unlink(missing_ok=True)
    recorded = await count(run, "SELECT count(*) FROM pipeline.webhook_receipts") - before
    answered = sum(result.requests for result in results["pipeline"])
    if recorded < answered:
        raise RuntimeError(f"{answered} deliveries answered but {recorded} recorded as received")
    return WebhookResult(
        ours=combine(results["pipeline"]),
        floor=combine(results["floor"]),
        signing_us_per_request=sum(made.build_s for made in built)
        * 1e6
        / sum(made.count for made in built),
        pool_sizes=[made.count for made in built],
        deliveries_recorded=recorded,
        disturbances=ours_server.disturbances(),
    )
