"""Properties of the application state machine, a pure function over plain data."""

from __future__ import annotations

from typing import get_args

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pipeline.applications.transitions import (
    Move,
    Outcome,
    Stage,
    Status,
    TransitionRefused,
    plan,
)

KINDS = ["ai_interview", "evaluation", "interview", "background_check", "offer", "hired"]
STATUSES: tuple[Status, ...] = get_args(Status)
INACTIVE = [status for status in STATUSES if status != "active"]

keys = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
templates = st.lists(
    st.builds(Stage, key=keys, kind=st.sampled_from(KINDS)),
    min_size=1,
    max_size=10,
    unique_by=lambda stage: stage.key,
)


@st.composite
def positions(draw: st.DrawFn) -> tuple[list[Stage], int]:
    """A template and the index of the stage an application is in."""
    stages = draw(templates)
    return stages, draw(st.integers(min_value=0, max_value=len(stages) - 1))


moves = st.one_of(
    st.builds(Move, transition=st.just("advance"), to_stage=st.none() | keys),
    st.builds(Move, transition=st.just("move"), to_stage=st.none() | keys),
)


@given(positions())
def test_advance_goes_to_the_next_stage_or_is_refused_at_the_last(
    position: tuple[list[Stage], int],
) -> None:
    stages, index = position
    move = Move("advance")

    if index == len(stages) - 1:
        with pytest.raises(TransitionRefused, match="last stage"):
            plan(stages, stages[index].key, "active", move)
    else:
        assert plan(stages, stages[index].key, "active", move) == Outcome(
            stages[index], stages[index + 1]
        )


@given(positions(), st.data())
def test_move_lands_on_the_named_stage(
    position: tuple[list[Stage], int], data: st.DataObject
) -> None:
    stages, index = position
    assume(len(stages) > 1)
    target = data.draw(st.sampled_from([s for i, s in enumerate(stages) if i != index]))

    outcome = plan(stages, stages[index].key, "active", Move("move", target.key))

    assert outcome == Outcome(stages[index], target)


@given(positions())
def test_move_to_the_current_stage_is_refused(position: tuple[list[Stage], int]) -> None:
    stages, index = position

    with pytest.raises(TransitionRefused, match="already in that stage"):
        plan(stages, stages[index].key, "active", Move("move", stages[index].key))


@given(positions(), keys)
def test_move_to_a_stage_outside_the_template_is_refused(
    position: tuple[list[Stage], int], key: str
) -> None:
    stages, index = position
    assume(key not in {stage.key for stage in stages})

    with pytest.raises(TransitionRefused, match="no stage"):
        plan(stages, stages[index].key, "active", Move("move", key))


@given(positions(), keys)
def test_advance_naming_a_stage_is_refused(position: tuple[list[Stage], int], key: str) -> None:
    stages, index = position

    with pytest.raises(TransitionRefused, match="do not name one"):
        plan(stages, stages[index].key, "active", Move("advance", key))


@given(positions(), st.sampled_from(INACTIVE), moves)
def test_applications_that_are_not_active_never_move(
    position: tuple[list[Stage], int], status: Status, move: Move
) -> None:
    stages, index = position

    with pytest.raises(TransitionRefused, match=f"the application is {status}"):
        plan(stages, stages[index].key, status, move)


@given(templates, keys, moves)
def test_application_in_a_stage_missing_from_the_template_never_moves(
    stages: list[Stage], current: str, move: Move
) -> None:
    assume(current not in {stage.key for stage in stages})

    with pytest.raises(TransitionRefused, match="not in the job's stages"):
        plan(stages, current, "active", move)


@given(positions(), st.sampled_from(STATUSES), moves)
def test_any_allowed_move_goes_from_the_current_stage_to_another_stage_of_the_template(
    position: tuple[list[Stage], int], status: Status, move: Move
) -> None:
    stages, index = position

    try:
        outcome = plan(stages, stages[index].key, status, move)
    except TransitionRefused:
        return

    assert status == "active"
    assert outcome.from_stage == stages[index]
    assert outcome.to_stage in stages
    assert outcome.to_stage != outcome.from_stage
