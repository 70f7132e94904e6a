"""The AI interview's status as a pure function of its deliveries, in any order."""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from pipeline.ai_interviews.status import (
    RANK,
    STATUSES,
    Delivery,
    InterviewState,
    Status,
    apply,
    automatic_decision,
)

T0 = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)


def _fold(deliveries: list[Delivery]) -> tuple[InterviewState, list[Status]]:
    state, emitted = InterviewState(), []
    for delivery in deliveries:
        applied = apply(state, delivery)
        state = applied.state
        if applied.newly_reached is not None:
            emitted.append(applied.newly_reached)
    return state, emitted


@st.composite
def _delivery(draw: st.DrawFn) -> Delivery:
    kind = draw(st.sampled_from(STATUSES))
    occurred_at = T0 + timedelta(minutes=draw(st.integers(0, 10_000)))
    if kind not in ("completed", "report_ready"):
        return Delivery(kind, occurred_at)
    return Delivery(
        kind,
        occurred_at,
        score=Decimal(draw(st.integers(0, 10_000))) / 100,
        dimension_scores={"communication": Decimal(draw(st.integers(0, 100)))},
        report_url=f"https://vendor.example.com/r/{draw(st.integers(0, 9))}",
    )


def _no_result_ties(deliveries: list[Delivery]) -> bool:
    """Two results of the same status at the same instant are ambiguous (the first one kept
    wins, documented); the order-independence property holds for everything else."""
    keys = [(d.type, d.occurred_at) for d in deliveries if d.type in ("completed", "report_ready")]
    return len(keys) == len(set(keys))


_deliveries = st.lists(_delivery(), min_size=1, max_size=8).filter(_no_result_ties)


@given(deliveries=_deliveries, data=st.data())
def test_any_order_of_the_same_deliveries_ends_in_the_same_state(
    deliveries: list[Delivery], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(deliveries))

    assert _fold(shuffled)[0] == _fold(deliveries)[0]


@given(deliveries=_deliveries)
def test_the_status_is_the_furthest_one_reported_at_its_earliest_time(
    deliveries: list[Delivery],
) -> None:
    state, _ = _fold(deliveries)

    reported = {d.type for d in deliveries}
    assert state.status == max(reported, key=lambda s: RANK[s])
    assert set(state.reached) == reported
    for status, moment in state.reached.items():
        assert moment == min(d.occurred_at for d in deliveries if d.type == status)


@given(deliveries=_deliveries)
def test_expired_is_the_status_only_if_the_interview_was_never_completed(
    deliveries: list[Delivery],
) -> None:
    state, _ = _fold(deliveries)

    completed = any(d.type in ("completed", "report_ready") for d in deliveries)
    if completed:
        assert state.status in ("completed", "report_ready")
    elif any(d.type == "expired" for d in deliveries):
        assert state.status == "expired"


@given(deliveries=_deliveries)
def test_each_event_is_emitted_once_moving_forward_and_the_last_is_the_final_status(
    deliveries: list[Delivery],
) -> None:
    state, emitted = _fold(deliveries)

    assert len(emitted) == len(set(emitted))
    assert [RANK[s] for s in emitted] == sorted(RANK[s] for s in emitted)
    assert emitted[0] == deliveries[0].type
    assert emitted[-1] == state.status


@given(deliveries=_deliveries)
def test_the_result_comes_from_the_furthest_then_latest_delivery_that_had_one(
    deliveries: list[Delivery],
) -> None:
    state, _ = _fold(deliveries)

    with_results = [d for d in deliveries if d.type in ("completed", "report_ready")]
    if not with_results:
        assert state.outcome is None
        return
    best = max(with_results, key=lambda d: (RANK[d.type], d.occurred_at))
    assert state.outcome is not None
    assert (state.outcome.score, state.outcome.report_url) == (best.score, best.report_url)


@given(deliveries=_deliveries)
def test_a_delivery_seen_again_changes_nothing(deliveries: list[Delivery]) -> None:
    state, _ = _fold(deliveries)

    for delivery in deliveries:
        again = apply(state, delivery)
        assert not again.changed
        assert again.newly_reached is None


def test_a_late_start_after_completion_only_fills_its_timestamp() -> None:
    completed = Delivery("completed", T0 + timedelta(minutes=30), score=Decimal(70))
    started = Delivery("started", T0)

    state = apply(InterviewState(), completed).state
    late = apply(state, started)

    assert late.state.status == "completed"
    assert late.state.reached["started"] == T0
    assert late.changed
    assert late.newly_reached is None


def test_an_exact_tie_between_two_results_keeps_the_first() -> None:
    first = Delivery("completed", T0, score=Decimal(70))
    second = Delivery("completed", T0, score=Decimal(90))

    state = functools.reduce(lambda s, d: apply(s, d).state, [first, second], InterviewState())

    assert state.outcome is not None
    assert state.outcome.score == Decimal(70)


def test_a_score_at_the_advance_threshold_advances() -> None:
    assert automatic_decision(Decimal(80), advance_min=Decimal(80), reject_below=None) == "advance"


def test_a_low_score_never_rejects_unless_the_job_allows_it() -> None:
    assert automatic_decision(Decimal(5), advance_min=Decimal(80), reject_below=None) is None
    assert automatic_decision(Decimal(5), advance_min=None, reject_below=None) is None
    assert automatic_decision(Decimal(5), advance_min=None, reject_below=Decimal(30)) == "reject"


def test_a_score_between_the_thresholds_is_left_to_people() -> None:
    assert (
        automatic_decision(Decimal(50), advance_min=Decimal(80), reject_below=Decimal(30)) is None
    )
    assert (
        automatic_decision(Decimal(30), advance_min=Decimal(80), reject_below=Decimal(30)) is None
    )


@given(
    score=st.decimals(0, 100, places=2),
    advance_min=st.none() | st.decimals(0, 100, places=2),
)
def test_without_a_rejection_threshold_no_score_rejects(
    score: Decimal, advance_min: Decimal | None
) -> None:
    assert automatic_decision(score, advance_min=advance_min, reject_below=None) != "reject"
