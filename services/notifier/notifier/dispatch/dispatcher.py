"""The dispatcher: the loop that sends queued deliveries, in every replica.

1. **Claim** due deliveries with ``FOR UPDATE SKIP LOCKED`` and mark them ``sending`` under a
   lease, in a short transaction of its own (so replicas never take the same one).
2. **Prepare** them: the recipients' addresses (candidates' from the pipeline in one call per
   batch, staff's from our own encrypted contacts), the template in the recipient's language,
   tracking and unsubscribe links, the interview's .ics. A fallback delivery whose notification
   was read meanwhile is cancelled here, just before it would be sent.
3. **Send** concurrently (bounded), each through its channel.
4. **Record** each answer as soon as it comes, in small batches: sent or delivered, retried
   later with backoff, or failed with its reason.

A process that dies between a provider's acceptance and the record leaves the delivery
``sending``; when its lease runs out another pass sends it again, with the same Message-ID,
reference or webhook-id, so a provider or receiver that deduplicates sees one message. The
window is the few milliseconds between the answer and its commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

import httpx
import sqlalchemy as sa

from notifier.channels.base import Attachment, Channel, OutgoingMessage, SendResult
from notifier.channels.registry import build_channels, close_channels
from notifier.deliveries.models import ERASED, Delivery, DeliveryEvent
from notifier.dispatch import content, lifecycle
from notifier.dispatch.lifecycle import Change
from notifier.dispatch.planner import DISPATCH_CHANNEL
from notifier.endpoints.service import EndpointTarget, endpoints_by_id, record_endpoint_outcome
from notifier.jobs.service import jobs_by_id
from notifier.kinds import LOCALES
from notifier.notifications.models import Notification
from notifier.recipients.service import Contact, contacts_for
from notifier.robots.service import RobotTarget, robots_by_id
from notifier.settings import NotifierSettings
from notifier.templates.service import InForce, TemplateRenderError, in_force, render
from notifier.tracking.links import LinkSigner
from shared.crypto import Keyring
from shared.db.listener import Listener
from shared.directory import CandidateContact, CandidateDirectory, DirectoryUnavailable
from shared.logging import get_logger
from shared.service import Runtime

log = get_logger(__name__)

_d = cast(sa.Table, Delivery.__table__).c
_n = cast(sa.Table, Notification.__table__).c
_deliveries = cast(sa.Table, Delivery.__table__)
_notifications = cast(sa.Table, Notification.__table__)
MAX_BACKOFF_S = 3600.0
# Not on a delivery the person's erasure cancelled while it was being sent: what was rendered
# for them must not be stored after the erasure ran.
_STORE_CONTENT = (
    sa.update(_deliveries)
    .where(_d.id == sa.bindparam("b_id"), _d.reason.is_distinct_from(ERASED))
    .values(
        template_version=sa.bindparam("b_version"),
        subject=sa.func.coalesce(sa.bindparam("b_subject", type_=sa.Text), _d.subject),
        body=sa.func.coalesce(sa.bindparam("b_body", type_=sa.Text), _d.body),
    )
)
FLUSH_BATCH = 500
# Answers that come within this of the first one join its record transaction.
RECORD_GATHER_S = 0.005
RECORD_ATTEMPTS = 5


@dataclass(frozen=True)
class _Claimed:
    id: uuid.UUID
    notification_id: uuid.UUID
    channel: str
    step: int
    attempts: int


@dataclass
class _Outcome:
    claimed: _Claimed
    result: SendResult
    # For the in-app inbox: the rendered message is what the inbox shows.
    subject: str | None = None
    body: str | None = None
    template_version: int | None = None
    endpoint_id: uuid.UUID | None = None
    finished_at: datetime | None = None
    # Not sent on purpose: a fallback whose notification was read in the meantime.
    cancel: bool = False


@dataclass
class _Work:
    claimed: _Claimed
    message: OutgoingMessage | None = None
    outcome: _Outcome | None = None  # decided without sending (failed, cancelled, retry)
    endpoint_id: uuid.UUID | None = None
    template_version: int | None = None


@dataclass
class _Batch:
    notifications: dict[uuid.UUID, Any] = field(default_factory=dict)
    candidates: dict[uuid.UUID, CandidateContact] = field(default_factory=dict)
    directory_error: str | None = None
    contacts: dict[tuple[str, str], Contact] = field(default_factory=dict)
    robots: dict[uuid.UUID, RobotTarget] = field(default_factory=dict)
    endpoints: dict[uuid.UUID, EndpointTarget] = field(default_factory=dict)
    job_titles: dict[uuid.UUID, str] = field(default_factory=dict)
    versions: InForce = field(default_factory=dict)


class Dispatcher:
    name = "dispatcher"

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime
        self._settings = cast(NotifierSettings, runtime.settings)
        # Built when the dispatcher starts: building the app (for its OpenAPI document, say)
        # needs no keys.
        self._keyring: Keyring | None = None
        self._signer = LinkSigner(self._settings)
        self._channels: dict[str, Channel] = {}
        self._http: httpx.AsyncClient | None = None
        self._directory: CandidateDirectory | None = None
        self._wake = asyncio.Event()
        self._listener = Listener(
            runtime.db, channel=DISPATCH_CHANNEL, wake=self.wake, name="notifier-dispatcher"
        )
        self._outcomes: asyncio.Queue[_Outcome] = asyncio.Queue()
        self._slots = asyncio.Semaphore(self._settings.dispatch_concurrency)
        self._in_flight: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        # The batch of outcomes being recorded now: stopping waits for it rather than cutting
        # it off (a cut-off record leaves its deliveries ``sending``, sent again after their
        # leases).
        self._recording: asyncio.Future[None] | None = None
        self._stopping = False
        self._last_pass: float | None = None
        # Claimed and not yet recorded: their leases are renewed while they are ours, and
        # they count against how much one process takes at a time.
        self._held: set[uuid.UUID] = set()
        self._recorded = asyncio.Event()
        self._renewer: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        self._stopping = False
        self._open()
        self._task = asyncio.create_task(self._run(), name="notifier-dispatcher")
        self._flusher = asyncio.create_task(self._flush_loop(), name="notifier-recorder")
        self._renewer = asyncio.create_task(self._renew_loop(), name="notifier-leases")

    def _open(self) -> None:
        if self._keyring is None:
            self._keyring = Keyring.from_settings(self._settings)
        if self._http is None:
            self._channels = build_channels(self._settings)
            self._http = httpx.AsyncClient(follow_redirects=False)
            self._directory = CandidateDirectory(self._settings, self._http)

    async def stop(self) -> None:
        """Finish the sends under way and record them before closing (a send cut off halfway
        would be sent again after its lease)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=15)
        for task in (self._flusher, self._renewer):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        if self._recording is not None:
            await asyncio.gather(self._recording, return_exceptions=True)
        await self._drain_outcomes()
        self._flusher = self._renewer = None
        await self._listener.close()
        await close_channels(self._channels)
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    @property
    def alive(self) -> bool:
        stale_after = max(10 * self._settings.dispatch_poll_interval_s, 30.0)
        return (
            self._task is not None
            and not self._task.done()
            and self._last_pass is not None
            and time.monotonic() - self._last_pass < stale_after
        )

    def wake(self) -> None:
        self._wake.set()

    # -- the loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        limit = self._settings.dispatch_concurrency * 4
        while not self._stopping:
            try:
                await self._listener.ensure()
            except Exception as exc:
                log.warning("dispatch.listen_failed", error=type(exc).__name__)
            try:
                while not self._stopping:
                    room = limit - len(self._held)
                    if room <= 0:
                        # Wait for answers to be recorded: taking more than can be sent and
                        # recorded soon would only hold leases.
                        self._recorded.clear()
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._recorded.wait(), timeout=1.0)
                        continue
                    claimed = await self._claim(min(room, self._settings.dispatch_batch_size))
                    if not claimed:
                        break
                    await self._start_sends(claimed)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("dispatch.pass_failed", error=type(exc).__name__, detail=str(exc)[:200])
            self._last_pass = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._wake.wait(), timeout=self._settings.dispatch_poll_interval_s
                )
            self._wake.clear()

    async def run_once(self) -> int:
        """One pass without the loop (tests drive time with a manual clock): claim what is due,
        send it and record every answer. Returns how many deliveries were claimed."""
        self._open()
        total = 0
        while True:
            claimed = await self._claim(self._settings.dispatch_batch_size)
            if not claimed:
                break
            total += len(claimed)
            await self._start_sends(claimed)
            if self._in_flight:
                await asyncio.wait(set(self._in_flight))
            await self._drain_outcomes()
        return total

    # -- claiming ------------------------------------------------------------------------

    async def _claim(self, limit: int) -> list[_Claimed]:
        now = self._runtime.clock.now()
        due = (
            sa.select(_d.id)
            .where(
                sa.or_(
                    sa.and_(_d.status == "queued", _d.next_attempt_at <= now),
                    sa.and_(_d.status == "sending", _d.lease_until < now),
                )
            )
            .order_by(_d.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .cte("due")
        )
        statement = (
            sa.update(_deliveries)
            .where(_d.id == due.c.id)
            .values(
                status="sending",
                lease_until=now + timedelta(seconds=self._settings.dispatch_lease_s),
                attempts=_d.attempts + 1,
                updated_at=now,
            )
            .returning(_d.id, _d.notification_id, _d.channel, _d.step, _d.attempts)
        )
        async with self._runtime.db.sessionmaker() as session, session.begin():
            rows = (await session.execute(statement)).all()
        self._held.update(row.id for row in rows)
        return [_Claimed(r.id, r.notification_id, r.channel, r.step, r.attempts) for r in rows]

    async def _renew_loop(self) -> None:
        """Extend the leases of what this process holds, a third of a lease before they run
        out, so a slow provider or a backlog of answers to record never lets another replica
        take (and send again) a delivery this one is still sending. A process that dies stops
        renewing, and its deliveries are taken again once their leases end."""
        interval = self._settings.dispatch_lease_s / 3
        while True:
            await asyncio.sleep(interval)
            held = list(self._held)
            if not held:
                continue
            now = self._runtime.clock.now()
            try:
                async with self._runtime.db.sessionmaker() as session, session.begin():
                    await session.execute(
                        sa.update(_deliveries)
                        .where(_d.id.in_(held), _d.status == "sending")
                        .values(
                            lease_until=now + timedelta(seconds=self._settings.dispatch_lease_s)
                        )
                    )
            except Exception as exc:
                log.warning("dispatch.renew_failed", error=type(exc).__name__)

    # -- preparing -----------------------------------------------------------------------

    async def _start_sends(self, claimed: list[_Claimed]) -> None:
        works = await self._prepare(claimed)
        for work in works:
            if work.outcome is not None:
                self._outcomes.put_nowait(work.outcome)
                continue
            task = asyncio.create_task(self._send(work))
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

    async def _prepare(self, claimed: list[_Claimed]) -> list[_Work]:
        now = self._runtime.clock.now()
        async with self._runtime.db.sessionmaker() as session:
            batch = await self._load(session, claimed)
            works: list[_Work] = []
            for item in claimed:
                work = _Work(item)
                try:
                    await self._compose(session, work, batch, now)
                except TemplateRenderError as error:
                    work.outcome = _Outcome(item, SendResult("failed", reason=str(error)[:300]))
                works.append(work)
        return works

    async def _load(self, session: Any, claimed: list[_Claimed]) -> _Batch:
        batch = _Batch()
        assert self._keyring is not None, "the dispatcher was not started"
        ids = list({item.notification_id for item in claimed})
        rows = await session.execute(
            sa.select(_notifications).where(
                _n.id == sa.any_(sa.bindparam("ids", ids, type_=lifecycle.IDS))
            )
        )
        batch.notifications = {row.id: row for row in rows}
        people: list[tuple[str, str]] = []
        candidates: list[uuid.UUID] = []
        robots: list[uuid.UUID] = []
        endpoints: list[uuid.UUID] = []
        for row in batch.notifications.values():
            if row.recipient_kind == "candidate":
                candidates.append(uuid.UUID(row.recipient_id))
            elif row.recipient_kind == "robot":
                robots.append(uuid.UUID(row.recipient_id))
            elif row.recipient_kind == "endpoint":
                endpoints.append(uuid.UUID(row.recipient_id))
            people.append((row.recipient_kind, row.recipient_id))
        batch.contacts = await contacts_for(session, self._keyring, people)
        if candidates:
            assert self._directory is not None
            try:
                batch.candidates = await self._directory.contacts(candidates)
            except DirectoryUnavailable as error:
                batch.directory_error = str(error)
        if robots:
            batch.robots = await robots_by_id(session, self._keyring, robots)
        if endpoints:
            batch.endpoints = await endpoints_by_id(session, self._keyring, endpoints)
        jobs = await jobs_by_id(
            session, [row.job_id for row in batch.notifications.values() if row.job_id]
        )
        batch.job_titles = {job_id: job.title for job_id, job in jobs.items()}
        batch.versions = await in_force(
            session,
            [
                (row.kind, channel, locale)
                for row in batch.notifications.values()
                for channel in {item.channel for item in claimed} - {"webhook"}
                for locale in LOCALES
            ],
        )
        return batch

    async def _compose(self, session: Any, work: _Work, batch: _Batch, now: datetime) -> None:
        item = work.claimed
        notification = batch.notifications.get(item.notification_id)
        if notification is None:
            work.outcome = _Outcome(item, SendResult("failed", reason="notification removed"))
            return
        if item.step > 0 and notification.status == "engaged":
            work.outcome = _Outcome(
                item, SendResult("failed", reason="read before the fallback was due"), cancel=True
            )
            return
        recipient = (notification.recipient_kind, notification.recipient_id)
        contact = batch.contacts.get(recipient)
        name, email, phone, locale = "", None, None, None
        if notification.recipient_kind == "candidate":
            if batch.directory_error is not None and item.channel in ("email", "sms"):
                work.outcome = _Outcome(item, SendResult("retry", reason=batch.directory_error))
                return
            person = batch.candidates.get(uuid.UUID(notification.recipient_id))
            if person is not None:
                name, email, phone, locale = (
                    person.full_name,
                    person.email,
                    person.phone,
                    person.locale,
                )
            elif batch.directory_error is None and item.channel in ("email", "sms"):
                work.outcome = _Outcome(
                    item, SendResult("failed", reason="candidate unknown to the pipeline")
                )
                return
        elif contact is not None:
            email, phone = contact.email, contact.phone
        if contact is not None and contact.locale:
            locale = locale or contact.locale
        language = content.pick_locale(locale, default=self._settings.default_locale)
        job_title = batch.job_titles.get(notification.job_id, "") if notification.job_id else ""
        variables = content.variables_for(
            notification.data,
            settings=self._settings,
            locale=language,
            recipient_name=name,
            job_title=job_title,
        )
        if contact is not None and contact.time_zone and "time_zone" not in notification.data:
            variables["time_zone"] = contact.time_zone
        message_id = item.id
        if item.channel == "webhook":
            endpoint = batch.endpoints.get(uuid.UUID(notification.recipient_id))
            if endpoint is None:
                work.outcome = _Outcome(item, SendResult("failed", reason="endpoint disabled"))
                return
            work.endpoint_id = endpoint.id
            work.message = OutgoingMessage(
                delivery_id=message_id,
                kind=notification.kind,
                address=endpoint.url,
                subject=None,
                text="",
                secret=endpoint.secret,
                payload=content.webhook_payload(
                    delivery_id=item.id,
                    notification=notification,
                    created_at=notification.created_at,
                ),
                idempotency_key=f"msg_{item.id.hex}",
            )
            return
        template_channel = "chat" if item.channel == "chat" else item.channel
        rendered = await render(
            session,
            kind=notification.kind,
            channel=template_channel,
            locale=language,
            variables=variables,
            versions=batch.versions,
        )
        work.template_version = rendered.version
        address = ""
        secret: str | None = None
        robot: RobotTarget | None = None
        headers: dict[str, str] = {}
        attachments: tuple[Attachment, ...] = ()
        html = rendered.html
        if item.channel == "email":
            if not email:
                work.outcome = _Outcome(item, SendResult("failed", reason="no email address"))
                return
            address = email
            if html is not None:
                html = self._signer.track_html(html, item.id)
            if notification.recipient_kind in ("candidate", "staff", "interviewer"):
                headers = content.email_headers(
                    self._signer,
                    recipient_kind=notification.recipient_kind,
                    recipient_id=notification.recipient_id,
                    kind=notification.kind,
                )
            if notification.kind in content.ICS_KINDS and "calendar_uid" in notification.data:
                method = "CANCEL" if content.ICS_KINDS[notification.kind] else "REQUEST"
                attachments = (
                    Attachment(
                        filename="invite.ics",
                        content_type=f"text/calendar; method={method}; charset=utf-8",
                        data=content.calendar_file(
                            notification.kind, notification.data, job_title=job_title, now=now
                        ),
                    ),
                )
        elif item.channel == "sms":
            if not phone:
                work.outcome = _Outcome(item, SendResult("failed", reason="no phone number"))
                return
            address = phone
        elif item.channel == "chat":
            robot = batch.robots.get(uuid.UUID(notification.recipient_id))
            if robot is None:
                work.outcome = _Outcome(item, SendResult("failed", reason="chat robot removed"))
                return
            address, secret = robot.url, robot.secret
        elif item.channel == "in_app":
            address = f"{notification.recipient_kind}:{notification.recipient_id}"
        work.message = OutgoingMessage(
            delivery_id=message_id,
            kind=notification.kind,
            address=address,
            subject=rendered.subject,
            text=rendered.text,
            html=html,
            attachments=attachments,
            headers=headers,
            secret=secret,
            idempotency_key=str(item.id),
        )
        if robot is not None:
            work.message = replace(work.message, payload={"provider": robot.provider})

    # -- sending -------------------------------------------------------------------------

    def _channel_for(self, work: _Work) -> Channel:
        if work.claimed.channel == "chat":
            assert work.message is not None
            return self._channels[str(work.message.payload["provider"])]
        return self._channels[work.claimed.channel]

    async def _send(self, work: _Work) -> None:
        assert work.message is not None
        async with self._slots:
            try:
                result = await self._channel_for(work).send(work.message)
            except Exception as exc:  # a channel must classify; this is our own fault
                log.error("dispatch.channel_crashed", channel=work.claimed.channel, exc_info=exc)
                result = SendResult("retry", reason=f"internal error ({type(exc).__name__})")
        outcome = _Outcome(
            work.claimed,
            result,
            template_version=work.template_version,
            endpoint_id=work.endpoint_id,
            finished_at=self._runtime.clock.now(),
        )
        if work.claimed.channel == "in_app":
            outcome.subject, outcome.body = work.message.subject, work.message.text
        self._outcomes.put_nowait(outcome)

    # -- recording -----------------------------------------------------------------------

    async def _flush_loop(self) -> None:
        while True:
            first = await self._outcomes.get()
            await asyncio.sleep(RECORD_GATHER_S)  # let a few more answers join this transaction
            batch = [first]
            while len(batch) < FLUSH_BATCH and not self._outcomes.empty():
                batch.append(self._outcomes.get_nowait())
            # Shielded: stopping cancels this loop, never a record half done.
            self._recording = asyncio.ensure_future(self._record_safely(batch))
            await asyncio.shield(self._recording)
            self._recording = None

    async def _drain_outcomes(self) -> None:
        while not self._outcomes.empty():
            batch: list[_Outcome] = []
            while len(batch) < FLUSH_BATCH and not self._outcomes.empty():
                batch.append(self._outcomes.get_nowait())
            await self._record_safely(batch)

    async def _record_safely(self, batch: list[_Outcome]) -> None:
        """Record a batch, retrying while the database is away. When the database answers and
        the batch still fails, something in it cannot be recorded (a delivery deleted while it
        was being sent): each outcome is then recorded alone, so that one neither holds back
        the others nor takes them down with it. Given up on, a sent message's record would let
        its lease run out and the message go out again."""
        for attempt in range(RECORD_ATTEMPTS):
            try:
                await self.record(batch)
            except Exception as exc:
                log.warning(
                    "dispatch.record_failed",
                    error=type(exc).__name__,
                    attempt=attempt + 1,
                    deliveries=len(batch),
                )
                if await self._runtime.db.reachable():
                    if len(batch) > 1:
                        for outcome in batch:
                            await self._record_safely([outcome])
                        return
                    if await self._gone(batch[0]):
                        self._held.discard(batch[0].claimed.id)
                        log.warning("dispatch.record_skipped", reason="delivery deleted")
                        return
                await asyncio.sleep(0.5 * (attempt + 1))
                continue
            self._held.difference_update(outcome.claimed.id for outcome in batch)
            self._recorded.set()
            return
        # Let the leases run out so the deliveries are taken again: sent at least once.
        self._held.difference_update(outcome.claimed.id for outcome in batch)
        log.error("dispatch.record_gave_up", deliveries=len(batch))

    async def _gone(self, outcome: _Outcome) -> bool:
        """Whether the outcome's delivery no longer exists (nothing left to record)."""
        try:
            async with self._runtime.db.sessionmaker() as session:
                found = await session.scalar(sa.select(_d.id).where(_d.id == outcome.claimed.id))
        except Exception:
            return False
        return found is None

    async def record(self, batch: Sequence[_Outcome]) -> None:
        now = self._runtime.clock.now()
        async with self._runtime.db.sessionmaker() as session, session.begin():
            unit = self._runtime.unit(session)
            changes: list[Change] = []
            for outcome in batch:
                changes.extend(await self._record_one(unit, outcome, now))
            contents = [
                {
                    "b_id": outcome.claimed.id,
                    "b_version": outcome.template_version,
                    "b_subject": outcome.subject,
                    "b_body": outcome.body,
                }
                for outcome in batch
                if outcome.template_version is not None
            ]
            if contents:
                # What each was rendered from (and, for the inbox, what it says): one statement
                # for the batch.
                await session.execute(_STORE_CONTENT, contents)
            await lifecycle.apply(unit, changes)

    async def _record_one(self, unit: Any, outcome: _Outcome, now: datetime) -> list[Change]:
        item, result = outcome.claimed, outcome.result
        session = unit.session
        if outcome.endpoint_id is not None and result.outcome in ("delivered", "retry", "failed"):
            disabled = await record_endpoint_outcome(
                session,
                endpoint_id=outcome.endpoint_id,
                succeeded=result.outcome == "delivered",
                now=now,
                disable_after=timedelta(days=self._settings.webhook_disable_after_days),
            )
            if disabled and result.outcome == "retry":
                result = SendResult("failed", reason="endpoint disabled after failing for days")
        at = outcome.finished_at or now
        if outcome.cancel:
            return [Change(item.id, "status", "cancelled", "dispatcher", at, reason=result.reason)]
        if result.outcome in ("sent", "delivered"):
            return [
                Change(
                    item.id,
                    "status",
                    result.outcome,
                    item.channel,
                    at,
                    provider_message_id=result.provider_message_id,
                )
            ]
        if result.outcome == "retry" and item.attempts < self._max_attempts(item.channel):
            delay = self._backoff(item, result)
            await session.execute(
                sa.update(_deliveries)
                .where(_d.id == item.id, _d.status == "sending")
                .values(
                    status="queued",
                    next_attempt_at=now + timedelta(seconds=delay),
                    lease_until=None,
                    reason=result.reason,
                    updated_at=now,
                )
            )
            await session.execute(
                sa.insert(cast(sa.Table, DeliveryEvent.__table__)).values(
                    delivery_id=item.id,
                    type="attempt",
                    value="retry",
                    source=item.channel,
                    reason=result.reason,
                    occurred_at=at,
                    recorded_at=now,
                )
            )
            return []
        reason = result.reason or "failed"
        if result.outcome == "retry":
            reason = f"gave up after {item.attempts} attempts: {reason}"
        return [Change(item.id, "status", "failed", item.channel, at, reason=reason)]

    def _max_attempts(self, channel: str) -> int:
        if channel == "webhook":
            return len(self._settings.webhook_retry_delays_s) + 1
        return self._settings.max_attempts

    def _backoff(self, item: _Claimed, result: SendResult) -> float:
        if result.retry_after_s is not None:
            return min(max(result.retry_after_s, 1.0), MAX_BACKOFF_S)
        if item.channel == "webhook":
            delays = self._settings.webhook_retry_delays_s
            base = delays[min(item.attempts, len(delays)) - 1]
            return float(base) * random.uniform(0.9, 1.1)  # noqa: S311 (jitter, not a secret)
        base = self._settings.retry_base_s * 2 ** (item.attempts - 1)
        return float(min(base * random.uniform(0.8, 1.2), MAX_BACKOFF_S))  # noqa: S311


def dispatcher(runtime: Runtime) -> Dispatcher:
    """The worker factory the notifier's spec names."""
    return Dispatcher(runtime)
