"""Tag rules at work, through the broker: the built-in rules tag no-shows and runner-ups (and
take runner-up away on a hire), HR's own rules fire on their triggers, a disabled rule does
not, and an event delivered twice or replayed changes nothing twice."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from aio_pika.abc import AbstractRobustConnection

from shared.events.envelope import CloudEvent
from shared.events.notifier import NotificationUnreadV1
from shared.events.pipeline import (
    Actor,
    AiInterviewCompletedV1,
    AiInterviewExpiredV1,
    NoShowRecordedV1,
    StageChangedV1,
    StageRef,
    Transition,
)
from shared.events.scheduler import InviteExpiredV1
from talentpool.app import spec as talentpool_spec
from tests.support.running import Running, running
from tests.talentpool.tags_support import (
    AS_ADMIN,
    BUILT_IN,
    Person,
    a_person,
    deliver_and_wait,
    event,
    history_of,
    tagged,
    tags_of,
)

NOW = datetime.now(UTC).replace(microsecond=0)
ROUND_1 = StageRef(key="round_1", kind="interview")
ROUND_2 = StageRef(key="round_2", kind="interview")
OFFER = StageRef(key="offer", kind="offer")
HIRED = StageRef(key="hired", kind="hired")
_STATUS = {"reject": "rejected", "withdraw": "withdrawn", "hire": "hired"}


@pytest.fixture
async def pool() -> AsyncIterator[Running]:
    """The service consuming its queue (the matcher, which asks the pipeline for contacts,
    is not needed here)."""
    async with running(talentpool_spec, run_workers=False) as service:
        yield service


def invite_expired(person: Person, *, kind: str = "ai_interview", final: bool = True) -> CloudEvent:
    invitation_id = uuid.uuid4()
    return event(
        InviteExpiredV1(
            invitation_id=invitation_id,
            application_id=person.application_id,
            job_id=person.job_id,
            candidate_id=person.candidate_id,
            kind=kind,
            deadline_at=NOW,
            makeup_until=None if final else NOW + timedelta(days=2),
            final=final,
        ),
        subject=invitation_id,
    )


def stage_changed(
    person: Person,
    transition: Transition,
    *,
    at: StageRef,
    to: StageRef | None = None,
    reason_code: str | None = None,
    occurred_at: datetime = NOW,
) -> CloudEvent:
    return event(
        StageChangedV1(
            application_id=person.application_id,
            job_id=person.job_id,
            candidate_id=person.candidate_id,
            transition=transition,
            from_stage=at,
            to_stage=to or at,
            reason_code=reason_code,
            status=_STATUS.get(transition, "active"),
            actor=Actor(kind="hr", id="hr-alice"),
            occurred_at=occurred_at,
        ),
        subject=person.application_id,
    )


def _ai(person: Person) -> dict[str, Any]:
    return {
        "application_id": person.application_id,
        "job_id": person.job_id,
        "candidate_id": person.candidate_id,
        "vendor": "mianshi",
        "interview_id": uuid.uuid4(),
        "occurred_at": NOW,
    }


async def create_rule(pool: Running, **body: Any) -> dict[str, Any]:
    response = await pool.client.post("/v1/tag-rules", json=body, headers=AS_ADMIN)
    assert response.status_code == 201, response.text
    rule: dict[str, Any] = response.json()
    return rule


# Built-in rules


async def test_a_final_expired_invitation_tags_the_person_no_show(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    expired = invite_expired(person)

    await deliver_and_wait(amqp, expired)

    tag = await tagged(pool, person, "no_show")
    assert tag["source"] == "rule"
    assert tag["rule_id"] == str(BUILT_IN["no_show_on_invite_expired"])
    [change] = await history_of(pool, person)
    assert change["action"] == "added"
    assert change["reason"] == "invite_expired"
    assert change["source_event_id"] == str(expired.id)
    assert change["actor"] is None


async def test_an_invitation_with_a_make_up_window_left_does_not_tag_yet(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    person = await a_person(db)

    await deliver_and_wait(amqp, invite_expired(person, kind="live_interview", final=False))

    assert await tags_of(pool, person) == {}


async def test_an_expired_ai_interview_tags_the_person_no_show(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    person = await a_person(db)

    await deliver_and_wait(
        amqp, event(AiInterviewExpiredV1(**_ai(person)), subject=person.application_id)
    )

    tag = await tagged(pool, person, "no_show")
    assert tag["rule_id"] == str(BUILT_IN["no_show_on_ai_interview_expired"])


async def test_a_recorded_no_show_tags_the_person_no_show(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    no_show = NoShowRecordedV1(
        application_id=person.application_id,
        job_id=person.job_id,
        candidate_id=person.candidate_id,
        stage_key="round_1",
        kind="interview",
        occurred_at=NOW,
    )

    await deliver_and_wait(amqp, event(no_show, subject=person.application_id))

    tag = await tagged(pool, person, "no_show")
    assert tag["rule_id"] == str(BUILT_IN["no_show_on_no_show_recorded"])


async def test_a_rejection_after_an_offer_makes_a_runner_up(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    person = await a_person(db)

    await deliver_and_wait(amqp, stage_changed(person, "reject", at=OFFER))

    tag = await tagged(pool, person, "runner_up")
    assert tag["rule_id"] == str(BUILT_IN["runner_up"])
    [change] = await history_of(pool, person)
    assert change["reason"] == "application_ended"


async def test_a_rejection_in_an_interview_after_getting_further_makes_a_runner_up(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    # Sent back from the offer to a second round, then rejected there: the application had
    # passed its interviews once, which is what counts.
    person = await a_person(db, furthest_rank=5)

    await deliver_and_wait(amqp, stage_changed(person, "reject", at=ROUND_2))

    await tagged(pool, person, "runner_up")


async def test_a_withdrawal_after_an_offer_makes_a_runner_up(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    person = await a_person(db)

    await deliver_and_wait(amqp, stage_changed(person, "withdraw", at=OFFER))

    await tagged(pool, person, "runner_up")


async def test_a_rejection_in_the_interviews_is_no_runner_up(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    person = await a_person(db, furthest_rank=3)

    await deliver_and_wait(amqp, stage_changed(person, "reject", at=ROUND_1))

    assert await tags_of(pool, person) == {}


async def test_a_hire_takes_runner_up_away(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    await deliver_and_wait(amqp, stage_changed(person, "reject", at=OFFER))
    await tagged(pool, person, "runner_up")
    later = Person(
        profile_id=person.profile_id, candidate_id=person.candidate_id, job_id=uuid.uuid4()
    )

    await deliver_and_wait(amqp, stage_changed(later, "hire", at=OFFER, to=HIRED))

    assert "runner_up" not in await tags_of(pool, person)
    [removal, _] = await history_of(pool, person)
    assert removal["action"] == "removed"
    assert removal["rule_id"] == str(BUILT_IN["runner_up_removed_on_hire"])


async def test_a_disabled_built_in_rule_does_not_fire(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    url = f"/v1/tag-rules/{BUILT_IN['no_show_on_invite_expired']}"
    shipped = (await pool.client.get(url, headers=AS_ADMIN)).json()
    fields = ("name", "tag", "action", "trigger", "conditions", "until_days")
    disabled = await pool.client.put(
        url,
        json={**{name: shipped[name] for name in fields}, "enabled": False},
        headers={**AS_ADMIN, "If-Match": '"1"'},
    )
    assert disabled.status_code == 200, disabled.text
    person = await a_person(db)

    await deliver_and_wait(amqp, invite_expired(person))

    assert await tags_of(pool, person) == {}


# Rules of HR's own


async def test_hr_rule_puts_withdrawn_people_on_hold_for_its_days(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    rule = await create_rule(
        pool,
        name="Withdrew: hold 90 days",
        tag="on_hold",
        trigger="application_ended",
        conditions={"status": ["withdrawn"]},
        until_days=90,
    )
    person = await a_person(db)

    await deliver_and_wait(amqp, stage_changed(person, "withdraw", at=ROUND_1))

    tag = await tagged(pool, person, "on_hold")
    assert tag["rule_id"] == rule["id"]
    assert datetime.fromisoformat(tag["until"]) == NOW + timedelta(days=90)
    hold = await db.fetchval(
        "SELECT on_hold_until FROM talentpool.profiles WHERE id = $1", person.profile_id
    )
    assert hold == NOW + timedelta(days=90)


async def test_a_later_event_never_shortens_a_longer_hold(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    await create_rule(
        pool,
        name="Withdrew: hold 30 days",
        tag="on_hold",
        trigger="application_ended",
        conditions={"status": ["withdrawn"]},
        until_days=30,
    )
    person = await a_person(db)
    far = NOW + timedelta(days=365)
    held = await pool.client.put(
        f"/v1/profiles/{person.profile_id}/tags/on_hold",
        json={"until": far.isoformat()},
        headers=AS_ADMIN,
    )
    assert held.status_code == 201, held.text

    await deliver_and_wait(amqp, stage_changed(person, "withdraw", at=ROUND_1))

    tag = (await tags_of(pool, person))["on_hold"]
    assert datetime.fromisoformat(tag["until"]) == far
    assert [c["action"] for c in await history_of(pool, person)] == ["added"]


async def test_hr_rule_on_a_strong_ai_interview_score(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    await create_rule(
        pool,
        name="Strong AI interview",
        tag="re_invite",
        trigger="ai_interview_completed",
        conditions={"min_score": 85},
    )
    strong, weak = await a_person(db), await a_person(db)

    await deliver_and_wait(
        amqp,
        event(
            AiInterviewCompletedV1(**_ai(weak), score=Decimal("61.5")),
            subject=weak.application_id,
        ),
        event(
            AiInterviewCompletedV1(**_ai(strong), score=Decimal("91")),
            subject=strong.application_id,
        ),
    )

    await tagged(pool, strong, "re_invite")
    assert await tags_of(pool, weak) == {}


async def test_hr_rule_on_reaching_a_stage(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    await create_rule(
        pool,
        name="Reached an offer",
        tag="offer_stage",
        trigger="stage_reached",
        conditions={"stage_kind": "offer"},
    )
    person = await a_person(db)

    await deliver_and_wait(amqp, stage_changed(person, "advance", at=ROUND_2, to=OFFER))

    await tagged(pool, person, "offer_stage")


async def test_hr_rule_on_rejections_with_some_reason_codes(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    await create_rule(
        pool,
        name="Position filled",
        tag="re_invite",
        trigger="application_ended",
        conditions={"status": ["rejected"], "reason_codes": ["position_filled"]},
    )
    filled, unfit = await a_person(db), await a_person(db)

    await deliver_and_wait(
        amqp,
        stage_changed(unfit, "reject", at=ROUND_1, reason_code="skills_mismatch"),
        stage_changed(filled, "reject", at=ROUND_1, reason_code="position_filled"),
    )

    await tagged(pool, filled, "re_invite")
    assert await tags_of(pool, unfit) == {}


async def test_hr_rule_on_unread_notifications_to_the_candidate(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    await create_rule(
        pool,
        name="Unreachable",
        tag="unreachable",
        trigger="notification_unread",
        conditions={"kinds": ["interview_invitation"]},
    )
    person = await a_person(db)
    unread = NotificationUnreadV1(
        notification_id=uuid.uuid4(),
        kind="interview_invitation",
        recipient_kind="candidate",
        recipient_id=str(person.candidate_id),
        application_id=person.application_id,
        job_id=person.job_id,
        candidate_id=person.candidate_id,
        owner_ids=["hr-alice"],
        channels_tried=["email", "sms"],
        first_sent_at=NOW,
        occurred_at=NOW,
    )

    await deliver_and_wait(amqp, event(unread, subject=unread.notification_id))

    await tagged(pool, person, "unreachable")


# Once only


async def test_an_event_delivered_twice_tags_once(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    expired = invite_expired(person)

    await deliver_and_wait(amqp, expired, expired)

    await tagged(pool, person, "no_show")
    assert len(await history_of(pool, person)) == 1


async def test_an_event_replayed_after_its_inbox_row_is_gone_changes_nothing(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    person = await a_person(db)
    expired = invite_expired(person)
    await deliver_and_wait(amqp, expired)
    await tagged(pool, person, "no_show")
    # HR took the tag away; the inbox forgot the event (as its retention would).
    removed = await pool.client.delete(
        f"/v1/profiles/{person.profile_id}/tags/no_show", headers=AS_ADMIN
    )
    assert removed.status_code == 204
    await db.execute("DELETE FROM talentpool.inbox WHERE event_id = $1", expired.id)

    await deliver_and_wait(amqp, expired)

    assert await tags_of(pool, person) == {}
    assert [c["action"] for c in await history_of(pool, person)] == ["removed", "added"]


async def test_a_person_new_to_the_pool_is_tagged_in_the_batch_that_brings_them(
    pool: Running, amqp: AbstractRobustConnection, db: asyncpg.Connection
) -> None:
    # Nobody arranged: the profiles' ingestion creates the person from the event itself,
    # earlier in the same transaction, and the rule finds them through their candidate id.
    newcomer = Person()

    await deliver_and_wait(amqp, invite_expired(newcomer))

    profile_id = await db.fetchval(
        "SELECT profile_id FROM talentpool.profile_members WHERE candidate_id = $1",
        newcomer.candidate_id,
    )
    assert profile_id is not None
    person = Person(profile_id=profile_id, candidate_id=newcomer.candidate_id)
    assert (await tags_of(pool, person))["no_show"]["source"] == "rule"
