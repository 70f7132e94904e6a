"""Erasure in the talent pool: a request by HR (by profile, candidate, email or phone) or by the
candidate through the pipeline anonymizes the pool's copy at once, asks every service with
``erasure_requested`` and completes when all four confirmed; asking again returns the first
request; only for people the caller may see."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection
from prometheus_client import REGISTRY

from shared.events.pipeline import NoShowRecordedV1
from shared.events.talentpool import (
    CandidateErasureRequestedV1,
    ErasureRequestedV1,
    NotifierErasureCompletedV1,
    PipelineErasureCompletedV1,
    SchedulerErasureCompletedV1,
)
from talentpool.app import spec as talentpool_spec
from talentpool.erasure import service
from tests.support.pii import blind_indexes, keyring, leftovers
from tests.support.problems import assert_problem
from tests.support.running import Running, running, wait_for
from tests.talentpool.concurrency_support import blocked_or_done
from tests.talentpool.erasure_support import (
    ADMIN,
    INTERVIEWER,
    JOB_OWNER,
    SEARCHER,
    STRANGER,
    Person,
    envelope,
    erase,
    in_pool,
    pool_with_pipeline,
    profile,
    report,
    send,
)
from tests.talentpool.tags_support import a_person

RESUME = "Seven years of Rust at Zephyrine Logistics, Hangzhou"
NOTE = "Prefers calls after six, mentioned the Zephyrine offer"


@pytest.fixture
async def pool() -> AsyncIterator[Running]:
    """The talent pool consuming from its queue (people come from events), without matching."""
    async with running(talentpool_spec, run_workers=False) as service:
        yield service


@pytest.fixture
async def person(pool: Running, amqp: AbstractRobustConnection) -> Person:
    someone = Person()
    await someone.applies(amqp)
    await in_pool(pool, someone)
    return someone


async def _requested_events(db: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT payload FROM talentpool.outbox WHERE event_type = $1 ORDER BY id",
        ErasureRequestedV1.event_type,
    )
    return [json.loads(row["payload"]) for row in rows]


async def _confirm(
    amqp: AbstractRobustConnection,
    erasure_id: str,
    candidate_ids: list[str],
    model: type[PipelineErasureCompletedV1]
    | type[SchedulerErasureCompletedV1]
    | type[NotifierErasureCompletedV1],
    erased: dict[str, int],
) -> None:
    now = datetime.now(UTC)
    data = model(
        erasure_id=uuid.UUID(erasure_id),
        candidate_ids=[uuid.UUID(c) for c in candidate_ids],
        erased=erased,
        completed_at=now,
    )
    await send(amqp, envelope(data, subject=uuid.UUID(erasure_id), at=now))


async def test_a_request_anonymizes_the_pools_copy_at_once_and_asks_every_service(
    pool: Running, person: Person, db: asyncpg.Connection
) -> None:
    changed = await pool.client.patch(
        f"/v1/profiles/{person.profile_id}",
        json={"skills": ["rust"], "location": "Hangzhou", "resume_text": RESUME},
        headers=ADMIN,
    )
    assert changed.status_code == 200, changed.text
    noted = await pool.client.post(
        f"/v1/profiles/{person.profile_id}/notes", json={"body": NOTE}, headers=ADMIN
    )
    assert noted.status_code == 201, noted.text
    assert await leftovers(db, ["talentpool"], needles=["Zephyrine"]) != []

    response = await erase(pool, {"profile_id": str(person.profile_id)}, JOB_OWNER)

    assert response.status_code == 202, response.text
    body = response.json()
    assert response.headers["location"] == f"/v1/erasure-requests/{body['id']}"
    assert body["profile_id"] == str(person.profile_id)
    assert body["candidate_ids"] == [str(person.candidate_id)]
    assert (body["reason"], body["requested_by"]) == ("hr_request", "hr-alice")
    assert (body["status"], body["completed_at"]) == ("pending", None)
    services = {s["service"]: s for s in body["services"]}
    assert list(services) == ["talentpool", "pipeline", "scheduler", "notifier"]
    assert services["talentpool"]["status"] == "confirmed"
    assert services["talentpool"]["erased"]["profiles"] == 1
    assert services["talentpool"]["erased"]["profile_notes"] == 1
    assert all(services[s]["status"] == "pending" for s in ("pipeline", "scheduler", "notifier"))
    assert await leftovers(db, ["talentpool"], needles=["Zephyrine", "Hangzhou", "rust"]) == []
    erased = await profile(pool, person.profile_id)
    assert erased["anonymized_at"] is not None
    assert (erased["full_name"], erased["email"], erased["phone"]) == (None, None, None)
    assert (erased["skills"], erased["location"], erased["resume_text"]) == ([], None, None)
    notes = await pool.client.get(f"/v1/profiles/{person.profile_id}/notes", headers=ADMIN)
    assert notes.json()["items"] == []
    [event] = await _requested_events(db)
    assert event["subject"] == body["id"]
    assert event["data"]["erasure_id"] == body["id"]
    assert event["data"]["candidate_ids"] == [str(person.candidate_id)]
    assert event["data"]["reason"] == "hr_request"


async def test_the_timeline_keeps_kinds_and_times_but_no_free_text(
    pool: Running, person: Person, db: asyncpg.Connection
) -> None:
    # What an event may one day carry as free text (the catalog's events carry none today).
    await db.execute(
        """INSERT INTO talentpool.timeline_entries
               (candidate_id, application_id, job_id, kind, source, occurred_at, data,
                source_event_id)
           VALUES ($1, $2, $3, 'replied', 'pipeline', now(), $4::jsonb, $5)""",
        person.candidate_id,
        person.application_id,
        person.job_id,
        json.dumps({"sender_kind": "candidate", "reason": "Zephyrine", "body": "Zephyrine"}),
        uuid.uuid4(),
    )
    before = await pool.client.get(f"/v1/profiles/{person.profile_id}/timeline", headers=ADMIN)
    kinds = [(e["kind"], e["occurred_at"]) for e in before.json()["items"]]

    await erase(pool, {"profile_id": str(person.profile_id)})

    after = await pool.client.get(f"/v1/profiles/{person.profile_id}/timeline", headers=ADMIN)
    assert [(e["kind"], e["occurred_at"]) for e in after.json()["items"]] == kinds
    replied = next(e for e in after.json()["items"] if e["kind"] == "replied")
    assert replied["data"] == {"sender_kind": "candidate"}
    assert await leftovers(db, ["talentpool"], needles=["Zephyrine"]) == []


async def test_asking_again_for_the_same_person_returns_the_first_request(
    pool: Running, person: Person, db: asyncpg.Connection
) -> None:
    first = await erase(pool, {"profile_id": str(person.profile_id)})
    by_profile = await erase(pool, {"profile_id": str(person.profile_id)}, SEARCHER)
    by_candidate = await erase(pool, {"candidate_id": str(person.candidate_id)}, JOB_OWNER)

    assert first.status_code == 202, first.text
    for again in (by_profile, by_candidate):
        assert again.status_code == 200, again.text
        assert again.json()["id"] == first.json()["id"]
        assert again.json()["requested_by"] == "admin-zoe"
    assert len(await _requested_events(db)) == 1


async def test_every_services_confirmation_completes_the_report(
    pool: Running, person: Person, amqp: AbstractRobustConnection
) -> None:
    created = (await erase(pool, {"profile_id": str(person.profile_id)})).json()
    erasure_id, candidates = created["id"], created["candidate_ids"]

    await _confirm(amqp, erasure_id, candidates, PipelineErasureCompletedV1, {"candidates": 1})
    await _confirm(amqp, erasure_id, candidates, SchedulerErasureCompletedV1, {})
    partly = await wait_for(
        lambda: _with_confirmed(pool, erasure_id, 3), what="two services confirmed"
    )
    assert partly["status"] == "pending"
    await _confirm(amqp, erasure_id, candidates, NotifierErasureCompletedV1, {"deliveries": 2})

    done = await wait_for(lambda: _with_confirmed(pool, erasure_id, 4), what="all confirmed")
    assert done["status"] == "completed" and done["completed_at"] is not None
    services = {s["service"]: s for s in done["services"]}
    assert services["pipeline"]["erased"] == {"candidates": 1}
    assert services["scheduler"]["erased"] == {}
    assert services["notifier"]["erased"] == {"deliveries": 2}
    assert all(s["confirmed_at"] for s in done["services"])


async def test_a_repeated_confirmation_changes_nothing(
    pool: Running, person: Person, amqp: AbstractRobustConnection
) -> None:
    created = (await erase(pool, {"profile_id": str(person.profile_id)})).json()
    erasure_id, candidates = created["id"], created["candidate_ids"]
    await _confirm(amqp, erasure_id, candidates, PipelineErasureCompletedV1, {"candidates": 1})
    first = await wait_for(lambda: _with_confirmed(pool, erasure_id, 2), what="confirmed")

    await _confirm(amqp, erasure_id, candidates, PipelineErasureCompletedV1, {})
    await _confirm(amqp, str(uuid.uuid4()), candidates, SchedulerErasureCompletedV1, {})
    await _confirm(amqp, erasure_id, candidates, SchedulerErasureCompletedV1, {})
    await wait_for(lambda: _with_confirmed(pool, erasure_id, 3), what="scheduler confirmed")

    after = await report(pool, erasure_id)
    pipeline = next(s for s in after["services"] if s["service"] == "pipeline")
    assert pipeline == next(s for s in first["services"] if s["service"] == "pipeline")
    assert pipeline["erased"] == {"candidates": 1}


async def _with_confirmed(pool: Running, erasure_id: str, count: int) -> dict[str, Any] | None:
    """The report once ``count`` services confirmed (and, when all have, once it says the
    request is completed)."""
    body = await report(pool, erasure_id)
    confirmed = [s for s in body["services"] if s["status"] == "confirmed"]
    if len(confirmed) != count:
        return None
    everyone = count == len(body["services"])
    return body if not everyone or body["status"] == "completed" else None


async def test_two_last_confirmations_handled_at_once_complete_the_request(
    pool: Running, db: asyncpg.Connection
) -> None:
    someone = await a_person(db)
    created = (await erase(pool, {"profile_id": str(someone.profile_id)})).json()
    erasure_id = uuid.UUID(created["id"])
    first_done, release = asyncio.Event(), asyncio.Event()

    async def confirm(producer: str, *, hold: bool = False) -> None:
        async with pool.runtime.db.transaction() as session:
            confirmed = service.Confirmed(erasure_id, producer, datetime.now(UTC), {})
            await service.record_confirmations(pool.runtime.unit(session), [confirmed])
            if hold:  # counted, not yet committed
                first_done.set()
                await release.wait()

    await confirm("pipeline")
    scheduler = asyncio.create_task(confirm("scheduler", hold=True))
    await first_done.wait()
    notifier = asyncio.create_task(confirm("notifier"))
    await blocked_or_done(db, notifier)
    release.set()
    await asyncio.gather(scheduler, notifier)

    done = await report(pool, str(erasure_id))
    assert [s["status"] for s in done["services"]] == ["confirmed"] * 4
    assert done["status"] == "completed"


async def test_the_candidates_own_request_through_the_pipeline_is_one_request(
    pool: Running, person: Person, amqp: AbstractRobustConnection
) -> None:
    now = datetime.now(UTC)
    data = CandidateErasureRequestedV1(
        candidate_id=person.candidate_id, application_id=person.application_id, requested_at=now
    )

    await send(amqp, envelope(data, subject=person.candidate_id, at=now))
    await send(amqp, envelope(data, subject=person.candidate_id, at=now))

    async def requested() -> list[dict[str, Any]] | None:
        listed = await pool.client.get(
            "/v1/erasure-requests", params={"reason": "candidate_request"}, headers=ADMIN
        )
        items: list[dict[str, Any]] = listed.json()["items"]
        return items or None

    [request] = await wait_for(requested, what="the candidate's request")
    assert (request["profile_id"], request["requested_by"]) == (
        str(person.profile_id),
        "candidate",
    )
    assert (await profile(pool, person.profile_id))["anonymized_at"] is not None
    again = await erase(pool, {"candidate_id": str(person.candidate_id)})
    assert again.status_code == 200 and again.json()["id"] == request["id"]


@pytest.mark.parametrize(
    "body",
    [
        {"profile_id": str(uuid.uuid4())},
        {"candidate_id": str(uuid.uuid4())},
        {"email": "nobody@example.com"},
        {"phone": "13800000000"},
    ],
)
async def test_erasing_someone_unknown_is_404(
    pool: Running, db: asyncpg.Connection, body: dict[str, str]
) -> None:
    response = await erase(pool, body)

    problem = assert_problem(response, 404, "not-found")
    assert "nobody@example.com" not in json.dumps(problem)
    assert await _requested_events(db) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, None),
        ({"profile_id": str(uuid.uuid4()), "email": "li.lei@example.com"}, None),
        ({"email": "not an email"}, "email"),
        ({"phone": "12"}, "phone"),
        ({"profile_id": "not-a-uuid"}, "profile_id"),
        ({"name": "Li Lei"}, "name"),
    ],
)
async def test_an_erasure_request_names_exactly_one_person(
    pool: Running, body: dict[str, str], field: str | None
) -> None:
    response = await erase(pool, body)

    problem = assert_problem(response, 422)
    if field is not None:
        assert field in [e["field"] for e in problem["errors"]]


async def test_who_may_not_request_or_read_erasures(pool: Running, person: Person) -> None:
    body = {"profile_id": str(person.profile_id)}
    assert_problem(await pool.client.post("/v1/erasure-requests", json=body), 401)
    assert_problem(await erase(pool, body, INTERVIEWER), 403)
    # HR without the talent-pool scope may erase only people who applied to jobs they own.
    assert_problem(await erase(pool, body, STRANGER), 404)
    assert_problem(await erase(pool, {"candidate_id": str(person.candidate_id)}, STRANGER), 404)
    created = await erase(pool, body, JOB_OWNER)
    assert created.status_code == 202, created.text
    url = f"/v1/erasure-requests/{created.json()['id']}"

    assert_problem(await pool.client.get(url), 401)
    assert_problem(await pool.client.get(url, headers=INTERVIEWER), 403)
    assert_problem(await pool.client.get(url, headers=STRANGER), 404)
    assert_problem(await pool.client.get("/v1/erasure-requests", headers=INTERVIEWER), 403)
    assert_problem(await pool.client.get("/v1/erasure-requests"), 401)
    for allowed in (JOB_OWNER, SEARCHER, ADMIN):
        assert (await pool.client.get(url, headers=allowed)).status_code == 200
    hidden = await pool.client.get("/v1/erasure-requests", headers=STRANGER)
    shown = await pool.client.get("/v1/erasure-requests", headers=JOB_OWNER)
    assert hidden.json()["items"] == []
    assert [item["id"] for item in shown.json()["items"]] == [created.json()["id"]]
    assert_problem(
        await pool.client.get(f"/v1/erasure-requests/{uuid.uuid4()}", headers=ADMIN), 404
    )


async def test_requests_are_listed_newest_first_by_status_and_reason(
    pool: Running, amqp: AbstractRobustConnection
) -> None:
    people = [Person(), Person(), Person()]
    for someone in people:
        await someone.applies(amqp)
        await in_pool(pool, someone)
    ids = [
        (await erase(pool, {"profile_id": str(someone.profile_id)})).json()["id"]
        for someone in people
    ]

    everything = await pool.client.get("/v1/erasure-requests", headers=ADMIN)
    first_page = await pool.client.get("/v1/erasure-requests", params={"limit": 2}, headers=ADMIN)
    second_page = await pool.client.get(
        "/v1/erasure-requests",
        params={"limit": 2, "cursor": first_page.json()["next_cursor"]},
        headers=ADMIN,
    )
    pending = await pool.client.get(
        "/v1/erasure-requests", params={"status": "pending", "reason": "hr_request"}, headers=ADMIN
    )
    completed = await pool.client.get(
        "/v1/erasure-requests", params={"status": "completed"}, headers=ADMIN
    )
    retention = await pool.client.get(
        "/v1/erasure-requests", params={"reason": "retention"}, headers=ADMIN
    )
    bad = await pool.client.get(
        "/v1/erasure-requests", params={"status": "finished"}, headers=ADMIN
    )

    assert [item["id"] for item in everything.json()["items"]] == ids[::-1]
    paged = first_page.json()["items"] + second_page.json()["items"]
    assert [item["id"] for item in paged] == ids[::-1]
    assert second_page.json()["next_cursor"] is None
    assert len(pending.json()["items"]) == 3
    assert completed.json()["items"] == []
    assert retention.json()["items"] == []
    assert_problem(bad, 422)


# Found by email or phone: their contacts come from the pipeline (the matcher reads them).

NAME = "Quill Ferrante"
EMAIL = "quill.ferrante@example.com"
PHONE = "+8613912345678"


async def test_a_person_found_by_email_or_phone_is_erased_once(
    amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    async with pool_with_pipeline() as (pool, pipeline):
        candidate_id = await pipeline.candidate(name=NAME, email=EMAIL, phone=PHONE)
        someone = Person(candidate_id=candidate_id, job_id=uuid.UUID(pipeline.job["id"]))
        await someone.applies(amqp)
        await in_pool(pool, someone, email=EMAIL)

        first = await erase(pool, {"email": "  Quill.Ferrante@Example.com "})
        by_phone = await erase(pool, {"phone": "139 1234 5678"})
        by_email = await erase(pool, {"email": EMAIL}, JOB_OWNER)
        stranger = await erase(pool, {"email": EMAIL}, STRANGER)

    assert first.status_code == 202, first.text
    assert first.json()["candidate_ids"] == [str(candidate_id)]
    for again in (by_phone, by_email):
        assert again.status_code == 200, again.text
        assert again.json()["id"] == first.json()["id"]
    assert_problem(stranger, 404)
    ring = keyring()
    indexes = blind_indexes(ring, email=EMAIL, phone=PHONE)
    assert (
        await leftovers(
            db, ["talentpool"], needles=[NAME, EMAIL, PHONE], indexes=indexes, ring=ring
        )
        == []
    )


# The candidate's own request for someone the pool has not heard of (the pool never ingested
# them, or their events are still on their way): the pool confirms for its empty copy.


async def _ask_as_candidate(amqp: AbstractRobustConnection, someone: Person) -> None:
    now = datetime.now(UTC)
    data = CandidateErasureRequestedV1(
        candidate_id=someone.candidate_id, application_id=someone.application_id, requested_at=now
    )
    await send(amqp, envelope(data, subject=someone.candidate_id, at=now))


async def _request_of(pool: Running, someone: Person) -> dict[str, Any]:
    async def made() -> dict[str, Any] | None:
        listed = await pool.client.get(
            "/v1/erasure-requests", params={"reason": "candidate_request"}, headers=ADMIN
        )
        items: list[dict[str, Any]] = listed.json()["items"]
        return next((i for i in items if i["candidate_ids"] == [str(someone.candidate_id)]), None)

    found: dict[str, Any] = await wait_for(made, what="the candidate's request")
    return found


async def test_a_candidates_request_the_pool_never_heard_of_is_confirmed_for_its_empty_copy(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    stranger = Person()  # no event about them has reached the pool
    retried_before = _retried(CandidateErasureRequestedV1.event_type)

    await _ask_as_candidate(amqp, stranger)

    request = await _request_of(pool, stranger)
    assert (request["profile_id"], request["reason"], request["requested_by"]) == (
        str(stranger.candidate_id),
        "candidate_request",
        "candidate",
    )
    services = {s["service"]: s for s in request["services"]}
    assert services["talentpool"]["status"] == "confirmed"
    assert services["talentpool"]["erased"] == {}
    assert all(services[s]["status"] == "pending" for s in ("pipeline", "scheduler", "notifier"))
    [event] = await _requested_events(db)
    assert event["data"]["erasure_id"] == request["id"]
    assert event["data"]["candidate_ids"] == [str(stranger.candidate_id)]
    assert event["data"]["reason"] == "candidate_request"
    empty = await profile(pool, stranger.profile_id)
    assert empty["anonymized_at"] is not None
    assert (empty["full_name"], empty["email"], empty["phone"]) == (None, None, None)
    # Handled the first time: not retried (and so never parked).
    assert _retried(CandidateErasureRequestedV1.event_type) == retried_before
    # The others confirm as for anyone: the report completes.
    candidates = request["candidate_ids"]
    await _confirm(amqp, request["id"], candidates, PipelineErasureCompletedV1, {"candidates": 1})
    await _confirm(amqp, request["id"], candidates, SchedulerErasureCompletedV1, {})
    await _confirm(amqp, request["id"], candidates, NotifierErasureCompletedV1, {})
    done = await wait_for(lambda: _with_confirmed(pool, request["id"], 4), what="all confirmed")
    assert done["status"] == "completed"
    # Asked again, by HR or by the candidate: the same request.
    again = await erase(pool, {"candidate_id": str(stranger.candidate_id)})
    assert again.status_code == 200 and again.json()["id"] == request["id"]
    await _ask_as_candidate(amqp, stranger)
    await wait_for(
        lambda: _inbox_count(db, "talentpool.erase_on_candidate_request", 2),
        what="the repeated request handled",
    )
    assert len(await _requested_events(db)) == 1


def _retried(event_type: str) -> float:
    labels = {"service": "talentpool", "type": event_type, "outcome": "retried"}
    return REGISTRY.get_sample_value("events_consumed_total", labels) or 0.0


async def _inbox_count(db: asyncpg.Connection, handler: str, count: int) -> bool:
    found = await db.fetchval("SELECT count(*) FROM talentpool.inbox WHERE handler = $1", handler)
    return bool(found == count)


async def test_later_events_of_a_candidate_erased_before_the_pool_saw_them_store_nothing_personal(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    stranger = Person()
    await _ask_as_candidate(amqp, stranger)
    request = await _request_of(pool, stranger)

    # Their application and a no-show, which would tag a live profile ``no_show``.
    await stranger.applies(amqp)
    now = datetime.now(UTC)
    no_show = NoShowRecordedV1(
        application_id=stranger.application_id,
        job_id=stranger.job_id,
        candidate_id=stranger.candidate_id,
        stage_key="ai_interview",
        kind="ai_interview",
        occurred_at=now,
    )
    await send(amqp, envelope(no_show, subject=stranger.application_id, at=now, sequence=2))

    async def entries() -> list[asyncpg.Record] | None:
        rows: list[asyncpg.Record] = await db.fetch(
            "SELECT kind, data FROM talentpool.timeline_entries WHERE candidate_id = $1 "
            "ORDER BY occurred_at, kind",
            stranger.candidate_id,
        )
        return rows if len(rows) == 2 else None

    rows = await wait_for(entries, what="the later events in the timeline")
    await wait_for(
        lambda: _inbox_count(db, "talentpool.tag_rules_on_no_show_recorded", 1),
        what="the tag rules to have seen the no-show",
    )
    # One person, still erased: the events joined the empty profile and brought no data.
    assert (
        await db.fetchval(
            "SELECT count(*) FROM talentpool.profile_members WHERE candidate_id = $1",
            stranger.candidate_id,
        )
        == 1
    )
    assert await db.fetchval("SELECT count(*) FROM talentpool.profiles") == 1
    after = await profile(pool, stranger.profile_id)
    assert after["anonymized_at"] is not None
    assert (after["full_name"], after["email"], after["phone"], after["locale"]) == (
        None,
        None,
        None,
        None,
    )
    assert after["tags"] == []
    applied = next(json.loads(row["data"]) for row in rows if row["kind"] == "applied")
    assert "locale" not in applied  # what erasure removes from a timeline is never stored
    assert applied["stage"] == "ai_interview"
    assert await db.fetchval(
        "SELECT contacts_checked_at IS NOT NULL FROM talentpool.profiles WHERE id = $1",
        stranger.profile_id,
    )
    assert (await report(pool, request["id"]))["services"][0]["erased"] == {}


async def test_a_report_read_while_the_last_confirmation_commits_says_completed(
    pool: Running, db: asyncpg.Connection
) -> None:
    someone = await a_person(db)
    created = (await erase(pool, {"profile_id": str(someone.profile_id)})).json()
    erasure_id = uuid.UUID(created["id"])

    async with pool.runtime.db.transaction() as session:
        # The report's first statement: the request, still pending.
        erasure = await service.get(session, erasure_id)
        assert erasure is not None and erasure.completed_at is None
        # Meanwhile the last confirmations commit, with the completion.
        await db.execute(
            """INSERT INTO talentpool.erasure_confirmations (erasure_id, service, confirmed_at,
                                                              details)
               SELECT $1, s, now(), '{}'::jsonb FROM unnest($2::text[]) AS s
               ON CONFLICT DO NOTHING""",
            erasure_id,
            ["pipeline", "scheduler", "notifier"],
        )
        await db.execute(
            "UPDATE talentpool.erasure_requests SET completed_at = now() WHERE id = $1", erasure_id
        )
        # Its second statement sees every confirmation: the request is read again.
        confirmations = await service.reports_of(session, [erasure])

    assert len(confirmations[erasure_id]) == 4
    assert erasure.completed_at is not None
