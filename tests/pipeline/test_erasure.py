"""The pipeline's part of an erasure: the talent pool's ``erasure_requested`` anonymizes the
candidate's name, contacts, messages and free text (confirmed with
``pipeline.erasure_completed.v1``), and the candidate can ask for it through their portal."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from pipeline.app import spec as pipeline_spec
from shared.events.envelope import CloudEvent
from shared.events.talentpool import (
    CandidateErasureRequestedV1,
    ErasureRequestedV1,
    PipelineErasureCompletedV1,
)
from tests.pipeline.factories import application_body, create_job, transition
from tests.pipeline.portal_support import HR, bearer, issue_link, outbox
from tests.support.broker import publish
from tests.support.pii import leftovers
from tests.support.running import Running, api, running, wait_for
from tests.support.tokens import auth

NAME = "Quill Ferrante"
EMAIL = "quill.ferrante@example.com"
PHONE = "+8613912345678"
CANDIDATE_TEXT = "Hello, Quill Ferrante here, call me on 13912345678"


@pytest.fixture
async def pipeline() -> AsyncIterator[Running]:
    """The whole pipeline, consuming from its queue; its relay off, so the outbox keeps what
    the tests read."""
    async with running(pipeline_spec, run_relay=False) as service:
        yield service


async def _person(service: Running) -> dict[str, Any]:
    """A candidate with a name, email and phone, an application moved with a reason, a link,
    a message each way: what the pipeline keeps of a person."""
    client = service.client
    job = await create_job(client)
    body = application_body(EMAIL, NAME, phone=PHONE)
    created = await client.post(
        f"/v1/jobs/{job['id']}/applications",
        json=body,
        headers={**auth("hr", HR), "Idempotency-Key": f"apply-{uuid.uuid4()}"},
    )
    assert created.status_code == 201, created.text
    application = created.json()
    moved = await transition(
        client,
        application["id"],
        {"transition": "move", "to_stage": "round_1", "reason": f"{NAME} was convincing"},
        if_match='"1"',
    )
    assert moved.status_code == 200, moved.text
    link = await issue_link(client, uuid.UUID(application["id"]))
    written = await client.post(
        "/v1/portal/messages",
        json={"body": CANDIDATE_TEXT},
        headers={**bearer(link["token"]), "Idempotency-Key": "first-message"},
    )
    assert written.status_code == 201, written.text
    replied = await client.post(
        f"/v1/applications/{application['id']}/messages",
        json={"body": f"Thanks {NAME}, we will call {PHONE}"},
        headers=auth("hr", HR),
    )
    assert replied.status_code == 201, replied.text
    return {"application": application, "token": link["token"]}


def _erasure_requested(candidate_ids: list[uuid.UUID], erasure_id: uuid.UUID) -> CloudEvent:
    now = datetime.now(UTC)
    data = ErasureRequestedV1(
        erasure_id=erasure_id,
        profile_id=candidate_ids[0],
        candidate_ids=candidate_ids,
        reason="hr_request",
        requested_at=now,
    )
    return CloudEvent(
        id=uuid.uuid4(),
        source="/talentpool",
        type=data.event_type,
        time=now,
        subject=str(erasure_id),
        data=data.model_dump(mode="json"),
    )


async def _send(amqp: AbstractRobustConnection, event: CloudEvent) -> None:
    await publish(
        amqp,
        event.model_dump_json(exclude_none=True).encode(),
        routing_key=event.type,
        message_type=event.type,
    )


async def _confirmations(db: asyncpg.Connection, count: int) -> list[dict[str, Any]]:
    async def confirmed() -> list[dict[str, Any]] | None:
        found = await outbox(db, PipelineErasureCompletedV1.event_type)
        return found if len(found) >= count else None

    result: list[dict[str, Any]] = await wait_for(confirmed, what=f"{count} confirmation(s)")
    return result


async def test_erasure_leaves_no_name_contact_or_free_text_of_the_person_in_the_pipeline(
    pipeline: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    person = await _person(pipeline)
    application = person["application"]
    candidate_id = uuid.UUID(application["candidate_id"])
    assert await leftovers(db, ["pipeline"], needles=[NAME, EMAIL, PHONE]) != []
    erasure_id = uuid.uuid4()

    await _send(amqp, _erasure_requested([candidate_id], erasure_id))

    [confirmation] = await _confirmations(db, 1)
    assert confirmation["subject"] == str(erasure_id)
    data = confirmation["data"]
    assert data["erasure_id"] == str(erasure_id)
    assert data["candidate_ids"] == [str(candidate_id)]
    assert data["erased"]["candidates"] == 1
    assert data["erased"]["messages"] == 2
    assert data["erased"]["stage_changes"] == 1
    assert data["erased"]["link_tokens"] == 1
    assert data["erased"]["idempotency_keys"] == 2
    assert data["erased"]["outbox"] == 1  # the stage change's reason
    assert await leftovers(db, ["pipeline"], needles=[NAME, EMAIL, PHONE, "13912345678"]) == []
    contact = await pipeline.client.get(
        f"/v1/applications/{application['id']}/candidate", headers=auth("hr", HR)
    )
    assert contact.status_code == 200, contact.text
    assert (contact.json()["full_name"], contact.json()["email"], contact.json()["phone"]) == (
        "",
        "",
        None,
    )
    thread = await pipeline.client.get(
        f"/v1/applications/{application['id']}/messages", headers=auth("hr", HR)
    )
    assert [m["body"] for m in thread.json()["items"]] == ["", ""]
    history = await pipeline.client.get(
        f"/v1/applications/{application['id']}/history", headers=auth("hr", HR)
    )
    assert [change["reason"] for change in history.json()] == [None]
    portal = await pipeline.client.get("/v1/portal/application", headers=bearer(person["token"]))
    assert portal.status_code == 401


async def test_a_second_erasure_request_erases_nothing_new_and_confirms_again(
    pipeline: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    person = await _person(pipeline)
    candidate_id = uuid.UUID(person["application"]["candidate_id"])
    erasure_id = uuid.uuid4()
    await _send(amqp, _erasure_requested([candidate_id], erasure_id))
    await _confirmations(db, 1)

    await _send(amqp, _erasure_requested([candidate_id], erasure_id))

    first, second = await _confirmations(db, 2)
    assert first["data"]["erased"] != {}
    assert second["data"]["erased"] == {}
    assert second["data"]["erasure_id"] == str(erasure_id)


async def test_an_erased_person_applying_again_is_a_new_candidate(
    pipeline: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    person = await _person(pipeline)
    candidate_id = uuid.UUID(person["application"]["candidate_id"])
    await _send(amqp, _erasure_requested([candidate_id], uuid.uuid4()))
    await _confirmations(db, 1)

    job = await create_job(pipeline.client)
    again = await pipeline.client.post(
        f"/v1/jobs/{job['id']}/applications",
        json=application_body(EMAIL, NAME, phone=PHONE),
        headers=auth("hr", HR),
    )

    assert again.status_code == 201, again.text
    assert again.json()["candidate_id"] != str(candidate_id)


async def test_erasing_someone_unknown_confirms_with_nothing_erased(
    pipeline: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    await _send(amqp, _erasure_requested([uuid.uuid4()], uuid.uuid4()))

    [confirmation] = await _confirmations(db, 1)
    assert confirmation["data"]["erased"] == {}


# The candidate's own request through the portal


@pytest.fixture
async def portal() -> AsyncIterator[Running]:
    async with api(pipeline_spec) as service:
        yield service


async def _requests(db: asyncpg.Connection) -> list[dict[str, Any]]:
    return await outbox(db, CandidateErasureRequestedV1.event_type)


async def test_the_candidate_asks_for_erasure_through_the_portal_once(
    portal: Running, db: asyncpg.Connection
) -> None:
    person = await _person(portal)
    application = person["application"]

    first = await portal.client.post("/v1/portal/erasure-request", headers=bearer(person["token"]))
    again = await portal.client.post("/v1/portal/erasure-request", headers=bearer(person["token"]))

    assert first.status_code == 202, first.text
    assert first.json()["status"] == "requested"
    assert again.status_code == 202, again.text
    assert again.json() == first.json()
    [event] = await _requests(db)
    assert event["subject"] == application["candidate_id"]
    assert event["data"]["candidate_id"] == application["candidate_id"]
    assert event["data"]["application_id"] == application["id"]
    assert json.dumps(event).find(NAME) == -1


async def test_an_erasure_request_needs_a_valid_link(
    portal: Running, db: asyncpg.Connection
) -> None:
    person = await _person(portal)
    application_id = person["application"]["id"]
    links = await portal.client.get(
        f"/v1/applications/{application_id}/links", headers=auth("hr", HR)
    )
    [link] = links.json()
    revoked = await portal.client.delete(
        f"/v1/applications/{application_id}/links/{link['id']}", headers=auth("hr", HR)
    )
    assert revoked.status_code == 204

    without = await portal.client.post("/v1/portal/erasure-request")
    wrong = await portal.client.post("/v1/portal/erasure-request", headers=bearer("not-a-link"))
    staff = await portal.client.post("/v1/portal/erasure-request", headers=auth("hr", HR))
    withdrawn = await portal.client.post(
        "/v1/portal/erasure-request", headers=bearer(person["token"])
    )

    assert without.status_code == 401
    assert wrong.status_code == 401
    assert staff.status_code == 401
    assert withdrawn.status_code == 410
    assert await _requests(db) == []
