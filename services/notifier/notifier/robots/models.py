from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from notifier.db import Base


class ChatRobot(Base):
    """A DingTalk or WeCom group robot that staff notifications are posted to: for one job's
    team, or for every job when ``job_id`` is null. Its webhook URL carries an access token and
    its signing secret is a secret, so both are stored encrypted."""

    __tablename__ = "chat_robots"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    provider: Mapped[str] = mapped_column(sa.Text)
    url_ciphertext: Mapped[bytes] = mapped_column(sa.LargeBinary)
    secret_ciphertext: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    job_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    active: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())
    created_by: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (sa.CheckConstraint("provider IN ('dingtalk', 'wecom')", name="provider"),)
