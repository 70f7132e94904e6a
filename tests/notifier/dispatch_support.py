"""The notifier's dispatch tested end to end: the real pipeline served on a loopback port (the
notifier asks it for candidates' contacts), the real notifier consuming from the broker, and
loopback stand-ins for the SMTP server and the SMS gateway."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from aio_pika.abc import AbstractRobustConnection

from notifier.app import spec as notifier_spec
from notifier.dispatch.dispatcher import Dispatcher
from pipeline.app import spec as pipeline_spec
from shared.clock import Clock
from shared.events.envelope import CloudEvent, EventData
from shared.events.pipeline import Actor, JobChangedV1, StageChangedV1, StageRef
from shared.http.app import create_app
from tests.notifier.peers import LOOPBACK, HttpPeer, Reply, SmtpPeer
from tests.pipeline.factories import create_job
from tests.support.broker import publish
from tests.support.running import Running, running, wait_for
from tests.support.tokens import auth

ROUND_1 = StageRef(key="round_1", kind="interview")
AI_INTERVIEW = StageRef(key="ai_interview", kind="ai_interview")


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        # Ctrl-C stays pytest's.
        yield


@contextlib.asynccontextmanager
async def served(app: Any) -> AsyncIterator[str]:
    """An ASGI app (with its lifespan) on a free loopback port; yields its base URL."""
    config = uvicorn.Config(
        app, host=LOOPBACK, port=0, log_level="warning", access_log=False, lifespan="on"
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    await wait_for(lambda: _started(server, task), timeout=20, what="the server to start")
    if task.done():
        await task
    port = int(server.servers[0].sockets[0].getsockname()[1])
    try:
        yield f"http://{LOOPBACK}:{port}"
    finally:
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> bool:
    return server.started or task.done()


@dataclass
class Pipeline:
    """The real pipeline, HTTP side only, on a loopback port."""

    url: str
    client: httpx.AsyncClient
    job: dict[str, Any] = field(default_factory=dict)

    async def candidate(
        self,
        *,
        email: str | None = None,
        phone: str | None = None,
        name: str = "Han Meimei",
        locale: str = "zh-CN",
    ) -> uuid.UUID:
        """A new candidate applying to the job; their id."""
        if not self.job:
            self.job = await create_job(self.client, title="Backend engineer")
        person: dict[str, Any] = {
            "full_name": name,
            "email": email or f"cand-{uuid.uuid4().hex[:10]}@example.com",
            "locale": locale,
        }
        if phone is not None:
            person["phone"] = phone
        response = await self.client.post(
            f"/v1/jobs/{self.job['id']}/applications", json={"candidate": person}, headers=auth()
        )
        assert response.status_code == 201, response.text
        return uuid.UUID(response.json()["candidate_id"])


@contextlib.asynccontextmanager
async def real_pipeline() -> AsyncIterator[Pipeline]:
    app = create_app(
        pipeline_spec,
        pipeline_spec.settings_class(
            run_relay=False, run_consumers=False, run_timers=False, run_workers=False
        ),
    )
    async with served(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        yield Pipeline(url, client)


@dataclass
class World:
    notifier: Running
    pipeline: Pipeline
    smtp: SmtpPeer
    gateway: HttpPeer
    amqp: AbstractRobustConnection

    @property
    def dispatcher(self) -> Dispatcher:
        [worker] = [w for w in self.notifier.runtime.workers if isinstance(w, Dispatcher)]
        return worker

    async def publish(self, event: CloudEvent) -> None:
        await publish(
            self.amqp,
            event.model_dump_json(exclude_none=True).encode(),
            routing_key=event.type,
            message_type=event.type,
        )

    async def deliveries(self, **params: str) -> list[dict[str, Any]]:
        response = await self.notifier.client.get(
            "/v1/deliveries", params={"limit": "200", **params}, headers=auth("admin", "root")
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def notifications(self, **params: str) -> list[dict[str, Any]]:
        response = await self.notifier.client.get(
            "/v1/notifications", params={"limit": "200", **params}, headers=auth("admin", "root")
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    async def settled(self, application_id: uuid.UUID, count: int) -> list[dict[str, Any]]:
        """Wait until ``count`` deliveries of the application exist and none is being sent."""

        async def check() -> list[dict[str, Any]] | None:
            items = await self.deliveries(application_id=str(application_id))
            settled = all(
                i["status"] != "sending" and (i["status"] != "queued" or i["reason"]) for i in items
            )
            return items if len(items) >= count and settled else None

        result: list[dict[str, Any]] = await wait_for(check, timeout=15, what="deliveries")
        return result


def notifier_settings(
    smtp: SmtpPeer, gateway: HttpPeer, pipeline_url: str, **extra: Any
) -> dict[str, Any]:
    return {
        **smtp.settings(),
        "sms_gateway_url": gateway.url("/messages"),
        "pipeline_url": pipeline_url,
        "default_quiet_start": None,
        "default_quiet_end": None,
        "outbound_allow_private": True,
        "dispatch_poll_interval_s": 0.1,
        "retry_base_s": 30.0,
        **extra,
    }


@contextlib.asynccontextmanager
async def world(
    amqp: AbstractRobustConnection, *, clock: Clock | None = None, **settings: Any
) -> AsyncIterator[World]:
    gateway_reply = Reply(200, json={"id": "sms-1"})
    async with (
        SmtpPeer() as smtp,
        HttpPeer(default=gateway_reply) as gateway,
        real_pipeline() as pipeline,
        running(
            notifier_spec,
            clock=clock,
            **notifier_settings(
                smtp, gateway, settings.pop("pipeline_url", pipeline.url), **settings
            ),
        ) as notifier,
    ):
        yield World(notifier, pipeline, smtp, gateway, amqp)


def envelope(data: EventData, *, subject: uuid.UUID, sequence: int = 1) -> CloudEvent:
    now = datetime.now(UTC)
    return CloudEvent(
        id=uuid.uuid4(),
        source=f"/{data.producer}",
        type=data.event_type,
        time=now,
        subject=str(subject),
        data=data.model_dump(mode="json"),
        sequence=sequence,
    )


def stage_passed(
    candidate_id: uuid.UUID,
    *,
    job_id: uuid.UUID,
    application_id: uuid.UUID | None = None,
    to_stage: StageRef = ROUND_1,
) -> CloudEvent:
    application = application_id or uuid.uuid4()
    return envelope(
        StageChangedV1(
            application_id=application,
            job_id=job_id,
            candidate_id=candidate_id,
            transition="advance",
            from_stage=AI_INTERVIEW,
            to_stage=to_stage,
            status="active",
            notify_candidate=True,
            actor=Actor(kind="hr", id="hr-alice"),
            occurred_at=datetime.now(UTC),
        ),
        subject=application,
        sequence=2,
    )


def job_changed(
    job_id: uuid.UUID, *, owners: list[str], title: str = "Backend engineer"
) -> CloudEvent:
    return envelope(
        JobChangedV1(
            job_id=job_id,
            title=title,
            job_type="basic",
            status="open",
            owner_ids=owners,
            occurred_at=datetime.now(UTC),
        ),
        subject=job_id,
        sequence=1,
    )
