"""Re-engagement campaigns: a segment invited to a job through re-invitation events on the
broker, at most ``per_hour`` an hour, skipping (with the reason) who is on hold, unsubscribed,
without consent, being erased or already applied; paused, resumed, cancelled, repeated on a
schedule until they end; results (invited, opened, applied) read from the re-invitations."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from aio_pika.abc import AbstractQueue, AbstractRobustConnection

from shared.clock import ManualClock
from shared.events.pipeline import ApplicationCreatedV1, StageRef
from shared.events.scheduler import InvitationOpenedV1
from tests.support.broker import tap
from tests.support.problems import assert_problem
from tests.support.running import Running, wait_for
from tests.talentpool.campaigns_support import (
    POOL_HR,
    REQUESTED,
    a_campaign,
    all_published,
    campaign,
    erasure_requested,
    fire,
    pool_service,
    published,
    recipients,
)
from tests.talentpool.segments_support import (
    AS_OWNER,
    AS_POOL_HR,
    OWNER,
    T0,
    Person,
    a_job,
    a_person,
    a_segment,
    applied,
)
from tests.talentpool.tags_support import deliver_and_wait, event

REINVITE = {"tags_any": ["re_invite"]}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
async def pool(
    clock: ManualClock, amqp: AbstractRobustConnection
) -> AsyncIterator[tuple[Running, AbstractQueue]]:
    async with tap(amqp, REQUESTED) as queue, pool_service(clock) as service:
        yield service, queue


async def _people(db: asyncpg.Connection, count: int) -> list[Person]:
    """People in the segment, each less engaged than the one before."""
    return [await a_person(db, tags=["re_invite"], engagement=90 - n) for n in range(count)]


def _invited(events: list[dict[str, Any]]) -> list[str]:
    return [str(e["data"]["profile_id"]) for e in events]


async def test_campaign_invites_its_segment_and_skips_who_may_not_be_invited_with_the_reason(
    pool: tuple[Running, AbstractQueue], db: asyncpg.Connection
) -> None:
    service, queue = pool
    job = await a_job(db, owners=[POOL_HR])
    first, second = await _people(db, 2)
    await a_person(db, tags=["re_invite"], on_hold_until=T0 + timedelta(days=30))
    await a_person(db, tags=["re_invite"], unsubscribed_at=T0 - timedelta(days=1))
    await a_person(db, tags=["re_invite"], consent=None)
    await a_person(db, tags=["re_invite"], consent=False)
    await applied(db, await a_person(db, tags=["re_invite"]), job)
    await erasure_requested(db, (await a_person(db, tags=["re_invite"])).profile_id)
    await a_person(db, tags=["runner_up"])  # not in the segment
    segment = await a_segment(service, REINVITE)

    created = await a_campaign(service, segment_id=segment["id"], job_id=job)
    assert created["status"] == "active"
    assert created["results"] == {
        "queued": 0,
        "invited": 0,
        "skipped": {},
        "opened": 0,
        "applied": 0,
    }
    await fire(service)

    events = await published(queue, 2)
    assert sorted(_invited(events)) == sorted([str(first.profile_id), str(second.profile_id)])
    for item in events:
        assert item["type"] == REQUESTED
        assert item["data"]["origin"] == "campaign"
        assert item["data"]["campaign_id"] == created["id"]
        assert item["data"]["job_id"] == str(job)
        assert item["data"]["requested_by"] == POOL_HR
        assert item["data"]["application_id"] is None
    done = await campaign(service, created["id"])
    assert done["results"] == {
        "queued": 0,
        "invited": 2,
        "skipped": {
            "on_hold": 1,
            "unsubscribed": 1,
            "no_consent": 2,
            "already_applied": 1,
            "erased": 1,
        },
        "opened": 0,
        "applied": 0,
    }
    assert (done["status"], done["runs"], done["next_run_at"]) == ("finished", 1, None)
    invited = await recipients(service, created["id"], status="invited")
    by_profile = {item["profile_id"]: item for item in invited}
    for item in events:
        recipient = by_profile[item["data"]["profile_id"]]
        assert recipient["reinvitation_id"] == item["data"]["reinvitation_id"]
        assert recipient["invited_at"] == "2026-03-02T09:00:00Z"
        assert recipient["run"] == 1
    skipped = await recipients(service, created["id"], status="skipped")
    assert sorted(item["skip_reason"] for item in skipped) == [
        "already_applied",
        "erased",
        "no_consent",
        "no_consent",
        "on_hold",
        "unsubscribed",
    ]


async def test_campaign_sends_at_most_per_hour_and_the_rest_as_the_hour_frees_up(
    pool: tuple[Running, AbstractQueue], db: asyncpg.Connection, clock: ManualClock
) -> None:
    service, queue = pool
    job = await a_job(db, owners=[POOL_HR])
    people = await _people(db, 5)
    segment = await a_segment(service, REINVITE)
    created = await a_campaign(service, segment_id=segment["id"], job_id=job, per_hour=2)

    await fire(service)
    first_hour = await all_published(db, queue)
    clock.advance(timedelta(minutes=59, seconds=59))
    await fire(service)
    still_first_hour = await all_published(db, queue)
    clock.advance(timedelta(seconds=2))
    await fire(service)
    second_hour = await all_published(db, queue)
    halfway = await campaign(service, created["id"])
    clock.advance(timedelta(hours=1))
    await fire(service)
    third_hour = await all_published(db, queue)

    # The most engaged first.
    expected = [str(p.profile_id) for p in people]
    assert _invited(first_hour) == expected[:2]
    assert still_first_hour == []
    assert _invited(second_hour) == expected[2:4]
    assert (halfway["status"], halfway["results"]["queued"]) == ("active", 1)
    assert _invited(third_hour) == expected[4:]
    finished = await campaign(service, created["id"])
    assert finished["status"] == "finished"
    assert finished["results"]["invited"] == 5


async def test_paused_campaign_sends_nothing_until_resumed(
    pool: tuple[Running, AbstractQueue], db: asyncpg.Connection, clock: ManualClock
) -> None:
    service, queue = pool
    job = await a_job(db, owners=[POOL_HR])
    await _people(db, 3)
    segment = await a_segment(service, REINVITE)
    created = await a_campaign(service, segment_id=segment["id"], job_id=job, per_hour=1)
    url = f"/v1/campaigns/{created['id']}"
    await fire(service)
    assert len(await all_published(db, queue)) == 1

    paused = await service.client.post(f"{url}/pause", headers={**AS_POOL_HR, "If-Match": '"1"'})
    clock.advance(timedelta(hours=3))
    await fire(service)
    while_paused = await all_published(db, queue)
    resumed = await service.client.post(f"{url}/resume", headers=AS_POOL_HR)
    await fire(service)
    after_resume = await all_published(db, queue)

    assert paused.status_code == 200, paused.text
    assert (paused.json()["status"], paused.headers["etag"]) == ("paused", '"2"')
    assert while_paused == []
    assert resumed.json()["status"] == "active"
    assert len(after_resume) == 1  # still one an hour
    assert (await campaign(service, created["id"]))["results"]["queued"] == 1


async def test_cancelled_campaign_skips_who_was_waiting_and_sends_nothing_more(
    pool: tuple[Running, AbstractQueue], db: asyncpg.Connection, clock: ManualClock
) -> None:
    service, queue = pool
    job = await a_job(db, owners=[POOL_HR])
    await _people(db, 3)
    segment = await a_segment(service, REINVITE)
    created = await a_campaign(
        service, segment_id=segment["id"], job_id=job, per_hour=1, repeat_every_days=1
    )
    url = f"/v1/campaigns/{created['id']}"
    await fire(service)
    assert len(await all_published(db, queue)) == 1

    cancelled = await service.client.post(f"{url}/cancel", headers=AS_POOL_HR)
    again = await service.client.post(f"{url}/cancel", headers=AS_POOL_HR)
    clock.advance(timedelta(days=3))
    await fire(service)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["next_run_at"] is None
    assert cancelled.json()["results"]["queued"] == 0
    assert cancelled.json()["results"]["skipped"] == {"cancelled": 2}
    assert again.json() == cancelled.json()
    assert await all_published(db, queue) == []
    assert (await campaign(service, created["id"]))["runs"] == 1
    for action in ("pause", "resume"):
        assert_problem(await service.client.post(f"{url}/{action}", headers=AS_POOL_HR), 409)


async def test_repeating_campaign_invites_who_joined_the_segment_since_until_it_ends(
    pool: tuple[Running, AbstractQueue], db: asyncpg.Connection, clock: ManualClock
) -> None:
    service, queue = pool
    job = await a_job(db, owners=[POOL_HR])
    [early] = await _people(db, 1)
    segment = await a_segment(service, REINVITE)
    created = await a_campaign(
        service,
        segment_id=segment["id"],
        job_id=job,
        repeat_every_days=7,
        ends_at=(T0 + timedelta(days=10)).isoformat(),
    )
    await fire(service)
    first_run = await all_published(db, queue)
    after_first = await campaign(service, created["id"])

    [late] = await _people(db, 1)
    clock.advance(timedelta(days=6))
    await fire(service)
    before_second = await all_published(db, queue)
    clock.advance(timedelta(days=1))
    await fire(service)
    second_run = await all_published(db, queue)

    assert _invited(first_run) == [str(early.profile_id)]
    assert after_first["status"] == "active"
    assert after_first["next_run_at"] == "2026-03-09T09:00:00Z"
    assert before_second == []
    assert _invited(second_run) == [str(late.profile_id)]
    final = await campaign(service, created["id"])
    # The next run would be after the end: none is left, and everyone found was invited.
    assert (final["runs"], final["next_run_at"], final["status"]) == (2, None, "finished")
    runs = {item["profile_id"]: item["run"] for item in await recipients(service, created["id"])}
    assert runs == {str(early.profile_id): 1, str(late.profile_id): 2}


async def test_nobody_is_invited_once_the_campaign_has_ended(
    pool: tuple[Running, AbstractQueue], db: asyncpg.Connection, clock: ManualClock
) -> None:
    service, queue = pool
    job = await a_job(db, owners=[POOL_HR])
    await _people(db, 3)
    segment = await a_segment(service, REINVITE)
    created = await a_campaign(
        service,
        segment_id=segment["id"],
        job_id=job,
        per_hour=1,
        ends_at=(T0 + timedelta(minutes=90)).isoformat(),
    )
    await fire(service)
    clock.advance(timedelta(hours=1, seconds=1))
    await fire(service)
    clock.advance(timedelta(hours=1))
    await fire(service)

    assert len(await all_published(db, queue)) == 2
    ended = await campaign(service, created["id"])
    assert ended["status"] == "finished"
    assert ended["results"]["skipped"] == {"ended": 1}


async def test_results_count_who_opened_and_applied_from_their_reinvitations(
    pool: tuple[Running, AbstractQueue],
    db: asyncpg.Connection,
    amqp: AbstractRobustConnection,
) -> None:
    service, queue = pool
    job = await a_job(db, owners=[POOL_HR])
    people = await _people(db, 3)
    segment = await a_segment(service, REINVITE)
    created = await a_campaign(service, segment_id=segment["id"], job_id=job)
    await fire(service)
    await published(queue, 3)
    at = T0 + timedelta(hours=2)
    opener, applicant = people[0], people[1]
    application_id = uuid.uuid4()

    # The scheduler tells that one opened an invitation, the pipeline that another applied.
    await deliver_and_wait(
        amqp,
        event(
            InvitationOpenedV1(
                invitation_id=uuid.uuid4(),
                application_id=uuid.uuid4(),
                job_id=job,
                candidate_id=opener.candidate_id,
                kind="ai_interview",
                opened_at=at,
            ),
            subject=opener.candidate_id,
        ),
        event(
            ApplicationCreatedV1(
                application_id=application_id,
                job_id=job,
                candidate_id=applicant.candidate_id,
                stage=StageRef(key="ai_interview", kind="ai_interview"),
                source="talentpool",
                locale="zh-CN",
                occurred_at=at,
            ),
            subject=application_id,
        ),
    )

    async def counted() -> dict[str, Any] | None:
        results = (await campaign(service, created["id"]))["results"]
        return results if results["opened"] and results["applied"] else None

    results = await wait_for(counted, what="opened and applied in the results")
    assert results == {"queued": 0, "invited": 3, "skipped": {}, "opened": 1, "applied": 1}
    listed = {item["profile_id"]: item for item in await recipients(service, created["id"])}
    assert listed[str(opener.profile_id)]["opened_at"] == "2026-03-02T11:00:00Z"
    assert listed[str(applicant.profile_id)]["applied_at"] == "2026-03-02T11:00:00Z"
    columns = await db.fetch(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = 'talentpool' AND table_name = 'campaign_recipients'"
    )
    assert not {"opened_at", "applied_at"} & {row["column_name"] for row in columns}


async def test_a_campaign_of_hr_without_the_scope_reaches_only_people_of_their_jobs(
    pool: tuple[Running, AbstractQueue], db: asyncpg.Connection
) -> None:
    service, queue = pool
    job = await a_job(db, owners=[OWNER])
    earlier_job = await a_job(db, owners=[OWNER])
    someone_elses_job = await a_job(db, owners=["hr-bob"])
    related, unrelated, _stranger = await _people(db, 3)
    await applied(db, related, earlier_job)
    await applied(db, unrelated, someone_elses_job)
    segment = await a_segment(service, REINVITE, headers=AS_OWNER)

    created = await a_campaign(service, segment_id=segment["id"], job_id=job, headers=AS_OWNER)
    await fire(service)

    assert _invited(await published(queue, 1)) == [str(related.profile_id)]
    read = await service.client.get(f"/v1/campaigns/{created['id']}", headers=AS_OWNER)
    assert read.json()["results"]["invited"] == 1
    assert read.json()["results"]["skipped"] == {}


async def test_a_segment_a_campaign_uses_cannot_be_deleted(
    pool: tuple[Running, AbstractQueue], db: asyncpg.Connection
) -> None:
    service, _ = pool
    job = await a_job(db, owners=[POOL_HR])
    segment = await a_segment(service, REINVITE)
    created = await a_campaign(service, segment_id=segment["id"], job_id=job)

    response = await service.client.delete(f"/v1/segments/{segment['id']}", headers=AS_POOL_HR)

    problem = assert_problem(response, 409, "segment-in-use")
    assert problem["campaign_ids"] == [created["id"]]
