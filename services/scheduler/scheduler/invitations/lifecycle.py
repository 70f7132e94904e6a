"""An invitation's states and what may happen in each. Pure functions, no database.

sent ──open──> opened ──custom window, nothing fits──> custom_requested
  │               │                                          │
  └───────────────┴──────── pick ──> booked (live) ──────────┘
                  AI interview completed ──> completed
deadline: with a make-up window ──> expired (still actionable until makeup_until) ──> closed
          without one ──> closed
stage left / application rejected or withdrawn / HR (any waiting state) ──> cancelled
HR moves the deadline (any waiting state): expired ──> sent or opened again
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

STATES = (
    "sent",
    "opened",
    "custom_requested",
    "booked",
    "completed",
    "expired",
    "closed",
    "cancelled",
)
# Waiting for the candidate before the deadline.
PENDING = frozenset({"sent", "opened", "custom_requested"})
# Waiting for the candidate at all (the make-up window included): at most one per application
# and kind (the database's partial unique index says the same).
WAITING = PENDING | {"expired"}
DONE = frozenset({"booked", "completed"})
GONE = frozenset({"closed", "cancelled"})


class Verdict(StrEnum):
    ACTIONABLE = "actionable"
    DONE = "done"  # booked or completed: acting again is a conflict (409)
    GONE = "gone"  # closed, cancelled or past its time: the link no longer works (410)


def act_until(state: str, *, deadline_at: datetime, makeup_until: datetime | None) -> datetime:
    """Until when the candidate may act in this state."""
    if state == "expired" and makeup_until is not None:
        return makeup_until
    return deadline_at


def verdict(
    state: str, *, deadline_at: datetime, makeup_until: datetime | None, now: datetime
) -> Verdict:
    """Whether the candidate may act now. Past the deadline an invitation is gone even before
    its deadline timer has run (the timer then opens the make-up window, if any)."""
    if state in DONE:
        return Verdict.DONE
    if state in GONE:
        return Verdict.GONE
    if now >= act_until(state, deadline_at=deadline_at, makeup_until=makeup_until):
        return Verdict.GONE
    return Verdict.ACTIONABLE


def after_opening(state: str) -> str:
    """The state once the candidate has opened the link."""
    return "opened" if state == "sent" else state


@dataclass(frozen=True)
class Expiry:
    state: str
    makeup_until: datetime | None
    final: bool


def at_deadline(*, deadline_at: datetime, makeup_hours: int | None) -> Expiry:
    """What the deadline does: open the single make-up window, or close the invitation."""
    if makeup_hours:
        return Expiry("expired", deadline_at + timedelta(hours=makeup_hours), final=False)
    return Expiry("closed", None, final=True)


class Change(StrEnum):
    ALLOWED = "allowed"
    BOOKED = "booked"  # the interview is what to cancel or move now (409)
    FINISHED = "finished"  # completed, closed or cancelled: nothing left to change (409)


def staff_change(state: str) -> Change:
    """Whether HR may cancel the invitation or move its deadline: only while it waits for the
    candidate (the make-up window included)."""
    if state in WAITING:
        return Change.ALLOWED
    if state == "booked":
        return Change.BOOKED
    return Change.FINISHED


def after_deadline_change(state: str, *, opened: bool) -> str:
    """The state once HR has set a new (future) deadline: an invitation in its make-up window
    waits before its deadline again, as ``opened`` if the candidate ever opened it, else
    ``sent`` (whether it had been ``custom_requested`` before expiring is not kept); any other
    waiting state is unchanged."""
    if state == "expired":
        return "opened" if opened else "sent"
    return state
