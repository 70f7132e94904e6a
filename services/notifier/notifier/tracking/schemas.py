from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from shared.http.schemas import RequestModel, ResponseModel

_ID = "0193b0a5-7a8b-7c9d-8e0f-1a2b3c4d5e6f"
_SUBJECT = "面试安排：后端工程师"  # noqa: RUF001
_BODY = "您的面试已安排在 12 月 1 日 10:00（北京时间），线上进行。"  # noqa: RUF001
_CANDIDATE = "0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"
MAX_RECEIPTS = 1000


class InboxItem(ResponseModel):
    """One in-app message, as it was rendered for its recipient."""

    id: uuid.UUID = Field(description="The in-app delivery's id.", examples=[_ID])
    notification_id: uuid.UUID = Field(examples=["0193b0a5-6a7b-7c8d-9e0f-1a2b3c4d5e6f"])
    kind: str = Field(examples=["interview_booked"])
    subject: str | None = Field(examples=[_SUBJECT])
    body: str | None = Field(examples=[_BODY])
    application_id: uuid.UUID | None = Field(examples=["0193b0a5-4c5d-7e6f-8a9b-0c1d2e3f4a5b"])
    job_id: uuid.UUID | None = Field(examples=["0193b0a5-3b4c-7d5e-8f6a-7b8c9d0e1f2a"])
    engagement: Literal["none", "seen", "read", "clicked"] = Field(
        description="Only moves forward: none < seen < read < clicked.", examples=["seen"]
    )
    unread: bool = Field(description="Neither read nor clicked yet.", examples=[True])
    delivered_at: datetime | None = Field(examples=["2026-12-01T02:00:00Z"])
    seen_at: datetime | None = Field(examples=["2026-12-01T02:05:00Z"])
    read_at: datetime | None = Field(examples=[None])
    created_at: datetime = Field(examples=["2026-12-01T02:00:00Z"])

    @classmethod
    def of(cls, row: Any) -> InboxItem:
        return cls(
            id=row.id,
            notification_id=row.notification_id,
            kind=row.kind,
            subject=row.subject,
            body=row.body,
            application_id=row.application_id,
            job_id=row.job_id,
            engagement=row.engagement,
            unread=row.engagement in ("none", "seen"),
            delivered_at=row.delivered_at,
            seen_at=row.seen_at,
            read_at=row.read_at,
            created_at=row.created_at,
        )


class MarkedRead(ResponseModel):
    marked: int = Field(description="How many items were unread and are now read.", examples=[3])


class InboxLinkCreate(RequestModel):
    candidate_id: uuid.UUID = Field(examples=[_CANDIDATE])
    expires_in_minutes: int = Field(
        default=60,
        ge=1,
        le=7 * 24 * 60,
        description="How long the token opens the inbox (at most 7 days). A signed token "
        "cannot be revoked alone: keep it short and ask for a new one.",
        examples=[60],
    )


class InboxLink(ResponseModel):
    candidate_id: uuid.UUID = Field(examples=[_CANDIDATE])
    token: str = Field(
        description="Send as `Authorization: Bearer <token>` to `/v1/candidate-inbox`.",
        examples=["WyIwMTkzYjBhNS01ZDZlLTdmODAtOWExYi0yYzNkNGU1ZjZhN2IiLDE3OTYxMDQ4MDBd.q1w2e3r4"],
    )
    expires_at: datetime = Field(examples=["2026-12-01T03:00:00Z"])


class Unsubscribed(ResponseModel):
    unsubscribed: Literal[True] = Field(examples=[True])
    scope: Literal["kind", "all"] = Field(
        description="kind: from one kind of notice; all: from every notice.", examples=["kind"]
    )
    kind: str | None = Field(
        description="The kind unsubscribed from, or null for all.", examples=["interview_reminder"]
    )
    channels_kept: list[str] = Field(
        description="What still reaches the recipient: the in-app inbox, which interrupts no one.",
        examples=[["in_app"]],
    )


class ReceiptsAccepted(ResponseModel):
    accepted: int = Field(description="Receipts about messages we sent.", examples=[2])
    held: int = Field(
        description="Receipts about messages not known by that id yet (the receipt overtook "
        "the recording of the send): kept for two days and applied when the send is recorded.",
        examples=[0],
    )


def _receipts_body(
    message_id: str, statuses: list[str], example_id: str, example_reason: str | None
) -> dict[str, Any]:
    """The OpenAPI request body of a provider's receipts (``channels/receipts.py``)."""
    return {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["receipts"],
                    "properties": {
                        "receipts": {
                            "type": "array",
                            "maxItems": MAX_RECEIPTS,
                            "items": {
                                "type": "object",
                                "required": ["id", "message_id", "status", "at"],
                                "properties": {
                                    "id": {
                                        "type": "string",
                                        "description": "The receipt's own id (deduplicated).",
                                    },
                                    "message_id": {"type": "string", "description": message_id},
                                    "status": {"type": "string", "enum": statuses},
                                    "reason": {"type": ["string", "null"]},
                                    "at": {"type": "string", "format": "date-time"},
                                },
                            },
                        }
                    },
                },
                "example": {
                    "receipts": [
                        {
                            "id": "rcpt-20261201-0001",
                            "message_id": example_id,
                            "status": statuses[0] if example_reason is None else statuses[1],
                            "reason": example_reason,
                            "at": "2026-12-01T10:00:05+08:00",
                        }
                    ]
                },
            }
        },
    }


SMS_RECEIPTS_BODY = _receipts_body(
    "The gateway's id of the message, as answered when it was sent.",
    ["delivered", "undelivered", "failed"],
    "gw-8f2a91",
    None,
)
EMAIL_RECEIPTS_BODY = _receipts_body(
    "The Message-ID of the email, with or without its angle brackets.",
    ["delivered", "bounced", "hard_bounce"],
    "<0193b0a5-7a8b-7c9d-8e0f-1a2b3c4d5e6f@notifier.example.com>",
    "5.1.1 mailbox unavailable",
)

_DSN_EXAMPLE = (
    "From: MAILER-DAEMON@mx.example.com\r\n"
    "Date: Mon, 02 Mar 2026 09:00:05 +0800\r\n"
    "MIME-Version: 1.0\r\n"
    'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
    "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
    "Reporting-MTA: dns; mx.example.com\r\n\r\n"
    "Final-Recipient: rfc822; li.lei@example.com\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
    "--B\r\nContent-Type: text/rfc822-headers\r\n\r\n"
    "Message-ID: <0193b0a5-7a8b-7c9d-8e0f-1a2b3c4d5e6f@notifier.example.com>\r\n\r\n"
    "--B--\r\n"
)
DSN_BODY: dict[str, Any] = {
    "required": True,
    "description": "The bounce report as the mail server sent it (RFC 3464 "
    "multipart/report), unchanged.",
    "content": {
        "message/rfc822": {
            "schema": {"type": "string", "format": "binary"},
            "examples": {"bounce": {"summary": "A hard bounce", "value": _DSN_EXAMPLE}},
        }
    },
}
