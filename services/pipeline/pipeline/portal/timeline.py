"""The candidate's parcel-style timeline: plain data in, plain data out, no database.

Stages before the current one are ``done`` (with when they were entered and left, from the
history) or ``skipped`` (never visited); the current one is ``current`` with its expected
completion (its SLA in business days from when it was entered) and whether that has passed;
the stages after it are ``upcoming`` with a projected completion, each counted from the
previous one's (from now, once the current stage is overdue). An application that ended
(rejected, withdrawn, hired) shows the stage it ended in as ``ended`` and nothing ahead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from shared.calendar import DEFAULT_TZ, BusinessCalendar

StageState = Literal["done", "skipped", "current", "ended", "upcoming"]


@dataclass(frozen=True)
class Change:
    """One row of the application's history."""

    from_stage: str | None
    to_stage: str
    occurred_at: datetime


@dataclass(frozen=True)
class Entry:
    key: str
    kind: str
    name_zh: str
    name_en: str
    sla_days: int
    state: StageState
    entered_at: datetime | None = None
    left_at: datetime | None = None
    expected_by: datetime | None = None
    overdue: bool = False


@dataclass(frozen=True)
class Timeline:
    entries: list[Entry]
    # Whether every date counted falls in a year whose official holidays are known.
    calendar_known: bool


def _visits(
    changes: Sequence[Change], *, stage_key: str, created_at: datetime
) -> dict[str, tuple[datetime, datetime | None]]:
    """The last visit (entered, left) of each stage the application has been in."""
    visits: dict[str, tuple[datetime, datetime | None]] = {}
    current = changes[0].from_stage if changes else stage_key
    if current is not None:
        visits[current] = (created_at, None)
    for change in changes:
        if change.to_stage == current:
            continue  # a reject, withdraw or reopen in place: the visit goes on
        if current is not None:
            visits[current] = (visits[current][0], change.occurred_at)
        current = change.to_stage
        visits[current] = (change.occurred_at, None)
    return visits


def build(
    *,
    stages: Sequence[Mapping[str, Any]],
    stage_key: str,
    status: str,
    stage_entered_at: datetime,
    created_at: datetime,
    changes: Sequence[Change],
    calendar: BusinessCalendar,
    now: datetime,
    tz: str = DEFAULT_TZ,
) -> Timeline:
    visits = _visits(changes, stage_key=stage_key, created_at=created_at)
    keys = [stage["key"] for stage in stages]
    current_index = keys.index(stage_key) if stage_key in keys else len(keys)
    entries: list[Entry] = []
    first_day = stage_entered_at.date()
    last_day = first_day
    base: datetime | None = None  # what the next upcoming stage is counted from
    for index, stage in enumerate(stages):
        common = {
            "key": stage["key"],
            "kind": stage["kind"],
            "name_zh": stage["name_zh"],
            "name_en": stage["name_en"],
            "sla_days": int(stage.get("sla_days") or 0),
        }
        if index < current_index:
            visit = visits.get(stage["key"])
            if visit is None:
                entries.append(Entry(**common, state="skipped"))
            else:
                entries.append(Entry(**common, state="done", entered_at=visit[0], left_at=visit[1]))
        elif index == current_index:
            if status != "active":
                entries.append(Entry(**common, state="ended", entered_at=stage_entered_at))
                break
            due = calendar.add_business_days(stage_entered_at, common["sla_days"], tz)
            overdue = now > due
            entries.append(
                Entry(
                    **common,
                    state="current",
                    entered_at=stage_entered_at,
                    expected_by=due,
                    overdue=overdue,
                )
            )
            base = now if overdue else due
            last_day = max(last_day, base.date())
        else:
            assert base is not None
            base = calendar.add_business_days(base, common["sla_days"], tz)
            last_day = base.date()
            entries.append(Entry(**common, state="upcoming", expected_by=base))
    return Timeline(entries=entries, calendar_known=not calendar.unknown_years(first_day, last_day))
