"""The no-show group: after a batch of AI-interview invitations, exactly those who never took it,
with their history; re-inviting them or setting them aside in one call; who may do it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from aio_pika.abc import AbstractRobustConnection

from shared.events.pipeline import (
    AiInterviewCompletedV1,
    AiInterviewInvitedV1,
    ApplicationCreatedV1,
    JobChangedV1,
    StageRef,
)
from shared.events.talentpool import ReinvitationRequestedV1
from tests.support.problems import assert_problem
from tests.support.running import Running, wait_for
from tests.talentpool.reinvitations_support import (
    ADMIN,
    HR_OTHER,
    HR_OWNER,
    HR_SCOPED,
    INTERVIEWER,
    OWNER,
    Pool,
    listening,
    now,
    pool_service,
    publish,
    take,
)

REQUESTED = ReinvitationRequestedV1.event_type
AI_STAGE = StageRef(key="ai_interview", kind="ai_interview")


@pytest.fixture
async def service() -> AsyncIterator[Running]:
    async with pool_service() as running:
        yield running


@pytest.fixture
def pool(service: Running) -> Pool:
    return Pool(service)


async def _list(
    service: Running, job_id: uuid.UUID, *, headers: dict[str, str] = HR_OWNER, **params: Any
) -> httpx.Response:
    return await service.client.get(f"/v1/jobs/{job_id}/no-shows", params=params, headers=headers)


async def _act(
    service: Running, job_id: uuid.UUID, body: dict[str, Any], *, headers: dict[str, str] = HR_OWNER
) -> httpx.Response:
    return await service.client.post(
        f"/v1/jobs/{job_id}/no-shows/actions", json=body, headers=headers
    )


def _window(start: datetime, end: datetime) -> dict[str, Any]:
    return {"invited_from": start.isoformat(), "invited_to": end.isoformat()}


async def _everyone(service: Running, job_id: uuid.UUID, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        paging: dict[str, Any] = (
            {"limit": 50} if cursor is None else {"limit": 50, "cursor": cursor}
        )
        response = await _list(service, job_id, **params, **paging)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def test_of_500_invited_exactly_the_72_who_never_completed_are_listed(
    service: Running, pool: Pool
) -> None:
    # The 500 are written straight into the pool's tables (see reinvitations_support): the
    # test is about the group, and test_no_show_group_is_built_from_the_other_services_events
    # proves the same group comes from the events on the broker.
    job_id = await pool.job()
    start = now() - timedelta(days=3)
    invited = await pool.people(500)
    completed, missing = invited[:428], invited[428:]
    for i in range(0, 428, 107):
        at = start + timedelta(minutes=i)
        await pool.applications(
            completed[i : i + 107],
            job_id,
            ai_invited_at=at,
            ai_completed_at=at + timedelta(hours=5),
        )
    no_show_applications: dict[str, str] = {}
    for i, person in enumerate(missing):
        expired = i % 2 == 0
        [application_id] = await pool.applications(
            [person],
            job_id,
            ai_invited_at=start + timedelta(minutes=i),
            ai_expired_at=start + timedelta(days=2) if expired else None,
        )
        no_show_applications[str(person.profile_id)] = str(application_id)
    # Not in the group: invited before the window, to another job, or erased since.
    before, elsewhere = await pool.people(2)
    erased = await pool.person(anonymized_at=now())
    await pool.applications([before], job_id, ai_invited_at=start - timedelta(days=1))
    await pool.applications([elsewhere], await pool.job(), ai_invited_at=start)
    await pool.applications([erased], job_id, ai_invited_at=start)

    window = _window(start, start + timedelta(days=1))
    first = await _list(service, job_id, limit=10, **window)
    listed = await _everyone(service, job_id, **window)

    assert first.status_code == 200, first.text
    assert first.json()["count"] == 72
    assert len(first.json()["items"]) == 10
    # Every page carries the whole group's size, read in the page's own statement.
    second = await _list(service, job_id, limit=10, cursor=first.json()["next_cursor"], **window)
    assert second.json()["count"] == 72
    assert len(second.json()["items"]) == 10
    nobody = await _list(
        service, job_id, **_window(start - timedelta(days=9), start - timedelta(days=8))
    )
    assert nobody.json() == {"count": 0, "items": [], "next_cursor": None}
    assert len(listed) == 72
    assert {item["profile_id"]: item["application_id"] for item in listed} == no_show_applications
    assert [item["invited_at"] for item in listed] == sorted(item["invited_at"] for item in listed)
    expired_only = await _list(service, job_id, expired_only="true", **window)
    assert expired_only.json()["count"] == 36
    assert all(item["expired_at"] for item in expired_only.json()["items"])


async def test_each_no_show_comes_with_a_summary_of_their_history(
    service: Running, pool: Pool
) -> None:
    job_id = await pool.job()
    person = await pool.person()
    invited_at = now() - timedelta(days=2)
    [application_id] = await pool.applications(
        [person], job_id, ai_invited_at=invited_at, ai_expired_at=now() - timedelta(hours=1)
    )
    ai = {"invitation": "ai_interview"}
    await pool.timeline(
        person,
        application_id,
        job_id,
        [
            ("applied", "pipeline", {}),
            ("invited", "scheduler", ai),
            ("delivered", "notifier", {"notification_kind": "ai_interview_invitation"}),
            ("opened", "notifier", {"notification_kind": "ai_interview_invitation"}),
            ("opened", "pipeline", ai),
            ("delivered", "notifier", {"notification_kind": "invitation_reminder"}),
            ("bounced", "notifier", {"notification_kind": "invitation_reminder"}),
            ("expired", "scheduler", ai),
        ],
    )
    await pool.tag([person], "no_show")

    [item] = (await _list(service, job_id)).json()["items"]

    assert item["application_id"] == str(application_id)
    assert item["candidate_id"] == str(person.candidate_id)
    assert item["status"] == "active"
    assert item["stage_key"] == "ai_interview"
    assert item["opened"] is True
    assert item["opened_at"] is not None
    assert item["started_at"] is None
    assert item["expired_at"] is not None
    assert item["reminders"] == 2
    assert item["notifications"] == 3
    assert item["history"] == {
        "applied": 1,
        "invited": 1,
        "delivered": 2,
        "opened": 2,
        "bounced": 1,
        "expired": 1,
    }
    assert item["tags"] == ["no_show"]
    assert item["reinvited_at"] is None


async def test_someone_who_never_opened_the_invitation_is_shown_as_not_opened(
    service: Running, pool: Pool
) -> None:
    job_id = await pool.job()
    person = await pool.person()
    [application_id] = await pool.applications([person], job_id, ai_invited_at=now())
    # Opening the email about it is not opening the invitation.
    await pool.timeline(
        person,
        application_id,
        job_id,
        [("opened", "notifier", {"notification_kind": "ai_interview_invitation"})],
    )

    [item] = (await _list(service, job_id)).json()["items"]

    assert item["opened"] is False
    assert item["opened_at"] is None


async def test_the_no_show_group_is_built_from_the_other_services_events(
    service: Running, amqp: AbstractRobustConnection
) -> None:
    job_id = uuid.uuid4()
    invited_at = now() - timedelta(hours=3)
    await publish(
        amqp,
        JobChangedV1(
            job_id=job_id,
            title="Backend engineer",
            job_type="default",
            status="open",
            owner_ids=[OWNER],
            occurred_at=invited_at - timedelta(days=1),
        ),
        subject=str(job_id),
    )
    applications = [(uuid.uuid4(), uuid.uuid4()) for _ in range(3)]  # (application, candidate)
    for application_id, candidate_id in applications:
        common = {"application_id": application_id, "job_id": job_id, "candidate_id": candidate_id}
        await publish(
            amqp,
            ApplicationCreatedV1(
                **common,
                stage=AI_STAGE,
                source="api",
                locale="zh-CN",
                occurred_at=invited_at - timedelta(minutes=1),
            ),
            subject=str(application_id),
        )
        await publish(
            amqp,
            AiInterviewInvitedV1(
                **common, vendor="acme", interview_id=uuid.uuid4(), occurred_at=invited_at
            ),
            subject=str(application_id),
        )
    took_it = applications[0]
    await publish(
        amqp,
        AiInterviewCompletedV1(
            application_id=took_it[0],
            job_id=job_id,
            candidate_id=took_it[1],
            vendor="acme",
            interview_id=uuid.uuid4(),
            occurred_at=invited_at + timedelta(hours=1),
        ),
        subject=str(took_it[0]),
    )

    async def group() -> list[dict[str, Any]] | None:
        response = await _list(service, job_id)
        if response.status_code != 200:
            return None
        body = response.json()
        listed = {item["application_id"] for item in body["items"]}
        completed_gone = str(took_it[0]) not in listed
        # The count and the page are two reads: wait until both show the events all handled.
        settled = body["count"] == 2 and len(listed) == 2 and completed_gone
        return body["items"] if settled else None

    items = await wait_for(group, what="the two who never completed")
    assert {item["application_id"] for item in items} == {str(a) for a, _ in applications[1:]}
    assert all(item["history"]["invited"] == 1 for item in items)

    async with listening(amqp, [REQUESTED]) as queue:
        response = await _act(service, job_id, {"action": "reinvite", "all": True})
        assert response.status_code == 202, response.text
        seen: list[dict[str, Any]] = []
        await wait_for(lambda: take(queue, seen, 2), what="two reinvitation_requested events")
    assert {event["data"]["application_id"] for event in seen} == {
        str(a) for a, _ in applications[1:]
    }
    assert {event["data"]["origin"] for event in seen} == {"no_show_group"}


async def test_reinviting_the_group_asks_for_new_invitations_on_their_own_applications(
    service: Running, pool: Pool, amqp: AbstractRobustConnection
) -> None:
    job_id = await pool.job()
    start = now() - timedelta(days=1)
    # No re-engagement consent is needed: it is the application they made.
    without_consent, with_consent = await pool.person(consent=None), await pool.person()
    on_hold = await pool.person(on_hold_until=now() + timedelta(days=10))
    rejected = await pool.person()
    for person in (without_consent, with_consent, on_hold):
        await pool.applications([person], job_id, ai_invited_at=start)
    await pool.applications([rejected], job_id, ai_invited_at=start, status="rejected")

    async with listening(amqp, [REQUESTED]) as queue:
        response = await _act(
            service,
            job_id,
            {"action": "reinvite", "all": True, **_window(start, now())},
        )

        assert response.status_code == 202, response.text
        body = response.json()
        assert body["action"] == "reinvite"
        invited = {r["profile_id"]: r for r in body["reinvitations"]}
        assert set(invited) == {str(without_consent.profile_id), str(with_consent.profile_id)}
        assert all(r["origin"] == "no_show_group" for r in invited.values())
        assert all(r["application_id"] for r in invited.values())
        assert {r["profile_id"]: r["reason"] for r in body["refusals"]} == {
            str(on_hold.profile_id): "on_hold",
            str(rejected.profile_id): "application_ended",
        }
        seen: list[dict[str, Any]] = []
        await wait_for(lambda: take(queue, seen, 2), what="two reinvitation_requested events")
    assert {e["data"]["application_id"] for e in seen} == {
        r["application_id"] for r in invited.values()
    }

    [listed] = [
        item
        for item in (await _list(service, job_id)).json()["items"]
        if item["profile_id"] == str(with_consent.profile_id)
    ]
    assert listed["reinvited_at"] is not None


async def test_reinviting_chosen_people_refuses_those_outside_the_group(
    service: Running, pool: Pool
) -> None:
    job_id = await pool.job()
    no_show, completed = await pool.people(2)
    await pool.applications([no_show], job_id, ai_invited_at=now())
    await pool.applications([completed], job_id, ai_invited_at=now(), ai_completed_at=now())

    response = await _act(
        service,
        job_id,
        {
            "action": "reinvite",
            "profile_ids": [str(no_show.profile_id), str(completed.profile_id)],
        },
    )

    assert response.status_code == 202, response.text
    body = response.json()
    assert [r["profile_id"] for r in body["reinvitations"]] == [str(no_show.profile_id)]
    assert body["refusals"] == [
        {"profile_id": str(completed.profile_id), "reason": "unknown", "merged_into": None}
    ]


async def test_acting_on_nobody_in_the_group_is_422_with_the_reasons(
    service: Running, pool: Pool
) -> None:
    job_id = await pool.job()
    outsider = await pool.person()

    response = await _act(
        service, job_id, {"action": "reinvite", "profile_ids": [str(outsider.profile_id)]}
    )

    problem = assert_problem(response, 422, "nobody-invited")
    assert problem["errors"][0]["field"] == "profile_ids.0"
    assert problem["refusals"][0]["reason"] == "unknown"


async def test_setting_the_group_aside_tags_them_and_puts_them_on_hold_until_the_date(
    service: Running, pool: Pool
) -> None:
    job_id = await pool.job()
    start = now() - timedelta(hours=6)
    group = await pool.people(3)
    await pool.applications(group, job_id, ai_invited_at=start)
    until = now() + timedelta(days=60)

    response = await _act(
        service,
        job_id,
        {"action": "set_aside", "all": True, "until": until.isoformat(), **_window(start, now())},
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["set_aside"]) == {str(p.profile_id) for p in group}
    assert body["reinvitations"] == []
    listed = (await _list(service, job_id)).json()["items"]
    assert {tuple(item["tags"]) for item in listed} == {("on_hold", "set_aside")}
    # On hold: nobody may invite them now, even to another job.
    other_job = await pool.job()
    refused = await service.client.post(
        f"/v1/jobs/{other_job}/reinvitations",
        json={"profile_ids": [str(group[0].profile_id)]},
        headers=HR_OWNER,
    )
    assert assert_problem(refused, 422, "nobody-invited")["refusals"][0]["reason"] == "on_hold"


async def test_setting_aside_without_a_date_only_tags_them(service: Running, pool: Pool) -> None:
    job_id = await pool.job()
    person = await pool.person()
    await pool.applications([person], job_id, ai_invited_at=now())

    response = await _act(
        service, job_id, {"action": "set_aside", "profile_ids": [str(person.profile_id)]}
    )

    assert response.status_code == 200, response.text
    [item] = (await _list(service, job_id)).json()["items"]
    assert item["tags"] == ["set_aside"]


async def test_reinviting_for_a_closed_job_is_409(service: Running, pool: Pool) -> None:
    job_id = await pool.job(status="closed")

    response = await _act(service, job_id, {"action": "reinvite", "all": True})

    assert_problem(response, 409, "job-closed")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "reinvite"}, "profile_ids"),
        ({"action": "reinvite", "all": True, "profile_ids": [str(uuid.uuid4())]}, "profile_ids"),
        ({"action": "reinvite", "profile_ids": []}, "profile_ids"),
        ({"action": "forget", "all": True}, "action"),
        ({"action": "reinvite", "all": True, "until": "2099-01-01T00:00:00Z"}, "until"),
        ({"action": "set_aside", "all": True, "until": "2001-01-01T00:00:00Z"}, "until"),
        ({"action": "set_aside", "all": True, "until": "2099-01-01T00:00:00"}, "until"),
        (
            {
                "action": "reinvite",
                "all": True,
                "invited_from": "2025-03-04T00:00:00Z",
                "invited_to": "2025-03-03T00:00:00Z",
            },
            "invited_to",
        ),
    ],
)
async def test_a_malformed_action_is_422_naming_the_field(
    service: Running, pool: Pool, body: dict[str, Any], field: str
) -> None:
    job_id = await pool.job()

    problem = assert_problem(await _act(service, job_id, body), 422, "validation-error")

    assert field in [e["field"] for e in problem["errors"]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        (
            {"invited_from": "2025-03-04T00:00:00Z", "invited_to": "2025-03-03T00:00:00Z"},
            "invited_to",
        ),
        ({"invited_from": "2025-03-03T00:00:00"}, "invited_from"),
        ({"limit": 0}, "limit"),
    ],
)
async def test_a_bad_window_is_422_naming_the_parameter(
    service: Running, pool: Pool, params: dict[str, Any], field: str
) -> None:
    job_id = await pool.job()

    problem = assert_problem(await _list(service, job_id, **params), 422, "validation-error")

    assert field in [e["field"] for e in problem["errors"]]


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        (INTERVIEWER, 403),
        (HR_OTHER, 404),
        (HR_OWNER, 200),
        (HR_SCOPED, 200),
        (ADMIN, 200),
    ],
)
async def test_who_may_see_and_act_on_a_jobs_no_show_group(
    service: Running, pool: Pool, headers: dict[str, str], status: int
) -> None:
    job_id = await pool.job()
    person = await pool.person()
    await pool.applications([person], job_id, ai_invited_at=now())

    listed = await _list(service, job_id, headers=headers)
    acted = await _act(
        service,
        job_id,
        {"action": "set_aside", "profile_ids": [str(person.profile_id)]},
        headers=headers,
    )

    assert listed.status_code == status, listed.text
    assert acted.status_code == status, acted.text
    if status != 200:
        assert_problem(listed, status)
        assert_problem(acted, status)


async def test_a_job_the_pool_does_not_know_is_404(service: Running) -> None:
    assert_problem(await _list(service, uuid.uuid4(), headers=ADMIN), 404, "not-found")
