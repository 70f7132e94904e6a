"""The kinds of notification the notifier sends: who may get each, the variables its templates
may use (with sample values for previews) and the rule it starts with.

This is the contract between the event mapping (``dispatch/events.py``, which fills the
variables), the templates (which may use only these variables) and the rules (which may name
only these kinds and audiences).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Audience = Literal["candidate", "hr", "interviewers"]
Channel = Literal["email", "sms", "in_app", "chat", "webhook"]
TEMPLATED_CHANNELS: tuple[str, ...] = ("email", "sms", "in_app", "chat")
LOCALES: tuple[str, ...] = ("zh-CN", "en")

# Every kind's templates may use these.
COMMON_VARIABLES: dict[str, str] = {
    "recipient_name": "The recipient's name, or an empty string when it is not known.",
    "job_title": "The job's title.",
    "company_name": "The employer's name (setting NOTIFIER_COMPANY_NAME).",
    "portal_url": "The candidate portal (setting NOTIFIER_PORTAL_URL).",
    "variant": "0, 1, 2...: how many notices of this kind the recipient already got today; "
    "reminder templates use it to vary their wording.",
    "locale": "zh-CN or en.",
}
COMMON_SAMPLE: dict[str, Any] = {
    "recipient_name": "李雷",
    "job_title": "后端工程师",
    "company_name": "示例科技",
    "portal_url": "https://careers.example.com/status",
    "variant": 0,
    "locale": "zh-CN",
}


@dataclass(frozen=True)
class FallbackStep:
    after_minutes: int
    channels: tuple[str, ...] = ()
    action: Literal["hr_follow_up"] | None = None

    def as_json(self) -> dict[str, Any]:
        if self.action is not None:
            return {"after_minutes": self.after_minutes, "action": self.action}
        return {"after_minutes": self.after_minutes, "channels": list(self.channels)}


@dataclass(frozen=True)
class DefaultRule:
    audience: Audience
    channels: tuple[str, ...]
    fallback: tuple[FallbackStep, ...] = ()
    urgent: bool = False


@dataclass(frozen=True)
class Kind:
    name: str
    description: str
    variables: dict[str, str]
    sample: dict[str, Any]
    rules: tuple[DefaultRule, ...]
    attachments: tuple[str, ...] = field(default=())

    @property
    def audiences(self) -> tuple[str, ...]:
        return tuple(rule.audience for rule in self.rules)

    def all_variables(self) -> dict[str, str]:
        return {**COMMON_VARIABLES, **self.variables}

    def sample_data(self) -> dict[str, Any]:
        return {**COMMON_SAMPLE, **self.sample}


_UNREAD_THEN_SMS_THEN_HR = (
    FallbackStep(after_minutes=120, channels=("sms",)),
    FallbackStep(after_minutes=24 * 60, action="hr_follow_up"),
)
_SLOT_SAMPLE = [
    {"starts_at": "2026-12-01T10:00:00+08:00", "ends_at": "2026-12-01T10:45:00+08:00"},
    {"starts_at": "2026-12-02T14:00:00+08:00", "ends_at": "2026-12-02T14:45:00+08:00"},
]

KINDS: dict[str, Kind] = {
    kind.name: kind
    for kind in (
        Kind(
            name="stage_passed",
            description="The candidate passed a stage: where they are now and what to do next.",
            variables={
                "from_stage": "The stage they passed (its key).",
                "to_stage": "The stage they are in now (its key).",
                "to_stage_kind": "interview, assessment, background_check, ...",
                "next_steps": "A list of short instructions (documents to send, a date to "
                "confirm); may be empty.",
            },
            sample={
                "from_stage": "ai_interview",
                "to_stage": "round_2",
                "to_stage_kind": "interview",
                "next_steps": ["请在 3 个工作日内确认面试时间"],
            },
            rules=(DefaultRule("candidate", ("in_app", "email"), _UNREAD_THEN_SMS_THEN_HR),),
        ),
        Kind(
            name="offer",
            description="The candidate reached the offer stage.",
            variables={"to_stage": "The offer stage's key."},
            sample={"to_stage": "offer"},
            rules=(DefaultRule("candidate", ("in_app", "email"), _UNREAD_THEN_SMS_THEN_HR),),
        ),
        Kind(
            name="rejected",
            description="The application was rejected, with its reason.",
            variables={
                "stage": "The stage the decision was taken in (its key).",
                "reason_code": "The reason's code, or an empty string.",
                "reason": "The reason in words for the candidate, or an empty string.",
            },
            sample={
                "stage": "round_1",
                "reason_code": "skills_mismatch",
                "reason": "岗位要求与您的经验匹配度不足",
            },
            rules=(DefaultRule("candidate", ("in_app", "email")),),
        ),
        Kind(
            name="result_under_review",
            description="The candidate's result waits for an approval: under review, "
            "expected by a date.",
            variables={"expected_by": "When the review should end (RFC 3339), or empty."},
            sample={"expected_by": "2026-12-03T18:00:00+08:00"},
            rules=(DefaultRule("candidate", ("in_app",)),),
        ),
        Kind(
            name="approval_requested",
            description="An approver is asked to approve a result.",
            variables={
                "position": "The approver's place in the chain (1 for the first).",
                "due_at": "When the approval is due (RFC 3339), or empty.",
            },
            sample={"position": 1, "due_at": "2026-12-03T18:00:00+08:00"},
            rules=(DefaultRule("hr", ("in_app", "chat")),),
        ),
        Kind(
            name="interview_invitation",
            description="The candidate is invited to pick an interview slot through a link.",
            variables={
                "pick_url": "The link where the candidate picks a slot.",
                "deadline_at": "The deadline to pick (RFC 3339).",
                "slots": "The offered slots, each {starts_at, ends_at} (RFC 3339).",
                "time_zone": "The zone the times are shown in.",
            },
            sample={
                "pick_url": "https://careers.example.com/pick/abc",
                "deadline_at": "2026-11-30T18:00:00+08:00",
                "slots": _SLOT_SAMPLE,
                "time_zone": "Asia/Shanghai",
            },
            rules=(DefaultRule("candidate", ("in_app", "email"), _UNREAD_THEN_SMS_THEN_HR),),
        ),
        Kind(
            name="ai_interview_invitation",
            description="The candidate is invited to complete an AI interview by a deadline.",
            variables={"deadline_at": "The deadline (RFC 3339).", "time_zone": "Shown zone."},
            sample={"deadline_at": "2026-11-30T18:00:00+08:00", "time_zone": "Asia/Shanghai"},
            rules=(DefaultRule("candidate", ("in_app", "email"), _UNREAD_THEN_SMS_THEN_HR),),
        ),
        Kind(
            name="invitation_reminder",
            description="A reminder that an invitation's deadline is near.",
            variables={
                "invitation_kind": "live_interview or ai_interview.",
                "deadline_at": "The deadline (RFC 3339).",
                "pick_url": "The pick link for a live interview, or empty.",
                "time_zone": "Shown zone.",
            },
            sample={
                "invitation_kind": "live_interview",
                "deadline_at": "2026-11-30T18:00:00+08:00",
                "pick_url": "https://careers.example.com/pick/abc",
                "time_zone": "Asia/Shanghai",
            },
            rules=(DefaultRule("candidate", ("in_app", "sms")),),
        ),
        Kind(
            name="invite_expired",
            description="An invitation expired: a make-up window follows, or it is closed.",
            variables={
                "invitation_kind": "live_interview or ai_interview.",
                "final": "True when no make-up window follows.",
                "makeup_until": "The end of the make-up window (RFC 3339), or empty.",
                "time_zone": "Shown zone.",
            },
            sample={
                "invitation_kind": "ai_interview",
                "final": False,
                "makeup_until": "2026-12-02T18:00:00+08:00",
                "time_zone": "Asia/Shanghai",
            },
            rules=(DefaultRule("candidate", ("in_app", "email")),),
        ),
        Kind(
            name="interview_booked",
            description="An interview is booked: time, place, interviewers, with an .ics file.",
            variables={
                "starts_at": "Start (RFC 3339).",
                "ends_at": "End (RFC 3339).",
                "time_zone": "The zone the times are shown in.",
                "location": "The room, or 'online' for a remote interview.",
                "interviewer_count": "How many interviewers are on the panel.",
                "rescheduled": "True when it replaces an earlier time.",
            },
            sample={
                "starts_at": "2026-12-01T10:00:00+08:00",
                "ends_at": "2026-12-01T10:45:00+08:00",
                "time_zone": "Asia/Shanghai",
                "location": "online",
                "interviewer_count": 2,
                "rescheduled": False,
            },
            rules=(
                DefaultRule("candidate", ("in_app", "email"), _UNREAD_THEN_SMS_THEN_HR),
                DefaultRule("interviewers", ("in_app", "email")),
            ),
            attachments=("invite.ics",),
        ),
        Kind(
            name="interview_cancelled",
            description="A booked interview was cancelled.",
            variables={
                "starts_at": "The cancelled start (RFC 3339).",
                "time_zone": "Shown zone.",
                "reason": "Why, or an empty string.",
            },
            sample={
                "starts_at": "2026-12-01T10:00:00+08:00",
                "time_zone": "Asia/Shanghai",
                "reason": "",
            },
            rules=(
                DefaultRule("candidate", ("in_app", "email"), urgent=True),
                DefaultRule("interviewers", ("in_app", "email"), urgent=True),
            ),
            attachments=("cancel.ics",),
        ),
        Kind(
            name="interview_reminder",
            description="A reminder of a booked interview (1 day and 2 hours before).",
            variables={
                "reminder": "Which reminder: 1d, 2h, ...",
                "starts_at": "Start (RFC 3339).",
                "time_zone": "Shown zone.",
            },
            sample={
                "reminder": "2h",
                "starts_at": "2026-12-01T10:00:00+08:00",
                "time_zone": "Asia/Shanghai",
            },
            rules=(
                DefaultRule("candidate", ("in_app", "sms")),
                DefaultRule("interviewers", ("in_app",)),
            ),
        ),
        Kind(
            name="message_from_hr",
            description="HR wrote to the candidate in the application's thread.",
            variables={},
            sample={},
            rules=(DefaultRule("candidate", ("in_app", "email")),),
        ),
        Kind(
            name="message_from_candidate",
            description="The candidate wrote to HR in the application's thread.",
            variables={},
            sample={},
            rules=(DefaultRule("hr", ("in_app",)),),
        ),
        Kind(
            name="message_unanswered",
            description="A candidate's message has waited too long for an answer.",
            variables={"waited_hours": "How long it has waited, in whole hours."},
            sample={"waited_hours": 26},
            rules=(DefaultRule("hr", ("in_app", "chat")),),
        ),
        Kind(
            name="human_review_requested",
            description="An application needs a person to review it.",
            variables={},
            sample={},
            rules=(DefaultRule("hr", ("in_app", "chat")),),
        ),
        Kind(
            name="unread_follow_up",
            description="A candidate read nothing of a notice on any channel: follow up.",
            variables={
                "unread_kind": "The kind of the notice nobody read.",
                "channels_tried": "The channels it was sent on.",
            },
            sample={"unread_kind": "interview_invitation", "channels_tried": ["in_app", "sms"]},
            rules=(DefaultRule("hr", ("in_app", "chat")),),
        ),
    )
}
