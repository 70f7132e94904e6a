from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.db import Base


class Candidate(Base):
    """A person, recognised across applications by a keyed blind index of their email or phone.

    Email and phone are stored only encrypted (``shared.crypto``); the indexes are HMACs of the
    normalized values, so equality lookups work without the plain value in the database.
    """

    __tablename__ = "candidates"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    full_name: Mapped[str] = mapped_column(sa.Text)
    email_ciphertext: Mapped[bytes] = mapped_column(sa.LargeBinary)
    email_index: Mapped[bytes] = mapped_column(sa.LargeBinary, unique=True)
    phone_ciphertext: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    phone_index: Mapped[bytes | None] = mapped_column(sa.LargeBinary, unique=True)
    locale: Mapped[str] = mapped_column(sa.Text, server_default="zh-CN")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
