"""Properties of the approval-chain arithmetic (plain functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pipeline.results.chain import expected_by, step_due

moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)
)
slas = st.integers(min_value=1, max_value=720)
waiting = st.integers(min_value=0, max_value=10)


@given(moments, slas)
def test_a_step_is_due_its_sla_after_it_began(start: datetime, sla: int) -> None:
    assert step_due(start, sla) - start == timedelta(hours=sla)


@given(moments, waiting, slas)
def test_the_chain_is_expected_a_full_sla_per_waiting_step_after_the_current_one(
    due: datetime, steps: int, sla: int
) -> None:
    assert expected_by(due, steps, sla, None) == due + timedelta(hours=sla * steps)


@given(moments, waiting, slas, moments)
def test_the_chain_is_never_expected_before_the_release_time(
    due: datetime, steps: int, sla: int, release_at: datetime
) -> None:
    expected = expected_by(due, steps, sla, release_at)

    assert expected >= release_at
    assert expected >= expected_by(due, steps, sla, None)
    assert expected in (release_at, expected_by(due, steps, sla, None))
