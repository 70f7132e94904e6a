"""An AI interview's state as a pure function of the vendor's deliveries, whatever their order.

Each status keeps the earliest time the vendor reported it; the current status is the furthest
one reached (``report_ready`` > ``completed`` > ``expired`` > ``started`` > ``opened`` >
``invited``), so ``expired`` counts only while the interview was never completed, and a late
``started`` after ``completed`` only fills its own timestamp. The vendor's result (score,
per-dimension scores, report URL) is taken from the furthest and then latest delivery that
carried one. Folding any order of the same deliveries gives the same state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Literal, get_args

Status = Literal["invited", "opened", "started", "completed", "expired", "report_ready"]

# How far along each status is; the current status is the highest-ranked one reached.
RANK: Mapping[Status, int] = {
    "invited": 0,
    "opened": 1,
    "started": 2,
    "expired": 3,
    "completed": 4,
    "report_ready": 5,
}
STATUSES: tuple[Status, ...] = get_args(Status)
RESULT_STATUSES: frozenset[Status] = frozenset({"completed", "report_ready"})


@dataclass(frozen=True)
class Outcome:
    """What the vendor concluded, and which delivery said so."""

    score: Decimal
    dimension_scores: Mapping[str, Decimal]
    report_url: str | None
    source: Status
    occurred_at: datetime

    def key(self) -> tuple[int, datetime]:
        return RANK[self.source], self.occurred_at


@dataclass(frozen=True)
class Delivery:
    type: Status
    occurred_at: datetime
    score: Decimal | None = None
    dimension_scores: Mapping[str, Decimal] = field(default_factory=dict)
    report_url: str | None = None

    def outcome(self) -> Outcome | None:
        if self.type not in RESULT_STATUSES or self.score is None:
            return None
        return Outcome(
            score=self.score,
            dimension_scores=dict(self.dimension_scores),
            report_url=self.report_url,
            source=self.type,
            occurred_at=self.occurred_at,
        )


@dataclass(frozen=True)
class InterviewState:
    reached: Mapping[Status, datetime] = field(default_factory=dict)
    outcome: Outcome | None = None

    @property
    def status(self) -> Status | None:
        return current_status(self.reached)


@dataclass(frozen=True)
class Applied:
    state: InterviewState
    changed: bool
    # The status the interview reached for the first time with this delivery: the one event to
    # emit. None for a duplicate or a stale delivery (one behind the current status).
    newly_reached: Status | None


def current_status(reached: Mapping[Status, datetime]) -> Status | None:
    if not reached:
        return None
    return max(reached, key=lambda status: RANK[status])


def apply(state: InterviewState, delivery: Delivery) -> Applied:
    """The state after ``delivery``, and whether it moved the interview to a new status."""
    reached = dict(state.reached)
    known = reached.get(delivery.type)
    if known is None or delivery.occurred_at < known:
        reached[delivery.type] = delivery.occurred_at
    outcome = state.outcome
    offered = delivery.outcome()
    # An exact tie (same status, same time) keeps the outcome already held.
    if offered is not None and (outcome is None or offered.key() > outcome.key()):
        outcome = offered
    after = InterviewState(reached=reached, outcome=outcome)
    before_status, after_status = state.status, after.status
    return Applied(
        state=after,
        changed=after != state,
        newly_reached=after_status if after_status != before_status else None,
    )


def automatic_decision(
    score: Decimal, *, advance_min: Decimal | None, reject_below: Decimal | None
) -> Literal["advance", "reject"] | None:
    """What a job's thresholds make of an AI score: ``advance`` at or above ``advance_min``;
    ``reject`` below ``reject_below`` only where the job set it (an AI score alone never rejects
    otherwise); else None, and people decide."""
    if advance_min is not None and score >= advance_min:
        return "advance"
    if reject_below is not None and score < reject_below:
        return "reject"
    return None
