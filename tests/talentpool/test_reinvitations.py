"""Re-inviting past candidates to a job: who is invited, who is refused and why, the events that
carry the invitations, what came of them, and who may ask."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

import httpx
import pytest
from aio_pika.abc import AbstractRobustConnection

from shared.events.pipeline import AiInterviewInvitedV1, ApplicationCreatedV1, StageRef
from shared.events.scheduler import InvitationOpenedV1, InvitationSentV1
from shared.events.talentpool import ReinvitationRequestedV1
from tests.support.problems import assert_problem
from tests.support.running import Running, wait_for
from tests.talentpool.reinvitations_support import (
    ADMIN,
    HR_OTHER,
    HR_OWNER,
    HR_SCOPED,
    INTERVIEWER,
    Person,
    Pool,
    listening,
    now,
    pool_service,
    publish,
    take,
)

REQUESTED = ReinvitationRequestedV1.event_type


@pytest.fixture
async def service() -> AsyncIterator[Running]:
    async with pool_service() as running:
        yield running


@pytest.fixture
def pool(service: Running) -> Pool:
    return Pool(service)


async def _reinvite(
    service: Running,
    job_id: uuid.UUID,
    people: Sequence[Person | uuid.UUID],
    *,
    headers: dict[str, str] = HR_OWNER,
    origin: str = "recommendation",
    **extra: Any,
) -> httpx.Response:
    ids = [str(p.profile_id if isinstance(p, Person) else p) for p in people]
    return await service.client.post(
        f"/v1/jobs/{job_id}/reinvitations",
        json={"profile_ids": ids, "origin": origin},
        headers={**headers, **extra},
    )


async def test_reinviting_past_candidates_asks_the_pipeline_for_new_applications_by_event(
    service: Running, pool: Pool, amqp: AbstractRobustConnection
) -> None:
    job_id = await pool.job()
    first, second = await pool.people(2)
    async with listening(amqp, [REQUESTED]) as queue:
        response = await _reinvite(service, job_id, [first, second])

        assert response.status_code == 202, response.text
        body = response.json()
        assert body["refusals"] == []
        assert [r["profile_id"] for r in body["reinvitations"]] == [
            str(first.profile_id),
            str(second.profile_id),
        ]
        created = body["reinvitations"][0]
        assert created["candidate_id"] == str(first.candidate_id)
        assert created["job_id"] == str(job_id)
        assert created["application_id"] is None
        assert created["origin"] == "recommendation"
        assert created["requested_by"] == "hr-owner"
        assert created["invited_at"] is None

        seen: list[dict[str, Any]] = []
        await wait_for(lambda: take(queue, seen, 2), what="two reinvitation_requested events")
    by_profile = {event["data"]["profile_id"]: event for event in seen}
    event = by_profile[str(first.profile_id)]
    assert event["type"] == REQUESTED
    assert event["subject"] == created["id"]
    data = ReinvitationRequestedV1.model_validate(event["data"])
    assert data.reinvitation_id == uuid.UUID(created["id"])
    assert data.candidate_id == first.candidate_id
    assert data.job_id == job_id
    assert data.application_id is None
    assert data.origin == "recommendation"
    assert data.requested_by == "hr-owner"


async def test_each_person_who_may_not_be_invited_is_refused_with_the_reason(
    service: Running, pool: Pool
) -> None:
    job_id = await pool.job()
    later = now() + timedelta(days=30)
    invitable = await pool.person()
    on_hold = await pool.person(on_hold_until=later)
    tagged_on_hold = await pool.person()
    await pool.tag([tagged_on_hold], "on_hold", until=later)
    hold_over = await pool.person(on_hold_until=now() - timedelta(days=1))
    no_answer = await pool.person(consent=None)
    refused_consent = await pool.person(consent=False)
    lapsed_consent = await pool.person(consent_expires_at=now() - timedelta(days=1))
    unsubscribed = await pool.person(unsubscribed_at=now() - timedelta(days=3))
    erased = await pool.person(anonymized_at=now() - timedelta(days=3))
    survivor = await pool.person()
    merged = await pool.person(merged_into=survivor.profile_id)
    applied = await pool.person()
    await pool.applications([applied], job_id)
    stranger = uuid.uuid4()

    response = await _reinvite(
        service,
        job_id,
        [
            invitable,
            on_hold,
            tagged_on_hold,
            hold_over,
            no_answer,
            refused_consent,
            lapsed_consent,
            unsubscribed,
            erased,
            merged,
            applied,
            stranger,
        ],
    )

    assert response.status_code == 202, response.text
    body = response.json()
    assert {r["profile_id"] for r in body["reinvitations"]} == {
        str(invitable.profile_id),
        str(hold_over.profile_id),
    }
    reasons = {r["profile_id"]: r["reason"] for r in body["refusals"]}
    assert reasons == {
        str(on_hold.profile_id): "on_hold",
        str(tagged_on_hold.profile_id): "on_hold",
        str(no_answer.profile_id): "no_consent",
        str(refused_consent.profile_id): "no_consent",
        str(lapsed_consent.profile_id): "no_consent",
        str(unsubscribed.profile_id): "unsubscribed",
        str(erased.profile_id): "erased",
        str(merged.profile_id): "merged",
        str(applied.profile_id): "already_applied",
        str(stranger): "unknown",
    }
    [merge_refusal] = [r for r in body["refusals"] if r["reason"] == "merged"]
    assert merge_refusal["merged_into"] == str(survivor.profile_id)


async def test_when_everyone_is_refused_the_answer_is_422_with_the_reasons(
    service: Running, pool: Pool, db: Any
) -> None:
    job_id = await pool.job()
    on_hold = await pool.person(on_hold_until=now() + timedelta(days=5))
    no_consent = await pool.person(consent=None)

    response = await _reinvite(service, job_id, [on_hold, no_consent])

    problem = assert_problem(response, 422, "nobody-invited")
    assert problem["refusals"] == [
        {"profile_id": str(on_hold.profile_id), "reason": "on_hold", "merged_into": None},
        {"profile_id": str(no_consent.profile_id), "reason": "no_consent", "merged_into": None},
    ]
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("profile_ids.0", "on_hold"),
        ("profile_ids.1", "no_consent"),
    ]
    assert await db.fetchval("SELECT count(*) FROM talentpool.reinvitations") == 0
    assert (
        await db.fetchval("SELECT count(*) FROM talentpool.outbox WHERE event_type = $1", REQUESTED)
        == 0
    )


async def test_the_invitation_goes_to_the_persons_newest_candidate(
    service: Running, pool: Pool, db: Any
) -> None:
    job_id = await pool.job()
    person = await pool.person()
    newer = uuid.uuid4()
    await db.execute(
        """INSERT INTO talentpool.profile_members (candidate_id, profile_id, home_profile_id,
           joined_at) VALUES ($1, $2, $2, now() + interval '1 hour')""",
        newer,
        person.profile_id,
    )

    response = await _reinvite(service, job_id, [person])

    assert response.status_code == 202, response.text
    assert response.json()["reinvitations"][0]["candidate_id"] == str(newer)


async def test_a_repeated_id_is_invited_once(service: Running, pool: Pool) -> None:
    job_id = await pool.job()
    person = await pool.person()

    response = await _reinvite(service, job_id, [person, person])

    assert response.status_code == 202, response.text
    assert len(response.json()["reinvitations"]) == 1


async def test_a_retry_with_the_same_idempotency_key_invites_nobody_twice(
    service: Running, pool: Pool, db: Any
) -> None:
    job_id = await pool.job()
    person = await pool.person()
    key: dict[str, Any] = {"Idempotency-Key": str(uuid.uuid4())}

    first = await _reinvite(service, job_id, [person], **key)
    again = await _reinvite(service, job_id, [person], **key)

    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers.get("idempotent-replayed") == "true"
    assert await db.fetchval("SELECT count(*) FROM talentpool.reinvitations") == 1


async def test_nobody_is_invited_to_a_closed_job(service: Running, pool: Pool) -> None:
    job_id = await pool.job(status="closed")
    person = await pool.person()

    response = await _reinvite(service, job_id, [person])

    assert_problem(response, 409, "job-closed")


async def test_a_job_the_pool_does_not_know_is_404(service: Running, pool: Pool) -> None:
    person = await pool.person()

    response = await _reinvite(service, uuid.uuid4(), [person], headers=ADMIN)

    assert_problem(response, 404, "not-found")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"profile_ids": []}, "profile_ids"),
        ({"profile_ids": [str(uuid.uuid4()) for _ in range(501)]}, "profile_ids"),
        ({"profile_ids": ["not-a-uuid"]}, "profile_ids.0"),
        ({"profile_ids": [str(uuid.uuid4())], "origin": "campaign"}, "origin"),
        ({"profile_ids": [str(uuid.uuid4())], "note": "typo"}, "note"),
        ({}, "profile_ids"),
    ],
)
async def test_a_malformed_request_is_422_naming_the_field(
    service: Running, pool: Pool, body: dict[str, Any], field: str
) -> None:
    job_id = await pool.job()

    response = await service.client.post(
        f"/v1/jobs/{job_id}/reinvitations", json=body, headers=HR_OWNER
    )

    problem = assert_problem(response, 422, "validation-error")
    assert field in [e["field"] for e in problem["errors"]]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        (INTERVIEWER, 403),
        (HR_OTHER, 404),
        (HR_OWNER, 202),
        (HR_SCOPED, 202),
        (ADMIN, 202),
    ],
)
async def test_who_may_reinvite_for_a_job(
    service: Running, pool: Pool, headers: dict[str, str], status: int
) -> None:
    job_id = await pool.job()
    person = await pool.person()

    response = await _reinvite(service, job_id, [person], headers=headers)

    assert response.status_code == status, response.text
    if status != 202:
        assert_problem(response, status)


async def _listed(service: Running, job_id: uuid.UUID, **fields: bool) -> dict[str, Any] | None:
    """For ``wait_for``: the job's only reinvitation once each field is (or is not) set."""
    response = await service.client.get(f"/v1/jobs/{job_id}/reinvitations", headers=HR_OWNER)
    assert response.status_code == 200, response.text
    [item] = response.json()["items"]
    if all((item[name] is not None) == wanted for name, wanted in fields.items()):
        result: dict[str, Any] = item
        return result
    return None


async def test_what_came_of_a_reinvitation_is_recorded_from_the_other_services_events(
    service: Running, pool: Pool, amqp: AbstractRobustConnection
) -> None:
    job_id = await pool.job()
    person = await pool.person()
    response = await _reinvite(service, job_id, [person])
    assert response.status_code == 202, response.text
    application_id, invitation_id = uuid.uuid4(), uuid.uuid4()
    common = {"application_id": application_id, "job_id": job_id}

    await publish(
        amqp,
        ApplicationCreatedV1(
            **common,
            candidate_id=person.candidate_id,
            stage=StageRef(key="ai_interview", kind="ai_interview"),
            source="talentpool",
            locale="zh-CN",
            occurred_at=now(),
        ),
        subject=str(application_id),
    )
    await publish(
        amqp,
        InvitationSentV1(
            **common,
            invitation_id=invitation_id,
            candidate_id=person.candidate_id,
            kind="ai_interview",
            candidate_group="default",
            deadline_at=now() + timedelta(days=2),
        ),
        subject=str(invitation_id),
    )
    opened_at = now() + timedelta(minutes=5)
    await publish(
        amqp,
        InvitationOpenedV1(
            **common,
            invitation_id=invitation_id,
            candidate_id=person.candidate_id,
            kind="ai_interview",
            opened_at=opened_at,
        ),
        subject=str(invitation_id),
    )

    item = await wait_for(
        lambda: _listed(service, job_id, applied_at=True, invited_at=True, opened_at=True),
        what="applied, invited and opened",
    )
    assert item["opened_at"].replace("Z", "+00:00") == opened_at.isoformat()


async def test_events_before_the_request_or_about_another_job_or_person_do_not_count(
    service: Running, pool: Pool, amqp: AbstractRobustConnection
) -> None:
    job_id, other_job = await pool.job(), await pool.job()
    person = await pool.person()
    response = await _reinvite(service, job_id, [person])
    assert response.status_code == 202, response.text

    def invited(**fields: Any) -> AiInterviewInvitedV1:
        values: dict[str, Any] = {
            "application_id": uuid.uuid4(),
            "job_id": job_id,
            "candidate_id": person.candidate_id,
            "vendor": "acme",
            "interview_id": uuid.uuid4(),
            "occurred_at": now(),
            **fields,
        }
        return AiInterviewInvitedV1(**values)

    for data in (
        invited(occurred_at=now() - timedelta(hours=1)),
        invited(job_id=other_job),
        invited(candidate_id=uuid.uuid4()),
    ):
        await publish(amqp, data, subject=str(data.application_id))
    # The candidate applying on their own afterwards counts as applied (it comes after the
    # events above, so once it shows they have all been handled).
    application_id = uuid.uuid4()
    await publish(
        amqp,
        ApplicationCreatedV1(
            application_id=application_id,
            job_id=job_id,
            candidate_id=person.candidate_id,
            stage=StageRef(key="ai_interview", kind="ai_interview"),
            source="portal",
            locale="en",
            occurred_at=now(),
        ),
        subject=str(application_id),
    )

    item = await wait_for(lambda: _listed(service, job_id, applied_at=True), what="applied")
    assert item["invited_at"] is None


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), (INTERVIEWER, 403), (HR_OTHER, 404), (HR_SCOPED, 200), (ADMIN, 200)],
)
async def test_who_may_list_a_jobs_reinvitations(
    service: Running, pool: Pool, headers: dict[str, str], status: int
) -> None:
    job_id = await pool.job()

    response = await service.client.get(f"/v1/jobs/{job_id}/reinvitations", headers=headers)

    assert response.status_code == status, response.text
