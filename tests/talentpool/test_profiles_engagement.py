"""The engagement score and the stage ranks, property-based: plain functions, no service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from talentpool.profiles.engagement import (
    FAST_S,
    RECENCY_DAYS,
    SLOW_S,
    WEIGHTS,
    Counters,
    engagement,
    recency,
    response_speed,
)
from talentpool.profiles.stages import MAX_RANK, OTHER_RANK, RANKS, further, rank

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
counts = st.integers(min_value=0, max_value=500)
seconds = st.integers(min_value=0, max_value=60 * 24 * 3600)
ages = st.integers(min_value=0, max_value=400)


@st.composite
def counters(draw: st.DrawFn) -> Counters:
    invited = draw(counts)
    responded = draw(st.integers(min_value=0, max_value=invited))
    completed = draw(st.integers(min_value=0, max_value=invited))
    return Counters(
        invited=invited,
        responded=responded,
        completed=completed,
        response_seconds_total=draw(seconds) * responded,
        responses_timed=responded,
        last_activity_at=NOW - timedelta(days=draw(ages)),
    )


def test_the_weights_add_up_to_one() -> None:
    assert abs(sum(WEIGHTS.values()) - 1.0) < 1e-9


@given(counters())
def test_the_score_is_between_0_and_100_and_every_part_between_0_and_1(c: Counters) -> None:
    result = engagement(c, now=NOW)

    assert 0 <= result.score <= 100
    for part in result.parts().values():
        assert part is None or 0.0 <= part <= 1.0


@given(counters())
def test_the_score_is_what_its_parts_add_up_to(c: Counters) -> None:
    result = engagement(c, now=NOW)
    weighted = sum(
        WEIGHTS[name] * (0.5 if value is None else value) for name, value in result.parts().items()
    )

    assert result.score == round(100 * weighted)


@given(counters())
def test_someone_never_invited_has_no_rate_speed_or_completion(c: Counters) -> None:
    fresh = Counters(last_activity_at=c.last_activity_at)

    result = engagement(fresh, now=NOW)

    assert (result.response_rate, result.response_speed, result.completion) == (None, None, None)


@given(counters(), st.integers(min_value=1, max_value=50))
def test_responding_to_more_invitations_never_lowers_the_score(c: Counters, more: int) -> None:
    extra = min(more, c.invited - c.responded)
    mean = c.response_seconds_total // c.responses_timed if c.responses_timed else 3600
    better = Counters(
        invited=c.invited,
        responded=c.responded + extra,
        completed=c.completed,
        response_seconds_total=mean * (c.responded + extra),
        responses_timed=c.responded + extra,
        last_activity_at=c.last_activity_at,
    )

    assert engagement(better, now=NOW).score >= engagement(c, now=NOW).score


@given(counters(), st.integers(min_value=1, max_value=50))
def test_completing_more_never_lowers_the_score(c: Counters, more: int) -> None:
    better = Counters(
        invited=c.invited,
        responded=c.responded,
        completed=min(c.invited, c.completed + more),
        response_seconds_total=c.response_seconds_total,
        responses_timed=c.responses_timed,
        last_activity_at=c.last_activity_at,
    )

    assert engagement(better, now=NOW).score >= engagement(c, now=NOW).score


@given(seconds, seconds)
def test_a_faster_response_never_scores_lower(a: int, b: int) -> None:
    faster, slower = sorted((a, b))

    assert response_speed(faster) >= response_speed(slower)


@given(st.floats(min_value=0, max_value=FAST_S))
def test_a_response_within_the_hour_scores_one(mean: float) -> None:
    assert response_speed(mean) == 1.0


@given(st.floats(min_value=SLOW_S, max_value=10 * SLOW_S))
def test_a_response_after_a_week_scores_zero(mean: float) -> None:
    assert response_speed(mean) == 0.0


@given(ages, ages)
def test_more_recent_activity_never_scores_lower(a: int, b: int) -> None:
    recent, older = sorted((a, b))

    assert recency(NOW - timedelta(days=recent), NOW) >= recency(NOW - timedelta(days=older), NOW)


@given(st.integers(min_value=0, max_value=23 * 60))
def test_activity_today_is_fully_recent_and_at_180_days_not_at_all(minutes: int) -> None:
    today = NOW.replace(hour=0, minute=0) + timedelta(minutes=minutes)

    assert recency(today, NOW) == 1.0
    assert recency(NOW - timedelta(days=RECENCY_DAYS), NOW) == 0.0
    assert recency(None, NOW) == 0.0


@given(counters())
def test_the_score_depends_on_the_day_not_the_time_of_day(c: Counters) -> None:
    morning, evening = NOW.replace(hour=0, minute=1), NOW.replace(hour=23, minute=59)

    assert engagement(c, now=morning) == engagement(c, now=evening)


# -- stage ranks -------------------------------------------------------------------------------


def test_known_stage_kinds_rank_in_the_order_an_application_moves() -> None:
    kinds = ["ai_interview", "evaluation", "interview", "background_check", "offer", "hired"]

    assert [rank(kind) for kind in kinds] == [1, 2, 3, 4, 5, 6]
    assert rank(None) == rank("none") == 0


@given(st.text(min_size=1, max_size=30).filter(lambda k: k not in RANKS and k != "none"))
def test_a_kind_the_list_does_not_know_ranks_like_an_evaluation(kind: str) -> None:
    assert rank(kind) == OTHER_RANK


kinds = st.one_of(st.none(), st.sampled_from([*RANKS, "assessment", "phone_screen"]))


@given(st.lists(kinds, min_size=1, max_size=8), st.randoms())
def test_the_furthest_stage_does_not_depend_on_the_order_stages_were_reached(
    reached: list[str | None], shuffler: object
) -> None:
    marks = [(rank(kind), kind) for kind in reached]
    shuffled = list(marks)
    shuffler.shuffle(shuffled)  # type: ignore[attr-defined]

    first = marks[0]
    for mark in marks[1:]:
        first = further(first, mark)
    second = shuffled[0]
    for mark in shuffled[1:]:
        second = further(second, mark)

    assert first == second
    assert 0 <= first[0] <= MAX_RANK
    assert first[0] == max(rank(kind) for kind in reached)
