from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from talentpool.db import Base


class ErasureRequest(Base):
    """Erasing one person everywhere: asked by HR or the candidate, or due by retention. Its
    event goes to every service; each confirms for its own copy."""

    __tablename__ = "erasure_requests"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    profile_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("profiles.id"), unique=True
    )
    candidate_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    reason: Mapped[str] = mapped_column(sa.Text)
    requested_by: Mapped[str] = mapped_column(sa.Text)
    requested_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # Keyed one-way digests of the person's email and phone blind indexes (never the indexes
    # themselves, which are erased), so a repeated request by email or phone finds this one.
    email_digest: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    phone_digest: Mapped[bytes | None] = mapped_column(sa.LargeBinary)

    __table_args__ = (
        sa.Index("ix_erasure_requests_email_digest", "email_digest"),
        sa.Index("ix_erasure_requests_phone_digest", "phone_digest"),
        sa.Index("ix_erasure_requests_requested_at_id", "requested_at", "id"),
        sa.CheckConstraint(
            "reason IN ('hr_request', 'candidate_request', 'retention')", name="reason"
        ),
    )


class ErasureConfirmation(Base):
    """One service's confirmation that it erased its copy (with what it erased)."""

    __tablename__ = "erasure_confirmations"

    erasure_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("erasure_requests.id"), primary_key=True
    )
    service: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    confirmed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
