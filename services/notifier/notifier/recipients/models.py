from __future__ import annotations

from datetime import datetime, time

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from notifier.db import Base


class Recipient(Base):
    """Someone the notifier writes to: how to reach them (staff and interviewers; a candidate's
    email and phone come from the pipeline when a message is sent) and what they want.

    ``kind`` is candidate, staff (an HR user or admin, by JWT subject) or interviewer (by the
    scheduler's interviewer id). Contact data is stored only encrypted (``shared.crypto``).
    """

    __tablename__ = "recipients"

    kind: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    id: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    email_ciphertext: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    phone_ciphertext: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    locale: Mapped[str | None] = mapped_column(sa.Text)
    time_zone: Mapped[str | None] = mapped_column(sa.Text)
    # Quiet hours in the recipient's zone; a window may wrap midnight (22:00-08:00).
    quiet_start: Mapped[time | None] = mapped_column(sa.Time)
    quiet_end: Mapped[time | None] = mapped_column(sa.Time)
    muted_channels: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default="{}")
    unsubscribed_kinds: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default="{}")
    unsubscribed_all: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    version: Mapped[int] = mapped_column(sa.Integer, server_default="1")
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.CheckConstraint("kind IN ('candidate', 'staff', 'interviewer')", name="kind"),
        sa.CheckConstraint(
            "(quiet_start IS NULL) = (quiet_end IS NULL)", name="quiet_hours_both_or_neither"
        ),
    )
