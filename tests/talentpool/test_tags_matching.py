"""``tags.rules.matching_rules``, the pure part of the tag rules: which rules a fact fires,
stated as properties over any rules and facts (hypothesis) and as the built-in rules' cases."""

from __future__ import annotations

import uuid
from typing import Any, get_args

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from talentpool.profiles.stages import RANKS, rank
from talentpool.tags.rules import (
    CONDITIONS,
    TRIGGERS,
    AiInterviewCompletedConditions,
    ApplicationEndedConditions,
    EndStatus,
    Fact,
    InviteExpiredConditions,
    NoShowRecordedConditions,
    NotificationUnreadConditions,
    Rule,
    StageKind,
    StageReachedConditions,
    Trigger,
    matching_rules,
    parse_conditions,
)

KINDS = list(get_args(StageKind))
STATUSES = list(get_args(EndStatus))
SCORES = st.one_of(st.none(), st.floats(min_value=0, max_value=100, allow_nan=False))

facts = st.builds(
    Fact,
    trigger=st.sampled_from(TRIGGERS),
    kind=st.sampled_from(
        [None, "ai_interview", "live_interview", "interview", "offer", "interview_invitation"]
    ),
    final=st.booleans(),
    status=st.sampled_from([None, "active", *STATUSES]),
    stage_kind=st.sampled_from([None, *KINDS, "assessment"]),
    furthest_rank=st.integers(min_value=0, max_value=6),
    reason_code=st.sampled_from([None, "position_filled", "skills_mismatch"]),
    score=SCORES,
)


def _conditions(trigger: Trigger) -> st.SearchStrategy[Any]:
    if trigger == "invite_expired":
        return st.builds(
            InviteExpiredConditions,
            kind=st.sampled_from(["ai_interview", "live_interview", "any"]),
            final_only=st.booleans(),
        )
    if trigger == "no_show_recorded":
        return st.builds(
            NoShowRecordedConditions,
            kind=st.sampled_from(["interview", "offer", "ai_interview", "any"]),
        )
    if trigger == "application_ended":
        return st.builds(
            ApplicationEndedConditions,
            status=st.lists(st.sampled_from(STATUSES), min_size=1, max_size=3, unique=True),
            min_stage_kind=st.sampled_from([None, *KINDS]),
            passed_stage_kind=st.sampled_from([None, *KINDS]),
            reason_codes=st.sampled_from([None, ["position_filled"]]),
        )
    if trigger == "ai_interview_completed":
        return st.tuples(SCORES, SCORES).map(
            lambda pair: AiInterviewCompletedConditions(
                min_score=None if None in pair else min(pair),  # type: ignore[type-var]
                max_score=None if None in pair else max(pair),  # type: ignore[type-var]
            )
        )
    if trigger == "stage_reached":
        return st.builds(StageReachedConditions, stage_kind=st.sampled_from(KINDS))
    if trigger == "notification_unread":
        return st.builds(
            NotificationUnreadConditions,
            kinds=st.sampled_from([None, ["interview_invitation"], ["reminder"]]),
        )
    return st.just(CONDITIONS[trigger]())


@st.composite
def rules(draw: st.DrawFn) -> Rule:
    trigger = draw(st.sampled_from(TRIGGERS))
    return Rule(
        id=uuid.uuid4(),
        tag=draw(st.sampled_from(["no_show", "runner_up", "re_invite", "on_hold"])),
        action=draw(st.sampled_from(["add", "remove"])),
        trigger=trigger,
        conditions=draw(_conditions(trigger)),
        until_days=draw(st.one_of(st.none(), st.integers(1, 365))),
    )


@given(st.lists(rules(), max_size=12), facts)
def test_the_rules_a_fact_fires_are_some_of_those_given_in_their_order(
    given_rules: list[Rule], fact: Fact
) -> None:
    matched = matching_rules(given_rules, fact)

    positions = [given_rules.index(rule) for rule in matched]
    assert positions == sorted(positions)


@given(st.lists(rules(), max_size=12), facts)
def test_a_rule_fires_only_on_facts_of_its_trigger(given_rules: list[Rule], fact: Fact) -> None:
    assert all(rule.trigger == fact.trigger for rule in matching_rules(given_rules, fact))


@given(st.lists(rules(), max_size=6), rules(), st.lists(rules(), max_size=6), facts)
def test_a_rule_fires_among_others_exactly_when_it_fires_alone(
    before: list[Rule], rule: Rule, after: list[Rule], fact: Fact
) -> None:
    among_others = rule in matching_rules([*before, rule, *after], fact)

    assert among_others == bool(matching_rules([rule], fact))


@given(
    st.sampled_from(["ai_interview", "live_interview", "any"]),
    st.booleans(),
    st.sampled_from(["ai_interview", "live_interview"]),
    st.booleans(),
)
def test_invite_expired_matches_the_kind_and_finality_asked_for(
    wanted: str, final_only: bool, kind: str, final: bool
) -> None:
    rule = _rule("invite_expired", InviteExpiredConditions(kind=wanted, final_only=final_only))

    fired = bool(matching_rules([rule], Fact("invite_expired", kind=kind, final=final)))

    assert fired == ((wanted in ("any", kind)) and (final or not final_only))


@given(
    st.lists(st.sampled_from(STATUSES), min_size=1, max_size=3, unique=True),
    st.sampled_from([None, *KINDS]),
    st.sampled_from([None, *KINDS]),
    st.sampled_from(STATUSES),
    st.integers(min_value=0, max_value=6),
)
def test_application_ended_matches_status_and_how_far_it_got(
    statuses: list[EndStatus],
    at_least: StageKind | None,
    beyond: StageKind | None,
    status: str,
    furthest: int,
) -> None:
    rule = _rule(
        "application_ended",
        ApplicationEndedConditions(
            status=statuses, min_stage_kind=at_least, passed_stage_kind=beyond
        ),
    )

    fired = bool(
        matching_rules([rule], Fact("application_ended", status=status, furthest_rank=furthest))
    )

    assert fired == (
        status in statuses
        and (at_least is None or furthest >= RANKS[at_least])
        and (beyond is None or furthest > RANKS[beyond])
    )


@given(SCORES, SCORES, SCORES)
def test_ai_interview_completed_matches_scores_within_the_bounds(
    low: float | None, high: float | None, score: float | None
) -> None:
    if low is not None and high is not None and low > high:
        low, high = high, low
    rule = _rule(
        "ai_interview_completed", AiInterviewCompletedConditions(min_score=low, max_score=high)
    )

    fired = bool(matching_rules([rule], Fact("ai_interview_completed", score=score)))

    if low is None and high is None:
        assert fired
    else:
        assert fired == (
            score is not None and (low is None or score >= low) and (high is None or score <= high)
        )


# The built-in rules (as the migration stores their conditions)

RUNNER_UP = {"status": ["rejected", "withdrawn"], "passed_stage_kind": "interview"}


@pytest.mark.parametrize(
    ("status", "furthest_kind", "fires"),
    [
        ("rejected", "offer", True),
        ("rejected", "background_check", True),
        ("withdrawn", "offer", True),
        ("rejected", "interview", False),
        ("rejected", "ai_interview", False),
        ("hired", "offer", False),
    ],
)
def test_runner_up_is_who_got_beyond_the_interviews_and_was_not_hired(
    status: str, furthest_kind: str, fires: bool
) -> None:
    rule = _rule("application_ended", parse_conditions("application_ended", RUNNER_UP))
    fact = Fact("application_ended", status=status, furthest_rank=rank(furthest_kind))

    assert bool(matching_rules([rule], fact)) is fires


@pytest.mark.parametrize(
    ("kind", "final", "fires"),
    [("ai_interview", True, True), ("live_interview", True, True), ("ai_interview", False, False)],
)
def test_no_show_is_any_final_expired_invitation(kind: str, final: bool, fires: bool) -> None:
    rule = _rule(
        "invite_expired", parse_conditions("invite_expired", {"kind": "any", "final_only": True})
    )

    assert bool(matching_rules([rule], Fact("invite_expired", kind=kind, final=final))) is fires


def test_conditions_refuse_a_field_they_do_not_have() -> None:
    with pytest.raises(ValidationError) as raised:
        parse_conditions("invite_expired", {"kind": "any", "colour": "red"})

    assert raised.value.errors()[0]["loc"] == ("colour",)


def _rule(trigger: Trigger, conditions: Any) -> Rule:
    return Rule(id=uuid.uuid4(), tag="t_tag", action="add", trigger=trigger, conditions=conditions)
