"""Events the talent pool service produces, and the erasure confirmation every service sends."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from shared.events.envelope import EventData

ReinvitationOrigin = Literal["recommendation", "campaign", "no_show_group", "manual"]
ErasureReason = Literal["hr_request", "candidate_request", "retention"]


class CandidateTaggedV1(EventData):
    event_type = "talentpool.candidate_tagged.v1"
    producer = "talentpool"
    summary = "A person in the pool was given a tag, or lost one (by HR or by a tag rule)."

    profile_id: UUID
    candidate_ids: list[UUID] = Field(description="The pipeline's candidate ids of the person.")
    tag: str = Field(examples=["on_hold"])
    action: Literal["added", "changed", "removed"]
    source: Literal["manual", "rule"]
    until: AwareDatetime | None = Field(default=None, description="When the tag ends, if set.")
    occurred_at: AwareDatetime


class ReinvitationRequestedV1(EventData):
    event_type = "talentpool.reinvitation_requested.v1"
    producer = "talentpool"
    summary = (
        "Invite a known person (again) to a job. Without ``application_id`` the pipeline "
        "creates an application for the candidate (its first stage opens the invitation); "
        "with one, the scheduler opens a new AI-interview invitation on that application."
    )

    reinvitation_id: UUID
    profile_id: UUID
    candidate_id: UUID
    job_id: UUID
    application_id: UUID | None = None
    origin: ReinvitationOrigin
    campaign_id: UUID | None = None
    requested_by: str = Field(description="The subject of the HR user who asked.")
    requested_at: AwareDatetime


class ErasureRequestedV1(EventData):
    event_type = "talentpool.erasure_requested.v1"
    producer = "talentpool"
    summary = (
        "Erase a person: every service anonymizes its copy of these candidates (no name, "
        "phone, email or free text left) and confirms with its ``erasure_completed``."
    )

    erasure_id: UUID
    profile_id: UUID
    candidate_ids: list[UUID]
    reason: ErasureReason
    requested_at: AwareDatetime


class ErasureCompletedV1(EventData):
    """Base of each service's confirmation; the talent pool collects them per erasure."""

    erasure_id: UUID
    candidate_ids: list[UUID]
    erased: dict[str, int] = Field(
        default_factory=dict,
        description="Rows anonymized or deleted, by table.",
        examples=[{"candidates": 1, "messages": 3}],
    )
    completed_at: AwareDatetime


class PipelineErasureCompletedV1(ErasureCompletedV1):
    event_type = "pipeline.erasure_completed.v1"
    producer = "pipeline"
    summary = "The pipeline erased its copy of a person (contacts, names, messages, notes)."


class SchedulerErasureCompletedV1(ErasureCompletedV1):
    event_type = "scheduler.erasure_completed.v1"
    producer = "scheduler"
    summary = "The scheduler erased its copy of a person (invitations' and interviews' data)."


class NotifierErasureCompletedV1(ErasureCompletedV1):
    event_type = "notifier.erasure_completed.v1"
    producer = "notifier"
    summary = "The notifier erased its copy of a person (contacts, rendered messages, inbox)."


class CandidateErasureRequestedV1(EventData):
    event_type = "pipeline.candidate_erasure_requested.v1"
    producer = "pipeline"
    summary = "A candidate asked, through their status page, to have their data erased."

    candidate_id: UUID
    application_id: UUID
    requested_at: AwareDatetime


class CandidateSubscriptionChangedV1(EventData):
    event_type = "notifier.candidate_subscription_changed.v1"
    producer = "notifier"
    summary = (
        "A candidate unsubscribed from (or subscribed again to) some or all notifications; "
        "the talent pool does not re-engage someone who unsubscribed from everything."
    )

    candidate_id: UUID
    unsubscribed_all: bool
    unsubscribed_kinds: list[str] = Field(default_factory=list)
    occurred_at: AwareDatetime
