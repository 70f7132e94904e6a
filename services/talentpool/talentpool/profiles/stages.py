"""How far a person got: stage kinds ranked in the order an application moves through them.
Plain functions (no database), used by the ingestion's projections and by segments and
recommendations ("reached at least the interview")."""

from __future__ import annotations

RANKS: dict[str, int] = {
    "ai_interview": 1,
    "evaluation": 2,
    "interview": 3,
    "background_check": 4,
    "offer": 5,
    "hired": 6,
}
"""The rank of each known stage kind; ``none`` (no stage yet) is 0."""

OTHER_RANK = 2
"""A kind a job's template invented (``assessment``, say) counts like an evaluation."""

NONE_RANK = 0
MAX_RANK = max(RANKS.values())


def rank(kind: str | None) -> int:
    """The rank of a stage kind: 0 for none, 1 (AI interview) to 6 (hired), 2 for any kind
    this list does not know."""
    if kind is None or kind == "none":
        return NONE_RANK
    return RANKS.get(kind, OTHER_RANK)


def further(a: tuple[int, str | None], b: tuple[int, str | None]) -> tuple[int, str | None]:
    """The further of two ``(rank, kind)`` stages. Two kinds of one rank are told apart by name
    (the smaller wins), so the result never depends on which came first."""
    if a[0] != b[0]:
        return a if a[0] > b[0] else b
    if a[1] is None or b[1] is None:
        return a if b[1] is None else b
    return a if a[1] <= b[1] else b
