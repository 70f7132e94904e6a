from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field

from shared.http.schemas import RequestModel, ResponseModel
from talentpool.tags.names import TagName
from talentpool.tags.rules import (
    AiInterviewCompletedConditions,
    AiInterviewExpiredConditions,
    ApplicationEndedConditions,
    InviteExpiredConditions,
    NoShowRecordedConditions,
    NotificationUnreadConditions,
    RuleAction,
    StageReachedConditions,
    Trigger,
)

Note = Annotated[str, Field(min_length=1, max_length=1000)]

# Tags


class TagPut(RequestModel):
    """Give a person a tag, or change its date or note."""

    until: AwareDatetime | None = Field(
        default=None,
        description="When the tag ends (removed then, with history reason `expired`); "
        "required for `on_hold`, and in the future.",
        examples=["2026-09-01T00:00:00+08:00"],
    )
    note: Note | None = Field(
        default=None,
        description="Why, for HR's colleagues (left as it was when not given).",
        examples=["Finishing her master's; contact again in September."],
    )


class ProfileTagRead(ResponseModel):
    tag: str = Field(examples=["on_hold"])
    source: Literal["manual", "rule"] = Field(
        description="Set by HR or by a tag rule.", examples=["manual"]
    )
    rule_id: uuid.UUID | None = Field(
        description="The rule that set it, if a rule did.", examples=[None]
    )
    until: datetime | None = Field(
        description="When it ends; null: until removed.", examples=["2026-09-01T00:00:00Z"]
    )
    note: str | None = Field(examples=["Finishing her master's; contact again in September."])
    added_by: str | None = Field(
        description="The subject of who set it as it is now (null for a rule).",
        examples=["hr-alice"],
    )
    added_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])


class ProfileTags(ResponseModel):
    profile_id: uuid.UUID = Field(examples=["0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"])
    items: list[ProfileTagRead]


class TagChangeRead(ResponseModel):
    id: int = Field(examples=[1042])
    tag: str = Field(examples=["no_show"])
    action: Literal["added", "changed", "removed"] = Field(examples=["added"])
    source: Literal["manual", "rule"] = Field(examples=["rule"])
    rule_id: uuid.UUID | None = Field(examples=["0193b0a5-0000-7000-8000-000000000001"])
    actor: str | None = Field(
        description="Who made the change (null for a rule or an expiry).", examples=[None]
    )
    until: datetime | None = Field(
        description="The tag's end after the change (for a removal: the end it had).",
        examples=[None],
    )
    reason: str | None = Field(
        description="For a rule, the trigger that fired it; `expired` when its date passed.",
        examples=["invite_expired"],
    )
    source_event_id: uuid.UUID | None = Field(
        description="The event that fired the rule.",
        examples=["0193b0a5-7a1b-7c2d-8e3f-4a5b6c7d8e9f"],
    )
    at: datetime = Field(examples=["2026-03-02T09:00:00Z"])


class BulkTagRequest(RequestModel):
    """Tag or untag many people in one call: all of them, or (if any cannot be) none."""

    profile_ids: list[uuid.UUID] = Field(
        min_length=1,
        max_length=1000,
        description="Up to 1,000 profiles, each visible to you and neither merged nor "
        "anonymized; duplicates count once.",
        examples=[["0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"]],
    )
    tag: TagName = Field(examples=["set_aside"])
    action: Literal["add", "remove"] = Field(examples=["add"])
    until: AwareDatetime | None = Field(
        default=None,
        description="For `add`: when the tags end (required for `on_hold`).",
        examples=["2026-09-01T00:00:00+08:00"],
    )
    note: Note | None = Field(default=None, examples=["No-show group of the March campus drive."])


class BulkTagResult(ResponseModel):
    changed: int = Field(
        description="People whose tag was added, changed or removed.", examples=[72]
    )
    unchanged: int = Field(
        description="People who already had it so (or, for a removal, did not have it).",
        examples=[0],
    )


# Tag rules


class _RuleFields(RequestModel):
    name: str = Field(
        min_length=1, max_length=100, description="Unique.", examples=["Silver medalists"]
    )
    tag: TagName = Field(examples=["runner_up"])
    action: RuleAction = Field(
        default="add", description="Give the tag, or take it away.", examples=["add"]
    )
    until_days: int | None = Field(
        default=None,
        ge=1,
        le=3650,
        description="For `add`: the tag ends this many days after the event (required for "
        "`on_hold`). A rule never shortens a date a person already has.",
        examples=[180],
    )
    enabled: bool = Field(default=True, examples=[True])


class InviteExpiredRule(_RuleFields):
    """An invitation's deadline passed (scheduler ``invite_expired``)."""

    trigger: Literal["invite_expired"]
    conditions: InviteExpiredConditions = Field(default_factory=InviteExpiredConditions)


class AiInterviewExpiredRule(_RuleFields):
    """An AI interview's completion window passed (pipeline ``ai_interview_expired``)."""

    trigger: Literal["ai_interview_expired"]
    conditions: AiInterviewExpiredConditions = Field(default_factory=AiInterviewExpiredConditions)


class NoShowRecordedRule(_RuleFields):
    """HR recorded that the candidate did not turn up (pipeline ``no_show_recorded``)."""

    trigger: Literal["no_show_recorded"]
    conditions: NoShowRecordedConditions = Field(default_factory=NoShowRecordedConditions)


class ApplicationEndedRule(_RuleFields):
    """An application was rejected, withdrawn or hired (pipeline ``stage_changed``)."""

    trigger: Literal["application_ended"]
    conditions: ApplicationEndedConditions = Field(default_factory=ApplicationEndedConditions)


class AiInterviewCompletedRule(_RuleFields):
    """The candidate completed an AI interview (pipeline ``ai_interview_completed``)."""

    trigger: Literal["ai_interview_completed"]
    conditions: AiInterviewCompletedConditions = Field(
        default_factory=AiInterviewCompletedConditions
    )


class StageReachedRule(_RuleFields):
    """An application moved into a stage of some kind (pipeline ``stage_changed``)."""

    trigger: Literal["stage_reached"]
    conditions: StageReachedConditions


class NotificationUnreadRule(_RuleFields):
    """Nobody read a notification to the candidate on any channel (notifier
    ``notification_unread``)."""

    trigger: Literal["notification_unread"]
    conditions: NotificationUnreadConditions = Field(default_factory=NotificationUnreadConditions)


TagRuleWrite = Annotated[
    InviteExpiredRule
    | AiInterviewExpiredRule
    | NoShowRecordedRule
    | ApplicationEndedRule
    | AiInterviewCompletedRule
    | StageReachedRule
    | NotificationUnreadRule,
    Field(discriminator="trigger"),
]
"""A tag rule as written: ``trigger`` picks the conditions model; unknown fields are refused."""

RULE_EXAMPLES: dict[str, dict[str, Any]] = {
    "runner_up": {
        "summary": "Runner-ups: rejected after an offer or a background check",
        "value": {
            "name": "Runner-ups kept a year",
            "tag": "runner_up",
            "trigger": "application_ended",
            "conditions": {"status": ["rejected"], "passed_stage_kind": "interview"},
            "until_days": 365,
        },
    },
    "on_hold": {
        "summary": "Hold those who withdrew for three months",
        "value": {
            "name": "Withdrew: hold 90 days",
            "tag": "on_hold",
            "trigger": "application_ended",
            "conditions": {"status": ["withdrawn"]},
            "until_days": 90,
        },
    },
    "no_show": {
        "summary": "No-show on an expired AI-interview invitation",
        "value": {
            "name": "AI no-show",
            "tag": "no_show",
            "trigger": "invite_expired",
            "conditions": {"kind": "ai_interview", "final_only": True},
        },
    },
    "high_scorer": {
        "summary": "Re-invite strong AI-interview scorers",
        "value": {
            "name": "Strong AI interview",
            "tag": "re_invite",
            "trigger": "ai_interview_completed",
            "conditions": {"min_score": 85},
        },
    },
}


class TagRuleRead(ResponseModel):
    id: uuid.UUID = Field(examples=["0193b0a5-0000-7000-8000-000000000004"])
    name: str = Field(examples=["Runner-up: passed an interview, not hired"])
    tag: str = Field(examples=["runner_up"])
    action: RuleAction = Field(examples=["add"])
    trigger: Trigger = Field(examples=["application_ended"])
    conditions: dict[str, Any] = Field(
        description="The trigger's conditions, defaults filled in.",
        examples=[{"status": ["rejected", "withdrawn"], "passed_stage_kind": "interview"}],
    )
    until_days: int | None = Field(examples=[None])
    enabled: bool = Field(examples=[True])
    built_in: bool = Field(
        description="Shipped with the service: may be disabled, not deleted or rewritten.",
        examples=[True],
    )
    version: int = Field(description="Its ETag.", examples=[1])
    created_by: str | None = Field(examples=[None])
    created_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])
    updated_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])
