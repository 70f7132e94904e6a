from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field, field_validator

from notifier.kinds import KINDS
from notifier.recipients.schemas import KindName
from shared.http.schemas import RequestModel, ResponseModel

_URL = (
    "Where notifications are POSTed as Standard Webhooks. Must be http(s) (https when the "
    "service requires it); loopback and private addresses are refused unless allowed."
)
_KINDS = "Notification kinds it receives; empty: every kind."


class WebhookEndpointCreate(RequestModel):
    url: str = Field(
        min_length=1,
        max_length=2048,
        description=_URL,
        examples=["https://hooks.example.com/recruiting"],
    )
    kinds: list[KindName] = Field(
        default_factory=list,
        max_length=len(KINDS),
        description=_KINDS,
        examples=[["interview_booked", "offer"]],
    )
    description: str | None = Field(
        default=None, max_length=500, examples=["ATS sync (integration team)"]
    )


class WebhookEndpointUpdate(RequestModel):
    """Only the fields sent change; ``description`` may be cleared with null."""

    url: str | None = Field(
        default=None,
        min_length=1,
        max_length=2048,
        description=_URL,
        examples=["https://hooks.example.com/v2/recruiting"],
    )
    kinds: list[KindName] | None = Field(
        default=None, max_length=len(KINDS), description=_KINDS, examples=[[]]
    )
    description: str | None = Field(default=None, max_length=500, examples=["ATS sync"])
    enabled: bool | None = Field(
        default=None,
        description="false stops deliveries; true resumes them and clears the reason it was "
        "disabled for and its failing streak.",
        examples=[True],
    )

    @field_validator("url", "kinds", "enabled")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be changed but not cleared")
        return value


class WebhookEndpointRead(ResponseModel):
    id: uuid.UUID = Field(examples=["0193b0a5-6c3d-7c1a-9d2e-4b5c6d7e8f93"])
    url: str = Field(examples=["https://hooks.example.com/recruiting"])
    description: str | None = Field(examples=["ATS sync (integration team)"])
    kinds: list[str] = Field(description=_KINDS, examples=[["interview_booked", "offer"]])
    enabled: bool = Field(examples=[True])
    disabled_reason: str | None = Field(
        description="Why it is disabled (by a person, or automatically after failing).",
        examples=[None],
    )
    failing_since: datetime | None = Field(
        description="The first failure since the last success; null while it succeeds.",
        examples=[None],
    )
    version: int = Field(description="Its ETag.", examples=[1])
    created_by: str = Field(description="The creator's JWT subject.", examples=["admin-zhao"])
    created_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])
    updated_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])


class WebhookEndpointWithSecret(WebhookEndpointRead):
    """An endpoint with its signing secret: only in the answer that created or rotated it."""

    secret: str = Field(
        description="The Standard Webhooks signing secret (whsec_ + base64 of 32 random "
        "bytes). Shown only this once: store it now; rotate to get a new one.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )
