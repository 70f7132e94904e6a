from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, StringConstraints, ValidationInfo, field_validator

from scheduler.interviewers.schemas import ends_after_start
from shared.http.schemas import RequestModel, ResponseModel

ResourceKind = Literal["interviewer", "room"]
ExternalId = Annotated[str, StringConstraints(min_length=1, max_length=300)]
MAX_BULK = 1000


def _not_feed_key(value: str | None) -> str | None:
    if value is not None and value.startswith("feed:"):
        raise ValueError("external ids starting with 'feed:' are kept for imported feeds")
    return value


class BusyBlockCreate(RequestModel):
    starts_at: AwareDatetime = Field(examples=["2026-03-09T14:00:00+08:00"])
    ends_at: AwareDatetime = Field(
        description="After `starts_at`, at most 180 days later.",
        examples=["2026-03-09T15:30:00+08:00"],
    )
    external_id: ExternalId | None = Field(
        default=None,
        description="Your own id of the block; unique per resource (409 if taken).",
        examples=["outlook-AAMkAGI2"],
    )

    _external = field_validator("external_id")(_not_feed_key)

    @field_validator("ends_at")
    @classmethod
    def _range(cls, value: datetime, info: ValidationInfo) -> datetime:
        return ends_after_start(value, info)


class BusyBlockRead(ResponseModel):
    id: uuid.UUID = Field(examples=["0193b0a5-7d4e-7c1a-9d2e-4b5c6d7e8f94"])
    resource_kind: ResourceKind = Field(examples=["interviewer"])
    resource_id: uuid.UUID = Field(examples=["0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f90"])
    starts_at: datetime = Field(examples=["2026-03-09T06:00:00Z"])
    ends_at: datetime = Field(examples=["2026-03-09T07:30:00Z"])
    source: Literal["api", "feed"] = Field(
        description="api: posted (alone or in bulk); feed: from an imported iCalendar feed.",
        examples=["api"],
    )
    feed_name: str | None = Field(description="The feed it came from.", examples=[None])
    external_id: str | None = Field(examples=["outlook-AAMkAGI2"])
    created_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])


class BulkBlock(RequestModel):
    """One block of a bulk upsert; its range is checked per row (a bad row is reported, the
    others still apply)."""

    resource_kind: ResourceKind = Field(examples=["interviewer"])
    resource_id: uuid.UUID = Field(examples=["0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f90"])
    external_id: ExternalId = Field(
        description="The key of the upsert, unique per resource.", examples=["hr-sync-42"]
    )
    starts_at: AwareDatetime = Field(examples=["2026-03-09T14:00:00+08:00"])
    ends_at: AwareDatetime = Field(examples=["2026-03-09T15:00:00+08:00"])

    _external = field_validator("external_id")(_not_feed_key)


class BulkUpsert(RequestModel):
    blocks: list[BulkBlock] = Field(
        min_length=1,
        max_length=MAX_BULK,
        description=f"At most {MAX_BULK} blocks, keyed by (resource_id, external_id).",
        examples=[
            [
                {
                    "resource_kind": "interviewer",
                    "resource_id": "0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f90",
                    "external_id": "hr-sync-42",
                    "starts_at": "2026-03-09T14:00:00+08:00",
                    "ends_at": "2026-03-09T15:00:00+08:00",
                }
            ]
        ],
    )


class BusyBlockRowResult(ResponseModel):
    index: int = Field(description="The block's position in the request.", examples=[0])
    external_id: str = Field(examples=["hr-sync-42"])
    resource_id: uuid.UUID = Field(examples=["0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f90"])
    status: Literal["created", "updated", "unchanged", "rejected"] = Field(examples=["created"])
    id: uuid.UUID | None = Field(
        default=None, description="The block's id (null when rejected).", examples=[None]
    )
    error: str | None = Field(
        default=None, description="Why the row was rejected.", examples=[None]
    )


class BulkUpsertResult(ResponseModel):
    created: int = Field(examples=[1])
    updated: int = Field(examples=[0])
    unchanged: int = Field(examples=[0])
    rejected: int = Field(examples=[0])
    results: list[BusyBlockRowResult] = Field(
        description="One per block of the request, in its order.",
        examples=[
            [
                {
                    "index": 0,
                    "external_id": "hr-sync-42",
                    "resource_id": "0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f90",
                    "status": "created",
                    "id": "0193b0a5-7d4e-7c1a-9d2e-4b5c6d7e8f94",
                    "error": None,
                }
            ]
        ],
    )


class FeedImportResult(ResponseModel):
    name: str = Field(examples=["outlook"])
    resource_kind: ResourceKind = Field(examples=["interviewer"])
    resource_id: uuid.UUID = Field(examples=["0193b0a5-3f7e-7c1a-9d2e-4b5c6d7e8f90"])
    blocks: int = Field(description="Busy occurrences stored from the feed.", examples=[42])
    window_start: datetime = Field(examples=["2026-03-02T09:00:00Z"])
    window_end: datetime = Field(examples=["2026-08-29T09:00:00Z"])
    imported_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])
