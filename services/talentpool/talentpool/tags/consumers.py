"""Tag rules at work: the events rules are written about, in batches. Each handler turns its
events into facts, reads the enabled rules (once per batch), matches them with the pure
``rules.matching_rules`` and applies what fired with one ``service.apply_targets`` per tag and
action. They run after the profiles' handlers, which create the people and their members
earlier in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from shared.events.envelope import ReceivedEvent
from shared.events.notifier import NotificationUnreadV1
from shared.events.pipeline import (
    AiInterviewCompletedV1,
    AiInterviewExpiredV1,
    NoShowRecordedV1,
    StageChangedV1,
)
from shared.events.scheduler import InviteExpiredV1
from shared.logging import get_logger
from shared.unit import UnitOfWork
from talentpool.consumers import handlers
from talentpool.jobs.models import ApplicationRecord
from talentpool.profiles.stages import rank
from talentpool.tags import rule_service, service
from talentpool.tags.rules import Fact, Rule, RuleAction, Trigger, matching_rules

__all__ = ["handlers"]

log = get_logger(__name__)

_ENDINGS = {"reject": "rejected", "withdraw": "withdrawn", "hire": "hired"}
_MOVES = frozenset({"advance", "move", "hire"})


@dataclass(frozen=True)
class Firing:
    """A fact about one candidate, from one event."""

    candidate_id: uuid.UUID
    fact: Fact
    event_id: uuid.UUID
    occurred_at: datetime


async def rules_for(unit: UnitOfWork, triggers: set[Trigger]) -> list[Rule]:
    """The enabled rules on these triggers (all rules are read once per batch)."""
    return [r for r in await rule_service.enabled_rules(unit.session) if r.trigger in triggers]


async def evaluate(unit: UnitOfWork, rules: list[Rule], firings: list[Firing]) -> int:
    """Apply what the rules say about these facts; how many tag changes were made."""
    fired = [(firing, matching_rules(rules, firing.fact)) for firing in firings]
    fired = [(firing, matched) for firing, matched in fired if matched]
    if not fired:
        return 0
    profiles = await service.profiles_of(unit.session, {firing.candidate_id for firing, _ in fired})
    groups: dict[tuple[str, RuleAction], list[service.Target]] = {}
    unknown = 0
    for firing, matched in fired:
        profile_id = profiles.get(firing.candidate_id)
        if profile_id is None:
            unknown += 1
            continue
        for rule in matched:
            until = (
                firing.occurred_at + timedelta(days=rule.until_days)
                if rule.until_days is not None and rule.action == "add"
                else None
            )
            groups.setdefault((rule.tag, rule.action), []).append(
                service.Target(
                    profile_id=profile_id,
                    until=until,
                    rule_id=rule.id,
                    source_event_id=firing.event_id,
                    reason=firing.fact.trigger,
                )
            )
    if unknown:
        # Facts about candidates no profile holds (yet): nothing to tag.
        log.info("tags.rules_without_profile", count=unknown)
    changed = 0
    for (tag, action), targets in groups.items():
        changed += await service.apply_targets(
            unit, targets=targets, tag=tag, action=action, source="rule", actor=None
        )
    return changed


def _occurred(event: ReceivedEvent[Any]) -> datetime:
    at = getattr(event.data, "occurred_at", None)
    return at if isinstance(at, datetime) else event.envelope.time


def _firing(event: ReceivedEvent[Any], candidate_id: uuid.UUID, fact: Fact) -> Firing:
    return Firing(candidate_id, fact, event.envelope.id, _occurred(event))


@handlers.on_batch(StageChangedV1, name="talentpool.tag_rules_on_stage_changed")
async def on_stage_changed(unit: UnitOfWork, events: list[ReceivedEvent[StageChangedV1]]) -> None:
    """``application_ended`` (rejected, withdrawn, hired) and ``stage_reached``."""
    rules = await rules_for(unit, {"application_ended", "stage_reached"})
    triggers = {rule.trigger for rule in rules}
    ended = [e for e in events if "application_ended" in triggers and e.data.transition in _ENDINGS]
    reached = [
        e
        for e in events
        if "stage_reached" in triggers
        and e.data.transition in _MOVES
        and e.data.from_stage != e.data.to_stage
    ]
    firings = [
        _firing(
            e,
            e.data.candidate_id,
            Fact("stage_reached", stage_kind=e.data.to_stage.kind, status=e.data.status),
        )
        for e in reached
    ]
    if ended:
        furthest = await _furthest_ranks(unit, {e.data.application_id for e in ended})
        for e in ended:
            data = e.data
            firings.append(
                _firing(
                    e,
                    data.candidate_id,
                    Fact(
                        "application_ended",
                        status=_ENDINGS[data.transition],
                        stage_kind=data.to_stage.kind,
                        furthest_rank=max(
                            furthest.get(data.application_id, 0),
                            rank(data.to_stage.kind),
                            rank(data.from_stage.kind if data.from_stage else None),
                        ),
                        reason_code=data.reason_code,
                    ),
                )
            )
    if firings:
        await evaluate(unit, rules, firings)


async def _furthest_ranks(
    unit: UnitOfWork, application_ids: set[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """How far each application got, as the profiles' projection (updated earlier in this
    transaction) knows it; the event's own stages count too, should it not know them."""
    rows = await unit.session.execute(
        sa.select(ApplicationRecord.id, ApplicationRecord.furthest_rank).where(
            ApplicationRecord.id.in_(application_ids)
        )
    )
    return {row[0]: row[1] for row in rows}


async def _on(unit: UnitOfWork, trigger: Trigger, firings: Callable[[], list[Firing]]) -> None:
    rules = await rules_for(unit, {trigger})
    if rules:
        await evaluate(unit, rules, firings())


@handlers.on_batch(InviteExpiredV1, name="talentpool.tag_rules_on_invite_expired")
async def on_invite_expired(unit: UnitOfWork, events: list[ReceivedEvent[InviteExpiredV1]]) -> None:
    await _on(
        unit,
        "invite_expired",
        lambda: [
            _firing(
                e, e.data.candidate_id, Fact("invite_expired", kind=e.data.kind, final=e.data.final)
            )
            for e in events
        ],
    )


@handlers.on_batch(AiInterviewExpiredV1, name="talentpool.tag_rules_on_ai_interview_expired")
async def on_ai_interview_expired(
    unit: UnitOfWork, events: list[ReceivedEvent[AiInterviewExpiredV1]]
) -> None:
    await _on(
        unit,
        "ai_interview_expired",
        lambda: [_firing(e, e.data.candidate_id, Fact("ai_interview_expired")) for e in events],
    )


@handlers.on_batch(AiInterviewCompletedV1, name="talentpool.tag_rules_on_ai_interview_completed")
async def on_ai_interview_completed(
    unit: UnitOfWork, events: list[ReceivedEvent[AiInterviewCompletedV1]]
) -> None:
    await _on(
        unit,
        "ai_interview_completed",
        lambda: [
            _firing(
                e,
                e.data.candidate_id,
                Fact(
                    "ai_interview_completed",
                    score=None if e.data.score is None else float(e.data.score),
                ),
            )
            for e in events
        ],
    )


@handlers.on_batch(NoShowRecordedV1, name="talentpool.tag_rules_on_no_show_recorded")
async def on_no_show_recorded(
    unit: UnitOfWork, events: list[ReceivedEvent[NoShowRecordedV1]]
) -> None:
    await _on(
        unit,
        "no_show_recorded",
        lambda: [
            _firing(e, e.data.candidate_id, Fact("no_show_recorded", kind=e.data.kind))
            for e in events
        ],
    )


@handlers.on_batch(NotificationUnreadV1, name="talentpool.tag_rules_on_notification_unread")
async def on_notification_unread(
    unit: UnitOfWork, events: list[ReceivedEvent[NotificationUnreadV1]]
) -> None:
    await _on(
        unit,
        "notification_unread",
        lambda: [
            _firing(e, e.data.candidate_id, Fact("notification_unread", kind=e.data.kind))
            for e in events
            if e.data.recipient_kind == "candidate" and e.data.candidate_id is not None
        ],
    )
