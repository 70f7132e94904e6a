"""Reminder plans: which reminders an invitation gets and when, from its policy's rules, its
sending time and its deadline. Pure functions, no database."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class ReminderRule:
    """One rule of a policy: either ``after_sent`` or ``before_deadline`` is set."""

    key: str
    after_sent: timedelta | None = None
    before_deadline: timedelta | None = None
    only_if_unopened: bool = False

    def __post_init__(self) -> None:
        if (self.after_sent is None) == (self.before_deadline is None):
            raise ValueError("a reminder is either after sending or before the deadline")


@dataclass(frozen=True)
class PlannedReminder:
    key: str
    due_at: datetime
    only_if_unopened: bool


def rules_from_policy(reminders: Sequence[Mapping[str, Any]]) -> list[ReminderRule]:
    """The rules of a policy as stored (``invitation_policies.reminders``)."""
    rules = []
    for item in reminders:
        after = item.get("after_sent_hours")
        before = item.get("before_deadline_hours")
        rules.append(
            ReminderRule(
                key=str(item["key"]),
                after_sent=timedelta(hours=after) if after is not None else None,
                before_deadline=timedelta(hours=before) if before is not None else None,
                only_if_unopened=bool(item.get("only_if_unopened", False)),
            )
        )
    return rules


def plan(
    rules: Sequence[ReminderRule], *, sent_at: datetime, deadline_at: datetime
) -> list[tuple[str, datetime, bool]]:
    """``(key, due_at, only_if_unopened)`` of every reminder that falls strictly between sending
    and the deadline, earliest first (a rule whose time is outside that span is dropped: a
    reminder at or after the deadline, or before the invitation exists, tells nobody anything).
    A key that appears twice keeps its first rule."""
    planned: list[PlannedReminder] = []
    seen: set[str] = set()
    for rule in rules:
        if rule.key in seen:
            continue
        seen.add(rule.key)
        if rule.after_sent is not None:
            due_at = sent_at + rule.after_sent
        else:
            assert rule.before_deadline is not None
            due_at = deadline_at - rule.before_deadline
        if sent_at < due_at < deadline_at:
            planned.append(PlannedReminder(rule.key, due_at, rule.only_if_unopened))
    planned.sort(key=lambda reminder: (reminder.due_at, reminder.key))
    return [(r.key, r.due_at, r.only_if_unopened) for r in planned]


def plan_from_policy(
    reminders: Sequence[Mapping[str, Any]], *, sent_at: datetime, deadline_at: datetime
) -> list[tuple[str, datetime, bool]]:
    return plan(rules_from_policy(reminders), sent_at=sent_at, deadline_at=deadline_at)
