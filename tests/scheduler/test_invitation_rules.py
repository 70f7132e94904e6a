"""The pure parts of invitations: reminder plans, the lifecycle, the candidate's window as a
proposal request, finding the offered slot, and CSV cells."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from scheduler.invitations import export, lifecycle, reminders, windows
from scheduler.invitations.service import find_offered
from scheduler.slots.request import SlotRequest

SENT = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)

_anchors = st.one_of(
    st.integers(1, 400).map(lambda h: (timedelta(hours=h), None)),
    st.integers(1, 400).map(lambda h: (None, timedelta(hours=h))),
)
rules = st.lists(
    st.builds(
        lambda key, anchor, unopened: reminders.ReminderRule(
            key=key, after_sent=anchor[0], before_deadline=anchor[1], only_if_unopened=unopened
        ),
        st.sampled_from(["a", "b", "c", "d", "e"]),
        _anchors,
        st.booleans(),
    ),
    max_size=8,
)


@given(rules=rules, hours=st.integers(1, 400), sent_minute=st.integers(0, 10_000))
def test_a_plan_lies_strictly_between_sending_and_the_deadline_earliest_first(
    rules: list[reminders.ReminderRule], hours: int, sent_minute: int
) -> None:
    sent_at = SENT + timedelta(minutes=sent_minute)
    deadline_at = sent_at + timedelta(hours=hours)
    plan = reminders.plan(rules, sent_at=sent_at, deadline_at=deadline_at)
    assert all(sent_at < due_at < deadline_at for _, due_at, _ in plan)
    assert [due for _, due, _ in plan] == sorted(due for _, due, _ in plan)
    keys = [key for key, _, _ in plan]
    assert len(keys) == len(set(keys))
    # Every rule whose time falls inside is planned, with its first rule's flag.
    first: dict[str, reminders.ReminderRule] = {}
    for rule in rules:
        first.setdefault(rule.key, rule)
    for key, rule in first.items():
        due = (
            sent_at + rule.after_sent
            if rule.after_sent is not None
            else deadline_at - (rule.before_deadline or timedelta())
        )
        assert ((key, due, rule.only_if_unopened) in plan) == (sent_at < due < deadline_at)


def test_the_seeded_policy_reminds_after_a_day_and_six_hours_before() -> None:
    policy = [
        {"key": "unopened_24h", "after_sent_hours": 24, "only_if_unopened": True},
        {"key": "deadline_6h", "before_deadline_hours": 6},
    ]
    plan = reminders.plan_from_policy(policy, sent_at=SENT, deadline_at=SENT + timedelta(hours=48))
    assert plan == [
        ("unopened_24h", SENT + timedelta(hours=24), True),
        ("deadline_6h", SENT + timedelta(hours=42), False),
    ]
    # A deadline sooner than a day: the reminder for unopened ones would come too late.
    short = reminders.plan_from_policy(policy, sent_at=SENT, deadline_at=SENT + timedelta(hours=12))
    assert short == [("deadline_6h", SENT + timedelta(hours=6), False)]


def test_a_rule_needs_exactly_one_anchor() -> None:
    with pytest.raises(ValueError, match="either after sending"):
        reminders.ReminderRule(key="x")
    with pytest.raises(ValueError, match="either after sending"):
        reminders.ReminderRule(
            key="x", after_sent=timedelta(hours=1), before_deadline=timedelta(hours=1)
        )


DEADLINE = SENT + timedelta(hours=72)


@given(
    state=st.sampled_from(lifecycle.STATES),
    offset=st.integers(-100, 100).map(lambda h: timedelta(hours=h)),
    makeup=st.one_of(st.none(), st.integers(1, 48)),
)
def test_the_verdict_follows_the_state_and_the_time(
    state: str, offset: timedelta, makeup: int | None
) -> None:
    makeup_until = DEADLINE + timedelta(hours=makeup) if makeup and state == "expired" else None
    now = DEADLINE + offset
    verdict = lifecycle.verdict(state, deadline_at=DEADLINE, makeup_until=makeup_until, now=now)
    if state in ("booked", "completed"):
        assert verdict is lifecycle.Verdict.DONE
    elif state in ("closed", "cancelled"):
        assert verdict is lifecycle.Verdict.GONE
    else:
        until = makeup_until if state == "expired" and makeup_until else DEADLINE
        expected = lifecycle.Verdict.ACTIONABLE if now < until else lifecycle.Verdict.GONE
        assert verdict is expected


def test_the_deadline_opens_a_make_up_window_only_when_the_policy_has_one() -> None:
    assert lifecycle.at_deadline(deadline_at=DEADLINE, makeup_hours=24) == lifecycle.Expiry(
        "expired", DEADLINE + timedelta(hours=24), final=False
    )
    assert lifecycle.at_deadline(deadline_at=DEADLINE, makeup_hours=None) == lifecycle.Expiry(
        "closed", None, final=True
    )
    assert lifecycle.after_opening("sent") == "opened"
    assert lifecycle.after_opening("expired") == "expired"


REQUEST = SlotRequest(
    interviewer_ids=(uuid.uuid4(),),
    duration_minutes=60,
    earliest=SENT,
    latest=SENT + timedelta(days=5),
    time_zone="Asia/Shanghai",
)


def test_a_window_restricts_the_request_to_itself() -> None:
    start, end = SENT + timedelta(days=2), SENT + timedelta(days=2, hours=2)
    inside = windows.inside(REQUEST, starts_at=start, ends_at=end)
    assert (inside.earliest, inside.latest, inside.windows) == (start, end, ())
    assert inside.interviewer_ids == REQUEST.interviewer_ids


def test_alternatives_prefer_the_windows_time_of_day_in_the_candidates_zone() -> None:
    # 2026-03-08 10:00-12:00 in New York, the day daylight-saving time starts there (EDT).
    start = datetime(2026, 3, 8, 14, 0, tzinfo=UTC)
    end = datetime(2026, 3, 8, 16, 0, tzinfo=UTC)
    around = windows.around(
        REQUEST, starts_at=start, ends_at=end, time_zone="America/New_York", now=SENT
    )
    (preferred,) = around.windows
    assert (preferred.start.hour, preferred.end.hour) == (10, 12)
    assert around.earliest == SENT  # never before now
    assert around.latest == end + windows.AROUND
    assert around.time_zone == "America/New_York" and around.spread_days


def test_the_offered_slot_is_found_by_index_or_by_start_in_any_offset() -> None:
    slots = [
        {"starts_at": "2026-03-03T02:00:00+00:00", "ends_at": "2026-03-03T03:00:00+00:00"},
        {"starts_at": "2026-03-03T06:00:00+00:00", "ends_at": "2026-03-03T07:00:00+00:00"},
    ]
    assert find_offered(slots, slot_index=1, starts_at=None) == 1
    assert find_offered(slots, slot_index=2, starts_at=None) is None
    shanghai = datetime.fromisoformat("2026-03-03T14:00:00+08:00")
    assert find_offered(slots, slot_index=None, starts_at=shanghai) == 1
    assert find_offered(slots, slot_index=None, starts_at=shanghai + timedelta(minutes=1)) is None


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=HYPERLINK(1)", "'=HYPERLINK(1)"),
        ("+1", "'+1"),
        ("@x", "'@x"),
        ("campus", "campus"),
        (None, ""),
    ],
)
def test_csv_cells_never_start_a_formula(value: object, cell: str) -> None:
    assert export.safe_cell(value) == cell
