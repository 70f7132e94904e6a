"""The pipeline's domain: templates, candidates, results and approvals, the candidate's view,
messages, AI interviews and no-shows, one step per area.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op
from sqlalchemy.dialects import postgresql

from pipeline.candidates.contacts import EMAIL_CONTEXT, normalize_email
from pipeline.settings import PipelineSettings
from shared.crypto import Keyring

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    _upgrade_intake()
    _upgrade_decisions()
    _upgrade_portal()
    _upgrade_ai_interviews()
    _upgrade_analytics()


def downgrade() -> None:
    _downgrade_analytics()
    _downgrade_ai_interviews()
    _downgrade_portal()
    _downgrade_decisions()
    _downgrade_intake()


def _upgrade_intake() -> None:
    """Stage templates, jobs' new fields and candidates with encrypted contacts."""
    op.create_table(
        "stage_templates",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_templates")),
        schema="pipeline",
    )
    op.create_table(
        "stage_template_versions",
        sa.Column("template_id", sa.UUID(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("stages", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["pipeline.stage_templates.id"],
            name=op.f("fk_stage_template_versions_template_id_stage_templates"),
        ),
        sa.PrimaryKeyConstraint("template_id", "version", name=op.f("pk_stage_template_versions")),
        schema="pipeline",
    )
    # Nullable first: existing rows get their values below, then the columns are tightened.
    for name in ("email_ciphertext", "email_index", "phone_ciphertext", "phone_index"):
        op.add_column(
            "candidates", sa.Column(name, sa.LargeBinary(), nullable=True), schema="pipeline"
        )
    op.add_column(
        "candidates",
        sa.Column("locale", sa.Text(), server_default="zh-CN", nullable=False),
        schema="pipeline",
    )
    op.add_column(
        "candidates",
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        schema="pipeline",
    )
    _encrypt_candidate_emails()
    op.execute("UPDATE pipeline.candidates SET updated_at = created_at")
    for name in ("email_ciphertext", "email_index", "updated_at"):
        op.alter_column("candidates", name, nullable=False, schema="pipeline")
    op.drop_constraint(op.f("uq_candidates_email"), "candidates", schema="pipeline", type_="unique")
    op.create_unique_constraint(
        op.f("uq_candidates_email_index"), "candidates", ["email_index"], schema="pipeline"
    )
    op.create_unique_constraint(
        op.f("uq_candidates_phone_index"), "candidates", ["phone_index"], schema="pipeline"
    )
    op.drop_column("candidates", "email", schema="pipeline")
    op.add_column("jobs", sa.Column("template_id", sa.UUID(), nullable=True), schema="pipeline")
    op.add_column(
        "jobs", sa.Column("template_version", sa.Integer(), nullable=True), schema="pipeline"
    )
    op.add_column(
        "jobs",
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        schema="pipeline",
    )
    op.add_column(
        "jobs",
        sa.Column("ai_advance_min_score", sa.Numeric(precision=6, scale=2), nullable=True),
        schema="pipeline",
    )
    op.add_column(
        "jobs",
        sa.Column("ai_reject_below_score", sa.Numeric(precision=6, scale=2), nullable=True),
        schema="pipeline",
    )
    op.add_column(
        "jobs",
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        schema="pipeline",
    )
    op.add_column(
        "jobs",
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        schema="pipeline",
    )
    op.execute("UPDATE pipeline.jobs SET updated_at = created_at")
    op.alter_column("jobs", "updated_at", nullable=False, schema="pipeline")
    op.create_foreign_key(
        op.f("fk_jobs_template_id_stage_templates"),
        "jobs",
        "stage_templates",
        ["template_id"],
        ["id"],
        source_schema="pipeline",
        referent_schema="pipeline",
    )


# Personal data is encrypted in Python, with the keys of the settings the migration runs with
# (``shared.migrations`` hands them over; the environment's otherwise). A database without
# candidates needs no keys.
_BATCH = 1000


def _keyring() -> Keyring:
    settings = context.config.attributes.get("settings") or PipelineSettings()
    return Keyring.from_settings(settings)


def _email_for_index(email: str) -> str:
    try:
        return normalize_email(email)
    except ValueError:
        # Stored before validation was this strict: keep it as it was stored.
        return email.strip().lower()


def _encrypt_candidate_emails() -> None:
    bind = op.get_bind()
    select = sa.text(
        "SELECT id, email FROM pipeline.candidates WHERE email_ciphertext IS NULL "
        "ORDER BY id LIMIT :limit"
    )
    update = sa.text(
        "UPDATE pipeline.candidates SET email_ciphertext = :ciphertext, email_index = :index "
        "WHERE id = :id"
    )
    keyring: Keyring | None = None
    while rows := bind.execute(select, {"limit": _BATCH}).all():
        keyring = keyring or _keyring()
        params = []
        for row in rows:
            email = _email_for_index(row.email)
            params.append(
                {
                    "id": row.id,
                    "ciphertext": keyring.encrypt(email, context=EMAIL_CONTEXT),
                    "index": keyring.blind_index(email, context=EMAIL_CONTEXT),
                }
            )
        bind.execute(update, params)


def _decrypt_candidate_emails() -> None:
    bind = op.get_bind()
    select = sa.text(
        "SELECT id, email_ciphertext FROM pipeline.candidates WHERE email IS NULL "
        "ORDER BY id LIMIT :limit"
    )
    update = sa.text("UPDATE pipeline.candidates SET email = :email WHERE id = :id")
    keyring: Keyring | None = None
    while rows := bind.execute(select, {"limit": _BATCH}).all():
        keyring = keyring or _keyring()
        params = [
            {"id": row.id, "email": keyring.decrypt(row.email_ciphertext, context=EMAIL_CONTEXT)}
            for row in rows
        ]
        bind.execute(update, params)


def _upgrade_decisions() -> None:
    """Release policies, rejection reasons, results and approval chains; application fields."""
    op.create_table(
        "rejection_reasons",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("label_zh", sa.Text(), nullable=False),
        sa.Column("label_en", sa.Text(), nullable=False),
        sa.Column(
            "candidate_visible", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_rejection_reasons")),
        schema="pipeline",
    )
    op.create_table(
        "release_policies",
        sa.Column("job_type", sa.Text(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("approver_ids", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("step_sla_hours", sa.Integer(), server_default="24", nullable=False),
        sa.Column("escalate_to", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "mode IN ('immediate', 'approval')", name=op.f("ck_release_policies_mode")
        ),
        sa.PrimaryKeyConstraint("job_type", name=op.f("pk_release_policies")),
        schema="pipeline",
    )
    op.create_table(
        "results",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("stage_key", sa.Text(), nullable=False),
        sa.Column("decision", sa.Text(), nullable=False),
        sa.Column("to_stage", sa.Text(), nullable=True),
        sa.Column("reason_code", sa.Text(), nullable=True),
        sa.Column("score", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("dimension_scores", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("internal_note", sa.Text(), nullable=True),
        sa.Column("candidate_message", sa.Text(), nullable=True),
        sa.Column("policy_mode", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("release_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expected_by", sa.DateTime(timezone=True), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "decision IN ('advance', 'move', 'reject', 'hire')", name=op.f("ck_results_decision")
        ),
        sa.CheckConstraint(
            "state IN ('pending_approval', 'scheduled', 'released', 'declined', 'cancelled')",
            name=op.f("ck_results_state"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["pipeline.applications.id"],
            name=op.f("fk_results_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_results")),
        schema="pipeline",
    )
    op.create_index(
        op.f("ix_results_application_id"),
        "results",
        ["application_id"],
        unique=False,
        schema="pipeline",
    )
    op.create_index(
        "uq_results_open_per_application",
        "results",
        ["application_id"],
        unique=True,
        schema="pipeline",
        postgresql_where=sa.text("state IN ('pending_approval', 'scheduled')"),
    )
    op.create_table(
        "approval_steps",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("result_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("approver_id", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('waiting', 'pending', 'approved', 'declined', 'skipped')",
            name=op.f("ck_approval_steps_state"),
        ),
        sa.ForeignKeyConstraint(
            ["result_id"], ["pipeline.results.id"], name=op.f("fk_approval_steps_result_id_results")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approval_steps")),
        sa.UniqueConstraint(
            "result_id", "position", name=op.f("uq_approval_steps_result_id_position")
        ),
        schema="pipeline",
    )
    op.create_index(
        "ix_approval_steps_approver_id_state",
        "approval_steps",
        ["approver_id", "state"],
        unique=False,
        schema="pipeline",
    )
    op.add_column(
        "applications",
        sa.Column("stage_entered_at", sa.DateTime(timezone=True), nullable=True),
        schema="pipeline",
    )
    op.execute("UPDATE pipeline.applications SET stage_entered_at = updated_at")
    op.alter_column("applications", "stage_entered_at", nullable=False, schema="pipeline")
    op.add_column(
        "applications", sa.Column("rejection_reason", sa.Text(), nullable=True), schema="pipeline"
    )
    op.add_column(
        "applications",
        sa.Column("source", sa.Text(), server_default="api", nullable=False),
        schema="pipeline",
    )
    op.add_column(
        "applications",
        sa.Column("human_review_requested_at", sa.DateTime(timezone=True), nullable=True),
        schema="pipeline",
    )
    op.create_index(
        "ix_applications_job_id_stage_key",
        "applications",
        ["job_id", "stage_key"],
        unique=False,
        schema="pipeline",
    )
    op.add_column(
        "stage_changes",
        sa.Column("status", sa.Text(), server_default="active", nullable=False),
        schema="pipeline",
    )
    op.add_column(
        "stage_changes", sa.Column("reason_code", sa.Text(), nullable=True), schema="pipeline"
    )
    op.add_column(
        "stage_changes", sa.Column("result_id", sa.UUID(), nullable=True), schema="pipeline"
    )
    # Basic roles: results are told at once, with no approver.
    op.execute(
        "INSERT INTO pipeline.release_policies (job_type, mode, approver_ids, updated_by, "
        "updated_at) VALUES ('basic', 'immediate', '{}', 'system', now())"
    )
    reasons = sa.table(
        "rejection_reasons",
        sa.column("code", sa.Text()),
        sa.column("label_zh", sa.Text()),
        sa.column("label_en", sa.Text()),
        sa.column("candidate_visible", sa.Boolean()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        schema="pipeline",
    )
    op.execute(
        reasons.insert().values(
            [
                {
                    "code": code,
                    "label_zh": zh,
                    "label_en": en,
                    "candidate_visible": visible,
                    "created_at": sa.func.now(),
                }
                for code, zh, en, visible in _SEED_REJECTION_REASONS
            ]
        )
    )


# code, zh-CN label, en label, whether the candidate may see the label.
_SEED_REJECTION_REASONS = [
    ("not_qualified", "不符合岗位要求", "Does not meet the requirements", True),
    ("position_filled", "岗位已招满", "The position has been filled", True),
    ("failed_interview", "面试未通过", "Did not pass the interview", True),
    ("failed_ai_interview", "AI面试未通过", "Did not pass the AI interview", True),
    ("no_show", "未按时参加面试", "Did not attend the interview", True),
    ("candidate_declined", "候选人放弃", "The candidate declined", True),
    ("salary_mismatch", "薪资期望不匹配", "Salary expectations do not match", False),
    ("background_check", "背景调查未通过", "Did not pass the background check", False),
    ("other", "其他原因", "Other reasons", False),
]


def _upgrade_portal() -> None:
    """The candidate's view: link tokens, messages and calendar overrides."""
    op.create_table(
        "calendar_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('holiday', 'workday')", name=op.f("ck_calendar_days_kind")),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_calendar_days")),
        schema="pipeline",
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
        schema="pipeline",
    )
    op.create_index(
        "ix_link_tokens_purpose_subject_id",
        "link_tokens",
        ["purpose", "subject_id"],
        unique=False,
        schema="pipeline",
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("sender_kind", sa.Text(), nullable=False),
        sa.Column("sender_id", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "sender_kind IN ('candidate', 'hr', 'admin', 'system')", name=op.f("ck_messages_sender")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["pipeline.applications.id"],
            name=op.f("fk_messages_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        schema="pipeline",
    )
    op.create_index(
        "ix_messages_application_id_created_at",
        "messages",
        ["application_id", "created_at"],
        unique=False,
        schema="pipeline",
    )
    op.create_index(
        "ix_messages_unread",
        "messages",
        ["application_id", "sender_kind"],
        unique=False,
        schema="pipeline",
        postgresql_where=sa.text("read_at IS NULL"),
    )


def _upgrade_ai_interviews() -> None:
    """AI-interview vendor webhooks: receipts, interviews and unmatched deliveries."""
    op.create_table(
        "unmatched_deliveries",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("vendor", sa.Text(), nullable=False),
        sa.Column("webhook_id", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "reason IN ('unknown_application', 'interview_mismatch')",
            name=op.f("ck_unmatched_deliveries_reason"),
        ),
        sa.CheckConstraint(
            "resolution IN ('dismissed', 'replayed', 'already_delivered')",
            name=op.f("ck_unmatched_deliveries_resolution"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmatched_deliveries")),
        sa.UniqueConstraint(
            "vendor", "webhook_id", name=op.f("uq_unmatched_deliveries_vendor_webhook_id")
        ),
        schema="pipeline",
    )
    op.create_index(
        "ix_unmatched_deliveries_open",
        "unmatched_deliveries",
        ["id"],
        unique=False,
        schema="pipeline",
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.create_table(
        "webhook_receipts",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("webhook_id", sa.Text(), nullable=False),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("source", "webhook_id", name=op.f("pk_webhook_receipts")),
        schema="pipeline",
    )
    op.create_index(
        "ix_webhook_receipts_received_at",
        "webhook_receipts",
        ["received_at"],
        unique=False,
        schema="pipeline",
    )
    op.create_table(
        "ai_interviews",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("vendor", sa.Text(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("score", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("dimension_scores", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("report_url", sa.Text(), nullable=True),
        sa.Column("result_source", sa.Text(), nullable=True),
        sa.Column("result_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("invited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report_ready_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('invited', 'opened', 'started', 'completed', 'expired', 'report_ready')",
            name=op.f("ck_ai_interviews_status"),
        ),
        sa.CheckConstraint(
            "result_source IN ('completed', 'report_ready')",
            name=op.f("ck_ai_interviews_result_source"),
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["pipeline.applications.id"],
            name=op.f("fk_ai_interviews_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ai_interviews")),
        sa.UniqueConstraint(
            "application_id", "vendor", name=op.f("uq_ai_interviews_application_id_vendor")
        ),
        schema="pipeline",
    )


def _upgrade_analytics() -> None:
    """No-shows, and the indexes the analytics queries and the export need."""
    op.create_table(
        "no_shows",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("application_id", sa.UUID(), nullable=False),
        sa.Column("stage_key", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("policy_mode", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('interview', 'offer', 'ai_interview')", name=op.f("ck_no_shows_kind")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["pipeline.applications.id"],
            name=op.f("fk_no_shows_application_id_applications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_no_shows")),
        sa.UniqueConstraint(
            "application_id",
            "stage_key",
            "kind",
            name=op.f("uq_no_shows_application_id_stage_key_kind"),
        ),
        schema="pipeline",
    )
    op.create_index(
        op.f("ix_no_shows_application_id"),
        "no_shows",
        ["application_id"],
        unique=False,
        schema="pipeline",
    )
    _add_stay_starts()
    # Indexes the analytics queries and the CSV export read through (pipeline.analytics.models).
    op.create_index(
        "ix_stage_changes_application_id_occurred_at_id",
        "stage_changes",
        ["application_id", "occurred_at", "id"],
        unique=False,
        schema="pipeline",
        postgresql_include=["from_stage", "to_stage", "from_stage_entered_at"],
    )
    op.create_index(
        "ix_applications_job_id_created_at_id",
        "applications",
        ["job_id", "created_at", "id"],
        unique=False,
        schema="pipeline",
    )
    op.create_index(
        "ix_applications_created_at_id",
        "applications",
        ["created_at", "id"],
        unique=False,
        schema="pipeline",
    )
    op.create_index(
        "ix_results_application_id_released_at",
        "results",
        ["application_id", "released_at"],
        unique=False,
        schema="pipeline",
        postgresql_where=sa.text("released_at IS NOT NULL"),
    )


def _add_stay_starts() -> None:
    """``stage_changes.from_stage_entered_at``: when the stay each change ends began, so the
    analytics read a stay from one row. Existing history gets, once, what the analytics computed
    at read time until now, with a window over each application's changes: the previous change
    (or the application's creation) began the stay. A change made while the application was not
    active (a reopen after a rejection) ends no stay and stays NULL; the previous change's
    transition is checked as well as its status, because changes written before ``status``
    existed all got ``active``."""
    op.add_column(
        "stage_changes",
        sa.Column("from_stage_entered_at", sa.DateTime(timezone=True), nullable=True),
        schema="pipeline",
    )
    op.execute(BACKFILL_STAY_STARTS)


BACKFILL_STAY_STARTS = """
UPDATE pipeline.stage_changes AS sc
SET from_stage_entered_at = stays.entered_at
FROM (
    SELECT c.id,
           coalesce(lag(c.occurred_at) OVER w, a.created_at) AS entered_at,
           coalesce(lag(c.status) OVER w, 'active') = 'active'
               AND coalesce(lag(c.transition) OVER w, '') NOT IN ('reject', 'withdraw', 'hire')
               AS active_before
    FROM pipeline.stage_changes AS c
    JOIN pipeline.applications AS a ON a.id = c.application_id
    WINDOW w AS (PARTITION BY c.application_id ORDER BY c.occurred_at, c.id)
) AS stays
WHERE stays.id = sc.id AND stays.active_before
"""


def _downgrade_intake() -> None:
    op.drop_constraint(
        op.f("fk_jobs_template_id_stage_templates"), "jobs", schema="pipeline", type_="foreignkey"
    )
    op.drop_column("jobs", "updated_at", schema="pipeline")
    op.drop_column("jobs", "version", schema="pipeline")
    op.drop_column("jobs", "ai_reject_below_score", schema="pipeline")
    op.drop_column("jobs", "ai_advance_min_score", schema="pipeline")
    op.drop_column("jobs", "status", schema="pipeline")
    op.drop_column("jobs", "template_version", schema="pipeline")
    op.drop_column("jobs", "template_id", schema="pipeline")
    op.add_column(
        "candidates",
        sa.Column("email", sa.TEXT(), autoincrement=False, nullable=True),
        schema="pipeline",
    )
    _decrypt_candidate_emails()
    op.alter_column("candidates", "email", nullable=False, schema="pipeline")
    op.drop_constraint(
        op.f("uq_candidates_phone_index"), "candidates", schema="pipeline", type_="unique"
    )
    op.drop_constraint(
        op.f("uq_candidates_email_index"), "candidates", schema="pipeline", type_="unique"
    )
    op.create_unique_constraint(
        op.f("uq_candidates_email"),
        "candidates",
        ["email"],
        schema="pipeline",
        postgresql_nulls_not_distinct=False,
    )
    op.drop_column("candidates", "updated_at", schema="pipeline")
    op.drop_column("candidates", "locale", schema="pipeline")
    op.drop_column("candidates", "phone_index", schema="pipeline")
    op.drop_column("candidates", "phone_ciphertext", schema="pipeline")
    op.drop_column("candidates", "email_index", schema="pipeline")
    op.drop_column("candidates", "email_ciphertext", schema="pipeline")
    op.drop_table("stage_template_versions", schema="pipeline")
    op.drop_table("stage_templates", schema="pipeline")


def _downgrade_decisions() -> None:
    op.drop_column("stage_changes", "result_id", schema="pipeline")
    op.drop_column("stage_changes", "reason_code", schema="pipeline")
    op.drop_column("stage_changes", "status", schema="pipeline")
    op.drop_index("ix_applications_job_id_stage_key", table_name="applications", schema="pipeline")
    op.drop_column("applications", "human_review_requested_at", schema="pipeline")
    op.drop_column("applications", "source", schema="pipeline")
    op.drop_column("applications", "rejection_reason", schema="pipeline")
    op.drop_column("applications", "stage_entered_at", schema="pipeline")
    op.drop_index(
        "ix_approval_steps_approver_id_state", table_name="approval_steps", schema="pipeline"
    )
    op.drop_table("approval_steps", schema="pipeline")
    op.drop_index(
        "uq_results_open_per_application",
        table_name="results",
        schema="pipeline",
        postgresql_where=sa.text("state IN ('pending_approval', 'scheduled')"),
    )
    op.drop_index(op.f("ix_results_application_id"), table_name="results", schema="pipeline")
    op.drop_table("results", schema="pipeline")
    op.drop_table("release_policies", schema="pipeline")
    op.drop_table("rejection_reasons", schema="pipeline")


def _downgrade_portal() -> None:
    op.drop_index(
        "ix_messages_unread",
        table_name="messages",
        schema="pipeline",
        postgresql_where=sa.text("read_at IS NULL"),
    )
    op.drop_index("ix_messages_application_id_created_at", table_name="messages", schema="pipeline")
    op.drop_table("messages", schema="pipeline")
    op.drop_index("ix_link_tokens_purpose_subject_id", table_name="link_tokens", schema="pipeline")
    op.drop_table("link_tokens", schema="pipeline")
    op.drop_table("calendar_days", schema="pipeline")


def _downgrade_ai_interviews() -> None:
    op.drop_table("ai_interviews", schema="pipeline")
    op.drop_index(
        "ix_webhook_receipts_received_at", table_name="webhook_receipts", schema="pipeline"
    )
    op.drop_table("webhook_receipts", schema="pipeline")
    op.drop_index(
        "ix_unmatched_deliveries_open",
        table_name="unmatched_deliveries",
        schema="pipeline",
        postgresql_where=sa.text("resolved_at IS NULL"),
    )
    op.drop_table("unmatched_deliveries", schema="pipeline")


def _downgrade_analytics() -> None:
    op.drop_index(
        "ix_results_application_id_released_at",
        table_name="results",
        schema="pipeline",
        postgresql_where=sa.text("released_at IS NOT NULL"),
    )
    op.drop_index("ix_applications_created_at_id", table_name="applications", schema="pipeline")
    op.drop_index(
        "ix_applications_job_id_created_at_id", table_name="applications", schema="pipeline"
    )
    op.drop_index(
        "ix_stage_changes_application_id_occurred_at_id",
        table_name="stage_changes",
        schema="pipeline",
    )
    op.drop_column("stage_changes", "from_stage_entered_at", schema="pipeline")
    op.drop_index(op.f("ix_no_shows_application_id"), table_name="no_shows", schema="pipeline")
    op.drop_table("no_shows", schema="pipeline")
