"""Scheduling: resources and calendars, proposals, invitations with deadlines, interviews and
bookings, one step per area.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _upgrade_resources()
    _upgrade_proposals()
    _upgrade_invitations()
    _upgrade_interviews()


def downgrade() -> None:
    _downgrade_interviews()
    _downgrade_invitations()
    _downgrade_proposals()
    _downgrade_resources()


def _upgrade_resources() -> None:
    """Jobs (projection), holiday calendars, interviewers, pools, rooms, busy time, feeds."""
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("resource_kind", sa.Text(), nullable=False),
        sa.Column("resource_id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("blocks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feeds")),
        sa.UniqueConstraint("resource_id", "name", name=op.f("uq_calendar_feeds_resource_id_name")),
        schema="scheduler",
    )
    op.create_table(
        "calendars",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("base", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("base IN ('cn', 'custom')", name=op.f("ck_calendars_base")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendars")),
        schema="scheduler",
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("owner_ids", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        schema="scheduler",
    )
    op.create_index(
        "ix_jobs_owner_ids",
        "jobs",
        ["owner_ids"],
        unique=False,
        schema="scheduler",
        postgresql_using="gin",
    )
    op.create_table(
        "pools",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pools")),
        sa.UniqueConstraint("name", name=op.f("uq_pools_name")),
        schema="scheduler",
    )
    op.create_table(
        "busy_blocks",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("resource_kind", sa.Text(), nullable=False),
        sa.Column("resource_id", sa.UUID(), nullable=False),
        sa.Column("during", postgresql.TSTZRANGE(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("feed_id", sa.UUID(), nullable=True),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "resource_kind IN ('interviewer', 'room')", name=op.f("ck_busy_blocks_resource_kind")
        ),
        sa.CheckConstraint("source IN ('api', 'feed')", name=op.f("ck_busy_blocks_source")),
        sa.ForeignKeyConstraint(
            ["feed_id"],
            ["scheduler.calendar_feeds.id"],
            name=op.f("fk_busy_blocks_feed_id_calendar_feeds"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_busy_blocks")),
        schema="scheduler",
    )
    op.create_index(
        "ix_busy_blocks_resource_id_during",
        "busy_blocks",
        ["resource_id", "during"],
        unique=False,
        schema="scheduler",
        postgresql_using="gist",
    )
    op.create_index(
        "uq_busy_blocks_resource_id_external_id",
        "busy_blocks",
        ["resource_id", "external_id"],
        unique=True,
        schema="scheduler",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.create_table(
        "calendar_days",
        sa.Column("calendar_id", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('holiday', 'workday')", name=op.f("ck_calendar_days_kind")),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["scheduler.calendars.id"],
            name=op.f("fk_calendar_days_calendar_id_calendars"),
        ),
        sa.PrimaryKeyConstraint("calendar_id", "day", name=op.f("pk_calendar_days")),
        schema="scheduler",
    )
    op.create_table(
        "interviewers",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("time_zone", sa.Text(), nullable=False),
        sa.Column("working_hours", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("max_per_day", sa.Integer(), nullable=True),
        sa.Column("max_per_week", sa.Integer(), nullable=True),
        sa.Column("skills", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("calendar_id", sa.Text(), server_default="cn", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["calendar_id"],
            ["scheduler.calendars.id"],
            name=op.f("fk_interviewers_calendar_id_calendars"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interviewers")),
        sa.UniqueConstraint("subject", name=op.f("uq_interviewers_subject")),
        schema="scheduler",
    )
    op.create_table(
        "rooms",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("location", sa.Text(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("equipment", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("time_zone", sa.Text(), nullable=False),
        sa.Column("calendar_id", sa.Text(), server_default="cn", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_rooms_capacity")),
        sa.ForeignKeyConstraint(
            ["calendar_id"], ["scheduler.calendars.id"], name=op.f("fk_rooms_calendar_id_calendars")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rooms")),
        sa.UniqueConstraint("location", "name", name=op.f("uq_rooms_location_name")),
        schema="scheduler",
    )
    op.create_table(
        "availability_overrides",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("interviewer_id", sa.UUID(), nullable=False),
        sa.Column("during", postgresql.TSTZRANGE(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('available', 'unavailable')", name=op.f("ck_availability_overrides_kind")
        ),
        sa.ForeignKeyConstraint(
            ["interviewer_id"],
            ["scheduler.interviewers.id"],
            name=op.f("fk_availability_overrides_interviewer_id_interviewers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_availability_overrides")),
        schema="scheduler",
    )
    op.create_index(
        "ix_availability_overrides_interviewer_id_during",
        "availability_overrides",
        ["interviewer_id", "during"],
        unique=False,
        schema="scheduler",
        postgresql_using="gist",
    )
    op.create_table(
        "pool_members",
        sa.Column("pool_id", sa.UUID(), nullable=False),
        sa.Column("interviewer_id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["interviewer_id"],
            ["scheduler.interviewers.id"],
            name=op.f("fk_pool_members_interviewer_id_interviewers"),
        ),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["scheduler.pools.id"], name=op.f("fk_pool_members_pool_id_pools")
        ),
        sa.PrimaryKeyConstraint("pool_id", "interviewer_id", name=op.f("pk_pool_members")),
        schema="scheduler",
    )
    op.execute(
        "INSERT INTO scheduler.calendars (id, name, base, created_at) VALUES "
        "('cn', 'China: State Council holidays and make-up workdays', 'cn', now())"
    )


def _upgrade_proposals() -> None:
    """Proposals: ranked slots and why none fit."""
    op.create_table(
        "proposals",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("candidate_id", sa.UUID(), nullable=False),
        sa.Column("request", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("suggestions", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("diagnostics", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"], ["scheduler.jobs.id"], name=op.f("fk_proposals_job_id_jobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
        schema="scheduler",
    )
    op.create_index(
        op.f("ix_proposals_application_id"),
        "proposals",
        ["application_id"],
        unique=False,
        schema="scheduler",
    )


def _upgrade_invitations() -> None:
    """Invitation policies, invitations and the candidates' link tokens."""
    op.create_table(
        "invitation_policies",
        sa.Column("candidate_group", sa.Text(), nullable=False),
        sa.Column("live_deadline_hours", sa.Integer(), nullable=False),
        sa.Column("ai_deadline_hours", sa.Integer(), nullable=False),
        sa.Column("reminders", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("makeup_hours", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("candidate_group", name=op.f("pk_invitation_policies")),
        schema="scheduler",
    )
    op.create_table(
        "link_tokens",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("subject_id", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_link_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_link_tokens_token_hash")),
        schema="scheduler",
    )
    op.create_index(
        "ix_link_tokens_purpose_subject_id",
        "link_tokens",
        ["purpose", "subject_id"],
        unique=False,
        schema="scheduler",
    )
    op.create_table(
        "invitations",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("candidate_id", sa.UUID(), nullable=False),
        sa.Column("candidate_group", sa.Text(), nullable=False),
        sa.Column("candidate_time_zone", sa.Text(), server_default="Asia/Shanghai", nullable=False),
        sa.Column("proposal_id", sa.UUID(), nullable=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("makeup_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("custom_window", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("interview_id", sa.UUID(), nullable=True),
        sa.Column("application_version", sa.Integer(), nullable=True),
        sa.Column("cancelled_by", sa.Text(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('live_interview', 'ai_interview')", name=op.f("ck_invitations_kind")
        ),
        sa.CheckConstraint(
            "state IN ('sent', 'opened', 'custom_requested', 'booked', 'completed', 'expired', "
            "'closed', 'cancelled')",
            name=op.f("ck_invitations_state"),
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["scheduler.jobs.id"], name=op.f("fk_invitations_job_id_jobs")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["scheduler.proposals.id"],
            name=op.f("fk_invitations_proposal_id_proposals"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        schema="scheduler",
    )
    op.create_index(
        "ix_invitations_job_id_state",
        "invitations",
        ["job_id", "state"],
        unique=False,
        schema="scheduler",
    )
    op.create_index(
        "uq_invitations_open_per_application_kind",
        "invitations",
        ["application_id", "kind"],
        unique=True,
        schema="scheduler",
        postgresql_where=sa.text("state IN ('sent', 'opened', 'custom_requested', 'expired')"),
    )
    op.execute(
        """INSERT INTO scheduler.invitation_policies
               (candidate_group, live_deadline_hours, ai_deadline_hours, reminders, makeup_hours,
                updated_by, updated_at)
           VALUES
               ('default', 72, 72,
                '[{"key": "unopened_24h", "after_sent_hours": 24, "only_if_unopened": true},
                  {"key": "deadline_6h", "before_deadline_hours": 6}]', 24, 'migration', now()),
               ('campus', 48, 48,
                '[{"key": "unopened_24h", "after_sent_hours": 24, "only_if_unopened": true},
                  {"key": "deadline_6h", "before_deadline_hours": 6}]', 24, 'migration', now()),
               ('experienced', 120, 96,
                '[{"key": "unopened_24h", "after_sent_hours": 24, "only_if_unopened": true},
                  {"key": "deadline_6h", "before_deadline_hours": 6}]', 48, 'migration', now())"""
    )


def _upgrade_interviews() -> None:
    """Interviews, their participants and bookings that never overlap."""
    op.create_table(
        "interviews",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("job_id", sa.UUID(), nullable=False),
        sa.Column("candidate_id", sa.UUID(), nullable=False),
        sa.Column("invitation_id", sa.UUID(), nullable=True),
        sa.Column("proposal_id", sa.UUID(), nullable=True),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("candidate_time_zone", sa.Text(), nullable=False),
        sa.Column("room_id", sa.UUID(), nullable=True),
        sa.Column("remote", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("ics_uid", sa.Text(), nullable=False),
        sa.Column("ics_sequence", sa.Integer(), server_default="0", nullable=False),
        sa.Column("cancelled_by", sa.Text(), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state IN ('booked', 'confirmed', 'cancelled', 'completed')",
            name=op.f("ck_interviews_state"),
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_interviews_ends_after_start")),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["scheduler.invitations.id"],
            name=op.f("fk_interviews_invitation_id_invitations"),
        ),
        sa.ForeignKeyConstraint(
            ["job_id"], ["scheduler.jobs.id"], name=op.f("fk_interviews_job_id_jobs")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["scheduler.proposals.id"],
            name=op.f("fk_interviews_proposal_id_proposals"),
        ),
        sa.ForeignKeyConstraint(
            ["room_id"], ["scheduler.rooms.id"], name=op.f("fk_interviews_room_id_rooms")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interviews")),
        sa.UniqueConstraint("ics_uid", name=op.f("uq_interviews_ics_uid")),
        schema="scheduler",
    )
    op.create_index(
        op.f("ix_interviews_application_id"),
        "interviews",
        ["application_id"],
        unique=False,
        schema="scheduler",
    )
    op.create_index(
        "ix_interviews_job_id_starts_at",
        "interviews",
        ["job_id", "starts_at"],
        unique=False,
        schema="scheduler",
    )
    op.create_index(
        "uq_interviews_active_proposal",
        "interviews",
        ["proposal_id"],
        unique=True,
        schema="scheduler",
        postgresql_where=sa.text("state IN ('booked', 'confirmed')"),
    )
    op.create_table(
        "bookings",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("interview_id", sa.UUID(), nullable=False),
        sa.Column("resource_kind", sa.Text(), nullable=False),
        sa.Column("resource_id", sa.UUID(), nullable=False),
        sa.Column("during", postgresql.TSTZRANGE(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        postgresql.ExcludeConstraint(
            (sa.column("resource_id"), "="),
            (sa.column("during"), "&&"),
            where=sa.text("active"),
            using="gist",
            name="ex_bookings_no_overlap",
        ),
        sa.CheckConstraint(
            "resource_kind IN ('interviewer', 'room')", name=op.f("ck_bookings_resource_kind")
        ),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["scheduler.interviews.id"],
            name=op.f("fk_bookings_interview_id_interviews"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        schema="scheduler",
    )
    op.create_index(
        op.f("ix_bookings_interview_id"),
        "bookings",
        ["interview_id"],
        unique=False,
        schema="scheduler",
    )
    op.create_table(
        "interview_participants",
        sa.Column("interview_id", sa.UUID(), nullable=False),
        sa.Column("interviewer_id", sa.UUID(), nullable=False),
        sa.Column("pool_id", sa.UUID(), nullable=True),
        sa.Column("response", sa.Text(), server_default="pending", nullable=False),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "response IN ('pending', 'accepted', 'declined', 'replaced')",
            name=op.f("ck_interview_participants_response"),
        ),
        sa.ForeignKeyConstraint(
            ["interview_id"],
            ["scheduler.interviews.id"],
            name=op.f("fk_interview_participants_interview_id_interviews"),
        ),
        sa.ForeignKeyConstraint(
            ["interviewer_id"],
            ["scheduler.interviewers.id"],
            name=op.f("fk_interview_participants_interviewer_id_interviewers"),
        ),
        sa.ForeignKeyConstraint(
            ["pool_id"],
            ["scheduler.pools.id"],
            name=op.f("fk_interview_participants_pool_id_pools"),
        ),
        sa.PrimaryKeyConstraint(
            "interview_id", "interviewer_id", name=op.f("pk_interview_participants")
        ),
        schema="scheduler",
    )
    op.create_index(
        "ix_interview_participants_interviewer_id",
        "interview_participants",
        ["interviewer_id"],
        unique=False,
        schema="scheduler",
    )


def _downgrade_resources() -> None:
    op.drop_table("pool_members", schema="scheduler")
    op.drop_index(
        "ix_availability_overrides_interviewer_id_during",
        table_name="availability_overrides",
        schema="scheduler",
        postgresql_using="gist",
    )
    op.drop_table("availability_overrides", schema="scheduler")
    op.drop_table("rooms", schema="scheduler")
    op.drop_table("interviewers", schema="scheduler")
    op.drop_table("calendar_days", schema="scheduler")
    op.drop_index(
        "uq_busy_blocks_resource_id_external_id",
        table_name="busy_blocks",
        schema="scheduler",
        postgresql_where=sa.text("external_id IS NOT NULL"),
    )
    op.drop_index(
        "ix_busy_blocks_resource_id_during",
        table_name="busy_blocks",
        schema="scheduler",
        postgresql_using="gist",
    )
    op.drop_table("busy_blocks", schema="scheduler")
    op.drop_table("pools", schema="scheduler")
    op.drop_index(
        "ix_jobs_owner_ids", table_name="jobs", schema="scheduler", postgresql_using="gin"
    )
    op.drop_table("jobs", schema="scheduler")
    op.drop_table("calendars", schema="scheduler")
    op.drop_table("calendar_feeds", schema="scheduler")


def _downgrade_proposals() -> None:
    op.drop_index(op.f("ix_proposals_application_id"), table_name="proposals", schema="scheduler")
    op.drop_table("proposals", schema="scheduler")


def _downgrade_invitations() -> None:
    op.drop_index(
        "uq_invitations_open_per_application_kind",
        table_name="invitations",
        schema="scheduler",
        postgresql_where=sa.text("state IN ('sent', 'opened', 'custom_requested', 'expired')"),
    )
    op.drop_index("ix_invitations_job_id_state", table_name="invitations", schema="scheduler")
    op.drop_table("invitations", schema="scheduler")
    op.drop_index("ix_link_tokens_purpose_subject_id", table_name="link_tokens", schema="scheduler")
    op.drop_table("link_tokens", schema="scheduler")
    op.drop_table("invitation_policies", schema="scheduler")


def _downgrade_interviews() -> None:
    op.drop_index(
        "ix_interview_participants_interviewer_id",
        table_name="interview_participants",
        schema="scheduler",
    )
    op.drop_table("interview_participants", schema="scheduler")
    op.drop_index(op.f("ix_bookings_interview_id"), table_name="bookings", schema="scheduler")
    op.drop_table("bookings", schema="scheduler")
    op.drop_index(
        "uq_interviews_active_proposal",
        table_name="interviews",
        schema="scheduler",
        postgresql_where=sa.text("state IN ('booked', 'confirmed')"),
    )
    op.drop_index("ix_interviews_job_id_starts_at", table_name="interviews", schema="scheduler")
    op.drop_index(op.f("ix_interviews_application_id"), table_name="interviews", schema="scheduler")
    op.drop_table("interviews", schema="scheduler")
