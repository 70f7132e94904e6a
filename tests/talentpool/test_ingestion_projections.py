"""What a batch's events say about an application, folded before the upsert: property-based,
the same whatever order the events came in (the upsert itself folds the same way)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from talentpool.jobs.service import fold
from talentpool.timeline.facts import ApplicationChange

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
APPLICATION, CANDIDATE, JOB = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
KINDS = ["ai_interview", "evaluation", "interview", "assessment", "offer", "hired", None]
times = st.none() | st.integers(min_value=0, max_value=1000).map(
    lambda m: T0 + timedelta(minutes=m)
)


@st.composite
def change(draw: st.DrawFn, version: int) -> ApplicationChange:
    kind = draw(st.sampled_from(KINDS))
    staged = version > 0
    return ApplicationChange(
        APPLICATION,
        CANDIDATE,
        JOB,
        version=version,
        stage_key=kind if staged else None,
        stage_kind=kind if staged else None,
        status=draw(st.sampled_from(["active", "rejected", "hired"])) if staged else None,
        reached_kind=kind,
        applied_at=draw(times),
        ai_invited_at=draw(times),
        ai_started_at=draw(times),
        ai_completed_at=draw(times),
        ai_expired_at=draw(times),
        ai_score=draw(st.none() | st.floats(min_value=0, max_value=100)),
    )


@st.composite
def changes(draw: st.DrawFn) -> list[ApplicationChange]:
    # The pipeline numbers each of an application's stage changes; other services' events carry
    # no version.
    versions = draw(st.lists(st.integers(min_value=1, max_value=50), unique=True, max_size=5))
    unversioned = draw(st.integers(min_value=0, max_value=5))
    return [draw(change(v)) for v in versions] + [draw(change(0)) for _ in range(unversioned)]


@given(changes().filter(bool), st.integers())
def test_an_applications_changes_fold_the_same_in_any_order(
    found: list[ApplicationChange], seed: int
) -> None:
    shuffled = list(found)
    random.Random(seed).shuffle(shuffled)

    [first], [second] = fold(found), fold(shuffled)

    assert (first.change, first.furthest) == (second.change, second.furthest)


@given(changes().filter(lambda c: any(x.version for x in c)))
def test_the_highest_version_decides_the_stage_and_the_times_fold_least_or_greatest(
    found: list[ApplicationChange],
) -> None:
    [folded] = fold(found)
    newest = max(found, key=lambda c: c.version)

    assert (folded.change.stage_key, folded.change.status) == (newest.stage_key, newest.status)
    assert folded.change.version == newest.version

    def present(values: list[datetime | None]) -> list[datetime]:
        return [v for v in values if v is not None]

    assert folded.change.applied_at == min(present([c.applied_at for c in found]), default=None)
    assert folded.change.ai_invited_at == max(
        present([c.ai_invited_at for c in found]), default=None
    )
    assert folded.change.ai_completed_at == min(
        present([c.ai_completed_at for c in found]), default=None
    )
