"""The notifier: ``pipeline.stage_changed`` events turned into emails accepted by an SMTP server,
against a raw aiosmtplib send loop to the same server.

Three processes run besides the benchmark: the SMTP sink (``bench/smtp_sink.py``: aiosmtpd,
recording what it accepted and when), the real pipeline (``python -m pipeline serve``, which
answers the notifier's contact lookups) and the real notifier (``python -m notifier serve``:
its consumer owes the notifications, its dispatcher sends them). Candidates are created through
the pipeline's bulk intake as HR would; the events are published by the benchmark straight to
the run's topic exchange with publisher confirms, as the pipeline's relay would.

- **Ours**: ``events`` events as fast as the broker confirms them; emails per second from the
  first publish to the last email accepted by the sink.
- **Floor**: the same number of messages, each the bytes of one of ours (the first the sink
  accepted, with its own ``To`` and ``Message-ID``), sent by the benchmark with aiosmtplib's
  ``sendmail`` over as many connections as the notifier keeps (``NOTIFIER_SMTP_CONNECTIONS``),
  one sending loop per connection, opened before the clock starts.
- **Latency**: fresh candidates' events published on a fixed schedule at ``rate`` per second;
  per event, the moment the sink accepted its email minus the moment it was published.
- Every email must arrive exactly once: the sink's records are counted per recipient and per
  Message-ID, and the notifier's ``deliveries`` must show each email ``sent``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import aio_pika
import aiosmtplib
import httpx
from aio_pika.abc import AbstractConnection, AbstractExchange

from bench import processes
from bench.environment import BenchRun, admin_connection, delete_service_queues
from bench.report import Distribution, Figure
from bench.smtp_sink import Record, SinkLog
from bench.web import HR_SUBJECT, JOB, bearer, create_job
from notifier.app import spec as notifier_spec
from notifier.settings import NotifierSettings
from shared.bootstrap import bootstrap
from shared.events.envelope import CONTENT_TYPE, CloudEvent
from shared.events.pipeline import Actor, StageChangedV1, StageRef
from shared.migrations import upgrade

SERVICE = "notifier"
RATIO_TARGET = 0.5
P99_TARGET_MS = 1_000.0
FROM_STAGE = StageRef(key=JOB["stages"][0]["key"], kind=JOB["stages"][0]["kind"])
TO_STAGE = StageRef(key=JOB["stages"][1]["key"], kind=JOB["stages"][1]["kind"])
FLOOR_SENDER = "no-reply@example.com"
DOMAIN = "example.com"
POLL_S = 0.05
RECORD_POLL_S = 0.5


@dataclass(frozen=True)
class NotifierPlan:
    events: int = 10_000
    rate: float = 200.0
    # Measured seconds of the latency round, after its warm-up.
    latency_seconds: float = 10.0
    latency_warmup_seconds: float = 2.0
    # Emails through the whole path before anything is measured (pools, caches, the sample).
    warmup_events: int = 500
    floor_warmup: int = 500
    # Events in flight at once while publishing a burst (the relay's batch is 500 too).
    publish_batch: int = 500
    bulk_rows: int = 1_000
    # How long to wait, after the sink saw a round's emails, for the notifier to record them.
    record_timeout_s: float = 120.0
    # None: the notifier's default (NOTIFIER_SMTP_CONNECTIONS); the floor uses as many.
    smtp_connections: int | None = None
    timeout_s: float = 600.0

    @property
    def latency_events(self) -> int:
        return round(self.rate * (self.latency_warmup_seconds + self.latency_seconds))


@dataclass(frozen=True)
class Person:
    email: str
    candidate_id: uuid.UUID
    application_id: uuid.UUID


@dataclass(frozen=True)
class Sending:
    """One side's burst: ``emails`` accepted in ``seconds``, and the CPU it took."""

    emails: int
    seconds: float
    sender_cpu_s: float
    sink_cpu_s: float
    message_bytes: int
    # Ours only: the pipeline answering contact lookups, and the seconds from the last email
    # accepted to the moment all were seen recorded as sent (None: not within the wait).
    pipeline_cpu_s: float | None = None
    record_lag_s: float | None = None

    @property
    def per_s(self) -> float:
        return self.emails / self.seconds if self.seconds > 0 else 0.0

    @property
    def sender_cpu_ms_per_email(self) -> float:
        return 1000 * self.sender_cpu_s / max(1, self.emails)

    @property
    def sink_cpu_ms_per_email(self) -> float:
        return 1000 * self.sink_cpu_s / max(1, self.emails)


@dataclass(frozen=True)
class Tally:
    """What the sink accepted for one round's recipients."""

    expected: int
    accepted: int
    # Accepted messages whose recipient or Message-ID had been accepted before.
    duplicates: int
    # Expected recipients never seen.
    lost: int
    # SMTP connections (client ports) the messages came on.
    connections: int


@dataclass(frozen=True)
class Latency:
    offered_per_s: float
    achieved_per_s: float
    events: int
    distribution_ms: Distribution


@dataclass(frozen=True)
class NotifierResult:
    ours: Sending
    floor: Sending
    latency: Latency
    connections: int
    tallies: dict[str, Tally]
    # Accepted messages for nobody the benchmark expected.
    unexpected: int
    # The notifier's email deliveries of the throughput round's events, by status, when the
    # round ended, and of all our events at the end.
    delivery_statuses: dict[str, int]
    final_statuses: dict[str, int]
    candidates_s: float
    disturbances: list[str] = field(default_factory=list)

    @property
    def duplicates(self) -> int:
        return sum(t.duplicates for name, t in self.tallies.items() if name != "floor") + (
            self.unexpected
        )

    @property
    def lost(self) -> int:
        return sum(t.lost for name, t in self.tallies.items() if name != "floor")


def notifier_settings(run: BenchRun) -> NotifierSettings:
    return run.service_settings(NotifierSettings, SERVICE)


def _notifier_env(
    run: BenchRun, plan: NotifierPlan, *, smtp_port: int, pipeline_url: str
) -> dict[str, str]:
    env = run.service_env(SERVICE)
    env.update(
        {
            "NOTIFIER_SMTP_HOST": "127.0.0.1",
            "NOTIFIER_SMTP_PORT": str(smtp_port),
            "NOTIFIER_PIPELINE_URL": pipeline_url,
            # No quiet hours, and no throttle in the way: each candidate gets one email.
            "NOTIFIER_DEFAULT_QUIET_START": "00:00",
            "NOTIFIER_DEFAULT_QUIET_END": "00:00",
            "NOTIFIER_THROTTLE_PER_HOUR": "100000",
        }
    )
    if plan.smtp_connections is not None:
        env["NOTIFIER_SMTP_CONNECTIONS"] = str(plan.smtp_connections)
    return env


# -- candidates and events -------------------------------------------------------------


async def _candidates(
    run: BenchRun, base: str, job_id: str, *, count: int, rows: int
) -> list[Person]:
    """``count`` new candidates with an application to the job, through the bulk intake."""
    emails = [f"bench-{run.run_id}-{n}@{DOMAIN}" for n in range(count)]
    application_ids: list[uuid.UUID] = []
    headers = {"Authorization": f"Bearer {bearer(run)}"}
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        for start in range(0, count, rows):
            chunk = emails[start : start + rows]
            body = {
                "rows": [
                    {"candidate": {"full_name": f"Bench Candidate {start + i}", "email": email}}
                    for i, email in enumerate(chunk)
                ]
            }
            answer = await client.post(
                f"/v1/jobs/{job_id}/applications/bulk", json=body, headers=headers
            )
            if answer.status_code != 200 or answer.json()["created"] != len(chunk):
                raise RuntimeError(f"bulk intake: {answer.status_code} {answer.text[:500]}")
            results = sorted(answer.json()["results"], key=lambda result: result["index"])
            application_ids += [uuid.UUID(result["application_id"]) for result in results]
    connection = await admin_connection(run)
    try:
        rows_found = await connection.fetch(
            "SELECT id, candidate_id FROM pipeline.applications WHERE id = ANY($1::uuid[])",
            application_ids,
        )
    finally:
        await connection.close()
    candidate_of = {row["id"]: row["candidate_id"] for row in rows_found}
    return [
        Person(email, candidate_of[application_id], application_id)
        for email, application_id in zip(emails, application_ids, strict=True)
    ]


def stage_changed(person: Person, job_id: uuid.UUID) -> CloudEvent:
    """The event the pipeline writes when HR advances the application to an interview."""
    now = datetime.now(UTC)
    data = StageChangedV1(
        application_id=person.application_id,
        job_id=job_id,
        candidate_id=person.candidate_id,
        transition="advance",
        from_stage=FROM_STAGE,
        to_stage=TO_STAGE,
        status="active",
        notify_candidate=True,
        actor=Actor(kind="hr", id=HR_SUBJECT),
        occurred_at=now,
    )
    return CloudEvent(
        id=uuid.uuid4(),
        source="/pipeline",
        type=data.event_type,
        time=now,
        subject=str(person.application_id),
        data=data.model_dump(mode="json"),
        sequence=2,
    )


class EventPublisher:
    """Raw aio-pika on a confirming channel to the run's topic exchange, routing key = type."""

    def __init__(self, run: BenchRun) -> None:
        self._run = run
        self._connection: AbstractConnection | None = None
        self._exchange: AbstractExchange | None = None

    async def open(self) -> None:
        self._connection = await aio_pika.connect(self._run.amqp_url, timeout=10)
        channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await channel.get_exchange(f"{self._run.namespace}.events")

    async def _publish(self, event: CloudEvent, body: bytes) -> None:
        assert self._exchange is not None
        await self._exchange.publish(
            aio_pika.Message(
                body,
                content_type=CONTENT_TYPE,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=str(event.id),
                type=event.type,
            ),
            routing_key=event.type,
        )

    async def burst(self, events: Sequence[CloudEvent], batch: int) -> None:
        bodies = [event.model_dump_json(exclude_none=True).encode() for event in events]
        for first in range(0, len(events), batch):
            await asyncio.gather(
                *(
                    self._publish(event, body)
                    for event, body in zip(
                        events[first : first + batch], bodies[first : first + batch], strict=True
                    )
                )
            )

    async def paced(self, events: Sequence[CloudEvent], rate: float) -> list[float]:
        """Publish event ``i`` at ``start + i / rate`` (a late one does not delay the next);
        the moment each was handed to the broker."""
        bodies = [event.model_dump_json(exclude_none=True).encode() for event in events]
        published: list[float] = []
        pending: list[asyncio.Task[None]] = []
        start = time.monotonic() + 0.01
        for number, (event, body) in enumerate(zip(events, bodies, strict=True)):
            delay = start + number / rate - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            published.append(time.time())
            pending.append(asyncio.create_task(self._publish(event, body)))
        await asyncio.gather(*pending)
        return published

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()


# -- the sink's records ----------------------------------------------------------------


class Arrivals:
    """The sink's records as they come: the first acceptance of each recipient."""

    def __init__(self, log: SinkLog, watched: Sequence[processes.Child]) -> None:
        self._log = log
        self._watched = watched
        self.first: dict[str, float] = {}

    def update(self) -> None:
        for record in self._log.read():
            self.first.setdefault(record.recipient, record.accepted_at)

    @property
    def records(self) -> list[Record]:
        return self._log.records

    async def wait(self, recipients: Sequence[str], timeout_s: float) -> None:
        """Until every one of ``recipients`` got an email, or ``timeout_s`` passed (what is
        missing then is counted as lost)."""
        deadline = time.monotonic() + timeout_s
        missing = list(recipients)
        while True:
            self.update()
            missing = [recipient for recipient in missing if recipient not in self.first]
            if not missing or time.monotonic() > deadline:
                return
            for child in self._watched:
                child.check_alive()
            await asyncio.sleep(POLL_S)

    def last(self, recipients: Sequence[str]) -> float:
        return max(self.first[recipient] for recipient in recipients if recipient in self.first)

    def tally(self, recipients: Sequence[str]) -> Tally:
        expected = set(recipients)
        seen_recipients: set[str] = set()
        seen_ids: set[str] = set()
        ports: set[int] = set()
        accepted = duplicates = 0
        for record in self._log.records:
            if record.recipient not in expected:
                continue
            accepted += 1
            if record.recipient in seen_recipients or record.message_id in seen_ids:
                duplicates += 1
            seen_recipients.add(record.recipient)
            seen_ids.add(record.message_id)
            ports.add(record.connection)
        return Tally(
            expected=len(expected),
            accepted=accepted,
            duplicates=duplicates,
            lost=len(expected - seen_recipients),
            connections=len(ports),
        )


# -- the floor -------------------------------------------------------------------------

_TO_OR_ID = re.compile(rb"^(to|message-id):[^\r\n]*\r?\n", re.IGNORECASE | re.MULTILINE)


def floor_template(sample: bytes) -> tuple[bytes, bytes]:
    """The sample split at the end of its headers, without its ``To`` and ``Message-ID``."""
    end = sample.find(b"\r\n\r\n")
    if end < 0:
        raise RuntimeError("the sink's sample has no header end")
    headers = _TO_OR_ID.sub(b"", sample[: end + 2])
    return headers, sample[end + 2 :]


async def _floor(
    port: int, sample: bytes, recipients: Sequence[str], connections: int, prefix: str
) -> tuple[float, float]:
    """Send one message to each recipient over ``connections`` connections (one loop each,
    connected before the clock starts); the start (wall clock) and the CPU seconds used."""
    headers, body = floor_template(sample)
    clients = [
        aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=60) for _ in range(connections)
    ]
    for client in clients:
        await client.connect()

    async def loop(index: int, client: aiosmtplib.SMTP) -> None:
        for number in range(index, len(recipients), connections):
            recipient = recipients[number]
            message = b"".join(
                (
                    f"To: {recipient}\r\nMessage-ID: <{prefix}-{number}@{DOMAIN}>\r\n".encode(),
                    headers,
                    body,
                )
            )
            await client.sendmail(FLOOR_SENDER, [recipient], message)

    cpu = time.process_time()
    started = time.time()
    try:
        await asyncio.gather(*(loop(index, client) for index, client in enumerate(clients)))
        used = time.process_time() - cpu
    finally:
        for client in clients:
            with contextlib.suppress(aiosmtplib.SMTPException):
                await client.quit()
            client.close()
    return started, used


# -- the database ----------------------------------------------------------------------


async def _wait_sql(run: BenchRun, sql: str, *args: Any, timeout_s: float, what: str) -> None:
    """Until ``sql`` answers true."""
    deadline = time.monotonic() + timeout_s
    connection = await admin_connection(run)
    try:
        while not await connection.fetchval(sql, *args):
            if time.monotonic() > deadline:
                raise RuntimeError(f"timed out after {timeout_s:.0f} s waiting for {what}")
            await asyncio.sleep(0.1)
    finally:
        await connection.close()


async def _email_statuses(run: BenchRun, event_ids: list[uuid.UUID]) -> dict[str, int]:
    connection = await admin_connection(run)
    try:
        rows = await connection.fetch(
            """SELECT d.status, count(*) AS count
               FROM notifier.deliveries AS d
               JOIN notifier.notifications AS n ON n.id = d.notification_id
               WHERE d.channel = 'email' AND n.source_event_id = ANY($1::uuid[])
               GROUP BY d.status""",
            event_ids,
        )
    finally:
        await connection.close()
    return {row["status"]: int(row["count"]) for row in rows}


async def _wait_sent(
    run: BenchRun, event_ids: list[uuid.UUID], timeout_s: float
) -> tuple[dict[str, int], float | None]:
    """Until the notifier recorded every one of those events' emails as sent, or
    ``timeout_s`` passed: the emails' statuses then, and when all were seen sent (None: not
    within the wait). A delivery recorded as sent is never sent again; one still ``sending``
    is, when its lease runs out."""
    deadline = time.monotonic() + timeout_s
    while True:
        statuses = await _email_statuses(run, event_ids)
        if statuses.get("sent", 0) >= len(event_ids):
            return statuses, time.time()
        if time.monotonic() > deadline:
            return statuses, None
        await asyncio.sleep(RECORD_POLL_S)


# -- the rounds ------------------------------------------------------------------------


async def _floor_round(
    arrivals: Arrivals,
    sink: processes.Child,
    port: int,
    sample: bytes,
    recipients: list[str],
    connections: int,
) -> Sending:
    sink_cpu = sink.cpu_seconds()
    started, floor_cpu = await _floor(port, sample, recipients, connections, "floor")
    await arrivals.wait(recipients, 10)
    floor_sink_cpu = sink.cpu_seconds() - sink_cpu
    tally = arrivals.tally(recipients)
    if tally.lost or tally.duplicates:
        raise RuntimeError(f"the floor's messages did not arrive once each: {tally}")
    return Sending(
        emails=len(recipients),
        seconds=arrivals.last(recipients) - started,
        sender_cpu_s=floor_cpu,
        sink_cpu_s=floor_sink_cpu,
        message_bytes=len(sample),
    )


async def _ours_round(
    run: BenchRun,
    plan: NotifierPlan,
    publisher: EventPublisher,
    arrivals: Arrivals,
    events: list[CloudEvent],
    recipients: list[str],
    children: tuple[processes.Child, processes.Child, processes.Child],
) -> tuple[Sending, dict[str, int]]:
    """Publish the events at once, wait for their emails and for the notifier's records; the
    figures and the emails' statuses when the wait ended. ``children``: the notifier, the sink
    and the pipeline, whose CPU time is counted in that order."""
    cpu = [child.cpu_seconds() for child in children]
    started = time.time()
    await publisher.burst(events, plan.publish_batch)
    await arrivals.wait(recipients, plan.timeout_s)
    statuses, recorded_at = await _wait_sent(
        run, [event.id for event in events], plan.record_timeout_s
    )
    # Up to the last record: all the notifier did for these emails.
    notifier_cpu, sink_cpu, pipeline_cpu = (
        child.cpu_seconds() - before for child, before in zip(children, cpu, strict=True)
    )
    wanted = set(recipients)
    sizes = [record.size for record in arrivals.records if record.recipient in wanted]
    last = arrivals.last(recipients)
    return (
        Sending(
            emails=len(recipients),
            seconds=last - started,
            sender_cpu_s=notifier_cpu,
            sink_cpu_s=sink_cpu,
            message_bytes=round(sum(sizes) / max(1, len(sizes))),
            pipeline_cpu_s=pipeline_cpu,
            record_lag_s=None if recorded_at is None else max(0.0, recorded_at - last),
        ),
        statuses,
    )


# -- the part --------------------------------------------------------------------------


async def measure(run: BenchRun, plan: NotifierPlan) -> NotifierResult:
    settings = notifier_settings(run)
    await bootstrap(settings, notifier_spec.extensions)
    await asyncio.to_thread(upgrade, settings, notifier_spec)
    connections = plan.smtp_connections or settings.smtp_connections
    sink_port, pipeline_port, notifier_port = (processes.free_port() for _ in range(3))
    records, sample_path = run.workdir / "smtp-sink.records", run.workdir / "smtp-sink.sample"
    sink = await processes.start(
        "smtp-sink",
        [
            *("-m", "bench.smtp_sink", "--port", str(sink_port)),
            *("--out", str(records), "--sample", str(sample_path)),
        ],
        env=run.child_env(),
        workdir=run.workdir,
    )
    publisher = EventPublisher(run)
    pipeline_url = f"http://127.0.0.1:{pipeline_port}"
    try:
        await processes.wait_port(sink, sink_port)
        async with (
            processes.service(
                "pipeline-notifier",
                "pipeline",
                env=run.child_env(),
                workdir=run.workdir,
                port=pipeline_port,
            ) as pipeline,
            # Up before the job exists, so its queue takes the job's job_changed.
            processes.service(
                "notifier",
                "notifier",
                env=_notifier_env(run, plan, smtp_port=sink_port, pipeline_url=pipeline_url),
                workdir=run.workdir,
                port=notifier_port,
            ) as notifier,
        ):
            job_id = uuid.UUID(await create_job(pipeline_url, bearer(run), JOB))
            clock = time.perf_counter()
            people = await _candidates(
                run,
                pipeline_url,
                str(job_id),
                count=plan.warmup_events + plan.events + plan.latency_events,
                rows=plan.bulk_rows,
            )
            candidates_s = time.perf_counter() - clock
            warmup_people = people[: plan.warmup_events]
            measured_people = people[plan.warmup_events : plan.warmup_events + plan.events]
            latency_people = people[plan.warmup_events + plan.events :]
            # The intake's own events are out and the notifier knows the job (its title).
            await _wait_sql(
                run,
                "SELECT count(*) = 0 FROM pipeline.outbox WHERE published_at IS NULL",
                timeout_s=120,
                what="the pipeline's outbox",
            )
            await _wait_sql(
                run,
                "SELECT EXISTS (SELECT 1 FROM notifier.jobs WHERE id = $1)",
                job_id,
                timeout_s=30,
                what="the notifier to learn the job",
            )
            arrivals = Arrivals(SinkLog(records), [sink, pipeline, notifier])
            await publisher.open()

            # Warm-up: the whole path once, and the sample the floor copies.
            warmup_events = [stage_changed(person, job_id) for person in warmup_people]
            await publisher.burst(warmup_events, plan.publish_batch)
            await arrivals.wait([p.email for p in warmup_people], plan.timeout_s)
            await _wait_sent(run, [event.id for event in warmup_events], plan.record_timeout_s)
            sample = sample_path.read_bytes()

            # Floor: a warm-up, then the measured burst.
            floor_warmup = [f"floor-warmup-{n}@{DOMAIN}" for n in range(plan.floor_warmup)]
            await _floor(sink_port, sample, floor_warmup, connections, "floor-warmup")
            floor_recipients = [f"floor-{n}@{DOMAIN}" for n in range(plan.events)]
            floor = await _floor_round(
                arrivals, sink, sink_port, sample, floor_recipients, connections
            )

            # Ours: the events as fast as the broker takes them.
            events = [stage_changed(person, job_id) for person in measured_people]
            recipients = [person.email for person in measured_people]
            ours, statuses = await _ours_round(
                run, plan, publisher, arrivals, events, recipients, (notifier, sink, pipeline)
            )

            # Latency: fresh candidates at the offered rate, on a fixed schedule.
            paced_events = [stage_changed(person, job_id) for person in latency_people]
            published = await publisher.paced(paced_events, plan.rate)
            latency_recipients = [person.email for person in latency_people]
            await arrivals.wait(latency_recipients, plan.timeout_s)
            latency = _latency(plan, latency_recipients, published, arrivals)

            # Once every email is recorded as sent none can be sent again: count then.
            all_ids = [event.id for event in (*warmup_events, *events, *paced_events)]
            final_statuses, _ = await _wait_sent(run, all_ids, plan.record_timeout_s)
            await asyncio.sleep(0.2)  # the sink's last records flushed
            arrivals.update()
            expected = {
                "warmup": [p.email for p in warmup_people],
                "throughput": recipients,
                "latency": latency_recipients,
                "floor": floor_recipients,
            }
            tallies = {name: arrivals.tally(group) for name, group in expected.items()}
            known = {*(r for group in expected.values() for r in group), *floor_warmup}
            unexpected = sum(1 for r in arrivals.records if r.recipient not in known)
            disturbances = pipeline.disturbances() + notifier.disturbances()
    finally:
        await publisher.close()
        await processes.stop(sink)
        await delete_service_queues(run, SERVICE, settings)
    return NotifierResult(
        ours=ours,
        floor=floor,
        latency=latency,
        connections=connections,
        tallies=tallies,
        unexpected=unexpected,
        delivery_statuses=statuses,
        final_statuses=final_statuses,
        candidates_s=candidates_s,
        disturbances=disturbances,
    )


def _latency(
    plan: NotifierPlan, recipients: list[str], published: list[float], arrivals: Arrivals
) -> Latency:
    first = published[0]
    measured = [
        (arrivals.first[recipient] - moment) * 1000.0
        for recipient, moment in zip(recipients, published, strict=True)
        if moment - first >= plan.latency_warmup_seconds and recipient in arrivals.first
    ]
    span = published[-1] - first
    return Latency(
        offered_per_s=plan.rate,
        achieved_per_s=(len(published) - 1) / span if span > 0 else 0.0,
        events=len(measured),
        distribution_ms=Distribution.of(measured),
    )


def figures(result: NotifierResult) -> list[Figure]:
    return [
        Figure(
            key="notifier_emails",
            title="notifier emails from stage_changed, vs raw aiosmtplib",
            unit="emails/s",
            ours=result.ours.per_s,
            floor=result.floor.per_s,
            target=RATIO_TARGET,
            comparison="ratio>=",
        ),
        Figure(
            key="notifier_latency_p99",
            title=f"event-to-accepted p99 at {result.latency.offered_per_s:.0f} events/s",
            unit="ms",
            ours=result.latency.distribution_ms.p99,
            floor=None,
            target=P99_TARGET_MS,
            comparison="ours<",
        ),
        Figure(
            key="notifier_duplicates",
            title="notifier duplicate emails",
            unit="emails",
            ours=float(result.duplicates),
            floor=None,
            target=0,
            comparison="ours==",
        ),
        Figure(
            key="notifier_lost",
            title="notifier lost emails",
            unit="emails",
            ours=float(result.lost),
            floor=None,
            target=0,
            comparison="ours==",
        ),
    ]


def details(result: NotifierResult) -> dict[str, Any]:
    def sending(value: Sending) -> dict[str, Any]:
        return {
            **asdict(value),
            "seconds": round(value.seconds, 3),
            "per_s": round(value.per_s, 1),
            "sender_cpu_s": round(value.sender_cpu_s, 2),
            "sink_cpu_s": round(value.sink_cpu_s, 2),
            "pipeline_cpu_s": None
            if value.pipeline_cpu_s is None
            else round(value.pipeline_cpu_s, 2),
            "record_lag_s": None if value.record_lag_s is None else round(value.record_lag_s, 2),
            "sender_cpu_ms_per_email": round(value.sender_cpu_ms_per_email, 3),
            "sink_cpu_ms_per_email": round(value.sink_cpu_ms_per_email, 3),
            "pipeline_cpu_ms_per_email": None
            if value.pipeline_cpu_s is None
            else round(1000 * value.pipeline_cpu_s / max(1, value.emails), 3),
        }

    return {
        "ours": sending(result.ours),
        "floor": sending(result.floor),
        "latency": asdict(result.latency),
        "connections": result.connections,
        "tallies": {name: asdict(tally) for name, tally in result.tallies.items()},
        "unexpected": result.unexpected,
        "duplicates": result.duplicates,
        "lost": result.lost,
        "delivery_statuses": result.delivery_statuses,
        "final_statuses": result.final_statuses,
        "candidates_s": round(result.candidates_s, 1),
    }
