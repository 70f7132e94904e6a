from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from talentpool.db import Base


class Profile(Base):
    """One person across all their applications.

    Contact data and resume text are stored only encrypted (``shared.crypto``); people are
    matched by keyed blind indexes of their normalized email and phone, and the resume, notes
    and name are searchable through ``search_tokens`` (keyed hashes of their words and
    character bigrams, see docs/talentpool/segments.md). The counters feed the engagement score;
    ``on_hold_until`` and ``unsubscribed_at`` are kept here so eligibility is one row's read.
    A merged profile points at the one it was merged into; an anonymized one keeps only its
    id, counters and dates.
    """

    __tablename__ = "profiles"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    full_name_ciphertext: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    email_ciphertext: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    email_index: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    phone_ciphertext: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    phone_index: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    locale: Mapped[str | None] = mapped_column(sa.Text)
    location: Mapped[str | None] = mapped_column(sa.Text)
    skills: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default="{}")
    resume_ciphertext: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    search_tokens: Mapped[list[int]] = mapped_column(ARRAY(sa.BigInteger), server_default="{}")
    # The furthest stage any of the person's applications reached.
    furthest_rank: Mapped[int] = mapped_column(sa.SmallInteger, server_default="0")
    furthest_stage_kind: Mapped[str | None] = mapped_column(sa.Text)
    # Engagement: the counters it is computed from, the score (0-100) and its parts.
    invited_count: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    responded_count: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    completed_count: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    no_show_count: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    response_seconds_total: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")
    responses_timed: Mapped[int] = mapped_column(sa.Integer, server_default="0")
    engagement_score: Mapped[int] = mapped_column(sa.SmallInteger, server_default="0")
    engagement_parts: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default="{}")
    first_seen_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    last_activity_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    on_hold_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # When the pipeline's contact data was last read for matching (None: not yet), and until
    # when a matcher that claimed the profile to read them holds it (a lease, so replicas do
    # not read the same people and a matcher that died is taken over).
    contacts_checked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    contacts_claimed_until: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    merged_into: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("profiles.id")
    )
    anonymized_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    version: Mapped[int] = mapped_column(sa.Integer, server_default="1")
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __table_args__ = (
        sa.Index("ix_profiles_email_index", "email_index"),
        sa.Index("ix_profiles_phone_index", "phone_index"),
        sa.Index("ix_profiles_search_tokens", "search_tokens", postgresql_using="gin"),
        sa.Index("ix_profiles_skills", "skills", postgresql_using="gin"),
        sa.Index("ix_profiles_last_activity_at_id", "last_activity_at", "id"),
        # Segments filter by city and engagement together with a text search: this lets the
        # planner AND it with the search tokens' GIN index (docs/talentpool/segments.md).
        sa.Index("ix_profiles_location_engagement", sa.text("lower(location)"), "engagement_score"),
        sa.Index(
            "ix_profiles_contacts_unchecked",
            "created_at",
            postgresql_where=sa.text("contacts_checked_at IS NULL"),
        ),
        sa.Index(
            "ix_profiles_merged_into",
            "merged_into",
            postgresql_where=sa.text("merged_into IS NOT NULL"),
        ),
        sa.CheckConstraint("engagement_score BETWEEN 0 AND 100", name="engagement_score_range"),
        sa.CheckConstraint("merged_into IS NULL OR merged_into <> id", name="not_merged_into_self"),
    )


class ProfileMember(Base):
    """A pipeline candidate id belonging to a profile. Events name candidates, so this is how
    an event finds its person; merging moves members, unmerging moves them back."""

    __tablename__ = "profile_members"

    candidate_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    profile_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("profiles.id"), index=True
    )
    # The profile the candidate was first given, to which unmerging returns it.
    home_profile_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("profiles.id")
    )
    joined_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))


class ProfileMerge(Base):
    """A merge of one profile into another, by HR or by matching email or phone; undone by an
    unmerge."""

    __tablename__ = "profile_merges"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    into_profile_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("profiles.id"), index=True
    )
    from_profile_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("profiles.id"), index=True
    )
    candidate_ids: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(UUID(as_uuid=True)))
    matched_by: Mapped[str] = mapped_column(sa.Text)  # hr, email, phone
    merged_by: Mapped[str | None] = mapped_column(sa.Text)
    merged_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
    undone_by: Mapped[str | None] = mapped_column(sa.Text)
    undone_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # What the merge changed on the profile it joined, for an unmerge to take back:
    # {"tags": [{"key", "before", "after"}], "consents": [...], "consent_changes": [ids]}.
    carried: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sa.text("'{}'::jsonb"))

    __table_args__ = (
        sa.CheckConstraint("into_profile_id <> from_profile_id", name="not_into_itself"),
        sa.CheckConstraint("matched_by IN ('hr', 'email', 'phone')", name="matched_by"),
    )


class ProfileNote(Base):
    """An HR note on a person, encrypted; its words go into the profile's search tokens."""

    __tablename__ = "profile_notes"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    profile_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("profiles.id"), index=True
    )
    author_id: Mapped[str] = mapped_column(sa.Text)
    body_ciphertext: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
