"""Events the talent pool's campaigns domain reacts to: a candidate unsubscribing from (or
subscribing again to) everything the notifier sends."""

from __future__ import annotations

from shared.events.envelope import ReceivedEvent
from shared.events.talentpool import CandidateSubscriptionChangedV1
from shared.unit import UnitOfWork
from talentpool.campaigns import subscriptions
from talentpool.consumers import handlers


@handlers.on_batch(CandidateSubscriptionChangedV1, name="talentpool.candidate_subscription")
async def subscription_changed(
    unit: UnitOfWork, events: list[ReceivedEvent[CandidateSubscriptionChangedV1]]
) -> None:
    await subscriptions.record(
        unit.session,
        [(e.data.candidate_id, e.data.unsubscribed_all, e.data.occurred_at) for e in events],
    )
