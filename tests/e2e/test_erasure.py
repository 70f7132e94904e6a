"""Erasure proven end to end, with the four services running as real processes: a person with
a name, an email and a phone applies, gets a stage moved with a reason, messages both ways, an
AI-interview invitation with a vendor report, notifications and an inbox; then HR (or the
candidate, through their portal) asks the talent pool to erase them. Once every service has
confirmed, every table of every schema (outboxes, timelines, stored answers and webhook
deliveries included) is searched for the person's plain values, their blind indexes and
ciphertexts of them: nothing is left."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.e2e.conftest import SERVICES, VENDOR, VENDOR_SECRET, Suite
from tests.e2e.flow import ADMIN, HR, body_when, create_job
from tests.support.pii import blind_indexes, keyring, leftovers
from tests.support.running import wait_for

pytestmark = pytest.mark.e2e

STAGES = [
    {"key": "screening", "kind": "screening", "name_zh": "筛选", "name_en": "Screening",
     "sla_days": 2},
    {"key": "ai_interview", "kind": "ai_interview", "name_zh": "AI面试",
     "name_en": "AI interview", "sla_days": 3, "notify_candidate": True},
    {"key": "round_1", "kind": "interview", "name_zh": "一面", "name_en": "First round",
     "sla_days": 3, "notify_candidate": True},
]  # fmt: skip


class Someone:
    """A person of this test only: values found nowhere else in the database."""

    def __init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.name = f"Quill Ferrante{tag}"
        self.email = f"quill.{tag}@example.com"
        digits = f"{int(tag, 16) % 10**8:08d}"
        self.national = f"139{digits}"
        self.phone = f"+86{self.national}"
        self.report = f"https://vendor.example.com/reports/{tag}-quill"

    @property
    def needles(self) -> list[str]:
        return [self.name, self.email, self.national, self.report]


def _signed(body: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    raw = json.dumps(body).encode()
    webhook_id = f"msg_{uuid.uuid4().hex}"
    at = datetime.now(UTC)
    return raw, {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(VENDOR_SECRET).sign(webhook_id, at, raw.decode()),
    }


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _leave_traces(suite: Suite, http: httpx.AsyncClient, person: Someone) -> dict[str, Any]:
    """Everything a person leaves in the suite, through its APIs; their application."""
    pipeline, scheduler = suite.url("pipeline"), suite.url("scheduler")
    # The inbox message greets the candidate by name, so the notifier keeps it too.
    await _ok(
        await http.post(
            f"{suite.url('notifier')}/v1/templates/stage_passed/in_app/zh-CN/versions",
            json={"subject": "{{ job_title }}", "body": "{{ recipient_name }}, {{ job_title }}"},
            headers=ADMIN,
        ),
        201,
    )
    job = await create_job(http, pipeline, stages=STAGES)
    application = await _ok(
        await http.post(
            f"{pipeline}/v1/jobs/{job['id']}/applications",
            json={
                "candidate": {
                    "full_name": person.name,
                    "email": person.email,
                    "phone": person.phone,
                }
            },
            headers={**HR, "Idempotency-Key": f"apply-{uuid.uuid4()}"},
        ),
        201,
    )
    moved = await _ok(
        await http.post(
            f"{pipeline}/v1/applications/{application['id']}/transitions",
            json={
                "transition": "move",
                "to_stage": "ai_interview",
                "reason": f"{person.name} looks strong",
            },
            headers={**HR, "If-Match": '"1"'},
        )
    )
    assert moved["stage_key"] == "ai_interview"
    link = await _ok(
        await http.post(f"{pipeline}/v1/applications/{application['id']}/links", headers=HR), 201
    )
    candidate = {"Authorization": f"Bearer {link['token']}"}
    await _ok(
        await http.post(
            f"{pipeline}/v1/portal/messages",
            json={"body": f"Hi, {person.name} here; call me on {person.national}"},
            headers={**candidate, "Idempotency-Key": "my-first-message"},
        ),
        201,
    )
    await _ok(
        await http.post(
            f"{pipeline}/v1/applications/{application['id']}/messages",
            json={"body": f"Thanks {person.name}, we will write to {person.email}"},
            headers=HR,
        ),
        201,
    )
    raw, headers = _signed(
        {
            "type": "report_ready",
            "application_id": application["id"],
            "interview_id": f"iv_{uuid.uuid4().hex[:8]}",
            "occurred_at": datetime.now(UTC).isoformat(),
            "score": 81,
            "dimension_scores": {"communication": 80},
            "report_url": person.report,
        }
    )
    await _ok(
        await http.post(
            f"{pipeline}/v1/webhooks/ai-interviews/{VENDOR}", content=raw, headers=headers
        ),
        202,
    )
    # Every service holds its copy: the scheduler an invitation, the notifier messages, the
    # talent pool a profile with the contacts its matcher read from the pipeline.
    await wait_for(
        lambda: body_when(
            http,
            f"{scheduler}/v1/invitations?job_id={job['id']}&kind=ai_interview",
            lambda body: bool(body["items"]),
        ),
        timeout=20,
        what="the AI-interview invitation in the scheduler",
    )
    await wait_for(
        lambda: body_when(
            http,
            f"{suite.url('notifier')}/v1/deliveries?application_id={application['id']}",
            lambda body: any(d["status"] == "delivered" for d in body["items"]),
            headers=ADMIN,
        ),
        timeout=20,
        what="a message in the candidate's inbox",
    )
    await wait_for(
        lambda: body_when(
            http,
            f"{suite.url('talentpool')}/v1/profiles/{application['candidate_id']}",
            lambda body: body["email"] == person.email and body["full_name"] == person.name,
        ),
        timeout=30,
        what="the person in the talent pool, matched",
    )
    await wait_for(
        lambda: body_when(
            http,
            f"{pipeline}/v1/applications/{application['id']}/ai-interviews",
            lambda body: bool(body) and body[0]["report_url"] == person.report,
        ),
        timeout=20,
        what="the vendor's report applied",
    )
    return {"application": application, "candidate": candidate}


async def _completed(http: httpx.AsyncClient, talentpool: str, erasure_id: str) -> dict[str, Any]:
    report: dict[str, Any] = await wait_for(
        lambda: body_when(
            http,
            f"{talentpool}/v1/erasure-requests/{erasure_id}",
            lambda body: body["status"] == "completed",
        ),
        timeout=60,
        what="every service's confirmation",
    )
    return report


async def _nothing_left(db: asyncpg.Connection, person: Someone) -> None:
    ring = keyring()
    left = await leftovers(
        db,
        list(SERVICES),
        needles=person.needles,
        indexes=blind_indexes(ring, email=person.email, phone=person.phone),
        ring=ring,
    )
    assert left == []


async def test_erasure_asked_by_hr_leaves_nothing_of_the_person_in_any_service(
    ready_suite: Suite, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    person = Someone()
    traces = await _leave_traces(ready_suite, http, person)
    before = await leftovers(db, list(SERVICES), needles=person.needles)
    assert {place.split(".")[0] for place in before} >= {"pipeline", "notifier", "talentpool"}
    talentpool = ready_suite.url("talentpool")

    requested = await http.post(
        f"{talentpool}/v1/erasure-requests", json={"email": person.email.upper()}, headers=HR
    )
    assert requested.status_code == 202, requested.text
    again = await http.post(
        f"{talentpool}/v1/erasure-requests", json={"phone": person.national}, headers=HR
    )
    assert again.status_code == 200 and again.json()["id"] == requested.json()["id"]

    report = await _completed(http, talentpool, requested.json()["id"])
    services = {s["service"]: s for s in report["services"]}
    assert set(services) == set(SERVICES)
    assert all(s["status"] == "confirmed" for s in services.values())
    assert services["pipeline"]["erased"]["candidates"] == 1
    assert services["pipeline"]["erased"]["messages"] == 2
    assert services["scheduler"]["erased"]["invitations"] == 1
    assert services["notifier"]["erased"]["notifications"] >= 2
    assert services["talentpool"]["erased"]["profiles"] == 1
    await _nothing_left(db, person)
    portal = await http.get(
        f"{ready_suite.url('pipeline')}/v1/portal/application", headers=traces["candidate"]
    )
    assert portal.status_code == 401


async def test_erasure_asked_by_the_candidate_in_their_portal_reaches_every_service(
    ready_suite: Suite, http: httpx.AsyncClient, db: asyncpg.Connection
) -> None:
    person = Someone()
    traces = await _leave_traces(ready_suite, http, person)
    application = traces["application"]
    talentpool = ready_suite.url("talentpool")

    asked = await http.post(
        f"{ready_suite.url('pipeline')}/v1/portal/erasure-request", headers=traces["candidate"]
    )
    assert asked.status_code == 202, asked.text

    listed = await wait_for(
        lambda: body_when(
            http,
            f"{talentpool}/v1/erasure-requests?reason=candidate_request",
            lambda body: bool(body["items"]),
        ),
        timeout=30,
        what="the candidate's request in the talent pool",
    )
    (request,) = listed["items"]
    assert request["candidate_ids"] == [application["candidate_id"]]
    assert request["requested_by"] == "candidate"
    await _completed(http, talentpool, request["id"])
    await _nothing_left(db, person)
