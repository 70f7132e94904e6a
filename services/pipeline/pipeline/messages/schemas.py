from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.http.schemas import RequestModel, ResponseModel


class MessageIn(RequestModel):
    body: str = Field(
        min_length=1,
        max_length=4000,
        description="The text (surrounding whitespace is removed).",
        examples=["请问二面大概什么时候安排"],
    )


class MessageRead(ResponseModel):
    """A message as staff see it."""

    id: uuid.UUID = Field(examples=["0193e0c4-3333-7000-8000-00000000000c"])
    application_id: uuid.UUID = Field(examples=["0193e0c4-5b6a-7c3d-8e9f-0a1b2c3d4e5f"])
    sender_kind: Literal["candidate", "hr", "admin", "system"] = Field(examples=["candidate"])
    sender_id: str | None = Field(
        description="The staff member who wrote it; null for the candidate.", examples=[None]
    )
    body: str = Field(examples=["请问二面大概什么时候安排"])
    created_at: datetime = Field(examples=["2026-03-14T06:00:00Z"])
    read_at: datetime | None = Field(
        description="When the other side read it.", examples=["2026-03-14T06:10:00Z"]
    )


class CandidateMessageRead(ResponseModel):
    """A message as the candidate sees it (no staff identities)."""

    id: uuid.UUID = Field(examples=["0193e0c4-3333-7000-8000-00000000000c"])
    sender: Literal["candidate", "recruiter", "system"] = Field(
        description="`candidate`: the candidate's own message; `recruiter`: from HR.",
        examples=["recruiter"],
    )
    body: str = Field(examples=["下周二上午十点可以吗"])
    created_at: datetime = Field(examples=["2026-03-14T06:00:00Z"])
    read_at: datetime | None = Field(examples=[None])


class MarkedRead(ResponseModel):
    marked: int = Field(description="How many messages were newly marked read.", examples=[3])


class UnreadThread(ResponseModel):
    application_id: uuid.UUID = Field(examples=["0193e0c4-5b6a-7c3d-8e9f-0a1b2c3d4e5f"])
    job_id: uuid.UUID = Field(examples=["0193e0c4-1111-7000-8000-00000000000a"])
    unread: int = Field(description="The candidate's messages nobody has read.", examples=[2])
    oldest_unread_at: datetime = Field(examples=["2026-03-14T06:00:00Z"])
