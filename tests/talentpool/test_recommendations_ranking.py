"""Properties of the recommendations' ranking, a pure function over plain data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talentpool.recommendations.ranking import (
    WEIGHTS,
    Past,
    normalize_skills,
    rank,
    recency,
    score,
)

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
SKILLS = ["python", "sql", "go", "rust", "django", "k8s"]

skill_sets = st.frozensets(st.sampled_from([*SKILLS, "Python", " SQL "]), max_size=6)
people = st.builds(
    Past,
    profile_id=st.builds(uuid.uuid4),
    runner_up=st.booleans(),
    engagement_score=st.integers(0, 100),
    skills=skill_sets,
    last_activity_at=st.integers(0, 1000).map(lambda days: NOW - timedelta(days=days)),
    on_hold_until=st.one_of(
        st.none(), st.integers(-100, 100).map(lambda days: NOW + timedelta(days=days))
    ),
)
wanted_sets = st.frozensets(st.sampled_from(SKILLS), max_size=4)


def test_weights_add_up_to_one() -> None:
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)


@given(people, wanted_sets)
def test_scores_and_parts_stay_within_their_ranges(person: Past, wanted: frozenset[str]) -> None:
    ranked = score(person, wanted=wanted, now=NOW)
    if ranked is None:
        return
    assert 0 <= ranked.score <= 100
    parts = ranked.parts
    for value in (parts.runner_up, parts.engagement, parts.recency):
        assert 0 <= value <= 1
    assert (parts.skills is None) == (not wanted)
    if parts.skills is not None:
        assert 0 <= parts.skills <= 1


@given(people, wanted_sets)
def test_someone_on_hold_is_never_ranked(person: Past, wanted: frozenset[str]) -> None:
    on_hold = person.on_hold_until is not None and person.on_hold_until > NOW
    assert (score(person, wanted=wanted, now=NOW) is None) == on_hold


@given(people, wanted_sets)
def test_the_score_is_the_weighted_average_of_its_parts(
    person: Past, wanted: frozenset[str]
) -> None:
    ranked = score(person, wanted=wanted, now=NOW)
    if ranked is None:
        return
    parts = {
        "runner_up": ranked.parts.runner_up,
        "engagement": ranked.parts.engagement,
        "recency": ranked.parts.recency,
    }
    if ranked.parts.skills is not None:
        parts["skills"] = ranked.parts.skills
    weight = sum(WEIGHTS[name] for name in parts)
    expected = 100 * sum(WEIGHTS[name] * value for name, value in parts.items()) / weight
    assert ranked.score == pytest.approx(expected, abs=0.01)


@given(people, wanted_sets)
def test_being_a_runner_up_never_lowers_the_score(person: Past, wanted: frozenset[str]) -> None:
    without = Past(**{**person.__dict__, "runner_up": False, "on_hold_until": None})
    with_tag = Past(**{**without.__dict__, "runner_up": True})
    a, b = score(without, wanted=wanted, now=NOW), score(with_tag, wanted=wanted, now=NOW)
    assert a is not None and b is not None
    assert b.score >= a.score


@given(people, wanted_sets, st.sampled_from(SKILLS))
def test_having_one_more_wanted_skill_never_lowers_the_score(
    person: Past, wanted: frozenset[str], extra: str
) -> None:
    base = Past(**{**person.__dict__, "on_hold_until": None})
    more = Past(**{**base.__dict__, "skills": base.skills | {extra}})
    a, b = score(base, wanted=wanted, now=NOW), score(more, wanted=wanted, now=NOW)
    assert a is not None and b is not None
    assert b.score >= a.score


@given(st.integers(0, 2000), st.integers(0, 2000))
def test_recency_falls_with_time_and_halves_every_180_days(a: int, b: int) -> None:
    older, newer = max(a, b), min(a, b)
    assert recency(NOW - timedelta(days=older), NOW) <= recency(NOW - timedelta(days=newer), NOW)
    assert recency(NOW - timedelta(days=180), NOW) == pytest.approx(0.5)
    assert recency(NOW + timedelta(days=3), NOW) == 1.0


def test_skills_are_compared_case_insensitively() -> None:
    person = Past(uuid.uuid4(), False, 50, frozenset({"Python", " SQL "}), NOW)
    ranked = score(person, wanted=normalize_skills(["python", "sql", "go"]), now=NOW)
    assert ranked is not None
    assert ranked.matched_skills == ("python", "sql")
    assert ranked.parts.skills == pytest.approx(2 / 3)


@given(st.lists(people, max_size=30), wanted_sets, st.integers(1, 40))
def test_rank_keeps_the_best_in_order_without_anyone_on_hold(
    group: list[Past], wanted: frozenset[str], limit: int
) -> None:
    ranked = rank(group, wanted_skills=wanted, now=NOW, limit=limit)
    eligible = [p for p in group if not (p.on_hold_until and p.on_hold_until > NOW)]
    assert len(ranked) == min(limit, len(eligible))
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)
    chosen = {r.profile_id for r in ranked}
    assert chosen <= {p.profile_id for p in eligible}
    if ranked:
        lowest = ranked[-1].score
        left_out = [
            s
            for p in eligible
            if p.profile_id not in chosen
            if (s := score(p, wanted=frozenset(wanted), now=NOW)) is not None
        ]
        assert all(other.score <= lowest for other in left_out)


@given(st.lists(people, max_size=20), wanted_sets)
def test_rank_is_stable_whatever_the_input_order(group: list[Past], wanted: frozenset[str]) -> None:
    forward = rank(group, wanted_skills=wanted, now=NOW, limit=50)
    backward = rank(list(reversed(group)), wanted_skills=wanted, now=NOW, limit=50)
    assert [r.profile_id for r in forward] == [r.profile_id for r in backward]
