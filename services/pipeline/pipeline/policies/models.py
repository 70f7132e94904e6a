from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from pipeline.db import Base


class ReleasePolicy(Base):
    """How results of a job type reach the candidate.

    ``immediate``: released at once, or after one approver if ``approver_ids`` names one;
    ``approval``: only after every approver in ``approver_ids`` approved, in that order.
    """

    __tablename__ = "release_policies"

    job_type: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    mode: Mapped[str] = mapped_column(sa.Text)
    approver_ids: Mapped[list[str]] = mapped_column(ARRAY(sa.Text))
    # Business hours an approver has before being escalated.
    step_sla_hours: Mapped[int] = mapped_column(sa.Integer, server_default="24")
    # Who is told when an approver sits past the SLA (besides the approver).
    escalate_to: Mapped[list[str]] = mapped_column(ARRAY(sa.Text), server_default="{}")
    version: Mapped[int] = mapped_column(sa.Integer, server_default="1")
    updated_by: Mapped[str] = mapped_column(sa.Text)
    updated_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (sa.CheckConstraint("mode IN ('immediate', 'approval')", name="mode"),)


class RejectionReason(Base):
    """The configured reasons an application may be rejected with."""

    __tablename__ = "rejection_reasons"

    code: Mapped[str] = mapped_column(sa.Text, primary_key=True)
    label_zh: Mapped[str] = mapped_column(sa.Text)
    label_en: Mapped[str] = mapped_column(sa.Text)
    # Whether the label may be shown to the candidate (otherwise they see a neutral text).
    candidate_visible: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())
    active: Mapped[bool] = mapped_column(sa.Boolean, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True))
