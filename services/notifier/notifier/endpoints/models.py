from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from notifier.db import Base


class WebhookEndpoint(Base):
    """A customer's HTTPS endpoint that receives notifications as Standard Webhooks.

    ``kinds`` filters what it receives (empty: everything). ``failing_since`` is set by the
    first failure after a success and cleared by the next success; an endpoint failing for
    longer than the configured number of days is disabled with its reason.
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    url: Mapped[str] = mapped_column(sa.Text)
    description: Mapped[str | None] = mapped_column(sa.Text)
    secret_ciphertext: Mapped[bytes] = mapped_column(sa.LargeBinary)
    kinds: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default="{}")
    enabled: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())
    disabled_reason: Mapped[str | None] = mapped_column(sa.Text)
    failing_since: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    version: Mapped[int] = mapped_column(sa.Integer, server_default="1")
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
