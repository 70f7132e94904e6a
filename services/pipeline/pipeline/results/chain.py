"""Approval-chain arithmetic, as plain functions: when a step is due and when the whole chain
would be done if every approver used their full SLA. SLA hours count only on workdays of the
business calendar (China's holidays and make-up workdays, with the overrides), so an approver
is not escalated over a weekend or the Spring Festival, and the candidate's "expected by" does
not fall on a day nobody works."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.calendar import BusinessCalendar


def step_due(calendar: BusinessCalendar, started_at: datetime, sla_hours: int) -> datetime:
    """When an approver whose turn began at ``started_at`` is escalated."""
    return calendar.add_business_hours(started_at, sla_hours).astimezone(UTC)


def expected_by(
    calendar: BusinessCalendar,
    current_due: datetime,
    waiting_steps: int,
    sla_hours: int,
    release_at: datetime | None,
) -> datetime:
    """When the result would be released: the current step's due time plus a full SLA for each
    step still waiting after it, but never before ``release_at``."""
    done = calendar.add_business_hours(current_due, sla_hours * waiting_steps).astimezone(UTC)
    return max(done, release_at) if release_at is not None else done
