from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from talentpool.db import Base


class ProfileTag(Base):
    """A tag a person carries now: set by HR (``manual``) or by a rule (``rule``). ``until``
    ends it (an on-hold tag's date until which nobody contacts them)."""

    __tablename__ = "profile_tags"

    profile_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("profiles.id"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    source: Mapped[str] = mapped_column(sa.Text)
    rule_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(sa.Text)
    added_by: Mapped[str | None] = mapped_column(sa.Text)
    added_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.Index("ix_profile_tags_tag", "tag", "profile_id"),
        # The expiry sweep and the "expires soon" reads: only timed tags.
        sa.Index("ix_profile_tags_until", "until", postgresql_where=sa.text("until IS NOT NULL")),
        sa.CheckConstraint("source IN ('manual', 'rule')", name="source"),
    )


class TagChange(Base):
    """The history of a person's tags: every addition, change and removal, and who or what
    made it."""

    __tablename__ = "tag_changes"

    id: Mapped[int] = mapped_column(sa.BigInteger, sa.Identity(always=True), primary_key=True)
    profile_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), sa.ForeignKey("profiles.id"))
    tag: Mapped[str] = mapped_column(sa.Text)
    action: Mapped[str] = mapped_column(sa.Text)
    source: Mapped[str] = mapped_column(sa.Text)
    rule_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    actor: Mapped[str | None] = mapped_column(sa.Text)
    until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    # The event that made a rule fire, so a redelivered or replayed event adds nothing twice.
    source_event_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.Index("ix_tag_changes_profile_id_at", "profile_id", "at"),
        # One change per event, person, tag and action: a replayed event finds its row here.
        sa.Index(
            "uq_tag_changes_source_event_id",
            "source_event_id",
            "profile_id",
            "tag",
            "action",
            unique=True,
            postgresql_where=sa.text("source_event_id IS NOT NULL"),
        ),
        sa.CheckConstraint("action IN ('added', 'changed', 'removed')", name="action"),
        sa.CheckConstraint("source IN ('manual', 'rule')", name="source"),
    )


class TagRule(Base):
    """A rule HR configured: when an event of ``trigger`` matches ``conditions``, tag the
    person with ``tag`` (for ``until_days`` days, if set), or take the tag away (``action``
    remove). Built-in rules are seeded by the migration; they may be disabled, not deleted."""

    __tablename__ = "tag_rules"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    name: Mapped[str] = mapped_column(sa.Text)
    tag: Mapped[str] = mapped_column(sa.Text)
    action: Mapped[str] = mapped_column(sa.Text, server_default="add")
    trigger: Mapped[str] = mapped_column(sa.Text)
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    until_days: Mapped[int | None] = mapped_column(sa.Integer)
    enabled: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())
    built_in: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.false())
    version: Mapped[int] = mapped_column(sa.Integer, server_default="1")
    created_by: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.UniqueConstraint("name"),
        sa.CheckConstraint("action IN ('add', 'remove')", name="action"),
        sa.CheckConstraint("until_days IS NULL OR until_days > 0", name="until_days_positive"),
    )
