"""Analytics over 100,000 applications: ``GET /v1/analytics/funnel`` and
``GET /v1/analytics/time-in-stage`` (overall, as an admin) on the real pipeline service, one
request at a time, timed by the client from sending the request to reading the whole answer.

The history is written with SQL before the service starts (``bench/seed.py``); the requests
alternate between the two routes, after a warm-up request of each.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench import processes, seed
from bench.environment import BenchRun, admin_connection
from bench.web import bearer

ROUTES = {"funnel": "/v1/analytics/funnel", "time_in_stage": "/v1/analytics/time-in-stage"}


@dataclass(frozen=True)
class AnalyticsPlan:
    applications: int = 100_000
    jobs: int = 5
    repeats: int = 7
    warmups: int = 1


@dataclass(frozen=True)
class Timing:
    path: str
    samples_ms: list[float]
    response_bytes: int

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def max_ms(self) -> float:
        return max(self.samples_ms)


@dataclass(frozen=True)
class AnalyticsResult:
    seeded: seed.SeededHistory
    timings: dict[str, Timing]
    disturbances: list[str]


async def _timed(client: httpx.AsyncClient, path: str) -> tuple[float, httpx.Response]:
    started = time.perf_counter()
    response = await client.get(path)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"GET {path}: {response.status_code} {response.text[:500]}")
    return elapsed_ms, response


def _check_funnel(funnel: dict[str, Any], applications: int) -> None:
    """The funnel must have read the history: every application reached the first stage."""
    stages = funnel.get("stages") or []
    reached = stages[0].get("reached") if stages else None
    if reached != applications:
        raise RuntimeError(
            f"the funnel's first stage was reached by {reached} applications, not {applications}"
        )


async def measure(run: BenchRun, plan: AnalyticsPlan) -> AnalyticsResult:
    connection = await admin_connection(run)
    try:
        seeded = await seed.analytics_history(
            connection, applications=plan.applications, jobs=plan.jobs
        )
    finally:
        await connection.close()
    port = processes.free_port()
    token = bearer(run, role="admin", subject="admin-bench")
    async with (
        processes.service(
            "pipeline-analytics", "pipeline", env=run.child_env(), workdir=run.workdir, port=port
        ) as server,
        httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}",
            timeout=30,
            headers={"Authorization": f"Bearer {token}"},
        ) as client,
    ):
        for _ in range(plan.warmups):
            for name, path in ROUTES.items():
                _, response = await _timed(client, path)
                if name == "funnel":
                    _check_funnel(response.json(), seeded.applications)
        samples: dict[str, list[float]] = {name: [] for name in ROUTES}
        sizes: dict[str, int] = {}
        for _ in range(plan.repeats):
            for name, path in ROUTES.items():
                elapsed_ms, response = await _timed(client, path)
                samples[name].append(elapsed_ms)
                sizes[name] = len(response.content)
    return AnalyticsResult(
        seeded=seeded,
        timings={
            name: Timing(path=ROUTES[name], samples_ms=samples[name], response_bytes=sizes[name])
            for name in ROUTES
        },
        disturbances=server.disturbances(),
    )
