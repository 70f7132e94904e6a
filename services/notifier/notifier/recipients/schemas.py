from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints

from notifier.kinds import KINDS
from notifier.recipients.contacts import check_time_zone, normalize_email, normalize_phone
from shared.http.schemas import RequestModel, ResponseModel

RecipientKind = Literal["candidate", "staff", "interviewer"]
Locale = Literal["zh-CN", "en"]
# A recipient may mute the channels that write to them; webhooks are not theirs to mute.
MutableChannel = Literal["email", "sms", "in_app", "chat"]

Email = Annotated[
    str, StringConstraints(min_length=3, max_length=254), AfterValidator(normalize_email)
]
Phone = Annotated[
    str, StringConstraints(min_length=3, max_length=40), AfterValidator(normalize_phone)
]
TimeZone = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(check_time_zone)
]
"""An IANA time zone name, checked against the zone database (unknown: 422)."""
Clock = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
"""A local wall-clock time, ``HH:MM`` (00:00 to 23:59)."""


def check_kind(value: str) -> str:
    if value not in KINDS:
        raise ValueError(f"{value!r} is not a notification kind")
    return value


KindName = Annotated[
    str, StringConstraints(min_length=1, max_length=64), AfterValidator(check_kind)
]
"""The name of a notification kind the notifier knows (``notifier.kinds.KINDS``)."""


class RecipientSettings(RequestModel):
    """Everything about one recipient, replaced as a whole: a field left out is reset (no
    contact, no quiet hours, nothing muted, subscribed to everything)."""

    email: Email | None = Field(
        default=None,
        description="Staff and interviewers only (a candidate's is the pipeline's). Stored "
        "encrypted, normalized to lower case.",
        examples=["wang.fang@example.com"],
    )
    phone: Phone | None = Field(
        default=None,
        description="Staff and interviewers only. Stored encrypted, in E.164; a number without "
        "a country code is read as a mainland China number.",
        examples=["13812345678", "+8613812345678"],
    )
    locale: Locale | None = Field(
        default=None,
        description="Staff and interviewers only: the language they are written to in "
        "(default: the service's).",
        examples=["zh-CN"],
    )
    time_zone: TimeZone | None = Field(
        default=None,
        description="IANA zone that quiet hours are read in (default: the service's).",
        examples=["Asia/Shanghai"],
    )
    quiet_start: Clock | None = Field(
        default=None,
        description="Start of the daily quiet hours (local HH:MM); with quiet_end or not at all. "
        "Non-urgent messages wait until the window ends.",
        examples=["22:00"],
    )
    quiet_end: Clock | None = Field(
        default=None,
        description="End of the quiet hours (local HH:MM); may be earlier than quiet_start, "
        "for a window across midnight.",
        examples=["08:00"],
    )
    muted_channels: list[MutableChannel] = Field(
        default_factory=list,
        max_length=4,
        description="Channels not to use for this recipient.",
        examples=[["sms"]],
    )
    unsubscribed_kinds: list[KindName] = Field(
        default_factory=list,
        max_length=len(KINDS),
        description="Notification kinds not to send to this recipient at all.",
        examples=[["interview_reminder"]],
    )
    unsubscribed_all: bool = Field(
        default=False,
        description="Unsubscribed from every kind of notification.",
        examples=[False],
    )


class RecipientRead(ResponseModel):
    """A recipient's settings with their contact data decrypted (sent with no-store)."""

    kind: RecipientKind = Field(examples=["staff"])
    id: str = Field(
        description="Candidate or interviewer UUID, or a staff member's JWT subject.",
        examples=["hr-wang"],
    )
    email: str | None = Field(examples=["wang.fang@example.com"])
    phone: str | None = Field(examples=["+8613812345678"])
    locale: Locale | None = Field(examples=["zh-CN"])
    time_zone: str | None = Field(examples=["Asia/Shanghai"])
    quiet_start: str | None = Field(examples=["22:00"])
    quiet_end: str | None = Field(examples=["08:00"])
    muted_channels: list[str] = Field(examples=[["sms"]])
    unsubscribed_kinds: list[str] = Field(examples=[["interview_reminder"]])
    unsubscribed_all: bool = Field(examples=[False])
    version: int = Field(
        description="Its ETag; 0 for settings never saved (the defaults).", examples=[3]
    )
    updated_at: datetime | None = Field(
        description="Null for settings never saved.", examples=["2026-03-02T09:00:00Z"]
    )
