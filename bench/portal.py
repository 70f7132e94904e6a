"""The candidate's view: ``GET /v1/portal/application`` with a link token, for an application of a
job with 10 stages, moved through a few of them, with a thread of 100 messages (half from HR,
half from the candidate), on the real pipeline service at a small fixed concurrency.

Everything is set up through the API, as HR and the candidate would: the job, the
application, its moves, the link and the messages. The thread's first page
(``GET /v1/portal/messages``, which the portal shows next to the view) is measured in turns
with the view, and the view alone on one connection afterwards, for information.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import httpx

from bench import pool, processes
from bench.environment import BenchRun
from bench.loadgen import LoadResult, combine
from bench.web import bearer, create_job, load_pool

STAGES = (
    ("ai_interview", "ai_interview", "AI 面试", "AI interview", 3),
    ("assessment", "evaluation", "测评", "Assessment", 2),
    ("phone_screen", "interview", "电话沟通", "Phone screen", 2),
    ("interview_1", "interview", "一面", "First round", 5),
    ("interview_2", "interview", "二面", "Second round", 5),
    ("interview_3", "interview", "三面", "Third round", 5),
    ("case_study", "evaluation", "案例分析", "Case study", 3),
    ("background_check", "background_check", "背景调查", "Background check", 5),
    ("offer", "offer", "录用意向", "Offer", 5),
    ("hired", "hired", "已入职", "Hired", 0),
)
JOB: dict[str, Any] = {
    "title": "Portal benchmark engineer",
    "department": "Platform",
    "location": "Shanghai",
    "stages": [
        {"key": key, "kind": kind, "name_zh": zh, "name_en": en, "sla_days": sla}
        for key, kind, zh, en, sla in STAGES
    ],
}
VIEW = "/v1/portal/application"
THREAD = "/v1/portal/messages"


@dataclass(frozen=True)
class PortalPlan:
    connections: int = 4
    # Of the view; the thread gets as long again, in turns with it.
    seconds: float = 9.0
    rounds: int = 3
    warmup_seconds: float = 2.0
    messages: int = 100
    # Advances from the first stage before the view is measured.
    moves: int = 3
    # Links to the application, taken in turns by the requests. Using a link records when it
    # was last used, so requests with one token wait for each other; a person does not open
    # their view four times at once, so the connections use different links.
    links: int = 8
    # The view alone on one connection afterwards (informative): its latency without queueing
    # behind the other connections' requests in the one server process.
    single_seconds: float = 3.0


@dataclass(frozen=True)
class PortalResult:
    view: LoadResult
    thread: LoadResult
    view_single: LoadResult
    view_bytes: int
    thread_bytes: int
    stages: int
    messages: int
    disturbances: list[str]


def _check(response: httpx.Response, what: str, expected: int = 200) -> httpx.Response:
    if response.status_code != expected:
        raise RuntimeError(f"{what}: {response.status_code} {response.text[:500]}")
    return response


async def _seed(base: str, staff_token: str, plan: PortalPlan, tag: str) -> list[str]:
    """The application, moved and with its thread; the candidate's link tokens."""
    staff = {"Authorization": f"Bearer {staff_token}"}
    job_id = await create_job(base, staff_token, JOB)
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        created = _check(
            await client.post(
                f"/v1/jobs/{job_id}/applications",
                json={
                    "candidate": {
                        "full_name": "Portal Candidate",
                        "email": f"portal-{tag}@example.com",
                    }
                },
                headers=staff,
            ),
            "creating the application",
            201,
        )
        application = created.json()
        path = f"/v1/applications/{application['id']}"
        for _ in range(plan.moves):
            moved = _check(
                await client.post(
                    f"{path}/transitions",
                    json={"transition": "advance", "reason": "benchmark"},
                    headers={**staff, "If-Match": f'"{application["version"]}"'},
                ),
                "advancing the application",
            )
            application = moved.json()
        tokens: list[str] = []
        for _ in range(plan.links):
            link = _check(
                await client.post(f"{path}/links", json={}, headers=staff),
                "issuing a link",
                201,
            )
            tokens.append(link.json()["token"])
        candidate = {"Authorization": f"Bearer {tokens[0]}"}
        for number in range(plan.messages):
            if number % 2:
                sent = await client.post(
                    f"{path}/messages",
                    json={"body": f"第 {number} 条消息 - 下周二上午十点方便面试吗"},
                    headers=staff,
                )
            else:
                sent = await client.post(
                    THREAD,
                    json={"body": f"第 {number} 条消息 - 请问二面大概什么时候安排"},
                    headers=candidate,
                )
            _check(sent, "posting a message", 201)
    return tokens


async def measure(run: BenchRun, plan: PortalPlan) -> PortalResult:
    port = processes.free_port()
    async with processes.service(
        "pipeline-portal", "pipeline", env=run.child_env(), workdir=run.workdir, port=port
    ) as server:
        base = f"http://127.0.0.1:{port}"
        tokens = await _seed(base, bearer(run), plan, run.run_id)
        language = {"Accept-Language": "zh-CN,zh;q=0.9"}
        headers = {"Authorization": f"Bearer {tokens[0]}", **language}
        sizes: dict[str, int] = {}
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            answer = _check(await client.get(VIEW, headers=headers), "reading the view")
            view = answer.json()
            sizes["view"] = len(answer.content)
            sizes["thread"] = len(
                _check(await client.get(THREAD, headers=headers), "reading the thread").content
            )
        stages = len(view.get("timeline", []))
        messages = int(view.get("messages", {}).get("total", -1))
        if stages != len(STAGES) or messages != plan.messages:
            raise RuntimeError(
                f"the view shows {stages} stages and {messages} messages; "
                f"expected {len(STAGES)} and {plan.messages}"
            )
        targets = {
            name: pool.write(
                run.workdir / f"portal-{name}.pool",
                f"{base}{path}",
                (
                    pool.raw_request(
                        "GET",
                        f"{base}{path}",
                        headers={"Authorization": f"Bearer {token}", **language},
                    )
                    for token in tokens
                ),
            )
            for name, path in (("view", VIEW), ("thread", THREAD))
        }
        for name, made in targets.items():
            await load_pool(
                run,
                f"portal {name} warm-up",
                made,
                connections=plan.connections,
                seconds=plan.warmup_seconds,
            )
        results: dict[str, list[LoadResult]] = {"view": [], "thread": []}
        for number in range(plan.rounds):
            for name, made in targets.items():
                cpu = server.cpu_seconds()
                result = await load_pool(
                    run,
                    f"portal {name} round {number}",
                    made,
                    connections=plan.connections,
                    seconds=plan.seconds / plan.rounds,
                )
                results[name].append(replace(result, server_cpu_s=server.cpu_seconds() - cpu))
        cpu = server.cpu_seconds()
        single = await load_pool(
            run, "portal view alone", targets["view"], connections=1, seconds=plan.single_seconds
        )
        single = replace(single, server_cpu_s=server.cpu_seconds() - cpu)
    return PortalResult(
        view=combine(results["view"]),
        thread=combine(results["thread"]),
        view_single=single,
        view_bytes=sizes["view"],
        thread_bytes=sizes["thread"],
        stages=stages,
        messages=messages,
        disturbances=server.disturbances(),
    )
