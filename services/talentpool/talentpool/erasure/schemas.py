from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from shared.contacts import normalize_email, normalize_phone
from shared.http.schemas import RequestModel, ResponseModel

SERVICES = ("talentpool", "pipeline", "scheduler", "notifier")
"""The services that hold a copy of a person, each of which must confirm an erasure."""

Reason = Literal["hr_request", "candidate_request", "retention"]
Email = Annotated[
    str, StringConstraints(min_length=3, max_length=254), AfterValidator(normalize_email)
]
Phone = Annotated[
    str, StringConstraints(min_length=3, max_length=40), AfterValidator(normalize_phone)
]


class ErasureCreate(RequestModel):
    """Who to erase: exactly one of the profile, a candidate id of theirs, their email or
    their phone (looked up by keyed blind index, never stored)."""

    profile_id: uuid.UUID | None = Field(
        default=None, examples=["0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"]
    )
    candidate_id: uuid.UUID | None = Field(
        default=None,
        description="One of the person's candidate ids in the pipeline.",
        examples=["0193b0a5-1111-7000-8000-000000000001"],
    )
    email: Email | None = Field(default=None, examples=["li.lei@example.com"])
    phone: Phone | None = Field(
        default=None,
        description="A number without a country code is read as a mainland China number.",
        examples=["13812345678"],
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> ErasureCreate:
        given = [
            name
            for name in ("profile_id", "candidate_id", "email", "phone")
            if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of profile_id, candidate_id, email or phone"
                + (f" (got {', '.join(given)})" if given else "")
            )
        return self


class ServiceConfirmation(ResponseModel):
    service: Literal["talentpool", "pipeline", "scheduler", "notifier"] = Field(
        examples=["pipeline"]
    )
    status: Literal["confirmed", "pending"] = Field(examples=["confirmed"])
    confirmed_at: datetime | None = Field(examples=["2026-03-14T06:00:02Z"])
    erased: dict[str, int] = Field(
        description="Rows anonymized or deleted, by table (empty while pending).",
        examples=[{"candidates": 1, "messages": 3, "stage_changes": 2}],
    )


class ErasureRead(ResponseModel):
    """An erasure request and its report: what each service confirmed it erased."""

    id: uuid.UUID = Field(examples=["0193e0c4-3333-7000-8000-00000000000c"])
    profile_id: uuid.UUID = Field(examples=["0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"])
    candidate_ids: list[uuid.UUID] = Field(examples=[["0193b0a5-1111-7000-8000-000000000001"]])
    reason: Reason = Field(examples=["hr_request"])
    requested_by: str = Field(
        description="The HR user's or admin's subject; `candidate` or `retention` otherwise.",
        examples=["hr-alice"],
    )
    requested_at: datetime = Field(examples=["2026-03-14T06:00:00Z"])
    status: Literal["pending", "completed"] = Field(
        description="completed once every service confirmed.", examples=["pending"]
    )
    completed_at: datetime | None = Field(examples=[None])
    services: list[ServiceConfirmation] = Field(
        description="Each service's confirmation (talentpool, pipeline, scheduler, notifier)."
    )


def report(request: Any, confirmations: list[Any]) -> ErasureRead:
    """The report of ``request`` (an ``ErasureRequest``) from its ``ErasureConfirmation``s."""
    by_service = {confirmation.service: confirmation for confirmation in confirmations}
    services = []
    for name in SERVICES:
        found = by_service.get(name)
        services.append(
            ServiceConfirmation(
                service=name,
                status="confirmed" if found is not None else "pending",
                confirmed_at=found.confirmed_at if found is not None else None,
                erased=dict(found.details.get("erased", {})) if found is not None else {},
            )
        )
    return ErasureRead(
        id=request.id,
        profile_id=request.profile_id,
        candidate_ids=list(request.candidate_ids),
        reason=request.reason,
        requested_by=request.requested_by,
        requested_at=request.requested_at,
        status="completed" if request.completed_at is not None else "pending",
        completed_at=request.completed_at,
        services=services,
    )
