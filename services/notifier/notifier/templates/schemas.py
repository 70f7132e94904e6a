"""Templates as the API reads and writes them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field

from shared.http.schemas import RequestModel, ResponseModel

_BODY_EXAMPLE = (
    "{% if recipient_name %}\nHi {{ recipient_name }},\n{% endif %}\n"
    "Your {{ job_title }} interview is on {{ starts_at | when }}."
)
_SUBJECT_EXAMPLE = "Interview confirmed: {{ job_title }}, {{ starts_at | when }}"


class TemplateSourceIn(RequestModel):
    """The parts a channel takes: email a subject and a body (text), html optional; in_app a
    subject and a body; sms and chat a body only (Markdown for chat)."""

    # Sources are kept exactly as written: stripping them would shift the line numbers that
    # problems are reported with.
    model_config = ConfigDict(str_strip_whitespace=False)

    subject: str | None = Field(default=None, max_length=1_000, examples=[_SUBJECT_EXAMPLE])
    body: str = Field(max_length=20_000, examples=[_BODY_EXAMPLE])
    html: str | None = Field(
        default=None, max_length=200_000, examples=["<p>{{ starts_at | when }}</p>"]
    )


class TemplateSummary(ResponseModel):
    kind: str = Field(examples=["interview_booked"])
    channel: str = Field(examples=["email"])
    locale: str = Field(examples=["zh-CN"])
    description: str = Field(examples=["An interview is booked: time, place, interviewers."])
    current_version: int = Field(
        description="The version in force; 0 is the built-in default.", examples=[2]
    )
    latest_version: int = Field(description="The newest saved version (0: none).", examples=[3])


class TemplateList(ResponseModel):
    items: list[TemplateSummary]


class TemplateVersionSummary(ResponseModel):
    version: int = Field(examples=[2])
    active: bool = Field(description="Whether this version is the one in force.", examples=[True])
    created_by: str = Field(examples=["hr-alice"])
    created_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])


class TemplateVersionRead(ResponseModel):
    kind: str = Field(examples=["interview_booked"])
    channel: str = Field(examples=["email"])
    locale: str = Field(examples=["zh-CN"])
    version: int = Field(description="0 is the built-in default.", examples=[2])
    active: bool = Field(examples=[True])
    subject: str | None = Field(examples=[_SUBJECT_EXAMPLE])
    body: str = Field(examples=[_BODY_EXAMPLE])
    html: str | None = Field(examples=[None])
    created_by: str | None = Field(description="None for the default.", examples=["hr-alice"])
    created_at: datetime | None = Field(
        description="None for the default.", examples=["2026-03-02T09:00:00Z"]
    )


class TemplateRead(ResponseModel):
    kind: str = Field(examples=["interview_booked"])
    channel: str = Field(examples=["email"])
    locale: str = Field(examples=["zh-CN"])
    description: str = Field(examples=["An interview is booked: time, place, interviewers."])
    parts: list[str] = Field(
        description="The parts this channel takes.", examples=[["subject", "body", "html"]]
    )
    required_parts: list[str] = Field(examples=[["subject", "body"]])
    variables: dict[str, str] = Field(
        description="What the template may use, with what each is.",
        examples=[{"starts_at": "Start (RFC 3339)."}],
    )
    sample_data: dict[str, Any] = Field(
        description="The data previews use unless told otherwise.",
        examples=[{"starts_at": "2026-12-01T10:00:00+08:00"}],
    )
    filters: list[str] = Field(
        description="Filters a template may use.", examples=[["when", "span", "zone"]]
    )
    current_version: int = Field(
        description="The version in force (also the ETag); 0 is the built-in default.",
        examples=[2],
    )
    subject: str | None = Field(examples=[_SUBJECT_EXAMPLE])
    body: str = Field(examples=[_BODY_EXAMPLE])
    html: str | None = Field(examples=[None])
    versions: list[TemplateVersionSummary] = Field(description="Saved versions, newest first.")


class PreviewIn(RequestModel):
    source: TemplateSourceIn | None = Field(
        default=None,
        description="A source to try without saving it; without one, the template in force.",
    )
    data: dict[str, Any] = Field(
        default_factory=dict,
        max_length=100,
        description="Variables laid over the kind's sample data.",
        examples=[{"recipient_name": "Li Lei", "location": "Everest, floor 12"}],
    )


class PreviewRead(ResponseModel):
    subject: str | None = Field(
        examples=["Interview confirmed: Backend engineer, Tue 1 Dec 2026, 10:00"]
    )
    text: str = Field(
        examples=["Hi Li Lei,\n\nThe interview for the Backend engineer role is booked."]
    )
    html: str | None = Field(examples=[None])
    version: int | None = Field(
        description="The version rendered; None for a posted source.", examples=[0]
    )
