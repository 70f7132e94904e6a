"""HTTP: creating applications on the real pipeline service against a bare FastAPI + asyncpg
floor, each in its own uvicorn process (uvloop, httptools, one worker), loaded by the same
generator with the same concurrency."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

import httpx
import jwt

from bench import loadgen, processes
from bench.environment import BenchRun, admin_connection
from bench.loadgen import LoadResult, combine
from bench.pool import Pool

HR_SUBJECT = "hr-bench"
JOB: dict[str, Any] = {
    "title": "Backend engineer",
    "department": "Platform",
    "location": "Shanghai",
    "stages": [
        {
            "key": "ai_interview",
            "kind": "ai_interview",
            "name_zh": "AI 面试",
            "name_en": "AI interview",
            "sla_days": 3,
        },
        {
            "key": "round_2",
            "kind": "interview",
            "name_zh": "二面",
            "name_en": "Round 2",
            "sla_days": 5,
        },
    ],
}


@dataclass(frozen=True)
class HttpPlan:
    connections: int = 32
    seconds: float = 15.0
    # Ours and the floor take turns, so a change in the machine's background load (other
    # people's test runs) hits both alike.
    rounds: int = 3
    warmup_seconds: float = 3.0


@dataclass(frozen=True)
class HttpResult:
    ours: LoadResult
    floor: LoadResult
    disturbances: list[str]


def bearer(run: BenchRun, *, ttl_s: int = 3600, role: str = "hr", subject: str = HR_SUBJECT) -> str:
    now = int(time.time())
    claims = {"sub": subject, "role": role, "scope": "", "iat": now, "exp": now + ttl_s}
    return jwt.encode(claims, run.jwt_secret, algorithm="HS256")


@dataclass(frozen=True)
class _Target:
    name: str
    url: str
    headers: dict[str, str]


async def _load(
    run: BenchRun, target: _Target, plan: HttpPlan, phase: str, seconds: float
) -> LoadResult:
    result = await loadgen.run(
        target.url,
        connections=plan.connections,
        seconds=seconds,
        prefix=f"{target.name}-{phase}",
        headers=target.headers,
        env=run.child_env(),
        workdir=run.workdir,
    )
    if result.failed:
        raise RuntimeError(
            f"{target.name} {phase}: {result.errors} of {result.requests} requests failed"
        )
    return result


async def load_pool(
    run: BenchRun, name: str, made: Pool, *, connections: int, seconds: float
) -> LoadResult:
    """Send a pool's requests (``bench/pool.py``) for ``seconds``; any failure is an error."""
    result = await loadgen.run(
        made.url,
        connections=connections,
        seconds=seconds,
        env=run.child_env(),
        workdir=run.workdir,
        pool=made.path,
    )
    if result.failed:
        raise RuntimeError(f"{name}: {result.errors} of {result.requests} requests failed")
    return result


async def count(run: BenchRun, sql: str) -> int:
    connection = await admin_connection(run)
    try:
        return int(await connection.fetchval(sql))
    finally:
        await connection.close()


async def create_job(base: str, token: str, job: dict[str, Any] | None = None) -> str:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        created = await client.post(
            "/v1/jobs",
            json=JOB if job is None else job,
            headers={"Authorization": f"Bearer {token}"},
        )
        if created.status_code != 201:
            raise RuntimeError(f"creating a job: {created.status_code} {created.text[:500]}")
        job_id: str = created.json()["id"]
        return job_id


async def measure(run: BenchRun, plan: HttpPlan) -> HttpResult:
    """Both servers up at once; a warm-up each, then ``rounds`` turns of floor and ours."""
    token = bearer(run)
    ours_port, floor_port = processes.free_port(), processes.free_port()
    env = run.child_env()
    async with (
        processes.service(
            "pipeline", "pipeline", env=env, workdir=run.workdir, port=ours_port
        ) as ours_server,
        processes.service(
            "floor-http",
            "bench.floor_http",
            env=env,
            workdir=run.workdir,
            port=floor_port,
            ready_path=None,
        ) as floor_server,
    ):
        base = f"http://127.0.0.1:{ours_port}"
        job_id = await create_job(base, token)
        ours = _Target(
            "pipeline",
            f"{base}/v1/jobs/{job_id}/applications",
            {"Authorization": f"Bearer {token}"},
        )
        floor = _Target("floor", f"http://127.0.0.1:{floor_port}/v1/rows", {})
        servers = {"pipeline": ours_server, "floor": floor_server}
        before = await count(run, "SELECT count(*) FROM pipeline.applications")
        for target in (floor, ours):
            await _load(run, target, plan, "warmup", plan.warmup_seconds)
        warm = await count(run, "SELECT count(*) FROM pipeline.applications")
        results: dict[str, list[LoadResult]] = {"floor": [], "pipeline": []}
        for number in range(plan.rounds):
            for target in (floor, ours):
                cpu = servers[target.name].cpu_seconds()
                result = await _load(
                    run, target, plan, f"round{number}", plan.seconds / plan.rounds
                )
                used = servers[target.name].cpu_seconds() - cpu
                results[target.name].append(replace(result, server_cpu_s=used))
    made = await count(run, "SELECT count(*) FROM pipeline.applications") - warm
    answered = sum(result.requests for result in results["pipeline"])
    if warm <= before or made < answered:
        raise RuntimeError(f"{answered} answered requests but {made} applications created")
    return HttpResult(
        ours=combine(results["pipeline"]),
        floor=combine(results["floor"]),
        disturbances=ours_server.disturbances(),
    )
