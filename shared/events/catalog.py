"""Every event type of the suite, the source of the AsyncAPI document."""

from __future__ import annotations

from shared.events.envelope import EventData
from shared.events.notifier import NotificationStatusChangedV1, NotificationUnreadV1
from shared.events.pipeline import (
    AiInterviewCompletedV1,
    AiInterviewExpiredV1,
    AiInterviewInvitedV1,
    AiInterviewOpenedV1,
    AiInterviewReportReadyV1,
    AiInterviewStartedV1,
    ApplicationCreatedV1,
    ApprovalEscalatedV1,
    ApprovalRequestedV1,
    CandidateChangedV1,
    HumanReviewRequestedV1,
    JobChangedV1,
    MessagePostedV1,
    MessageUnansweredV1,
    NoShowRecordedV1,
    ResultReleasedV1,
    StageChangedV1,
)
from shared.events.scheduler import (
    CustomWindowRequestedV1,
    InterviewBookedV1,
    InterviewCancelledV1,
    InterviewConfirmedV1,
    InterviewerDeclinedV1,
    InterviewProposedV1,
    InvitationCancelledV1,
    InvitationDeadlineChangedV1,
    InvitationOpenedV1,
    InvitationSentV1,
    InviteExpiredV1,
    ReminderDueV1,
)
from shared.events.talentpool import (
    CandidateErasureRequestedV1,
    CandidateSubscriptionChangedV1,
    CandidateTaggedV1,
    ErasureRequestedV1,
    NotifierErasureCompletedV1,
    PipelineErasureCompletedV1,
    ReinvitationRequestedV1,
    SchedulerErasureCompletedV1,
)

CATALOG: tuple[type[EventData], ...] = (
    StageChangedV1,
    ApplicationCreatedV1,
    CandidateChangedV1,
    ResultReleasedV1,
    ApprovalRequestedV1,
    ApprovalEscalatedV1,
    MessagePostedV1,
    MessageUnansweredV1,
    HumanReviewRequestedV1,
    NoShowRecordedV1,
    AiInterviewInvitedV1,
    AiInterviewOpenedV1,
    AiInterviewStartedV1,
    AiInterviewCompletedV1,
    AiInterviewExpiredV1,
    AiInterviewReportReadyV1,
    JobChangedV1,
    InvitationSentV1,
    InvitationOpenedV1,
    CustomWindowRequestedV1,
    InviteExpiredV1,
    InvitationCancelledV1,
    InvitationDeadlineChangedV1,
    ReminderDueV1,
    InterviewProposedV1,
    InterviewBookedV1,
    InterviewConfirmedV1,
    InterviewerDeclinedV1,
    InterviewCancelledV1,
    NotificationStatusChangedV1,
    NotificationUnreadV1,
    CandidateSubscriptionChangedV1,
    CandidateErasureRequestedV1,
    CandidateTaggedV1,
    ReinvitationRequestedV1,
    ErasureRequestedV1,
    PipelineErasureCompletedV1,
    SchedulerErasureCompletedV1,
    NotifierErasureCompletedV1,
)


def event_types() -> dict[str, type[EventData]]:
    return {model.event_type: model for model in CATALOG}
