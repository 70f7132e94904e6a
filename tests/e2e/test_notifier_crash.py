"""The notifier killed (SIGKILL) in the middle of a burst of emails: after a restart every
message is sent exactly once. The real pipeline and notifier processes run on their ports, the
events come through the broker, and an SMTP server on loopback stands in for the provider. The
server holds its answers to the messages in flight when the notifier is killed, so those were
not accepted: they must be sent again after the restart, and the ones accepted before must not.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aio_pika
import asyncpg
import httpx
import pytest

from tests.e2e.flow import create_job
from tests.notifier.dispatch_support import stage_passed
from tests.notifier.peers import SmtpPeer
from tests.support import database, environment, processes
from tests.support.broker import publish
from tests.support.running import wait_for
from tests.support.tokens import auth

pytestmark = pytest.mark.e2e

BURST = 40
_STAGES = [
    {
        "key": "screening",
        "kind": "screening",
        "name_zh": "筛选",
        "name_en": "Screening",
        "sla_days": 2,
    },
    {
        "key": "round_1",
        "kind": "interview",
        "name_zh": "一面",
        "name_en": "First round",
        "sla_days": 3,
        "notify_candidate": True,
    },
]


def _notifier_environment(smtp: SmtpPeer, pipeline: processes.ServiceProcess) -> dict[str, str]:
    return {
        "NOTIFIER_SMTP_HOST": "127.0.0.1",
        "NOTIFIER_SMTP_PORT": str(smtp.port),
        "NOTIFIER_PIPELINE_URL": pipeline.url,
        "NOTIFIER_DEFAULT_QUIET_START": "00:00",
        "NOTIFIER_DEFAULT_QUIET_END": "00:00",
        "NOTIFIER_THROTTLE_PER_HOUR": "100",
        # A killed process's leases run out soon, so the test need not wait a minute.
        "NOTIFIER_DISPATCH_LEASE_S": "3",
        "NOTIFIER_DISPATCH_CONCURRENCY": "8",
    }


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpPeer]:
    async with SmtpPeer() as peer:
        yield peer


async def _ready(http: httpx.AsyncClient, service: processes.ServiceProcess) -> bool:
    assert service.alive(), f"{service.name} exited; see {service.log_path}"
    try:
        return (await http.get(f"{service.url}/readyz")).status_code == 200
    except httpx.TransportError:
        return False


async def test_a_killed_notifier_sends_every_email_exactly_once_after_a_restart(
    smtp: SmtpPeer, tmp_path: Path
) -> None:
    for directory in ("first", "second"):
        (tmp_path / directory).mkdir()
    pipeline = processes.start("pipeline", tmp_path / "first")
    notifier = processes.start(
        "notifier", tmp_path / "first", **_notifier_environment(smtp, pipeline)
    )
    restarted: processes.ServiceProcess | None = None
    db = await asyncpg.connect(database.test_dsn())
    amqp = await aio_pika.connect_robust(environment.AMQP_URL)
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            await wait_for(lambda: _ready(http, pipeline), timeout=60, what="the pipeline")
            await wait_for(lambda: _ready(http, notifier), timeout=60, what="the notifier")
            # No AI-interview stage first: nothing here should set the scheduler working.
            job = await create_job(http, pipeline.url, stages=_STAGES)
            candidates = []
            for number in range(BURST):
                response = await http.post(
                    f"{pipeline.url}/v1/jobs/{job['id']}/applications",
                    json={
                        "candidate": {
                            "full_name": f"Candidate {number}",
                            "email": f"burst-{number}-{uuid.uuid4().hex[:6]}@example.com",
                        }
                    },
                    headers=auth("hr", "hr-e2e"),
                )
                assert response.status_code == 201, response.text
                candidates.append(uuid.UUID(response.json()["candidate_id"]))

            for candidate in candidates:
                event = stage_passed(candidate, job_id=uuid.UUID(job["id"]))
                await publish(
                    amqp,
                    event.model_dump_json(exclude_none=True).encode(),
                    routing_key=event.type,
                    message_type=event.type,
                )

            # Let a part of the burst through, then hold the server's answers.
            await wait_for(lambda: _at_least(smtp, 8), timeout=30, what="the first emails")
            smtp.hold()
            await wait_for(lambda: _held(smtp), timeout=30, what="an email in flight")
            # Everything accepted so far is recorded as sent before the kill.
            await wait_for(lambda: _recorded(db, smtp), timeout=30, what="the sends recorded")
            accepted_before = len(smtp.messages)
            assert accepted_before < BURST

            notifier.process.kill()
            notifier.process.wait(timeout=10)
            await wait_for(lambda: _abandoned(smtp), timeout=10, what="held emails abandoned")
            smtp.release()

            restarted = processes.start(
                "notifier", tmp_path / "second", **_notifier_environment(smtp, pipeline)
            )
            await wait_for(lambda: _ready(http, restarted), timeout=60, what="the restart")
            await wait_for(lambda: _at_least(smtp, BURST), timeout=90, what="every email")
            await asyncio.sleep(4)  # past a lease: a duplicate would have come by now

        message_ids = Counter(mail.message["Message-ID"] for mail in smtp.messages)
        recipients = Counter(address for mail in smtp.messages for address in mail.recipients)
        assert len(smtp.messages) == BURST
        assert all(count == 1 for count in message_ids.values())
        assert len(recipients) == BURST and all(c == 1 for c in recipients.values())
        statuses = await db.fetch(
            "SELECT status, count(*) FROM notifier.deliveries WHERE channel = 'email'"
            " GROUP BY status"
        )
        assert {row["status"]: row["count"] for row in statuses} == {"sent": BURST}
        retaken = await db.fetchval(
            "SELECT count(*) FROM notifier.deliveries WHERE channel = 'email' AND attempts > 1"
        )
        assert retaken >= 1  # the ones in flight at the kill were taken again
    finally:
        await amqp.close()
        await db.close()
        for service in (notifier, restarted, pipeline):
            if service is not None:
                service.stop()


async def _at_least(smtp: SmtpPeer, count: int) -> bool:
    return len(smtp.messages) >= count


async def _held(smtp: SmtpPeer) -> bool:
    return smtp.held >= 1


async def _abandoned(smtp: SmtpPeer) -> bool:
    return smtp.abandoned >= 1


async def _recorded(db: asyncpg.Connection, smtp: SmtpPeer) -> bool:
    sent = await db.fetchval(
        "SELECT count(*) FROM notifier.deliveries WHERE channel = 'email' AND status = 'sent'"
    )
    return int(sent) == len(smtp.messages)
