"""Infrastructure tables each service keeps in its own schema.

``define_infra_tables`` adds them to a service's metadata; ``create_infra_tables_v1`` is the
migration step that creates them. Both build from ``_tables``, which is the v1 shape: whoever
changes these tables first freezes today's DDL into ``create_infra_tables_v1`` and adds a
``..._v2`` step, so that migrations already applied keep meaning what they meant.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

from shared.db.metadata import make_metadata

_NOW = sa.text("now()")


@dataclass(frozen=True)
class InfraTables:
    outbox: sa.Table
    inbox: sa.Table
    timers: sa.Table
    idempotency_keys: sa.Table
    link_tokens: sa.Table | None = None
    webhook_receipts: sa.Table | None = None


def _outbox_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("event_id", UUID(as_uuid=True), nullable=False, unique=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
    ]


def _inbox_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("event_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("handler", sa.Text, primary_key=True),
        sa.Column("event_type", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    ]


def _timer_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.Text, nullable=False, server_default="pending"),
        sa.Column("payload", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("fired_at", sa.DateTime(timezone=True)),
    ]


def _idempotency_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("principal", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("request_method", sa.Text, nullable=False),
        sa.Column("request_path", sa.Text, nullable=False),
        sa.Column("request_hash", sa.LargeBinary, nullable=False),
        sa.Column("response_status", sa.Integer),
        sa.Column("response_body", sa.LargeBinary),
        sa.Column("response_headers", JSONB),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _link_token_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", UUID(as_uuid=True), primary_key=True),
        sa.Column("token_hash", sa.LargeBinary, nullable=False, unique=True),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("subject_id", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
    ]


def _webhook_receipt_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("webhook_id", sa.Text, primary_key=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("payload", JSONB, nullable=False),
    ]


def _tables(
    metadata: sa.MetaData, *, link_tokens: bool, webhook_receipts: bool
) -> dict[str, sa.Table]:
    tables = {
        "outbox": sa.Table(
            "outbox",
            metadata,
            *_outbox_columns(),
            sa.Index(
                "ix_outbox_unpublished", "id", postgresql_where=sa.text("published_at IS NULL")
            ),
            sa.Index(
                "ix_outbox_published_at",
                "published_at",
                postgresql_where=sa.text("published_at IS NOT NULL"),
            ),
        ),
        "inbox": sa.Table(
            "inbox", metadata, *_inbox_columns(), sa.Index("ix_inbox_received_at", "received_at")
        ),
        "timers": sa.Table(
            "timers",
            metadata,
            *_timer_columns(),
            sa.UniqueConstraint("kind", "key"),
            sa.CheckConstraint("state IN ('pending', 'done', 'cancelled', 'failed')", name="state"),
            sa.Index(
                "ix_timers_pending_due", "due_at", postgresql_where=sa.text("state = 'pending'")
            ),
        ),
        "idempotency_keys": sa.Table(
            "idempotency_keys",
            metadata,
            *_idempotency_columns(),
            sa.Index("ix_idempotency_keys_expires_at", "expires_at"),
        ),
    }
    if link_tokens:
        tables["link_tokens"] = sa.Table(
            "link_tokens",
            metadata,
            *_link_token_columns(),
            sa.Index("ix_link_tokens_purpose_subject_id", "purpose", "subject_id"),
        )
    if webhook_receipts:
        tables["webhook_receipts"] = sa.Table(
            "webhook_receipts",
            metadata,
            *_webhook_receipt_columns(),
            sa.Index("ix_webhook_receipts_received_at", "received_at"),
        )
    return tables


def define_infra_tables(
    metadata: sa.MetaData, *, link_tokens: bool = False, webhook_receipts: bool = False
) -> InfraTables:
    """Add the infrastructure tables to a service's metadata."""
    return InfraTables(
        **_tables(metadata, link_tokens=link_tokens, webhook_receipts=webhook_receipts)
    )


def create_infra_tables_v1(
    schema: str, *, link_tokens: bool = False, webhook_receipts: bool = False
) -> None:
    """Migration step: create the infrastructure tables as they were first shipped."""
    metadata = make_metadata(schema)
    tables = _tables(metadata, link_tokens=link_tokens, webhook_receipts=webhook_receipts)
    bind = op.get_bind()
    for table in tables.values():
        table.create(bind)
    # Wakes the outbox relay on commit; one notification per transaction, not per row.
    op.execute(
        sa.text(
            f"""CREATE FUNCTION "{schema}".outbox_notify() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                PERFORM pg_notify(TG_TABLE_SCHEMA || '_outbox', '');
                RETURN NULL;
            END $$"""
        )
    )
    op.execute(
        sa.text(
            f'CREATE TRIGGER outbox_notify AFTER INSERT ON "{schema}".outbox '
            f'FOR EACH STATEMENT EXECUTE FUNCTION "{schema}".outbox_notify()'
        )
    )


def drop_infra_tables_v1(schema: str) -> None:
    """Migration step: undo ``create_infra_tables_v1``."""
    op.execute(sa.text(f'DROP FUNCTION IF EXISTS "{schema}".outbox_notify() CASCADE'))
    for name in (
        "webhook_receipts",
        "link_tokens",
        "idempotency_keys",
        "timers",
        "inbox",
        "outbox",
    ):
        op.execute(sa.text(f'DROP TABLE IF EXISTS "{schema}"."{name}"'))


def create_optional_infra_tables_v1(
    schema: str, *, link_tokens: bool = False, webhook_receipts: bool = False
) -> None:
    """Migration step: add opt-in tables (v1 shape) to a service that started without them."""
    metadata = make_metadata(schema)
    tables = _tables(metadata, link_tokens=link_tokens, webhook_receipts=webhook_receipts)
    bind = op.get_bind()
    for name in ("link_tokens", "webhook_receipts"):
        if name in tables:
            tables[name].create(bind)


def drop_optional_infra_tables_v1(
    schema: str, *, link_tokens: bool = False, webhook_receipts: bool = False
) -> None:
    """Migration step: undo ``create_optional_infra_tables_v1``."""
    for name, wanted in (("webhook_receipts", webhook_receipts), ("link_tokens", link_tokens)):
        if wanted:
            op.execute(sa.text(f'DROP TABLE IF EXISTS "{schema}"."{name}"'))
