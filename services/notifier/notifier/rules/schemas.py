from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from shared.http.schemas import RequestModel, ResponseModel

# A rule tells people; webhooks go to the endpoints subscribed to a kind, whatever the rules.
RuleChannel = Literal["email", "sms", "in_app", "chat"]
MAX_FALLBACK_STEPS = 10
MAX_AFTER_MINUTES = 30 * 24 * 60

_CHANNELS_DOC = (
    "email, sms, in_app or chat, each at most once (chat is not for candidates; webhooks are "
    "not a rule's channel: every endpoint subscribed to the kind gets it)."
)


class FallbackStepWrite(RequestModel):
    """Either ``channels`` (send there too) or ``action: hr_follow_up`` (hand it to HR, the last
    step only)."""

    after_minutes: int = Field(
        gt=0,
        le=MAX_AFTER_MINUTES,
        description="Minutes after the first send; strictly more than the step before.",
        examples=[120],
    )
    channels: list[RuleChannel] | None = Field(
        default=None, min_length=1, max_length=4, description=_CHANNELS_DOC, examples=[["sms"]]
    )
    action: Literal["hr_follow_up"] | None = Field(
        default=None,
        description="Nobody read it on any channel: tell the job's HR owners to follow up.",
        examples=[None],
    )


class RuleWrite(RequestModel):
    """A rule replaced as a whole."""

    channels: list[RuleChannel] = Field(
        min_length=1, max_length=4, description=_CHANNELS_DOC, examples=[["in_app", "email"]]
    )
    fallback: list[FallbackStepWrite] = Field(
        max_length=MAX_FALLBACK_STEPS,
        description="What follows while nobody has seen, read or clicked it; empty for nothing.",
        examples=[
            [
                {"after_minutes": 120, "channels": ["sms"]},
                {"after_minutes": 1440, "action": "hr_follow_up"},
            ]
        ],
    )
    urgent: bool = Field(
        description="Urgent kinds ignore quiet hours and the hourly throttle.", examples=[False]
    )
    enabled: bool = Field(description="A disabled rule tells nobody.", examples=[True])


class FallbackStepRead(ResponseModel):
    after_minutes: int = Field(examples=[120])
    channels: list[str] | None = Field(default=None, examples=[["sms"]])
    action: Literal["hr_follow_up"] | None = Field(default=None, examples=[None])


class RuleRead(ResponseModel):
    kind: str = Field(examples=["interview_invitation"])
    audience: Literal["candidate", "hr", "interviewers"] = Field(examples=["candidate"])
    channels: list[str] = Field(examples=[["in_app", "email"]])
    fallback: list[FallbackStepRead] = Field(
        examples=[
            [
                {"after_minutes": 120, "channels": ["sms"], "action": None},
                {"after_minutes": 1440, "channels": None, "action": "hr_follow_up"},
            ]
        ]
    )
    urgent: bool = Field(examples=[False])
    enabled: bool = Field(examples=[True])
    version: int = Field(description="Send it back in If-Match to change the rule.", examples=[3])
    updated_by: str = Field(
        description="Who changed it last: an admin's subject, or `migration`.",
        examples=["admin-zhao"],
    )
    updated_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])

    @classmethod
    def of(cls, rule: Any) -> RuleRead:
        return cls(
            kind=rule.kind,
            audience=rule.audience,
            channels=list(rule.channels),
            fallback=[FallbackStepRead.model_validate(step) for step in rule.fallback],
            urgent=rule.urgent,
            enabled=rule.enabled,
            version=rule.version,
            updated_by=rule.updated_by,
            updated_at=rule.updated_at,
        )
