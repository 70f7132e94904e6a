"""Properties of the approval-chain arithmetic (plain functions): SLAs in workday hours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pipeline.results.chain import expected_by, step_due
from shared.calendar import CHINA, BusinessCalendar

moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2034, 1, 1), timezones=st.just(UTC)
)
slas = st.integers(min_value=1, max_value=720)
waiting = st.integers(min_value=0, max_value=10)
# Every day a workday: business hours are then wall-clock hours.
EVERY_DAY = BusinessCalendar(
    {datetime(2020, 1, 1).date() + timedelta(days=i): "workday" for i in range(366 * 16)},
    base="weekends",
)


def test_with_no_step_waiting_the_chain_is_expected_when_the_current_step_is_due() -> None:
    # Due at the midnight that ends a Friday: the end of the chain is that moment, not Monday.
    friday_ends = datetime(2026, 3, 6, 16, tzinfo=UTC)

    assert expected_by(CHINA, friday_ends, 0, 8, None) == friday_ends
    assert expected_by(CHINA, friday_ends, 1, 8, None) == datetime(2026, 3, 9, 0, tzinfo=UTC)


def test_an_approver_whose_turn_began_on_friday_afternoon_is_due_on_monday() -> None:
    friday_3pm_shanghai = datetime(2026, 3, 6, 7, tzinfo=UTC)

    assert step_due(CHINA, friday_3pm_shanghai, 24) == datetime(2026, 3, 9, 7, tzinfo=UTC)


@given(moments, slas)
def test_a_step_is_due_no_sooner_than_its_sla_and_exactly_then_when_every_day_is_worked(
    start: datetime, sla: int
) -> None:
    assert step_due(CHINA, start, sla) >= start + timedelta(hours=sla)
    assert step_due(EVERY_DAY, start, sla) == start + timedelta(hours=sla)
    assert step_due(CHINA, start, sla).tzinfo == UTC


@given(moments, waiting, slas)
def test_the_chain_is_expected_a_full_sla_per_waiting_step_after_the_current_one(
    due: datetime, steps: int, sla: int
) -> None:
    assert expected_by(CHINA, due, steps, sla, None) == CHINA.add_business_hours(
        due, sla * steps
    ).astimezone(UTC)
    assert expected_by(EVERY_DAY, due, steps, sla, None) == due + timedelta(hours=sla * steps)


@given(moments, waiting, slas, moments)
def test_the_chain_is_never_expected_before_the_release_time(
    due: datetime, steps: int, sla: int, release_at: datetime
) -> None:
    expected = expected_by(CHINA, due, steps, sla, release_at)
    unreleased = expected_by(CHINA, due, steps, sla, None)

    assert expected >= release_at
    assert expected >= unreleased
    assert expected in (release_at, unreleased)
