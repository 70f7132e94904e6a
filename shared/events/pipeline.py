"""Events the pipeline service produces."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events.envelope import EventData

ActorKind = Literal["hr", "admin", "interviewer", "candidate", "vendor", "system"]
Transition = Literal["advance", "move", "reject", "withdraw", "hire", "reopen"]


class Actor(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    kind: ActorKind
    id: str | None = Field(default=None, description="Subject of the acting user, if any.")


class StageRef(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    key: str = Field(description="The stage's key within its job's template.", examples=["round_2"])
    kind: str = Field(
        description="ai_interview, evaluation, interview, background_check, offer, hired, ...",
        examples=["interview"],
    )


class StageChangedV1(EventData):
    event_type = "pipeline.stage_changed.v1"
    producer = "pipeline"
    summary = "An application moved from one stage to another."

    application_id: UUID
    job_id: UUID
    candidate_id: UUID
    transition: Transition
    from_stage: StageRef | None
    to_stage: StageRef
    reason: str | None = None
    reason_code: str | None = Field(
        default=None, description="The configured rejection reason, for a rejection."
    )
    status: Literal["active", "rejected", "withdrawn", "hired"] = Field(
        default="active", description="The application's status after the change."
    )
    notify_candidate: bool = Field(
        default=False, description="Whether the new stage is one the candidate is told about."
    )
    result_id: UUID | None = Field(
        default=None, description="The released result that made the change, if any."
    )
    actor: Actor
    occurred_at: AwareDatetime


class ApplicationCreatedV1(EventData):
    event_type = "pipeline.application_created.v1"
    producer = "pipeline"
    summary = "A candidate applied to a job (or was added to it); it starts in the first stage."

    application_id: UUID
    job_id: UUID
    candidate_id: UUID
    stage: StageRef
    source: str = Field(description="api, bulk, vendor, ...", examples=["bulk"])
    locale: str = Field(description="The candidate's language: zh-CN or en.", examples=["zh-CN"])
    occurred_at: AwareDatetime


class CandidateChangedV1(EventData):
    event_type = "pipeline.candidate_changed.v1"
    producer = "pipeline"
    summary = (
        "Staff corrected a candidate's name, email, phone or language. The event names the "
        "fields, never their values: a service that keeps a copy reads the candidate's contact "
        "again from the pipeline."
    )

    candidate_id: UUID
    changed: list[Literal["full_name", "email", "phone", "locale"]] = Field(
        min_length=1, examples=[["email", "phone"]]
    )
    actor: Actor
    occurred_at: AwareDatetime


class ResultReleasedV1(EventData):
    event_type = "pipeline.result_released.v1"
    producer = "pipeline"
    summary = "A decision about an application may now be told to the candidate."

    result_id: UUID
    application_id: UUID
    job_id: UUID
    candidate_id: UUID
    decision: Literal["advance", "move", "reject", "hire"]
    stage: StageRef = Field(description="The stage the decision is about.")
    to_stage: StageRef | None = Field(default=None, description="Where the application went.")
    reason_code: str | None = None
    policy_mode: Literal["immediate", "approval"]
    released_at: AwareDatetime


class ApprovalRequestedV1(EventData):
    event_type = "pipeline.approval_requested.v1"
    producer = "pipeline"
    summary = "An approver's turn came in a result's approval chain."

    result_id: UUID
    application_id: UUID
    job_id: UUID
    approver_id: str
    position: int = Field(description="1 for the first approver of the chain.")
    due_at: AwareDatetime | None
    candidate_id: UUID | None = Field(
        default=None, description="The application's candidate, who may be told it is under review."
    )
    expected_by: AwareDatetime | None = Field(
        default=None, description="When the result is expected out of the whole chain."
    )


class ApprovalEscalatedV1(EventData):
    event_type = "pipeline.approval_escalated.v1"
    producer = "pipeline"
    summary = "An approver sat past their SLA; the people to escalate to should act."

    result_id: UUID
    application_id: UUID
    job_id: UUID
    approver_id: str
    escalate_to: list[str]
    due_at: AwareDatetime
    escalated_at: AwareDatetime


class MessagePostedV1(EventData):
    event_type = "pipeline.message_posted.v1"
    producer = "pipeline"
    summary = "A message was added to an application's candidate-HR thread (without its text)."

    message_id: UUID
    application_id: UUID
    job_id: UUID
    candidate_id: UUID
    sender_kind: Literal["candidate", "hr", "admin", "system"]
    sender_id: str | None = None
    posted_at: AwareDatetime


class MessageUnansweredV1(EventData):
    event_type = "pipeline.message_unanswered.v1"
    producer = "pipeline"
    summary = "A candidate's message has waited longer than the configured time for HR's answer."

    application_id: UUID
    job_id: UUID
    candidate_id: UUID
    owner_ids: list[str] = Field(description="The job's HR owners, who should answer.")
    oldest_unanswered_at: AwareDatetime
    waited_seconds: int


class HumanReviewRequestedV1(EventData):
    event_type = "pipeline.human_review_requested.v1"
    producer = "pipeline"
    summary = "A candidate asked for a person to review an AI-based decision."

    application_id: UUID
    job_id: UUID
    candidate_id: UUID
    owner_ids: list[str]
    requested_at: AwareDatetime


class NoShowRecordedV1(EventData):
    event_type = "pipeline.no_show_recorded.v1"
    producer = "pipeline"
    summary = "A candidate did not turn up for an agreed interview or an accepted offer."

    application_id: UUID
    job_id: UUID
    candidate_id: UUID
    stage_key: str
    kind: Literal["interview", "offer", "ai_interview"]
    occurred_at: AwareDatetime


class _AiInterviewEvent(EventData):
    application_id: UUID
    job_id: UUID
    candidate_id: UUID
    vendor: str
    interview_id: UUID = Field(description="Our id of the application's AI interview.")
    occurred_at: AwareDatetime = Field(description="When the vendor says it happened.")


class AiInterviewInvitedV1(_AiInterviewEvent):
    event_type = "pipeline.ai_interview_invited.v1"
    producer = "pipeline"
    summary = "The vendor invited the candidate to an AI interview."


class AiInterviewOpenedV1(_AiInterviewEvent):
    event_type = "pipeline.ai_interview_opened.v1"
    producer = "pipeline"
    summary = "The candidate opened the AI interview invitation."


class AiInterviewStartedV1(_AiInterviewEvent):
    event_type = "pipeline.ai_interview_started.v1"
    producer = "pipeline"
    summary = "The candidate started the AI interview."


class AiInterviewCompletedV1(_AiInterviewEvent):
    event_type = "pipeline.ai_interview_completed.v1"
    producer = "pipeline"
    summary = "The candidate completed the AI interview."

    score: Decimal | None = None


class AiInterviewExpiredV1(_AiInterviewEvent):
    event_type = "pipeline.ai_interview_expired.v1"
    producer = "pipeline"
    summary = "The AI interview's completion window passed without a completed interview."


class AiInterviewReportReadyV1(_AiInterviewEvent):
    event_type = "pipeline.ai_interview_report_ready.v1"
    producer = "pipeline"
    summary = "The vendor's report on the AI interview is ready."

    score: Decimal | None = None
    dimension_scores: dict[str, Decimal] = Field(default_factory=dict)


class JobChangedV1(EventData):
    event_type = "pipeline.job_changed.v1"
    producer = "pipeline"
    summary = (
        "A job was created or changed: who owns it (other services scope HR access by it), "
        "its title, type and whether it is open."
    )

    job_id: UUID
    title: str
    job_type: str
    status: Literal["open", "closed"]
    owner_ids: list[str]
    occurred_at: AwareDatetime
