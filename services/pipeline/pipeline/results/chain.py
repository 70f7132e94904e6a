"""Approval-chain arithmetic, as plain functions: when a step is due and when the whole chain
would be done if every approver used their full SLA. SLAs are wall-clock hours."""

from __future__ import annotations

from datetime import datetime, timedelta


def step_due(started_at: datetime, sla_hours: int) -> datetime:
    """When an approver whose turn began at ``started_at`` is escalated."""
    return started_at + timedelta(hours=sla_hours)


def expected_by(
    current_due: datetime, waiting_steps: int, sla_hours: int, release_at: datetime | None
) -> datetime:
    """When the result would be released: the current step's due time plus a full SLA for each
    step still waiting after it, but never before ``release_at``."""
    done = current_due + timedelta(hours=sla_hours * waiting_steps)
    return max(done, release_at) if release_at is not None else done
