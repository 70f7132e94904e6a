"""Talent pool ingestion: a burst of the other services' events turned into profiles and
timelines by the real talent pool process, measured from the first publish to the last event
handled.

The talent pool's schema is migrated in the run's database and its queue declared (with the
bindings its process declares). The benchmark then publishes ``events`` events for
``candidates`` candidates straight to the run's topic exchange with publisher confirms, as the
producers' relays would, and only then starts the talent pool process, which finds them all
waiting: publishing (slower than consuming on a shared machine) is not timed. The events: a few
``job_changed`` first, then per candidate, wave after wave,
``application_created``, ``ai_interview_invited``, the invitation's ``notification_status_
changed`` (delivered and read), the scheduler's ``invitation_opened`` and, alternately,
``ai_interview_completed`` or ``stage_changed`` (five events each).

The window starts at the first batch's transaction (the earliest ``received_at`` in the
pool's inbox) and ends at the first poll (every ``poll_interval_s``) that finds every event in
the inbox under the profiles' ingestion handler; the profiles and timeline entries are
then checked: one profile per candidate, one entry per event (two for a read notification).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench import processes
from bench.emails import EventPublisher
from bench.environment import BenchRun, admin_connection, delete_service_queues
from bench.progress import per_second, poll_count
from bench.report import Figure
from shared.bootstrap import bootstrap
from shared.events.envelope import CloudEvent, EventData
from shared.events.notifier import NotificationStatusChangedV1
from shared.events.pipeline import (
    Actor,
    AiInterviewCompletedV1,
    AiInterviewInvitedV1,
    ApplicationCreatedV1,
    JobChangedV1,
    StageChangedV1,
    StageRef,
)
from shared.events.scheduler import InvitationOpenedV1
from shared.messaging.broker import Broker
from shared.migrations import upgrade
from talentpool.app import spec as talentpool_spec
from talentpool.profiles.consumers import INGEST
from talentpool.settings import TalentpoolSettings

SERVICE = "talentpool"
TARGET_PER_S = 2_000.0
AI_INTERVIEW = StageRef(key="ai_interview", kind="ai_interview")
ROUND_1 = StageRef(key="round_1", kind="interview")
EVENTS_PER_CANDIDATE = 5


@dataclass(frozen=True)
class IngestPlan:
    candidates: int = 10_000
    jobs: int = 20
    # Events in flight at once while publishing (the relays' batch is 500 too).
    publish_batch: int = 500
    poll_interval_s: float = 0.2
    timeout_s: float = 600.0
    seed: int = 6
    # None: the service's defaults (``consumer_max_batch``, ``broker_prefetch``,
    # ``consumer_workers``).
    max_batch: int | None = None
    prefetch: int | None = None
    workers: int | None = None

    @property
    def events(self) -> int:
        return self.jobs + EVENTS_PER_CANDIDATE * self.candidates


@dataclass(frozen=True)
class IngestResult:
    events: int
    candidates: int
    publish_s: float
    # From the first batch handled to the poll that saw the last one.
    window_s: float
    talentpool_cpu_s: float
    profiles: int
    timeline_entries: int
    # Batches that failed as a whole (a deadlock, say) and were handled event by event.
    batches_split: int = 0
    timeline: list[tuple[float, int]] = field(default_factory=list)
    disturbances: list[str] = field(default_factory=list)

    @property
    def per_s(self) -> float:
        return self.events / self.window_s if self.window_s > 0 else 0.0


def talentpool_settings(run: BenchRun) -> TalentpoolSettings:
    return run.service_settings(TalentpoolSettings, SERVICE)


def _child_env(run: BenchRun, plan: IngestPlan) -> dict[str, str]:
    env = run.service_env(SERVICE)
    # No pipeline runs here: the matcher finds it unreachable and waits, as it would in
    # production while the pipeline is down; ingestion does not depend on it.
    env["TALENTPOOL_PIPELINE_URL"] = f"http://127.0.0.1:{processes.free_port()}"
    if plan.max_batch is not None:
        env["TALENTPOOL_CONSUMER_MAX_BATCH"] = str(plan.max_batch)
    if plan.prefetch is not None:
        env["TALENTPOOL_BROKER_PREFETCH"] = str(plan.prefetch)
    if plan.workers is not None:
        env["TALENTPOOL_CONSUMER_WORKERS"] = str(plan.workers)
    return env


def _envelope(
    data: EventData, subject: uuid.UUID, at: datetime, sequence: int | None = None
) -> CloudEvent:
    return CloudEvent(
        id=uuid.uuid4(),
        source=f"/{data.producer}",
        type=data.event_type,
        time=at,
        subject=str(subject),
        data=data.model_dump(mode="json"),
        sequence=sequence,
    )


def events(plan: IngestPlan) -> list[CloudEvent]:
    """The burst, in publishing order: the jobs, then one wave of each kind over every
    candidate (shuffled within the wave)."""
    rng = random.Random(plan.seed)
    start = datetime.now(UTC) - timedelta(days=3)
    jobs = [uuid.uuid4() for _ in range(plan.jobs)]
    burst = [
        _envelope(
            JobChangedV1(
                job_id=job_id,
                title=f"Bench job {number}",
                job_type="basic",
                status="open",
                owner_ids=["hr-bench"],
                occurred_at=start,
            ),
            job_id,
            start,
            sequence=1,
        )
        for number, job_id in enumerate(jobs)
    ]
    waves: list[list[CloudEvent]] = [[] for _ in range(EVENTS_PER_CANDIDATE)]
    for number in range(plan.candidates):
        candidate, application = uuid.uuid4(), uuid.uuid4()
        interview, invitation = uuid.uuid4(), uuid.uuid4()
        job = jobs[number % len(jobs)]
        at = start + timedelta(seconds=number)
        ai = {
            "application_id": application,
            "job_id": job,
            "candidate_id": candidate,
            "vendor": "acme",
            "interview_id": interview,
        }
        waves[0].append(
            _envelope(
                ApplicationCreatedV1(
                    application_id=application,
                    job_id=job,
                    candidate_id=candidate,
                    stage=AI_INTERVIEW,
                    source="bulk",
                    locale="zh-CN",
                    occurred_at=at,
                ),
                application,
                at,
                sequence=1,
            )
        )
        waves[1].append(
            _envelope(
                AiInterviewInvitedV1(**ai, occurred_at=at + timedelta(minutes=1)), interview, at
            )
        )
        notification = uuid.uuid4()
        waves[2].append(
            _envelope(
                NotificationStatusChangedV1(
                    notification_id=notification,
                    delivery_id=uuid.uuid4(),
                    kind="ai_interview_invitation",
                    channel="email",
                    recipient_kind="candidate",
                    recipient_id=str(candidate),
                    application_id=application,
                    job_id=job,
                    candidate_id=candidate,
                    status="delivered",
                    engagement="read",
                    occurred_at=at + timedelta(minutes=30),
                ),
                notification,
                at,
            )
        )
        waves[3].append(
            _envelope(
                InvitationOpenedV1(
                    invitation_id=invitation,
                    application_id=application,
                    job_id=job,
                    candidate_id=candidate,
                    kind="ai_interview",
                    opened_at=at + timedelta(hours=2),
                ),
                invitation,
                at,
            )
        )
        if number % 2 == 0:
            waves[4].append(
                _envelope(
                    AiInterviewCompletedV1(**ai, occurred_at=at + timedelta(hours=3)),
                    interview,
                    at,
                )
            )
        else:
            waves[4].append(
                _envelope(
                    StageChangedV1(
                        application_id=application,
                        job_id=job,
                        candidate_id=candidate,
                        transition="advance",
                        from_stage=AI_INTERVIEW,
                        to_stage=ROUND_1,
                        status="active",
                        actor=Actor(kind="hr", id="hr-bench"),
                        occurred_at=at + timedelta(hours=4),
                    ),
                    application,
                    at,
                    sequence=2,
                )
            )
    for wave in waves:
        rng.shuffle(wave)
        burst.extend(wave)
    return burst


async def _declare(run: BenchRun, settings: TalentpoolSettings) -> None:
    """The talent pool's exchange, queues and bindings, declared as its broker does."""
    broker = Broker(
        url=run.amqp_url,
        topology=run.topology(SERVICE, settings),
        prefetch=settings.broker_prefetch,
        reconnect_interval_s=settings.broker_reconnect_interval_s,
    )
    broker.start(routing_keys=talentpool_spec.handlers.event_types, on_message=None)
    try:
        await broker.wait_ready(timeout=30)
    finally:
        await broker.close()


async def measure(run: BenchRun, plan: IngestPlan) -> IngestResult:
    settings = talentpool_settings(run)
    await bootstrap(settings, talentpool_spec.extensions)
    await asyncio.to_thread(upgrade, settings, talentpool_spec)
    burst = events(plan)
    # Two timeline entries for a read notification (delivered and opened); none for a job.
    expected_entries = plan.events - plan.jobs + plan.candidates
    port = processes.free_port()
    publisher = EventPublisher(run)
    try:
        # The queue and its bindings first (as the service declares them), then the whole
        # burst into it: the service then starts on a backlog, and only its work is timed.
        await _declare(run, settings)
        await publisher.open()
        published = time.time()
        await publisher.burst(burst, plan.publish_batch)
        publish_s = time.time() - published
        poller = await admin_connection(run)
        try:
            async with processes.service(
                "talentpool-ingest",
                SERVICE,
                env=_child_env(run, plan),
                workdir=run.workdir,
                port=port,
            ) as server:
                cpu = server.cpu_seconds()
                timeline, now = await poll_count(
                    poller,
                    "SELECT count(*) FROM talentpool.inbox WHERE handler = $1",
                    INGEST,
                    target=plan.events,
                    child=server,
                    since=time.time(),
                    timeout_s=plan.timeout_s,
                    interval_s=plan.poll_interval_s,
                    what="events handled",
                )
                talentpool_cpu_s = server.cpu_seconds() - cpu
                disturbances = server.disturbances()
                batches_split = server.log_path.read_text(errors="replace").count(
                    "consumer.batch_split"
                )
            first = float(
                await poller.fetchval(
                    "SELECT extract(epoch FROM min(received_at)) FROM talentpool.inbox "
                    "WHERE handler = $1",
                    INGEST,
                )
            )
            window_s = now - first
            profiles = int(await poller.fetchval("SELECT count(*) FROM talentpool.profiles"))
            entries = int(await poller.fetchval("SELECT count(*) FROM talentpool.timeline_entries"))
        finally:
            await poller.close()
    finally:
        await publisher.close()
        await delete_service_queues(run, SERVICE, settings)
    if profiles != plan.candidates or entries != expected_entries:
        raise RuntimeError(
            f"{profiles:,} profiles (expected {plan.candidates:,}) and {entries:,} timeline "
            f"entries (expected {expected_entries:,})"
        )
    return IngestResult(
        events=plan.events,
        candidates=plan.candidates,
        publish_s=publish_s,
        window_s=window_s,
        talentpool_cpu_s=talentpool_cpu_s,
        profiles=profiles,
        timeline_entries=entries,
        batches_split=batches_split,
        timeline=per_second(timeline),
        disturbances=disturbances,
    )


def figures(result: IngestResult) -> list[Figure]:
    return [
        Figure(
            key="talentpool_ingestion",
            title=f"{result.events:,} waiting events for {result.candidates:,} candidates into "
            "profiles and timelines, first to last handled",
            unit="events/s",
            ours=result.per_s,
            floor=None,
            target=TARGET_PER_S,
            comparison="ours>=",
        )
    ]


def details(result: IngestResult) -> dict[str, Any]:
    return {
        **asdict(result),
        "per_s": round(result.per_s, 1),
        "publish_s": round(result.publish_s, 2),
        "window_s": round(result.window_s, 3),
        "talentpool_cpu_s": round(result.talentpool_cpu_s, 2),
        "talentpool_cpu_ms_per_event": round(
            1000 * result.talentpool_cpu_s / max(1, result.events), 3
        ),
    }
