"""What a tag rule says and when it fires: the triggers, one strict conditions model per
trigger, the facts events are turned into, and ``matching_rules``, a pure function over plain
data (no database, no framework) that the consumers call once per fact."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from talentpool.profiles.stages import rank

Trigger = Literal[
    "invite_expired",
    "ai_interview_expired",
    "no_show_recorded",
    "application_ended",
    "ai_interview_completed",
    "stage_reached",
    "notification_unread",
]
TRIGGERS: tuple[Trigger, ...] = (
    "invite_expired",
    "ai_interview_expired",
    "no_show_recorded",
    "application_ended",
    "ai_interview_completed",
    "stage_reached",
    "notification_unread",
)
RuleAction = Literal["add", "remove"]
StageKind = Literal["ai_interview", "evaluation", "interview", "background_check", "offer", "hired"]
EndStatus = Literal["rejected", "withdrawn", "hired"]


class Conditions(BaseModel):
    """Conditions refuse unknown fields: a misspelt condition is a 422 naming it, never a rule
    that silently matches more than meant."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class InviteExpiredConditions(Conditions):
    kind: Literal["ai_interview", "live_interview", "any"] = Field(
        default="any",
        description="The invitation's kind: an AI interview's completion window or a live "
        "interview's slot pick.",
        examples=["any"],
    )
    final_only: bool = Field(
        default=True,
        description="Only when no make-up window follows (the invitation is closed).",
        examples=[True],
    )


class AiInterviewExpiredConditions(Conditions):
    """No conditions: the AI interview's completion window passed without a completed one."""


class NoShowRecordedConditions(Conditions):
    kind: Literal["interview", "offer", "ai_interview", "any"] = Field(
        default="any", description="What they did not turn up for.", examples=["interview"]
    )


def _rejected_or_withdrawn() -> list[EndStatus]:
    return ["rejected", "withdrawn"]


class ApplicationEndedConditions(Conditions):
    status: list[EndStatus] = Field(
        default_factory=_rejected_or_withdrawn,
        min_length=1,
        max_length=3,
        description="How the application ended.",
        examples=[["rejected", "withdrawn"]],
    )
    min_stage_kind: StageKind | None = Field(
        default=None,
        description="The application's furthest stage is at least this kind (by the stage "
        "order ai_interview < evaluation < interview < background_check < offer < hired).",
        examples=["interview"],
    )
    passed_stage_kind: StageKind | None = Field(
        default=None,
        description="The application got beyond this kind: its furthest stage ranks above it "
        "(``interview`` for runner-ups: a background check or an offer was reached).",
        examples=["interview"],
    )
    reason_codes: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="Only rejections with one of these configured reason codes (a withdrawal "
        "or a hire has none, so it never matches a rule with reason codes).",
        examples=[["position_filled"]],
    )


class AiInterviewCompletedConditions(Conditions):
    min_score: float | None = Field(
        default=None, description="The score is at least this.", examples=[60]
    )
    max_score: float | None = Field(
        default=None, description="The score is at most this.", examples=[85]
    )

    @model_validator(mode="after")
    def _ordered(self) -> AiInterviewCompletedConditions:
        if (
            self.min_score is not None
            and self.max_score is not None
            and self.min_score > self.max_score
        ):
            raise ValueError("min_score must not exceed max_score")
        return self


class StageReachedConditions(Conditions):
    stage_kind: StageKind = Field(
        description="The kind of stage the application moved into.", examples=["offer"]
    )


class NotificationUnreadConditions(Conditions):
    kinds: list[str] | None = Field(
        default=None,
        min_length=1,
        max_length=50,
        description="Only these notification kinds (default: any kind sent to the candidate).",
        examples=[["interview_invitation"]],
    )


CONDITIONS: dict[Trigger, type[Conditions]] = {
    "invite_expired": InviteExpiredConditions,
    "ai_interview_expired": AiInterviewExpiredConditions,
    "no_show_recorded": NoShowRecordedConditions,
    "application_ended": ApplicationEndedConditions,
    "ai_interview_completed": AiInterviewCompletedConditions,
    "stage_reached": StageReachedConditions,
    "notification_unread": NotificationUnreadConditions,
}


def parse_conditions(trigger: Trigger, stored: Mapping[str, Any]) -> Conditions:
    """A stored rule's conditions as their model (defaults filled in)."""
    return CONDITIONS[trigger].model_validate(dict(stored))


@dataclass(frozen=True)
class Rule:
    """An enabled rule, as the evaluation sees it."""

    id: uuid.UUID
    tag: str
    action: RuleAction
    trigger: Trigger
    conditions: Conditions
    until_days: int | None = None


@dataclass(frozen=True)
class Fact:
    """What one event says about one candidate, in the terms rules are written in.

    ``kind`` is the invitation's kind (invite_expired), what was missed (no_show_recorded) or
    the notification's kind (notification_unread); ``furthest_rank`` is the furthest stage the
    application reached (by ``profiles.stages``), the stage the event moved it into included.
    """

    trigger: Trigger
    kind: str | None = None
    final: bool = True
    status: str | None = None
    stage_kind: str | None = None
    furthest_rank: int = 0
    reason_code: str | None = None
    score: float | None = None


def matching_rules(rules: Iterable[Rule], fact: Fact) -> list[Rule]:
    """The rules the fact fires, in the order given."""
    return [rule for rule in rules if rule.trigger == fact.trigger and matches(rule, fact)]


def matches(rule: Rule, fact: Fact) -> bool:
    c = rule.conditions
    if isinstance(c, InviteExpiredConditions):
        return (c.kind == "any" or c.kind == fact.kind) and (fact.final or not c.final_only)
    if isinstance(c, NoShowRecordedConditions):
        return c.kind == "any" or c.kind == fact.kind
    if isinstance(c, ApplicationEndedConditions):
        return (
            fact.status in c.status
            and (c.min_stage_kind is None or fact.furthest_rank >= rank(c.min_stage_kind))
            and (c.passed_stage_kind is None or fact.furthest_rank > rank(c.passed_stage_kind))
            and (c.reason_codes is None or fact.reason_code in c.reason_codes)
        )
    if isinstance(c, AiInterviewCompletedConditions):
        if c.min_score is None and c.max_score is None:
            return True
        return (
            fact.score is not None
            and (c.min_score is None or fact.score >= c.min_score)
            and (c.max_score is None or fact.score <= c.max_score)
        )
    if isinstance(c, StageReachedConditions):
        return fact.stage_kind == c.stage_kind
    if isinstance(c, NotificationUnreadConditions):
        return c.kinds is None or fact.kind in c.kinds
    return isinstance(c, AiInterviewExpiredConditions)
