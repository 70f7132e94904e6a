"""Events through the outbox, the relay and the inbox consumer, against raw aio-pika.

Ours: a writer in this process commits ``bench.tick.v1`` events with the real ``OutboxWriter``;
the bench service, in another process, relays them with the real ``OutboxRelay`` and consumes
them with the real inbox ``Consumer``, whose handler inserts one row per event.

Floor: this process publishes messages of the same size with publisher confirms to a quorum
queue (as our relay does) and another process consumes and acks them (as our consumer does),
with no database in between.

Throughput runs from the first write (or publish) to the last commit (or ack) of ``count``
events. Latency is measured at a steady offered load: each event's handler commit moment minus
its writer's commit moment, both read with ``time.time()`` on this machine.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import httpx
from aio_pika.abc import AbstractConnection, AbstractExchange

from bench import processes
from bench.environment import BenchRun, admin_connection
from bench.report import Distribution
from bench.service.app import TickV1, infra
from shared.clock import SystemClock
from shared.db.engine import Database
from shared.events.envelope import CONTENT_TYPE
from shared.messaging.outbox import OutboxWriter

NOTE = "n" * 420  # brings the envelope to the size of a real stage_changed event (~700 bytes)
SUBJECT = "00000000-0000-4000-8000-000000000000"


@dataclass(frozen=True)
class EventsPlan:
    count: int = 20_000
    # Ours and the floor take turns, so a change in the machine's background load (other
    # people's test runs) hits both alike.
    rounds: int = 2
    batch: int = 100
    writers: int = 2
    warmup: int = 1_000
    rate: float = 1_000.0
    latency_batch: int = 10
    latency_seconds: float = 12.0
    latency_warmup_seconds: float = 2.0
    # A second, informative latency run below our capacity: this fraction of the throughput
    # just measured, so queueing behind a backlog does not hide the relay's wake-up path.
    relaxed_fraction: float = 0.5
    relaxed_seconds: float = 8.0
    timeout_s: float = 120.0

    def round_sizes(self) -> list[int]:
        base, extra = divmod(self.count, self.rounds)
        return [base + (1 if r < extra else 0) for r in range(self.rounds)]


@dataclass
class Throughput:
    """Events and the seconds from the first write (or publish) of a round to the last commit
    (or ack) of that round, summed over the rounds; with the CPU time spent on them by the
    consuming process and by the producing side (ours: the writer and the relay process;
    floor: the publisher)."""

    count: int = 0
    seconds: float = 0.0
    writer_seconds: float = 0.0
    message_bytes: int = 0
    consumer_cpu_s: float = 0.0
    producer_cpu_s: float = 0.0
    rounds_per_s: list[float] = field(default_factory=list)

    def add(
        self,
        count: int,
        *,
        seconds: float,
        writer_seconds: float,
        consumer_cpu_s: float,
        producer_cpu_s: float,
    ) -> None:
        self.count += count
        self.seconds += seconds
        self.writer_seconds += writer_seconds
        self.consumer_cpu_s += consumer_cpu_s
        self.producer_cpu_s += producer_cpu_s
        self.rounds_per_s.append(round(count / seconds, 1))

    @property
    def consumer_cpu_ms_per_event(self) -> float:
        return 1000 * self.consumer_cpu_s / self.count

    @property
    def producer_cpu_ms_per_event(self) -> float:
        return 1000 * self.producer_cpu_s / self.count

    @property
    def per_s(self) -> float:
        return self.count / self.seconds


@dataclass(frozen=True)
class Latency:
    offered_per_s: float
    achieved_per_s: float
    transactions_per_s: float
    events: int
    distribution_ms: Distribution


@dataclass(frozen=True)
class EventsResult:
    ours: Throughput
    floor: Throughput
    latency: Latency
    latency_relaxed: Latency
    disturbances: list[str]


class TickWriter:
    """Commits ticks the way a service does: a session, the real ``OutboxWriter``, a commit."""

    def __init__(self, run: BenchRun) -> None:
        settings = run.bench_settings()
        self.db = Database(settings)
        self._pool_size = settings.db_pool_size
        self.outbox = OutboxWriter(service="bench", table=infra.outbox, clock=SystemClock())

    async def write(self, label: str, seqs: Sequence[int]) -> float:
        """Commit one transaction with a tick per ``seq``; returns the commit moment."""
        async with self.db.transaction() as session:
            # One statement for the transaction's events, as the services write a batch.
            await self.outbox.add_many(
                session, [(TickV1(run=label, seq=seq, note=NOTE), SUBJECT, None) for seq in seqs]
            )
        return time.time()

    async def burst(self, label: str, count: int, batch: int, writers: int) -> tuple[float, float]:
        """Write ``count`` ticks as fast as ``writers`` concurrent writers can; (start, end)."""
        batches: Iterator[range] = (
            range(first, min(first + batch, count)) for first in range(0, count, batch)
        )

        async def writer() -> None:
            for seqs in batches:
                await self.write(label, seqs)

        started = time.time()
        await asyncio.gather(*(writer() for _ in range(writers)))
        return started, time.time()

    async def paced(
        self, label: str, *, rate: float, batch: int, seconds: float
    ) -> dict[int, float]:
        """Commit ``batch`` ticks every ``batch / rate`` seconds, on an absolute schedule (a late
        transaction does not push the next ones back); returns each tick's commit moment."""
        transactions = round(rate * seconds / batch)
        interval = batch / rate
        committed: dict[int, float] = {}

        async def one(first: int) -> None:
            seqs = range(first, first + batch)
            moment = await self.write(label, seqs)
            committed.update(dict.fromkeys(seqs, moment))

        # Bounded by the pool, so a writer that falls behind shows up as a lower achieved rate
        # rather than as pool timeouts.
        slots = asyncio.Semaphore(self._pool_size)

        async def bounded(first: int) -> None:
            async with slots:
                await one(first)

        tasks: list[asyncio.Task[None]] = []
        start = time.monotonic() + 0.05
        for k in range(transactions):
            delay = start + k * interval - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(bounded(k * batch)))
        await asyncio.gather(*tasks)
        return committed

    async def close(self) -> None:
        await self.db.dispose()


async def _collect_commits(
    client: httpx.AsyncClient,
    child: processes.Child,
    label: str,
    count: int,
    timeout_s: float,
) -> dict[int, float]:
    """Handler commit moments of ``count`` ticks of run ``label``, from the bench service."""
    commits: dict[int, float] = {}
    deadline = time.monotonic() + timeout_s
    while True:
        response = await client.get("/v1/bench/commits", params={"run": label})
        response.raise_for_status()
        for seq, moment in response.json()["commits"]:
            commits.setdefault(int(seq), float(moment))
        if len(commits) >= count:
            return commits
        child.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(commits)} of {count} ticks of {label} handled")
        await asyncio.sleep(0.1)


async def _handled_rows(run: BenchRun, label: str) -> int:
    connection = await admin_connection(run)
    try:
        count = await connection.fetchval(
            "SELECT count(*) FROM bench.handled WHERE run = $1", label
        )
    finally:
        await connection.close()
    return int(count)


async def _message_body(run: BenchRun) -> bytes:
    """The bytes our relay publishes for one tick (PostgreSQL's text form of the jsonb row)."""
    writer = OutboxWriter(service="bench", table=infra.outbox, clock=SystemClock())
    envelope = writer.envelope(
        TickV1(run="floor", seq=0, note=NOTE), subject=SUBJECT, sequence=None
    )
    payload = envelope.model_dump(mode="json", exclude_none=True)
    connection = await admin_connection(run)
    try:
        text = await connection.fetchval("SELECT $1::jsonb::text", json.dumps(payload))
    finally:
        await connection.close()
    return str(text).encode()


class FloorPublisher:
    """Raw aio-pika: a confirming channel, messages of our size, ``batch`` in flight at once."""

    def __init__(self, run: BenchRun, body: bytes, batch: int) -> None:
        self._run, self._body, self._batch = run, body, batch
        self._ids = itertools.count()
        self._connection: AbstractConnection | None = None
        self._exchange: AbstractExchange | None = None

    async def open(self) -> None:
        self._connection = await aio_pika.connect(self._run.amqp_url, timeout=10)
        channel = await self._connection.channel(publisher_confirms=True)
        self._exchange = await channel.get_exchange(self._run.floor_exchange)

    async def publish(self, count: int) -> None:
        exchange = self._exchange
        assert exchange is not None
        for first in range(0, count, self._batch):
            size = min(self._batch, count - first)
            await asyncio.gather(
                *(
                    exchange.publish(
                        aio_pika.Message(
                            self._body,
                            content_type=CONTENT_TYPE,
                            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                            message_id=str(next(self._ids)),
                            type=TickV1.event_type,
                            headers={},
                        ),
                        routing_key=TickV1.event_type,
                    )
                    for _ in range(size)
                )
            )

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()


async def _read_line(child: processes.Child, timeout_s: float) -> dict[str, Any]:
    stdout = child.process.stdout
    assert stdout is not None
    try:
        line = await asyncio.wait_for(stdout.readline(), timeout_s)
    except TimeoutError:
        raise processes.ChildFailed(
            f"{child.name} said nothing for {timeout_s}s:\n{child.log_tail()}"
        ) from None
    if not line:
        child.check_alive()
        raise processes.ChildFailed(f"{child.name} closed its output:\n{child.log_tail()}")
    message: dict[str, Any] = json.loads(line)
    return message


def _floor_consumer_args(run: BenchRun, plan: EventsPlan) -> list[str]:
    checkpoints = list(itertools.accumulate([plan.warmup, *plan.round_sizes()]))
    return [
        "-m",
        "bench.floor_consumer",
        "--amqp-url",
        run.amqp_url,
        "--exchange",
        run.floor_exchange,
        "--queue",
        run.floor_queue,
        "--routing-key",
        TickV1.event_type,
        "--prefetch",
        str(run.bench_settings().broker_prefetch),
        "--checkpoints",
        ",".join(str(value) for value in checkpoints),
    ]


async def measure(run: BenchRun, plan: EventsPlan) -> EventsResult:
    body = await _message_body(run)
    ours, floor = Throughput(message_bytes=len(body)), Throughput(message_bytes=len(body))
    port = processes.free_port()
    writer = TickWriter(run)
    publisher = FloorPublisher(run, body, plan.batch)
    consumer = await processes.start(
        "floor-consumer",
        _floor_consumer_args(run, plan),
        env=run.child_env(),
        workdir=run.workdir,
        capture_stdout=True,
    )
    # As deployed: the producing service relays its outbox, a consuming service (another
    # process) handles the events. The relay's CPU counts as the producer's, like the floor's.
    relay_port = processes.free_port()
    try:
        async with (
            processes.service(
                "bench-relay",
                "bench.service",
                env={
                    **run.child_env(),
                    "BENCH_RUN_CONSUMERS": "false",
                    "BENCH_RUN_TIMERS": "false",
                },
                workdir=run.workdir,
                port=relay_port,
            ) as relay,
            processes.service(
                "bench-consumer",
                "bench.service",
                env={**run.child_env(), "BENCH_RUN_RELAY": "false"},
                workdir=run.workdir,
                port=port,
            ) as service,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client,
        ):
            await _read_line(consumer, 30)  # the floor's queue is declared and consumed
            await publisher.open()

            await publisher.publish(plan.warmup)
            await _read_line(consumer, plan.timeout_s)
            await writer.burst("warmup", plan.warmup, plan.batch, plan.writers)
            await _collect_commits(client, service, "warmup", plan.warmup, plan.timeout_s)

            for number, size in enumerate(plan.round_sizes()):
                cpu, own_cpu = consumer.cpu_seconds(), time.process_time()
                started = time.time()
                await publisher.publish(size)
                published = time.time()
                acked = await _read_line(consumer, plan.timeout_s)
                floor.add(
                    size,
                    seconds=float(acked["at"]) - started,
                    writer_seconds=published - started,
                    consumer_cpu_s=consumer.cpu_seconds() - cpu,
                    producer_cpu_s=time.process_time() - own_cpu,
                )

                label = f"throughput-{number}"
                cpu, own_cpu = service.cpu_seconds(), time.process_time()
                relay_cpu = relay.cpu_seconds()
                started, written = await writer.burst(label, size, plan.batch, plan.writers)
                commits = await _collect_commits(client, service, label, size, plan.timeout_s)
                ours.add(
                    size,
                    seconds=max(commits.values()) - started,
                    writer_seconds=written - started,
                    consumer_cpu_s=service.cpu_seconds() - cpu,
                    producer_cpu_s=time.process_time() - own_cpu + relay.cpu_seconds() - relay_cpu,
                )
                rows = await _handled_rows(run, label)
                if rows != size:
                    raise RuntimeError(f"{rows} handled rows for {size} events of {label}")

            latency = await _latency_run(
                writer, client, service, plan, "latency", plan.rate, plan.latency_seconds
            )
            relaxed_rate = max(10.0, round(ours.per_s * plan.relaxed_fraction, -1))
            relaxed = await _latency_run(
                writer, client, service, plan, "relaxed", relaxed_rate, plan.relaxed_seconds
            )
    finally:
        await writer.close()
        await publisher.close()
        await processes.stop(consumer)
    return EventsResult(
        ours=ours,
        floor=floor,
        latency=latency,
        latency_relaxed=relaxed,
        disturbances=relay.disturbances() + service.disturbances(),
    )


async def _latency_run(
    writer: TickWriter,
    client: httpx.AsyncClient,
    service: processes.Child,
    plan: EventsPlan,
    label: str,
    rate: float,
    seconds: float,
) -> Latency:
    committed = await writer.paced(label, rate=rate, batch=plan.latency_batch, seconds=seconds)
    handled = await _collect_commits(client, service, label, len(committed), plan.timeout_s)
    return _latency(plan, rate, committed, handled)


def _latency(
    plan: EventsPlan, rate: float, committed: dict[int, float], handled: dict[int, float]
) -> Latency:
    first, last = min(committed.values()), max(committed.values())
    measured = [
        (handled[seq] - moment) * 1000.0
        for seq, moment in committed.items()
        if moment - first >= plan.latency_warmup_seconds
    ]
    span = last - first
    return Latency(
        offered_per_s=rate,
        achieved_per_s=len(committed) / span if span > 0 else 0.0,
        transactions_per_s=len(committed) / plan.latency_batch / span if span > 0 else 0.0,
        events=len(measured),
        distribution_ms=Distribution.of(measured),
    )
