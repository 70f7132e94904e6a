"""Ranking past candidates for an urgent opening. Plain data in, scores out: no database.

A person's score (0-100) is a weighted average of four parts, each between 0 and 1:

- ``runner_up`` (weight 0.30): 1 if they carry the ``runner_up`` tag (passed an interview but
  were not hired), else 0;
- ``skills`` (weight 0.30): the share of the wanted skills they have (case-insensitive); left
  out of the average (its weight shared by the others) when no skills are asked for;
- ``engagement`` (weight 0.25): their engagement score / 100;
- ``recency`` (weight 0.15): ``0.5 ** (days since their last activity / 180)``, so someone
  active today counts 1, six months ago 0.5, a year ago 0.25.

Someone on hold (``on_hold_until`` in the future) is not ranked at all. See
docs/talentpool/recommendations.md.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

WEIGHTS: dict[str, float] = {"runner_up": 0.30, "skills": 0.30, "engagement": 0.25, "recency": 0.15}
RECENCY_HALF_LIFE_DAYS = 180.0
_SECONDS_PER_DAY = 86_400.0


@dataclass(frozen=True)
class Past:
    """What the ranking reads of a person."""

    profile_id: uuid.UUID
    runner_up: bool
    engagement_score: int
    skills: frozenset[str]
    last_activity_at: datetime
    on_hold_until: datetime | None = None


@dataclass(frozen=True)
class Parts:
    runner_up: float
    skills: float | None
    engagement: float
    recency: float


@dataclass(frozen=True)
class Ranked:
    profile_id: uuid.UUID
    score: float
    parts: Parts
    matched_skills: tuple[str, ...]


def normalize_skills(skills: Iterable[str]) -> frozenset[str]:
    """Skills compared case-insensitively and without surrounding blanks; empty ones dropped."""
    return frozenset(s.strip().casefold() for s in skills if s.strip())


def recency(last_activity_at: datetime, now: datetime) -> float:
    days = max((now - last_activity_at).total_seconds(), 0.0) / _SECONDS_PER_DAY
    return float(0.5 ** (days / RECENCY_HALF_LIFE_DAYS))


def on_hold(person: Past, now: datetime) -> bool:
    return person.on_hold_until is not None and person.on_hold_until > now


def score(person: Past, *, wanted: frozenset[str], now: datetime) -> Ranked | None:
    """The person's score and its parts; None when they are on hold (not to be contacted)."""
    if on_hold(person, now):
        return None
    matched = tuple(sorted(wanted & normalize_skills(person.skills)))
    parts = Parts(
        runner_up=1.0 if person.runner_up else 0.0,
        skills=len(matched) / len(wanted) if wanted else None,
        engagement=min(max(person.engagement_score, 0), 100) / 100,
        recency=recency(person.last_activity_at, now),
    )
    weighted = {
        "runner_up": parts.runner_up,
        "engagement": parts.engagement,
        "recency": parts.recency,
    }
    if parts.skills is not None:
        weighted["skills"] = parts.skills
    total_weight = sum(WEIGHTS[name] for name in weighted)
    total = sum(WEIGHTS[name] * value for name, value in weighted.items()) / total_weight
    return Ranked(person.profile_id, round(100 * total, 2), parts, matched)


def rank(
    people: Sequence[Past], *, wanted_skills: Iterable[str], now: datetime, limit: int
) -> list[Ranked]:
    """The best ``limit`` people, best first; ties go to the more engaged, then to the lower
    profile id (so the order is stable)."""
    wanted = normalize_skills(wanted_skills)
    scored = [r for p in people if (r := score(p, wanted=wanted, now=now)) is not None]
    scored.sort(key=lambda r: (-r.score, -r.parts.engagement, r.profile_id))
    return scored[:limit]
