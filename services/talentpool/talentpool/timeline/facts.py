"""What each event the pool consumes means for a person: the timeline entries it adds and what it
tells about the application. Plain functions over the events' data (no database), so the
mapping can be read and tested alone; ``profiles.ingestion`` stores the facts of a batch in a
few statements.

Entries that concern an invitation carry ``data["invitation"]`` (``ai_interview`` or
``live_interview``): an application's invitations of one kind form a *thread* (the AI interview
reported by the vendor through the pipeline and by the scheduler is one thread), which is what
the engagement counters count. No free text (reasons, bounce messages) and no contact data go
into an entry.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol, get_args

from shared.events.envelope import CloudEvent, EventData
from shared.events.notifier import NotificationStatusChangedV1, NotificationUnreadV1
from shared.events.pipeline import (
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
)
from shared.events.scheduler import (
    CustomWindowRequestedV1,
    InterviewBookedV1,
    InterviewCancelledV1,
    InvitationCancelledV1,
    InvitationOpenedV1,
    InvitationSentV1,
    InviteExpiredV1,
)
from talentpool.profiles.stages import rank

# -- kinds ---------------------------------------------------------------------------------

Kind = Literal[
    "applied",
    "stage_changed",
    "result_released",
    "invited",
    "opened",
    "clicked",
    "started",
    "completed",
    "report_ready",
    "expired",
    "cancelled",
    "window_requested",
    "booked",
    "rescheduled",
    "no_show",
    "replied",
    "message_from_hr",
    "delivered",
    "bounced",
    "ignored",
]
KINDS: tuple[str, ...] = get_args(Kind)
"""Every kind of timeline entry (see docs/talentpool/profiles.md for what each means)."""

SOURCES: tuple[str, ...] = ("pipeline", "scheduler", "notifier")

RESPONSE_KINDS: frozenset[str] = frozenset(
    {"opened", "clicked", "started", "completed", "window_requested", "booked", "rescheduled"}
)
"""Within an invitation's thread: the person reacted to it."""

DONE_KINDS: frozenset[str] = frozenset({"completed", "booked", "rescheduled"})
"""Within a thread: the person saw it through (took the AI interview, booked the interview)."""

ACTIVITY_KINDS: frozenset[str] = frozenset(
    {
        "applied",
        "opened",
        "clicked",
        "started",
        "completed",
        "window_requested",
        "booked",
        "rescheduled",
        "replied",
    }
)
"""What the person did themselves: the latest of these is their last activity."""

AI = "ai_interview"
LIVE = "live_interview"
# Notifier receipts are kept once per delivery and kind, whichever of its events said so first.
_RECEIPTS = uuid.UUID("6f1d0c3e-2b8a-5e0f-9c47-1d2e3f405162")


@dataclass(frozen=True)
class ApplicationChange:
    """What one event says about an application (``profiles.ingestion`` folds a batch's changes
    per application; ``version`` > 0 only for the pipeline's own application events, which are
    the only ones that move its stage)."""

    application_id: uuid.UUID
    candidate_id: uuid.UUID
    job_id: uuid.UUID
    version: int = 0
    stage_key: str | None = None
    stage_kind: str | None = None
    status: str | None = None
    reason_code: str | None = None
    reached_kind: str | None = None
    applied_at: datetime | None = None
    ai_invited_at: datetime | None = None
    ai_started_at: datetime | None = None
    ai_completed_at: datetime | None = None
    ai_expired_at: datetime | None = None
    ai_score: float | None = None


@dataclass(frozen=True)
class Fact:
    """One timeline entry and what it says about the application it names."""

    candidate_id: uuid.UUID
    source_event_id: uuid.UUID
    source: str
    occurred_at: datetime
    kind: str
    application_id: uuid.UUID | None = None
    job_id: uuid.UUID | None = None
    data: dict[str, Any] = field(default_factory=dict)
    application: ApplicationChange | None = None


@dataclass(frozen=True)
class JobFact:
    job_id: uuid.UUID
    title: str
    job_type: str
    status: str
    owner_ids: list[str]
    changed_at: datetime
    version: int


# -- entries about an application ------------------------------------------------------------


class _AboutApplication(Protocol):
    """An event that names the application it concerns, with its candidate and job."""

    @property
    def candidate_id(self) -> uuid.UUID: ...

    @property
    def application_id(self) -> uuid.UUID: ...

    @property
    def job_id(self) -> uuid.UUID: ...


def _fact(
    envelope: CloudEvent,
    data: _AboutApplication,
    source: str,
    kind: str,
    at: datetime,
    entry: dict[str, Any],
    change: ApplicationChange | None = None,
) -> Fact:
    """The entry an event adds for the application it names, so each mapper says only what
    differs. Without a ``change`` the event tells nothing new about the application beyond
    that it exists."""
    return Fact(
        candidate_id=data.candidate_id,
        source_event_id=envelope.id,
        source=source,
        occurred_at=at,
        kind=kind,
        application_id=data.application_id,
        job_id=data.job_id,
        data=entry,
        application=(
            change
            if change is not None
            else ApplicationChange(data.application_id, data.candidate_id, data.job_id)
        ),
    )


# -- the pipeline ----------------------------------------------------------------------------


def _applied(envelope: CloudEvent, data: ApplicationCreatedV1) -> list[Fact]:
    entry = {
        "stage": data.stage.key,
        "stage_kind": data.stage.kind,
        "via": data.source,
        "locale": data.locale,
    }
    change = ApplicationChange(
        data.application_id,
        data.candidate_id,
        data.job_id,
        version=envelope.sequence or 1,
        stage_key=data.stage.key,
        stage_kind=data.stage.kind,
        status="active",
        reached_kind=data.stage.kind,
        applied_at=data.occurred_at,
    )
    return [_fact(envelope, data, "pipeline", "applied", data.occurred_at, entry, change)]


def _stage_changed(envelope: CloudEvent, data: StageChangedV1) -> list[Fact]:
    entry = {
        "transition": data.transition,
        "from_stage": data.from_stage.key if data.from_stage else None,
        "to_stage": data.to_stage.key,
        "to_stage_kind": data.to_stage.kind,
        "status": data.status,
        "reason_code": data.reason_code,
    }
    change = ApplicationChange(
        data.application_id,
        data.candidate_id,
        data.job_id,
        # An event without a sequence still counts, below any numbered one.
        version=envelope.sequence if envelope.sequence is not None else 1,
        stage_key=data.to_stage.key,
        stage_kind=data.to_stage.kind,
        status=data.status,
        reason_code=data.reason_code,
        reached_kind=data.to_stage.kind,
    )
    return [_fact(envelope, data, "pipeline", "stage_changed", data.occurred_at, entry, change)]


def _result_released(envelope: CloudEvent, data: ResultReleasedV1) -> list[Fact]:
    entry = {
        "decision": data.decision,
        "stage": data.stage.key,
        "to_stage": data.to_stage.key if data.to_stage else None,
        "reason_code": data.reason_code,
    }
    change = ApplicationChange(
        data.application_id,
        data.candidate_id,
        data.job_id,
        reached_kind=data.to_stage.kind if data.to_stage else None,
    )
    return [_fact(envelope, data, "pipeline", "result_released", data.released_at, entry, change)]


_AI_KINDS: dict[type[EventData], str] = {
    AiInterviewInvitedV1: "invited",
    AiInterviewOpenedV1: "opened",
    AiInterviewStartedV1: "started",
    AiInterviewCompletedV1: "completed",
    AiInterviewExpiredV1: "expired",
    AiInterviewReportReadyV1: "report_ready",
}


def _ai_interview(
    envelope: CloudEvent,
    data: AiInterviewInvitedV1
    | AiInterviewOpenedV1
    | AiInterviewStartedV1
    | AiInterviewCompletedV1
    | AiInterviewExpiredV1
    | AiInterviewReportReadyV1,
) -> list[Fact]:
    kind = _AI_KINDS[type(data)]
    at = data.occurred_at
    entry: dict[str, Any] = {
        "invitation": AI,
        "vendor": data.vendor,
        "interview_id": str(data.interview_id),
    }
    score: float | None = None
    if isinstance(data, AiInterviewCompletedV1 | AiInterviewReportReadyV1) and data.score:
        score = float(data.score)
        entry["score"] = score
    change = ApplicationChange(
        data.application_id,
        data.candidate_id,
        data.job_id,
        ai_invited_at=at if kind == "invited" else None,
        ai_started_at=at if kind == "started" else None,
        ai_completed_at=at if kind == "completed" else None,
        ai_expired_at=at if kind == "expired" else None,
        ai_score=score,
    )
    return [_fact(envelope, data, "pipeline", kind, at, entry, change)]


def _message_posted(envelope: CloudEvent, data: MessagePostedV1) -> list[Fact]:
    kind = "replied" if data.sender_kind == "candidate" else "message_from_hr"
    entry = {"message_id": str(data.message_id), "sender_kind": data.sender_kind}
    return [_fact(envelope, data, "pipeline", kind, data.posted_at, entry)]


def _no_show(envelope: CloudEvent, data: NoShowRecordedV1) -> list[Fact]:
    entry: dict[str, Any] = {"stage": data.stage_key, "no_show_of": data.kind}
    if data.kind == "ai_interview":
        entry["invitation"] = AI
    elif data.kind == "interview":
        entry["invitation"] = LIVE
    return [_fact(envelope, data, "pipeline", "no_show", data.occurred_at, entry)]


# -- the scheduler ---------------------------------------------------------------------------


def _invitation(
    envelope: CloudEvent,
    data: InvitationSentV1
    | InvitationOpenedV1
    | InviteExpiredV1
    | InvitationCancelledV1
    | CustomWindowRequestedV1,
    kind: str,
    at: datetime,
    **extra: Any,
) -> list[Fact]:
    is_ai = data.kind == AI
    entry = {"invitation": data.kind, "invitation_id": str(data.invitation_id), **extra}
    change = ApplicationChange(
        data.application_id,
        data.candidate_id,
        data.job_id,
        ai_invited_at=at if is_ai and kind == "invited" else None,
        ai_expired_at=at if is_ai and kind == "expired" else None,
    )
    return [_fact(envelope, data, "scheduler", kind, at, entry, change)]


def _invitation_sent(envelope: CloudEvent, data: InvitationSentV1) -> list[Fact]:
    return _invitation(
        envelope, data, "invited", envelope.time, deadline_at=data.deadline_at.isoformat()
    )


def _invitation_opened(envelope: CloudEvent, data: InvitationOpenedV1) -> list[Fact]:
    return _invitation(envelope, data, "opened", data.opened_at)


def _invite_expired(envelope: CloudEvent, data: InviteExpiredV1) -> list[Fact]:
    at = data.makeup_until if data.final and data.makeup_until else data.deadline_at
    return _invitation(envelope, data, "expired", at, final=data.final)


def _invitation_cancelled(envelope: CloudEvent, data: InvitationCancelledV1) -> list[Fact]:
    return _invitation(envelope, data, "cancelled", data.cancelled_at, by=data.cancelled_by)


def _window_requested(envelope: CloudEvent, data: CustomWindowRequestedV1) -> list[Fact]:
    return _invitation(envelope, data, "window_requested", envelope.time, matched=data.matched)


def _interview_booked(envelope: CloudEvent, data: InterviewBookedV1) -> list[Fact]:
    entry: dict[str, Any] = {
        "invitation": LIVE,
        "interview_id": str(data.interview_id),
        "starts_at": data.starts_at.isoformat(),
        "ends_at": data.ends_at.isoformat(),
        "remote": data.remote,
    }
    if data.rescheduled_from is not None:
        entry["rescheduled_from"] = data.rescheduled_from.starts_at.isoformat()
    kind = "rescheduled" if data.rescheduled_from is not None else "booked"
    return [_fact(envelope, data, "scheduler", kind, envelope.time, entry)]


def _interview_cancelled(envelope: CloudEvent, data: InterviewCancelledV1) -> list[Fact]:
    entry = {
        "invitation": LIVE,
        "interview_id": str(data.interview_id),
        "starts_at": data.starts_at.isoformat(),
        "by": data.cancelled_by,
    }
    return [_fact(envelope, data, "scheduler", "cancelled", envelope.time, entry)]


# -- the notifier ----------------------------------------------------------------------------


def _notified_change(
    application_id: uuid.UUID | None, candidate_id: uuid.UUID, job_id: uuid.UUID | None
) -> ApplicationChange | None:
    """A notification names an application only when it was about one; a change needs both
    the application and its job."""
    if application_id is None or job_id is None:
        return None
    return ApplicationChange(application_id, candidate_id, job_id)


def _notification(envelope: CloudEvent, data: NotificationStatusChangedV1) -> list[Fact]:
    """Receipts of what was sent to a candidate: delivered or bounced, and their engagement
    (seen or read: opened; clicked: opened and clicked). Each delivery is on the timeline at
    most once per kind, at the earliest time reported (an id derived from the delivery)."""
    if data.recipient_kind != "candidate":
        return []
    candidate_id = data.candidate_id
    if candidate_id is None:
        try:
            candidate_id = uuid.UUID(data.recipient_id)
        except ValueError:
            return []
    kinds: list[str] = []
    if data.status in ("delivered", "bounced"):
        kinds.append(data.status)
    if data.engagement in ("seen", "read", "clicked"):
        kinds.append("opened")
    if data.engagement == "clicked":
        kinds.append("clicked")
    entry = {
        "notification_id": str(data.notification_id),
        "delivery_id": str(data.delivery_id),
        "notification_kind": data.kind,
        "channel": data.channel,
    }
    application = _notified_change(data.application_id, candidate_id, data.job_id)
    return [
        Fact(
            candidate_id=candidate_id,
            source_event_id=uuid.uuid5(_RECEIPTS, f"{data.delivery_id}:{kind}"),
            source="notifier",
            occurred_at=data.occurred_at,
            kind=kind,
            application_id=data.application_id,
            job_id=data.job_id,
            data=entry,
            application=application,
        )
        for kind in kinds
    ]


def _unread(envelope: CloudEvent, data: NotificationUnreadV1) -> list[Fact]:
    """A notification nobody read on any channel its fallback tried: ignored."""
    if data.recipient_kind != "candidate" or data.candidate_id is None:
        return []
    return [
        Fact(
            candidate_id=data.candidate_id,
            source_event_id=envelope.id,
            source="notifier",
            occurred_at=data.occurred_at,
            kind="ignored",
            application_id=data.application_id,
            job_id=data.job_id,
            data={
                "notification_id": str(data.notification_id),
                "notification_kind": data.kind,
                "channels_tried": list(data.channels_tried),
            },
            application=_notified_change(data.application_id, data.candidate_id, data.job_id),
        )
    ]


Mapper = Callable[[CloudEvent, Any], list[Fact]]

MAPPERS: dict[type[EventData], Mapper] = {
    ApplicationCreatedV1: _applied,
    StageChangedV1: _stage_changed,
    ResultReleasedV1: _result_released,
    **dict.fromkeys(_AI_KINDS, _ai_interview),
    MessagePostedV1: _message_posted,
    NoShowRecordedV1: _no_show,
    InvitationSentV1: _invitation_sent,
    InvitationOpenedV1: _invitation_opened,
    InviteExpiredV1: _invite_expired,
    InvitationCancelledV1: _invitation_cancelled,
    CustomWindowRequestedV1: _window_requested,
    InterviewBookedV1: _interview_booked,
    InterviewCancelledV1: _interview_cancelled,
    NotificationStatusChangedV1: _notification,
    NotificationUnreadV1: _unread,
}
"""The event types that shape profiles and timelines (``job_changed`` is ``job_fact``'s)."""


def facts(envelope: CloudEvent, data: EventData) -> list[Fact]:
    """The facts of one event (none for an event that says nothing about a person)."""
    mapper = MAPPERS.get(type(data))
    return [] if mapper is None else mapper(envelope, data)


def job_fact(envelope: CloudEvent, data: JobChangedV1) -> JobFact:
    return JobFact(
        job_id=data.job_id,
        title=data.title,
        job_type=data.job_type,
        status=data.status,
        owner_ids=list(data.owner_ids),
        changed_at=data.occurred_at,
        version=envelope.sequence or 0,
    )


def reached(change: ApplicationChange) -> tuple[int, str | None]:
    """The stage an application change shows the application reached, as ``(rank, kind)``."""
    return (rank(change.reached_kind), change.reached_kind)
