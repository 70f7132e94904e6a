"""The application state machine, as a pure function over plain data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Status = Literal["active", "rejected", "withdrawn", "hired"]


@dataclass(frozen=True)
class Stage:
    key: str
    kind: str


@dataclass(frozen=True)
class Move:
    transition: Literal["advance", "move"]
    to_stage: str | None = None


@dataclass(frozen=True)
class Outcome:
    from_stage: Stage
    to_stage: Stage


class TransitionRefused(Exception):
    """The move is not allowed from the application's current state."""


def plan(stages: Sequence[Stage], current: str, status: Status, move: Move) -> Outcome:
    """Where ``move`` takes an application that is in stage ``current`` with ``status``."""
    if status != "active":
        raise TransitionRefused(f"the application is {status}; only active applications move")
    index = next((i for i, stage in enumerate(stages) if stage.key == current), None)
    if index is None:
        raise TransitionRefused(f"the current stage {current!r} is not in the job's stages")
    if move.transition == "advance":
        if move.to_stage is not None:
            raise TransitionRefused("advance goes to the next stage; do not name one")
        if index + 1 >= len(stages):
            raise TransitionRefused("the application is already in the last stage")
        return Outcome(stages[index], stages[index + 1])
    target = next((stage for stage in stages if stage.key == move.to_stage), None)
    if target is None:
        raise TransitionRefused(f"the job has no stage {move.to_stage!r}")
    if target.key == current:
        raise TransitionRefused("the application is already in that stage")
    return Outcome(stages[index], target)
