"""Properties of the application state machine, a pure function over plain data."""

from __future__ import annotations

from typing import get_args

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pipeline.applications.transitions import (
    TRANSITIONS,
    Allowed,
    MoveCommand,
    Outcome,
    Stage,
    Status,
    TransitionName,
    TransitionRefused,
    allowed,
    hire_stage,
    plan,
    status_after,
)

KINDS = ["ai_interview", "evaluation", "interview", "background_check", "offer", "hired"]
STATUSES: tuple[Status, ...] = get_args(Status)
INACTIVE = [status for status in STATUSES if status != "active"]
FINAL: list[Status] = ["withdrawn", "hired"]
ACTIVE_ONLY: list[TransitionName] = ["advance", "move", "reject", "withdraw", "hire"]

keys = st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
codes = st.sampled_from(["not_qualified", "no_show", "other"])
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


commands = st.builds(
    MoveCommand,
    transition=st.sampled_from(TRANSITIONS),
    to_stage=st.none() | keys,
    reason_code=st.none() | codes,
    reason=st.none() | st.text(max_size=20),
)


def _command(option: Allowed) -> MoveCommand:
    return MoveCommand(
        option.transition,
        to_stage=option.to_stage if option.transition == "move" else None,
        reason_code="other" if option.transition == "reject" else None,
    )


def _fits(move: MoveCommand) -> bool:
    """Whether the command's fields suit its transition (a stage only for move, ...)."""
    if (move.to_stage is not None) != (move.transition == "move"):
        return False
    return (move.reason_code is not None) == (move.transition == "reject")


@given(positions())
def test_advance_goes_to_the_next_stage_or_is_refused_at_the_last(
    position: tuple[list[Stage], int],
) -> None:
    stages, index = position
    move = MoveCommand("advance")

    if index == len(stages) - 1:
        with pytest.raises(TransitionRefused, match="last stage"):
            plan(stages, stages[index].key, "active", move)
    else:
        assert plan(stages, stages[index].key, "active", move) == Outcome(
            stages[index], stages[index + 1], "active"
        )


@given(positions(), st.data())
def test_move_lands_on_the_named_stage(
    position: tuple[list[Stage], int], data: st.DataObject
) -> None:
    stages, index = position
    assume(len(stages) > 1)
    target = data.draw(st.sampled_from([s for i, s in enumerate(stages) if i != index]))

    outcome = plan(stages, stages[index].key, "active", MoveCommand("move", target.key))

    assert outcome == Outcome(stages[index], target, "active")
    assert outcome.stage_changed


@given(positions())
def test_move_to_the_current_stage_is_refused(position: tuple[list[Stage], int]) -> None:
    stages, index = position

    with pytest.raises(TransitionRefused, match="already in that stage"):
        plan(stages, stages[index].key, "active", MoveCommand("move", stages[index].key))


@given(positions(), keys)
def test_move_to_a_stage_outside_the_template_is_refused(
    position: tuple[list[Stage], int], key: str
) -> None:
    stages, index = position
    assume(key not in {stage.key for stage in stages})

    with pytest.raises(TransitionRefused, match="no stage"):
        plan(stages, stages[index].key, "active", MoveCommand("move", key))


@given(positions(), keys, st.sampled_from([t for t in TRANSITIONS if t != "move"]))
def test_only_move_names_a_stage(
    position: tuple[list[Stage], int], key: str, transition: TransitionName
) -> None:
    stages, index = position

    with pytest.raises(TransitionRefused, match="does not take a stage"):
        plan(stages, stages[index].key, "active", MoveCommand(transition, key))


@given(positions(), codes)
def test_reject_stays_in_the_stage_with_the_reason(
    position: tuple[list[Stage], int], code: str
) -> None:
    stages, index = position

    outcome = plan(stages, stages[index].key, "active", MoveCommand("reject", reason_code=code))

    assert outcome == Outcome(stages[index], stages[index], "rejected", rejection_reason=code)
    assert not outcome.stage_changed


@given(positions())
def test_reject_without_a_reason_code_is_refused(position: tuple[list[Stage], int]) -> None:
    stages, index = position

    with pytest.raises(TransitionRefused, match="needs a reason_code"):
        plan(stages, stages[index].key, "active", MoveCommand("reject"))


@given(positions(), codes)
def test_reject_with_a_code_outside_the_configured_list_is_refused(
    position: tuple[list[Stage], int], code: str
) -> None:
    stages, index = position
    configured = {"position_filled"}

    with pytest.raises(TransitionRefused, match="not an active rejection reason"):
        plan(
            stages,
            stages[index].key,
            "active",
            MoveCommand("reject", reason_code=code),
            reason_codes=configured,
        )


@given(positions(), codes, st.sampled_from([t for t in TRANSITIONS if t != "reject"]))
def test_only_reject_takes_a_reason_code(
    position: tuple[list[Stage], int], code: str, transition: TransitionName
) -> None:
    stages, index = position

    with pytest.raises(TransitionRefused, match="only a rejection takes a reason_code"):
        plan(stages, stages[index].key, "active", MoveCommand(transition, reason_code=code))


@given(positions())
def test_withdraw_stays_in_the_stage(position: tuple[list[Stage], int]) -> None:
    stages, index = position

    outcome = plan(stages, stages[index].key, "active", MoveCommand("withdraw"))

    assert outcome == Outcome(stages[index], stages[index], "withdrawn")


@given(positions())
def test_hire_lands_on_the_hired_stage_or_else_the_last(
    position: tuple[list[Stage], int],
) -> None:
    stages, index = position
    hired = [stage for stage in stages if stage.kind == "hired"]

    outcome = plan(stages, stages[index].key, "active", MoveCommand("hire"))

    assert outcome.status == "hired"
    assert outcome.to_stage == (hired[0] if hired else stages[-1])
    assert outcome.to_stage == hire_stage(stages)


@given(positions(), codes)
def test_reopen_undoes_a_rejection_in_the_same_stage(
    position: tuple[list[Stage], int], code: str
) -> None:
    stages, index = position
    rejected = plan(stages, stages[index].key, "active", MoveCommand("reject", reason_code=code))

    reopened = plan(stages, rejected.to_stage.key, rejected.status, MoveCommand("reopen"))

    assert reopened == Outcome(stages[index], stages[index], "active")
    assert reopened.rejection_reason is None


@given(positions(), st.sampled_from(["active", "withdrawn", "hired"]))
def test_only_rejected_applications_reopen(
    position: tuple[list[Stage], int], status: Status
) -> None:
    stages, index = position

    with pytest.raises(TransitionRefused, match="only rejected applications reopen"):
        plan(stages, stages[index].key, status, MoveCommand("reopen"))


@given(positions(), st.sampled_from(INACTIVE), st.sampled_from(ACTIVE_ONLY))
def test_applications_that_are_not_active_never_move(
    position: tuple[list[Stage], int], status: Status, transition: TransitionName
) -> None:
    stages, index = position
    move = MoveCommand(
        transition,
        to_stage=stages[0].key if transition == "move" else None,
        reason_code="other" if transition == "reject" else None,
    )

    with pytest.raises(TransitionRefused, match=f"the application is {status}"):
        plan(stages, stages[index].key, status, move)


@given(positions(), st.sampled_from(FINAL), commands)
def test_hired_and_withdrawn_are_final(
    position: tuple[list[Stage], int], status: Status, move: MoveCommand
) -> None:
    stages, index = position

    assert allowed(stages, stages[index].key, status) == []
    with pytest.raises(TransitionRefused) as refused:
        plan(stages, stages[index].key, status, move)
    assert refused.value.allowed == []


@given(templates, keys, commands)
def test_application_in_a_stage_missing_from_the_template_never_moves(
    stages: list[Stage], current: str, move: MoveCommand
) -> None:
    assume(current not in {stage.key for stage in stages})

    with pytest.raises(TransitionRefused, match="not in the job's stages"):
        plan(stages, current, "active", move)


@given(positions(), st.sampled_from(STATUSES))
def test_every_allowed_transition_is_planned_to_the_stage_it_names(
    position: tuple[list[Stage], int], status: Status
) -> None:
    stages, index = position

    for option in allowed(stages, stages[index].key, status):
        outcome = plan(stages, stages[index].key, status, _command(option))
        assert outcome.to_stage.key == option.to_stage
        assert outcome.status == status_after(option.transition)


@given(positions(), st.sampled_from(STATUSES), commands)
def test_any_planned_transition_is_allowed_and_a_refusal_names_what_is(
    position: tuple[list[Stage], int], status: Status, move: MoveCommand
) -> None:
    stages, index = position
    options = allowed(stages, stages[index].key, status)

    if move.transition not in {option.transition for option in options} or not _fits(move):
        with pytest.raises(TransitionRefused) as refused:
            plan(stages, stages[index].key, status, move)
        assert refused.value.allowed == options
        return
    try:
        outcome = plan(stages, stages[index].key, status, move)
    except TransitionRefused as refused_anyway:  # e.g. a move to a stage not in the template
        assert refused_anyway.allowed == options  # noqa: PT017
        return

    assert Allowed(move.transition, outcome.to_stage.key) in options
    assert outcome.from_stage == stages[index]
    assert outcome.to_stage in stages
    assert outcome.status == status_after(move.transition)
