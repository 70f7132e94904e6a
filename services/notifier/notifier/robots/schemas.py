from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator

from shared.http.schemas import RequestModel, ResponseModel

Provider = Literal["dingtalk", "wecom"]

_URL = (
    "The robot's webhook URL, access token included (DingTalk: .../robot/send?access_token=..., "
    "WeCom: .../webhook/send?key=...). Stored encrypted and never shown again."
)
_SIGNING_DOC = (
    "DingTalk's signing secret (SEC...), for robots with signing turned on. Stored encrypted, "
    "never shown. WeCom robots are not signed."
)
_JOB = "The job whose team the robot posts for; null: every job."


class ChatRobotCreate(RequestModel):
    name: str = Field(min_length=1, max_length=120, examples=["Backend hiring group"])
    provider: Provider = Field(examples=["dingtalk"])
    url: str = Field(
        min_length=1,
        max_length=2048,
        description=_URL,
        examples=["https://oapi.dingtalk.com/robot/send?access_token=4f0c9e1b7a"],
    )
    secret: str | None = Field(
        default=None, min_length=1, max_length=200, description=_SIGNING_DOC, examples=["SEC6a1f0d"]
    )
    job_id: uuid.UUID | None = Field(
        default=None, description=_JOB, examples=["0193b0a5-1a2b-7c3d-8e4f-5a6b7c8d9e0f"]
    )


class ChatRobotUpdate(RequestModel):
    """Only the fields sent change; ``job_id`` null makes the robot global, ``secret`` null
    removes the signing secret."""

    name: str | None = Field(default=None, min_length=1, max_length=120, examples=["Backend"])
    active: bool | None = Field(
        default=None, description="An inactive robot is posted nothing.", examples=[False]
    )
    job_id: uuid.UUID | None = Field(default=None, description=_JOB, examples=[None])
    url: str | None = Field(
        default=None,
        min_length=1,
        max_length=2048,
        description=_URL,
        examples=["https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6"],
    )
    secret: str | None = Field(
        default=None, min_length=1, max_length=200, description=_SIGNING_DOC, examples=["SEC77b2c4"]
    )

    @field_validator("name", "active", "url")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be changed but not cleared")
        return value


class ChatRobotRead(ResponseModel):
    """A robot as the API shows it: never its secret, and its URL without the token."""

    id: uuid.UUID = Field(examples=["0193b0a5-6c3d-7c1a-9d2e-4b5c6d7e8f93"])
    name: str = Field(examples=["Backend hiring group"])
    provider: Provider = Field(examples=["dingtalk"])
    masked_url: str = Field(
        description="Host and path of the URL only; the query, which carries the access token, "
        "is left out.",
        examples=["oapi.dingtalk.com/robot/send"],
    )
    signed: bool = Field(description="Whether it has a signing secret.", examples=[True])
    job_id: uuid.UUID | None = Field(description=_JOB, examples=[None])
    active: bool = Field(examples=[True])
    created_by: str = Field(description="The creator's JWT subject.", examples=["admin-zhao"])
    created_at: datetime = Field(examples=["2026-03-02T09:00:00Z"])
