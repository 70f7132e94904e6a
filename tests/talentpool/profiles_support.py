"""For the profiles, ingestion, timeline and matching tests (and anyone else's): every event the
talent pool builds people from, as its producer publishes it, for one candidate's application;
publishing a batch and waiting until the pool has taken every event; reading profiles back;
and the callers of the access matrix."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import asyncpg
from aio_pika.abc import AbstractRobustConnection
from prometheus_client import REGISTRY

from shared.crypto import Keyring
from shared.events.envelope import CloudEvent, EventData
from shared.events.notifier import NotificationStatusChangedV1, NotificationUnreadV1
from shared.events.pipeline import (
    Actor,
    AiInterviewCompletedV1,
    AiInterviewExpiredV1,
    AiInterviewInvitedV1,
    AiInterviewOpenedV1,
    AiInterviewReportReadyV1,
    AiInterviewStartedV1,
    ApplicationCreatedV1,
    JobChangedV1,
    MessagePostedV1,
    NoShowRecordedV1,
    ResultReleasedV1,
    StageChangedV1,
    StageRef,
)
from shared.events.scheduler import (
    CustomWindowRequestedV1,
    InterviewBookedV1,
    InterviewCancelledV1,
    InvitationCancelledV1,
    InvitationOpenedV1,
    InvitationSentV1,
    InviteExpiredV1,
    Slot,
)
from talentpool.profiles.contacts import (
    EMAIL_CONTEXT,
    NAME_CONTEXT,
    PHONE_CONTEXT,
    email_index,
    phone_index,
)
from talentpool.settings import TalentpoolSettings
from tests.pipeline.stage_changed_events import deliver
from tests.support.running import Running, wait_for
from tests.support.tokens import auth

POOL_SCOPE = "talentpool:search"
OWNER = "hr-alice"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

AS_ADMIN = auth("admin", "admin-zhao")
AS_POOL_HR = auth("hr", "hr-wang", scopes=(POOL_SCOPE,))
AS_OWNER = auth("hr", OWNER)
AS_OTHER_HR = auth("hr", "hr-bob")
AS_INTERVIEWER = auth("interviewer", "iv-li")
AS_SERVICE = auth("service", "pipeline", scopes=(POOL_SCOPE,))

AI_INTERVIEW = StageRef(key="ai_interview", kind="ai_interview")
ROUND_1 = StageRef(key="round_1", kind="interview")
OFFER = StageRef(key="offer", kind="offer")

InvitationKind = Literal["live_interview", "ai_interview"]
AiStatus = Literal["invited", "opened", "started", "completed", "expired", "report_ready"]
_AI: dict[str, type[EventData]] = {
    "invited": AiInterviewInvitedV1,
    "opened": AiInterviewOpenedV1,
    "started": AiInterviewStartedV1,
    "completed": AiInterviewCompletedV1,
    "expired": AiInterviewExpiredV1,
    "report_ready": AiInterviewReportReadyV1,
}


def envelope(
    data: EventData,
    *,
    subject: uuid.UUID,
    at: datetime,
    sequence: int | None = None,
    event_id: uuid.UUID | None = None,
) -> CloudEvent:
    """``data`` in the envelope its producer's relay publishes."""
    return CloudEvent(
        id=event_id or uuid.uuid4(),
        source=f"/{data.producer}",
        type=data.event_type,
        time=at,
        subject=str(subject),
        data=data.model_dump(mode="json"),
        sequence=sequence,
    )


def job_changed(
    job_id: uuid.UUID,
    *,
    owners: Sequence[str] = (OWNER,),
    title: str = "Backend engineer",
    status: Literal["open", "closed"] = "open",
    at: datetime = T0,
    sequence: int = 1,
) -> CloudEvent:
    return envelope(
        JobChangedV1(
            job_id=job_id,
            title=title,
            job_type="basic",
            status=status,
            owner_ids=list(owners),
            occurred_at=at,
        ),
        subject=job_id,
        at=at,
        sequence=sequence,
    )


@dataclass(frozen=True)
class AnApplication:
    """One candidate's application to one job, and every event about it."""

    candidate_id: uuid.UUID = field(default_factory=uuid.uuid4)
    job_id: uuid.UUID = field(default_factory=uuid.uuid4)
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    interview_id: uuid.UUID = field(default_factory=uuid.uuid4)
    invitation_id: uuid.UUID = field(default_factory=uuid.uuid4)

    def other(self) -> AnApplication:
        """Another application of the same candidate, to another job."""
        return AnApplication(candidate_id=self.candidate_id)

    # -- the pipeline ---------------------------------------------------------------------

    def applied(
        self, *, at: datetime = T0, stage: StageRef = AI_INTERVIEW, locale: str = "zh-CN"
    ) -> CloudEvent:
        return envelope(
            ApplicationCreatedV1(
                application_id=self.id,
                job_id=self.job_id,
                candidate_id=self.candidate_id,
                stage=stage,
                source="api",
                locale=locale,
                occurred_at=at,
            ),
            subject=self.id,
            at=at,
            sequence=1,
        )

    def moved(
        self,
        *,
        sequence: int,
        to_stage: StageRef = ROUND_1,
        from_stage: StageRef | None = AI_INTERVIEW,
        at: datetime = T0,
        transition: Literal["advance", "move", "reject", "withdraw", "hire", "reopen"] = "move",
        status: Literal["active", "rejected", "withdrawn", "hired"] = "active",
        reason_code: str | None = None,
        event_id: uuid.UUID | None = None,
    ) -> CloudEvent:
        return envelope(
            StageChangedV1(
                application_id=self.id,
                job_id=self.job_id,
                candidate_id=self.candidate_id,
                transition=transition,
                from_stage=from_stage,
                to_stage=to_stage,
                reason="A free-text reason that is not kept",
                reason_code=reason_code,
                status=status,
                actor=Actor(kind="hr", id=OWNER),
                occurred_at=at,
            ),
            subject=self.id,
            at=at,
            sequence=sequence,
            event_id=event_id,
        )

    def result(
        self,
        *,
        decision: Literal["advance", "move", "reject", "hire"] = "advance",
        stage: StageRef = AI_INTERVIEW,
        to_stage: StageRef | None = ROUND_1,
        at: datetime = T0,
    ) -> CloudEvent:
        result_id = uuid.uuid4()
        return envelope(
            ResultReleasedV1(
                result_id=result_id,
                application_id=self.id,
                job_id=self.job_id,
                candidate_id=self.candidate_id,
                decision=decision,
                stage=stage,
                to_stage=to_stage,
                policy_mode="immediate",
                released_at=at,
            ),
            subject=result_id,
            at=at,
            sequence=1,
        )

    def ai(self, status: AiStatus, *, at: datetime = T0, score: str | None = None) -> CloudEvent:
        fields: dict[str, Any] = {
            "application_id": self.id,
            "job_id": self.job_id,
            "candidate_id": self.candidate_id,
            "vendor": "acme",
            "interview_id": self.interview_id,
            "occurred_at": at,
        }
        if score is not None:
            fields["score"] = Decimal(score)
        return envelope(_AI[status](**fields), subject=self.interview_id, at=at)

    def message(
        self,
        *,
        sender: Literal["candidate", "hr", "admin", "system"] = "candidate",
        at: datetime = T0,
    ) -> CloudEvent:
        message_id = uuid.uuid4()
        return envelope(
            MessagePostedV1(
                message_id=message_id,
                application_id=self.id,
                job_id=self.job_id,
                candidate_id=self.candidate_id,
                sender_kind=sender,
                sender_id=None if sender == "candidate" else OWNER,
                posted_at=at,
            ),
            subject=self.id,
            at=at,
        )

    def no_show(
        self,
        *,
        kind: Literal["interview", "offer", "ai_interview"] = "interview",
        at: datetime = T0,
    ) -> CloudEvent:
        return envelope(
            NoShowRecordedV1(
                application_id=self.id,
                job_id=self.job_id,
                candidate_id=self.candidate_id,
                stage_key="round_1",
                kind=kind,
                occurred_at=at,
            ),
            subject=self.id,
            at=at,
        )

    # -- the scheduler --------------------------------------------------------------------

    def _invitation(self, kind: str) -> dict[str, Any]:
        return {
            "invitation_id": self.invitation_id,
            "application_id": self.id,
            "job_id": self.job_id,
            "candidate_id": self.candidate_id,
            "kind": kind,
        }

    def invitation_sent(
        self,
        *,
        kind: Literal["live_interview", "ai_interview"] = "live_interview",
        at: datetime = T0,
    ) -> CloudEvent:
        return envelope(
            InvitationSentV1(
                **self._invitation(kind),
                candidate_group="default",
                deadline_at=at + timedelta(days=2),
            ),
            subject=self.invitation_id,
            at=at,
        )

    def invitation_opened(
        self,
        *,
        kind: Literal["live_interview", "ai_interview"] = "live_interview",
        at: datetime = T0,
    ) -> CloudEvent:
        return envelope(
            InvitationOpenedV1(**self._invitation(kind), opened_at=at),
            subject=self.invitation_id,
            at=at,
        )

    def invite_expired(
        self,
        *,
        kind: InvitationKind = "ai_interview",
        at: datetime = T0,
        final: bool = True,
    ) -> CloudEvent:
        return envelope(
            InviteExpiredV1(**self._invitation(kind), deadline_at=at, final=final),
            subject=self.invitation_id,
            at=at,
        )

    def invitation_cancelled(
        self,
        *,
        kind: Literal["live_interview", "ai_interview"] = "live_interview",
        at: datetime = T0,
    ) -> CloudEvent:
        return envelope(
            InvitationCancelledV1(**self._invitation(kind), cancelled_by="hr", cancelled_at=at),
            subject=self.invitation_id,
            at=at,
        )

    def window_requested(self, *, at: datetime = T0) -> CloudEvent:
        return envelope(
            CustomWindowRequestedV1(
                **self._invitation("live_interview"),
                window=Slot(
                    starts_at=at + timedelta(days=3), ends_at=at + timedelta(days=3, hours=2)
                ),
                matched=True,
            ),
            subject=self.invitation_id,
            at=at,
        )

    def booked(self, *, at: datetime = T0, rescheduled: bool = False) -> CloudEvent:
        starts = at + timedelta(days=2)
        return envelope(
            InterviewBookedV1(
                interview_id=self.interview_id,
                application_id=self.id,
                job_id=self.job_id,
                candidate_id=self.candidate_id,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                time_zone="Asia/Shanghai",
                interviewer_ids=[uuid.uuid4()],
                rescheduled_from=(
                    Slot(starts_at=starts - timedelta(days=1), ends_at=starts - timedelta(hours=23))
                    if rescheduled
                    else None
                ),
            ),
            subject=self.interview_id,
            at=at,
        )

    def interview_cancelled(self, *, at: datetime = T0) -> CloudEvent:
        starts = at + timedelta(days=2)
        return envelope(
            InterviewCancelledV1(
                interview_id=self.interview_id,
                application_id=self.id,
                job_id=self.job_id,
                candidate_id=self.candidate_id,
                starts_at=starts,
                ends_at=starts + timedelta(hours=1),
                cancelled_by="candidate",
                reason="Something personal the pool does not keep",
            ),
            subject=self.interview_id,
            at=at,
        )

    # -- the notifier ---------------------------------------------------------------------

    def notification(
        self,
        *,
        status: Literal["sent", "delivered", "bounced", "failed"] = "delivered",
        engagement: Literal["none", "seen", "read", "clicked"] = "none",
        delivery_id: uuid.UUID | None = None,
        recipient_kind: Literal["candidate", "staff"] = "candidate",
        at: datetime = T0,
    ) -> CloudEvent:
        notification_id = uuid.uuid4()
        return envelope(
            NotificationStatusChangedV1(
                notification_id=notification_id,
                delivery_id=delivery_id or uuid.uuid4(),
                kind="interview_invitation",
                channel="email",
                recipient_kind=recipient_kind,
                recipient_id=str(self.candidate_id) if recipient_kind == "candidate" else OWNER,
                application_id=self.id,
                job_id=self.job_id,
                candidate_id=self.candidate_id if recipient_kind == "candidate" else None,
                status=status,
                engagement=engagement,
                reason="550 mailbox of someone@example.com unknown"
                if status == "bounced"
                else None,
                occurred_at=at,
            ),
            subject=notification_id,
            at=at,
        )

    def unread(self, *, at: datetime = T0) -> CloudEvent:
        notification_id = uuid.uuid4()
        return envelope(
            NotificationUnreadV1(
                notification_id=notification_id,
                kind="interview_invitation",
                recipient_kind="candidate",
                recipient_id=str(self.candidate_id),
                application_id=self.id,
                job_id=self.job_id,
                candidate_id=self.candidate_id,
                owner_ids=[OWNER],
                channels_tried=["email", "sms"],
                first_sent_at=at - timedelta(days=1),
                occurred_at=at,
            ),
            subject=notification_id,
            at=at,
        )


# -- publishing and waiting ---------------------------------------------------------------------


def consumed(event_type: str) -> float:
    """How many events of the type the talent pool has acknowledged in this process (handled or
    duplicate), counted after the handler's transaction committed."""
    return sum(
        REGISTRY.get_sample_value(
            "events_consumed_total",
            {"service": "talentpool", "type": event_type, "outcome": outcome},
        )
        or 0.0
        for outcome in ("handled", "duplicate")
    )


async def deliver_all(amqp: AbstractRobustConnection, *events: CloudEvent) -> None:
    """Publish the events in this order, then wait until the talent pool (running in this
    process) has acknowledged every one."""
    before: dict[str, float] = {}
    for item in events:
        before.setdefault(item.type, consumed(item.type))
    for item in events:
        await deliver(amqp, item)
    expected = {
        kind: count + sum(1 for e in events if e.type == kind) for kind, count in before.items()
    }

    async def all_taken() -> bool:
        return all(consumed(kind) >= count for kind, count in expected.items())

    await wait_for(all_taken, timeout=20, what="the events to be acknowledged")


# -- reading -------------------------------------------------------------------------------------


async def profile_of(
    service: Running, candidate_id: uuid.UUID, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """The profile holding the candidate, read whole."""
    listed = await service.client.get(
        "/v1/profiles", params={"candidate_id": str(candidate_id)}, headers=headers or AS_ADMIN
    )
    assert listed.status_code == 200, listed.text
    [item] = listed.json()["items"]
    response = await service.client.get(f"/v1/profiles/{item['id']}", headers=headers or AS_ADMIN)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def timeline_of(
    service: Running, profile_id: str | uuid.UUID, **params: str
) -> list[dict[str, Any]]:
    """Every entry of the profile's timeline, newest first."""
    response = await service.client.get(
        f"/v1/profiles/{profile_id}/timeline",
        params={"limit": "200", **params},
        headers=AS_ADMIN,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# -- arranging with SQL ----------------------------------------------------------------------------


def keyring() -> Keyring:
    """The keyring of the test run's settings: the one the service encrypts and indexes with."""
    return Keyring.from_settings(TalentpoolSettings())


@dataclass(frozen=True)
class Person:
    profile_id: uuid.UUID = field(default_factory=uuid.uuid4)
    candidate_id: uuid.UUID = field(default_factory=uuid.uuid4)
    job_id: uuid.UUID = field(default_factory=uuid.uuid4)


async def a_person(
    db: asyncpg.Connection,
    *,
    owner: str = OWNER,
    name: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    at: datetime = T0,
    merged_into: uuid.UUID | None = None,
    anonymized: bool = False,
) -> Person:
    """A profile with its candidate, who applied to a job ``owner`` owns; with contact data
    stored as the matcher stores it, when given."""
    person = Person()
    ring = keyring()
    await db.execute(
        """INSERT INTO talentpool.profiles (id, full_name_ciphertext, email_ciphertext,
           email_index, phone_ciphertext, phone_index, first_seen_at, last_activity_at,
           contacts_checked_at, merged_into, anonymized_at, created_at, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7, $8, $9, $7, $7)""",
        person.profile_id,
        ring.encrypt(name, context=NAME_CONTEXT) if name else None,
        ring.encrypt(email, context=EMAIL_CONTEXT) if email else None,
        email_index(ring, email),
        ring.encrypt(phone, context=PHONE_CONTEXT) if phone else None,
        phone_index(ring, phone),
        at,
        merged_into,
        at if anonymized else None,
    )
    if merged_into is None:
        await db.execute(
            """INSERT INTO talentpool.profile_members (candidate_id, profile_id, home_profile_id,
               joined_at) VALUES ($1, $2, $2, $3)""",
            person.candidate_id,
            person.profile_id,
            at,
        )
    await db.execute(
        """INSERT INTO talentpool.jobs (id, title, job_type, status, owner_ids, changed_at)
           VALUES ($1, 'Backend engineer', 'basic', 'open', $2, $3)""",
        person.job_id,
        [owner],
        at,
    )
    await db.execute(
        """INSERT INTO talentpool.applications (id, candidate_id, job_id, updated_at)
           VALUES ($1, $2, $3, $4)""",
        uuid.uuid4(),
        person.candidate_id,
        person.job_id,
        at,
    )
    return person
