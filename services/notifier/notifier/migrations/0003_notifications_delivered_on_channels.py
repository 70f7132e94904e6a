"""Notifications delivered on channels: templates, rules, recipients, chat robots, webhook
endpoints, deliveries and their events; the default rules.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chat_robots",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("url_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("job_id", sa.UUID(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "provider IN ('dingtalk', 'wecom')", name=op.f("ck_chat_robots_provider")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chat_robots")),
        schema="notifier",
    )
    op.create_index(
        op.f("ix_chat_robots_job_id"), "chat_robots", ["job_id"], unique=False, schema="notifier"
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("job_type", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("owner_ids", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        schema="notifier",
    )
    op.create_table(
        "recipients",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("email_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("phone_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("locale", sa.Text(), nullable=True),
        sa.Column("time_zone", sa.Text(), nullable=True),
        sa.Column("quiet_start", sa.Time(), nullable=True),
        sa.Column("quiet_end", sa.Time(), nullable=True),
        sa.Column(
            "muted_channels", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "unsubscribed_kinds", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "unsubscribed_all", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('candidate', 'staff', 'interviewer')", name=op.f("ck_recipients_kind")
        ),
        sa.CheckConstraint(
            "(quiet_start IS NULL) = (quiet_end IS NULL)",
            name=op.f("ck_recipients_quiet_hours_both_or_neither"),
        ),
        sa.PrimaryKeyConstraint("kind", "id", name=op.f("pk_recipients")),
        schema="notifier",
    )
    op.create_table(
        "rules",
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("audience", sa.Text(), nullable=False),
        sa.Column("channels", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column(
            "fallback", postgresql.JSONB(astext_type=sa.Text()), server_default="[]", nullable=False
        ),
        sa.Column("urgent", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "audience IN ('candidate', 'hr', 'interviewers')", name=op.f("ck_rules_audience")
        ),
        sa.PrimaryKeyConstraint("kind", "audience", name=op.f("pk_rules")),
        schema="notifier",
    )
    op.create_table(
        "templates",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("locale", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('email', 'sms', 'in_app', 'chat')", name=op.f("ck_templates_channel")
        ),
        sa.CheckConstraint("locale IN ('zh-CN', 'en')", name=op.f("ck_templates_locale")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_templates_version_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_templates")),
        sa.UniqueConstraint(
            "kind",
            "channel",
            "locale",
            "version",
            name=op.f("uq_templates_kind_channel_locale_version"),
        ),
        schema="notifier",
    )
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("kinds", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_endpoints")),
        schema="notifier",
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("notification_id", sa.UUID(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("step", sa.SmallInteger(), server_default="0", nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("engagement", sa.Text(), server_default="none", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("provider_message_id", sa.Text(), nullable=True),
        sa.Column("template_version", sa.Integer(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column(
            "detail", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "channel IN ('email', 'sms', 'in_app', 'chat', 'webhook')",
            name=op.f("ck_deliveries_channel"),
        ),
        sa.CheckConstraint(
            "engagement IN ('none', 'seen', 'read', 'clicked')",
            name=op.f("ck_deliveries_engagement"),
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'sending', 'sent', 'delivered', 'bounced', 'undelivered',"
            " 'failed', 'cancelled')",
            name=op.f("ck_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifier.notifications.id"],
            name=op.f("fk_deliveries_notification_id_notifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint(
            "notification_id", "channel", name=op.f("uq_deliveries_notification_id_channel")
        ),
        schema="notifier",
    )
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_attempt_at"],
        unique=False,
        schema="notifier",
        postgresql_where=sa.text("status IN ('queued', 'sending')"),
    )
    op.create_index(
        op.f("ix_deliveries_provider_message_id"),
        "deliveries",
        ["provider_message_id"],
        unique=False,
        schema="notifier",
    )
    op.create_index(
        "ix_deliveries_status_created",
        "deliveries",
        ["status", "created_at"],
        unique=False,
        schema="notifier",
    )
    op.create_table(
        "delivery_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("delivery_id", sa.UUID(), nullable=False),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("provider_event_id", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "type IN ('status', 'engagement', 'attempt')", name=op.f("ck_delivery_events_type")
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["notifier.deliveries.id"],
            name=op.f("fk_delivery_events_delivery_id_deliveries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_events")),
        schema="notifier",
    )
    op.create_index(
        op.f("ix_delivery_events_delivery_id"),
        "delivery_events",
        ["delivery_id"],
        unique=False,
        schema="notifier",
    )
    op.create_index(
        "uq_delivery_events_receipt",
        "delivery_events",
        ["source", "provider_event_id"],
        unique=True,
        schema="notifier",
        postgresql_where=sa.text("provider_event_id IS NOT NULL"),
    )
    op.add_column(
        "notifications",
        sa.Column("recipient_id", sa.Text(), server_default="", nullable=False),
        schema="notifier",
    )
    op.add_column("notifications", sa.Column("job_id", sa.UUID(), nullable=True), schema="notifier")
    op.add_column(
        "notifications",
        sa.Column("locale", sa.Text(), server_default="zh-CN", nullable=False),
        schema="notifier",
    )
    op.add_column(
        "notifications",
        sa.Column("urgent", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        schema="notifier",
    )
    op.add_column(
        "notifications",
        sa.Column("source_event_type", sa.Text(), server_default="", nullable=False),
        schema="notifier",
    )
    op.add_column("notifications", sa.Column("reason", sa.Text(), nullable=True), schema="notifier")
    op.add_column(
        "notifications",
        sa.Column("first_sent_at", sa.DateTime(timezone=True), nullable=True),
        schema="notifier",
    )
    op.add_column(
        "notifications",
        sa.Column("engaged_at", sa.DateTime(timezone=True), nullable=True),
        schema="notifier",
    )
    op.add_column(
        "notifications",
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        schema="notifier",
    )
    op.execute(
        "UPDATE notifier.notifications"
        " SET recipient_id = candidate_id::text, updated_at = created_at,"
        " status = CASE status WHEN 'pending' THEN 'pending' WHEN 'failed' THEN 'failed'"
        " WHEN 'cancelled' THEN 'suppressed' ELSE 'sent' END"
    )
    op.alter_column("notifications", "recipient_id", server_default=None, schema="notifier")
    op.alter_column("notifications", "updated_at", nullable=False, schema="notifier")
    op.drop_constraint(
        op.f("ck_notifications_status"), "notifications", schema="notifier", type_="check"
    )
    op.create_check_constraint(
        op.f("ck_notifications_status"),
        "notifications",
        "status IN ('pending', 'sent', 'engaged', 'unread', 'suppressed', 'failed')",
        schema="notifier",
    )
    op.create_check_constraint(
        op.f("ck_notifications_recipient_kind"),
        "notifications",
        "recipient_kind IN ('candidate', 'staff', 'interviewer', 'robot', 'endpoint')",
        schema="notifier",
    )
    op.alter_column(
        "notifications", "candidate_id", existing_type=sa.UUID(), nullable=True, schema="notifier"
    )
    op.alter_column(
        "notifications", "application_id", existing_type=sa.UUID(), nullable=True, schema="notifier"
    )
    op.drop_constraint(
        op.f("uq_notifications_source_event_id_kind_recipient_kind"),
        "notifications",
        schema="notifier",
        type_="unique",
    )
    op.create_index(
        "ix_notifications_recipient",
        "notifications",
        ["recipient_kind", "recipient_id", "created_at"],
        unique=False,
        schema="notifier",
    )
    op.create_unique_constraint(
        op.f("uq_notifications_source_event_id_kind_recipient_kind_recipient_id"),
        "notifications",
        ["source_event_id", "kind", "recipient_kind", "recipient_id"],
        schema="notifier",
    )
    _seed_rules()


def downgrade() -> None:
    op.drop_constraint(
        op.f("ck_notifications_recipient_kind"), "notifications", schema="notifier", type_="check"
    )
    op.drop_constraint(
        op.f("ck_notifications_status"), "notifications", schema="notifier", type_="check"
    )
    op.execute(
        "UPDATE notifier.notifications SET status = 'sent' WHERE status IN ('engaged', 'unread')"
    )
    op.execute("UPDATE notifier.notifications SET status = 'cancelled' WHERE status = 'suppressed'")
    op.execute("DELETE FROM notifier.notifications WHERE recipient_kind <> 'candidate'")
    op.create_check_constraint(
        op.f("ck_notifications_status"),
        "notifications",
        "status IN ('pending', 'queued', 'sent', 'delivered', 'failed', 'cancelled')",
        schema="notifier",
    )
    op.drop_constraint(
        op.f("uq_notifications_source_event_id_kind_recipient_kind_recipient_id"),
        "notifications",
        schema="notifier",
        type_="unique",
    )
    op.drop_index("ix_notifications_recipient", table_name="notifications", schema="notifier")
    op.create_unique_constraint(
        op.f("uq_notifications_source_event_id_kind_recipient_kind"),
        "notifications",
        ["source_event_id", "kind", "recipient_kind"],
        schema="notifier",
        postgresql_nulls_not_distinct=False,
    )
    op.alter_column(
        "notifications",
        "application_id",
        existing_type=sa.UUID(),
        nullable=False,
        schema="notifier",
    )
    op.alter_column(
        "notifications", "candidate_id", existing_type=sa.UUID(), nullable=False, schema="notifier"
    )
    op.drop_column("notifications", "updated_at", schema="notifier")
    op.drop_column("notifications", "engaged_at", schema="notifier")
    op.drop_column("notifications", "first_sent_at", schema="notifier")
    op.drop_column("notifications", "reason", schema="notifier")
    op.drop_column("notifications", "source_event_type", schema="notifier")
    op.drop_column("notifications", "urgent", schema="notifier")
    op.drop_column("notifications", "locale", schema="notifier")
    op.drop_column("notifications", "job_id", schema="notifier")
    op.drop_column("notifications", "recipient_id", schema="notifier")
    op.drop_index(
        "uq_delivery_events_receipt",
        table_name="delivery_events",
        schema="notifier",
        postgresql_where=sa.text("provider_event_id IS NOT NULL"),
    )
    op.drop_index(
        op.f("ix_delivery_events_delivery_id"), table_name="delivery_events", schema="notifier"
    )
    op.drop_table("delivery_events", schema="notifier")
    op.drop_index("ix_deliveries_status_created", table_name="deliveries", schema="notifier")
    op.drop_index(
        op.f("ix_deliveries_provider_message_id"), table_name="deliveries", schema="notifier"
    )
    op.drop_index(
        "ix_deliveries_due",
        table_name="deliveries",
        schema="notifier",
        postgresql_where=sa.text("status IN ('queued', 'sending')"),
    )
    op.drop_table("deliveries", schema="notifier")
    op.drop_table("webhook_endpoints", schema="notifier")
    op.drop_table("templates", schema="notifier")
    op.drop_table("rules", schema="notifier")
    op.drop_table("recipients", schema="notifier")
    op.drop_table("jobs", schema="notifier")
    op.drop_index(op.f("ix_chat_robots_job_id"), table_name="chat_robots", schema="notifier")
    op.drop_table("chat_robots", schema="notifier")


# The rules the notifier starts with (notifier/kinds.py holds the same defaults for the API's
# "reset"); a migration keeps its own copy so that it never changes when the code does.
_SMS_THEN_HR = [
    {"after_minutes": 120, "channels": ["sms"]},
    {"after_minutes": 1440, "action": "hr_follow_up"},
]
_DEFAULT_RULES = [
    ("stage_passed", "candidate", ["in_app", "email"], _SMS_THEN_HR, False),
    ("offer", "candidate", ["in_app", "email"], _SMS_THEN_HR, False),
    ("rejected", "candidate", ["in_app", "email"], [], False),
    ("result_under_review", "candidate", ["in_app"], [], False),
    ("approval_requested", "hr", ["in_app", "chat"], [], False),
    ("interview_invitation", "candidate", ["in_app", "email"], _SMS_THEN_HR, False),
    ("ai_interview_invitation", "candidate", ["in_app", "email"], _SMS_THEN_HR, False),
    ("invitation_reminder", "candidate", ["in_app", "sms"], [], False),
    ("invite_expired", "candidate", ["in_app", "email"], [], False),
    ("interview_booked", "candidate", ["in_app", "email"], _SMS_THEN_HR, False),
    ("interview_booked", "interviewers", ["in_app", "email"], [], False),
    ("interview_cancelled", "candidate", ["in_app", "email"], [], True),
    ("interview_cancelled", "interviewers", ["in_app", "email"], [], True),
    ("interview_reminder", "candidate", ["in_app", "sms"], [], False),
    ("interview_reminder", "interviewers", ["in_app"], [], False),
    ("message_from_hr", "candidate", ["in_app", "email"], [], False),
    ("message_from_candidate", "hr", ["in_app"], [], False),
    ("message_unanswered", "hr", ["in_app", "chat"], [], False),
    ("human_review_requested", "hr", ["in_app", "chat"], [], False),
    ("unread_follow_up", "hr", ["in_app", "chat"], [], False),
]


def _seed_rules() -> None:
    rules = sa.table(
        "rules",
        sa.column("kind", sa.Text()),
        sa.column("audience", sa.Text()),
        sa.column("channels", postgresql.ARRAY(sa.Text())),
        sa.column("fallback", postgresql.JSONB()),
        sa.column("urgent", sa.Boolean()),
        sa.column("updated_by", sa.Text()),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        schema="notifier",
    )
    op.bulk_insert(
        rules,
        [
            {
                "kind": kind,
                "audience": audience,
                "channels": channels,
                "fallback": fallback,
                "urgent": urgent,
                "updated_by": "migration",
                "updated_at": datetime.now(UTC),
            }
            for kind, audience, channels, fallback, urgent in _DEFAULT_RULES
        ],
    )
