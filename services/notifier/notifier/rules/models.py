from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from notifier.db import Base


class Rule(Base):
    """Who is told about a kind of notification, on which channels first, and what follows
    when it goes unread.

    ``fallback`` is a list of steps ``{"after_minutes": 120, "channels": ["sms"]}`` or
    ``{"after_minutes": 1440, "action": "hr_follow_up"}``, each counted from the first send.
    """

    __tablename__ = "rules"

    kind: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    audience: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    channels: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    fallback: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, server_default="[]")
    urgent: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    enabled: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())
    version: Mapped[int] = mapped_column(sa.Integer, server_default="1")
    updated_by: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.CheckConstraint("audience IN ('candidate', 'hr', 'interviewers')", name="audience"),
    )
