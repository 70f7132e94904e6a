"""The application state machine, as a pure function over plain data.

An application is in one stage of its job with a status. Only an active application moves,
is rejected, withdraws or is hired; only a rejected one is reopened (back to the stage it was
rejected in, which a rejection does not leave); hired and withdrawn are final.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Literal

Status = Literal["active", "rejected", "withdrawn", "hired"]
TransitionName = Literal["advance", "move", "reject", "withdraw", "hire", "reopen"]
TRANSITIONS: tuple[TransitionName, ...] = (
    "advance",
    "move",
    "reject",
    "withdraw",
    "hire",
    "reopen",
)
# The decisions a result may carry: the transitions that tell the candidate an outcome.
DECISIONS: frozenset[str] = frozenset({"advance", "move", "reject", "hire"})
HIRED_KIND = "hired"

_STATUS_AFTER: dict[TransitionName, Status] = {
    "advance": "active",
    "move": "active",
    "reject": "rejected",
    "withdraw": "withdrawn",
    "hire": "hired",
    "reopen": "active",
}


@dataclass(frozen=True)
class Stage:
    key: str
    kind: str


@dataclass(frozen=True)
class MoveCommand:
    """What the caller asks for. ``to_stage`` only for ``move``; ``reason_code`` (a configured
    rejection reason) only for ``reject``, where it is required; ``reason`` is free text."""

    transition: TransitionName
    to_stage: str | None = None
    reason_code: str | None = None
    reason: str | None = None


# The name the first version of the state machine used.
Move = MoveCommand


@dataclass(frozen=True)
class Allowed:
    """One transition the application may make now, and the stage it would land in."""

    transition: TransitionName
    to_stage: str


@dataclass(frozen=True)
class Outcome:
    from_stage: Stage
    to_stage: Stage
    status: Status
    # The rejection reason the application carries after the change (None unless rejected).
    rejection_reason: str | None = None

    @property
    def stage_changed(self) -> bool:
        return self.from_stage != self.to_stage


class TransitionRefused(Exception):
    """The move is not allowed from the application's current state; ``allowed`` lists what
    is."""

    def __init__(self, message: str, allowed: Sequence[Allowed] = ()) -> None:
        super().__init__(message)
        self.allowed = list(allowed)


def status_after(transition: TransitionName) -> Status:
    return _STATUS_AFTER[transition]


def hire_stage(stages: Sequence[Stage]) -> Stage:
    """Where a hire lands: the job's stage of kind ``hired``, or else its last stage."""
    return next((stage for stage in stages if stage.kind == HIRED_KIND), stages[-1])


def allowed(stages: Sequence[Stage], current: str, status: Status) -> list[Allowed]:
    """Every transition the application may make from ``current`` with ``status``."""
    index = next((i for i, stage in enumerate(stages) if stage.key == current), None)
    if index is None:
        return []
    if status == "rejected":
        return [Allowed("reopen", current)]
    if status != "active":
        return []
    options: list[Allowed] = []
    if index + 1 < len(stages):
        options.append(Allowed("advance", stages[index + 1].key))
    options.extend(Allowed("move", stage.key) for stage in stages if stage.key != current)
    options.append(Allowed("reject", current))
    options.append(Allowed("withdraw", current))
    options.append(Allowed("hire", hire_stage(stages).key))
    return options


def plan(
    stages: Sequence[Stage],
    current: str,
    status: Status,
    move: MoveCommand,
    *,
    reason_codes: Collection[str] | None = None,
) -> Outcome:
    """Where ``move`` takes an application that is in stage ``current`` with ``status``.

    ``reason_codes``, when given, are the rejection reasons a ``reject`` may name.
    """
    index = next((i for i, stage in enumerate(stages) if stage.key == current), None)
    if index is None:
        raise TransitionRefused(f"the current stage {current!r} is not in the job's stages")
    here = stages[index]
    options = allowed(stages, current, status)

    def refuse(message: str) -> TransitionRefused:
        return TransitionRefused(message, options)

    if move.transition != "move" and move.to_stage is not None:
        raise refuse(f"{move.transition} does not take a stage; do not name one")
    if move.transition != "reject" and move.reason_code is not None:
        raise refuse("only a rejection takes a reason_code")
    if move.transition == "reopen":
        if status != "rejected":
            raise refuse(f"the application is {status}; only rejected applications reopen")
        return Outcome(here, here, "active")
    if status != "active":
        raise refuse(f"the application is {status}; only active applications {move.transition}")
    if move.transition == "advance":
        if index + 1 >= len(stages):
            raise refuse("the application is already in the last stage")
        return Outcome(here, stages[index + 1], "active")
    if move.transition == "move":
        target = next((stage for stage in stages if stage.key == move.to_stage), None)
        if target is None:
            raise refuse(f"the job has no stage {move.to_stage!r}")
        if target.key == current:
            raise refuse("the application is already in that stage")
        return Outcome(here, target, "active")
    if move.transition == "reject":
        if move.reason_code is None:
            raise refuse("a rejection needs a reason_code")
        if reason_codes is not None and move.reason_code not in reason_codes:
            raise refuse(f"{move.reason_code!r} is not an active rejection reason")
        return Outcome(here, here, "rejected", rejection_reason=move.reason_code)
    if move.transition == "withdraw":
        return Outcome(here, here, "withdrawn")
    return Outcome(here, hire_stage(stages), "hired")
