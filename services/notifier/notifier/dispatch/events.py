"""Which notifications each event of the suite calls for: a kind, an audience (or named
recipients) and the template variables the event provides. Pure functions of the event; the
planner adds the recipients' own details and applies the rules.

Variables hold no personal data: names and addresses are filled in when a message is sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from notifier.kinds import Audience
from shared.events.envelope import EventData
from shared.events.pipeline import (
    ApprovalEscalatedV1,
    ApprovalRequestedV1,
    HumanReviewRequestedV1,
    MessagePostedV1,
    MessageUnansweredV1,
    StageChangedV1,
)
from shared.events.scheduler import (
    InterviewBookedV1,
    InterviewCancelledV1,
    InvitationSentV1,
    InviteExpiredV1,
    ReminderDueV1,
)

Recipient = tuple[str, str]  # (recipient kind, id)


@dataclass(frozen=True)
class Owed:
    """One kind of notice to one audience (or to named recipients) because of an event."""

    kind: str
    audience: Audience
    variables: dict[str, Any]
    application_id: uuid.UUID | None = None
    job_id: uuid.UUID | None = None
    candidate_id: uuid.UUID | None = None
    # Named staff (an approver, the owners an event lists); None: resolved from the audience.
    recipients: tuple[Recipient, ...] | None = None
    interviewer_ids: tuple[uuid.UUID, ...] = field(default=())
    # The panel's JWT subjects when the event names them: interviewers are then addressed as
    # staff (their own inbox and settings); otherwise by the scheduler's interviewer ids.
    interviewer_subjects: tuple[str, ...] = field(default=())


# What a candidate is asked to do next, by the kind of stage they moved into; the words are
# chosen in the candidate's language when the message is rendered (``NEXT_STEPS``).
_NEXT_STEP_BY_STAGE_KIND = {
    "interview": ["confirm_interview_time"],
    "assessment": ["complete_assessment"],
    "background_check": ["send_documents"],
    "ai_interview": ["complete_ai_interview"],
}
NEXT_STEPS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "confirm_interview_time": "留意面试邀请，并在截止时间前确认面试时间",  # noqa: RUF001
        "complete_assessment": "按邀请完成在线测评",
        "send_documents": "准备并提交背景调查所需的材料（身份证明、学历及工作证明）",  # noqa: RUF001
        "complete_ai_interview": "在截止时间前完成 AI 面试",
    },
    "en": {
        "confirm_interview_time": "Watch for your interview invitation and confirm a time "
        "before its deadline",
        "complete_assessment": "Complete the online assessment you are invited to",
        "send_documents": "Prepare and send the documents for the background check (ID, "
        "degree and employment certificates)",
        "complete_ai_interview": "Complete the AI interview before its deadline",
    },
}


def _stage_changed(data: StageChangedV1) -> list[Owed]:
    if not data.notify_candidate:
        return []
    ids: dict[str, Any] = {
        "application_id": data.application_id,
        "job_id": data.job_id,
        "candidate_id": data.candidate_id,
    }
    if data.status == "rejected":
        stage = data.from_stage.key if data.from_stage else data.to_stage.key
        rejected: dict[str, Any] = {
            "stage": stage,
            "reason_code": data.reason_code or "",
            "reason": "",
        }
        return [Owed("rejected", "candidate", rejected, **ids)]
    if data.status != "active" or data.transition not in ("advance", "move"):
        return []
    if data.to_stage.kind == "offer":
        return [Owed("offer", "candidate", {"to_stage": data.to_stage.key}, **ids)]
    variables: dict[str, Any] = {
        "from_stage": data.from_stage.key if data.from_stage else "",
        "to_stage": data.to_stage.key,
        "to_stage_kind": data.to_stage.kind,
        "next_step_codes": _NEXT_STEP_BY_STAGE_KIND.get(data.to_stage.kind, []),
    }
    return [Owed("stage_passed", "candidate", variables, **ids)]


def _approval_requested(data: ApprovalRequestedV1) -> list[Owed]:
    variables = {
        "position": data.position,
        "due_at": data.due_at.isoformat() if data.due_at else "",
    }
    owed = [
        Owed(
            "approval_requested",
            "hr",
            variables,
            application_id=data.application_id,
            job_id=data.job_id,
            recipients=(("staff", data.approver_id),),
        )
    ]
    if data.position == 1 and data.candidate_id is not None:
        # The candidate hears once, when the review starts, when to expect the result.
        expected = data.expected_by or data.due_at
        owed.append(
            Owed(
                "result_under_review",
                "candidate",
                {"expected_by": expected.isoformat() if expected else ""},
                application_id=data.application_id,
                job_id=data.job_id,
                candidate_id=data.candidate_id,
            )
        )
    return owed


def _approval_escalated(data: ApprovalEscalatedV1) -> list[Owed]:
    variables = {"position": 0, "due_at": data.due_at.isoformat()}
    return [
        Owed(
            "approval_requested",
            "hr",
            variables,
            application_id=data.application_id,
            job_id=data.job_id,
            recipients=tuple(("staff", subject) for subject in data.escalate_to),
        )
    ]


def _message_posted(data: MessagePostedV1) -> list[Owed]:
    ids: dict[str, Any] = {
        "application_id": data.application_id,
        "job_id": data.job_id,
        "candidate_id": data.candidate_id,
    }
    if data.sender_kind == "candidate":
        return [Owed("message_from_candidate", "hr", {}, **ids)]
    return [Owed("message_from_hr", "candidate", {}, **ids)]


def _message_unanswered(data: MessageUnansweredV1) -> list[Owed]:
    return [
        Owed(
            "message_unanswered",
            "hr",
            {"waited_hours": data.waited_seconds // 3600},
            application_id=data.application_id,
            job_id=data.job_id,
            candidate_id=data.candidate_id,
            recipients=tuple(("staff", owner) for owner in data.owner_ids),
        )
    ]


def _human_review_requested(data: HumanReviewRequestedV1) -> list[Owed]:
    return [
        Owed(
            "human_review_requested",
            "hr",
            {},
            application_id=data.application_id,
            job_id=data.job_id,
            candidate_id=data.candidate_id,
            recipients=tuple(("staff", owner) for owner in data.owner_ids),
        )
    ]


def _invitation_sent(data: InvitationSentV1, portal_url: str) -> list[Owed]:
    ids: dict[str, Any] = {
        "application_id": data.application_id,
        "job_id": data.job_id,
        "candidate_id": data.candidate_id,
    }
    if data.kind == "ai_interview":
        variables: dict[str, Any] = {"deadline_at": data.deadline_at.isoformat()}
        return [Owed("ai_interview_invitation", "candidate", variables, **ids)]
    variables = {
        "pick_url": f"{portal_url.rstrip('/')}/invitations/{data.invitation_id}",
        "deadline_at": data.deadline_at.isoformat(),
        "slots": [
            {"starts_at": slot.starts_at.isoformat(), "ends_at": slot.ends_at.isoformat()}
            for slot in data.slots
        ],
    }
    return [Owed("interview_invitation", "candidate", variables, **ids)]


def _reminder_due(data: ReminderDueV1, portal_url: str) -> list[Owed]:
    ids: dict[str, Any] = {
        "application_id": data.application_id,
        "job_id": data.job_id,
        "candidate_id": data.candidate_id,
    }
    owed: list[Owed] = []
    if data.subject_kind == "invitation":
        if "candidate" in data.recipients:
            variables = {
                "invitation_kind": "live_interview",
                "deadline_at": (data.at or data.due_at).isoformat(),
                "pick_url": f"{portal_url.rstrip('/')}/invitations/{data.subject_id}",
            }
            owed.append(Owed("invitation_reminder", "candidate", variables, **ids))
        return owed
    variables = {
        "reminder": data.reminder.removeprefix("before_"),
        "starts_at": (data.at or data.due_at).isoformat(),
    }
    if "candidate" in data.recipients:
        owed.append(Owed("interview_reminder", "candidate", variables, **ids))
    if "interviewers" in data.recipients and data.interviewer_subjects:
        owed.append(
            Owed(
                "interview_reminder",
                "interviewers",
                variables,
                interviewer_subjects=tuple(data.interviewer_subjects),
                **ids,
            )
        )
    return owed


def _invite_expired(data: InviteExpiredV1) -> list[Owed]:
    variables = {
        "invitation_kind": data.kind,
        "final": data.final,
        "makeup_until": data.makeup_until.isoformat() if data.makeup_until else "",
    }
    return [
        Owed(
            "invite_expired",
            "candidate",
            variables,
            application_id=data.application_id,
            job_id=data.job_id,
            candidate_id=data.candidate_id,
        )
    ]


def _interview_booked(data: InterviewBookedV1) -> list[Owed]:
    ids: dict[str, Any] = {
        "application_id": data.application_id,
        "job_id": data.job_id,
        "candidate_id": data.candidate_id,
    }
    variables = {
        "interview_id": str(data.interview_id),
        "calendar_uid": data.calendar_uid or f"{data.interview_id}@recruiting",
        "calendar_sequence": data.calendar_sequence or 0,
        "starts_at": data.starts_at.isoformat(),
        "ends_at": data.ends_at.isoformat(),
        "time_zone": data.time_zone,
        "location": "online" if data.remote or data.room_id is None else "on_site",
        "interviewer_count": len(data.interviewer_ids),
        "rescheduled": data.rescheduled_from is not None,
    }
    return [
        Owed("interview_booked", "candidate", variables, **ids),
        Owed(
            "interview_booked",
            "interviewers",
            variables,
            interviewer_ids=tuple(data.interviewer_ids),
            interviewer_subjects=tuple(data.interviewer_subjects),
            **ids,
        ),
    ]


def _interview_cancelled(data: InterviewCancelledV1) -> list[Owed]:
    variables = {
        "interview_id": str(data.interview_id),
        "calendar_uid": data.calendar_uid or f"{data.interview_id}@recruiting",
        "calendar_sequence": data.calendar_sequence or 0,
        "starts_at": data.starts_at.isoformat(),
        "ends_at": data.ends_at.isoformat(),
        "reason": data.reason or "",
    }
    return [
        Owed(
            "interview_cancelled",
            "candidate",
            variables,
            application_id=data.application_id,
            job_id=data.job_id,
            candidate_id=data.candidate_id,
        )
    ]


def owed_for(data: EventData, *, portal_url: str) -> Sequence[Owed]:
    """The notices an event calls for (none for events the notifier only listens to)."""
    simple: dict[type[EventData], Callable[[Any], list[Owed]]] = {
        StageChangedV1: _stage_changed,
        ApprovalRequestedV1: _approval_requested,
        ApprovalEscalatedV1: _approval_escalated,
        MessagePostedV1: _message_posted,
        MessageUnansweredV1: _message_unanswered,
        HumanReviewRequestedV1: _human_review_requested,
        InviteExpiredV1: _invite_expired,
        InterviewBookedV1: _interview_booked,
        InterviewCancelledV1: _interview_cancelled,
    }
    if isinstance(data, InvitationSentV1):
        return _invitation_sent(data, portal_url)
    if isinstance(data, ReminderDueV1):
        return _reminder_due(data, portal_url)
    mapper = simple.get(type(data))
    return mapper(data) if mapper is not None else []


EVENT_TYPES: tuple[type[EventData], ...] = (
    StageChangedV1,
    ApprovalRequestedV1,
    ApprovalEscalatedV1,
    MessagePostedV1,
    MessageUnansweredV1,
    HumanReviewRequestedV1,
    InvitationSentV1,
    ReminderDueV1,
    InviteExpiredV1,
    InterviewBookedV1,
    InterviewCancelledV1,
)
