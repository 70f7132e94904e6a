from __future__ import annotations

import uuid
from collections.abc import Sequence

from shared.problems import Problem
from talentpool.reinvitations.schemas import RefusalRead
from talentpool.reinvitations.service import Refusal


def nobody_invited(
    refusals: Sequence[Refusal],
    *,
    positions: dict[uuid.UUID, int] | None = None,
    title: str = "Nobody could be invited",
) -> Problem:
    """422 when every person asked for was refused: each refusal named as a field error
    (``profile_ids.<position>``, its reason as the code) and listed with its reason."""
    errors = []
    for refusal in refusals:
        position = positions.get(refusal.profile_id) if positions else None
        errors.append(
            {
                "field": "profile_ids" if position is None else f"profile_ids.{position}",
                "location": "body",
                "message": f"Profile {refusal.profile_id} was refused: {refusal.reason}.",
                "code": refusal.reason,
            }
        )
    return Problem(
        422,
        title,
        "Every person asked for was refused; `refusals` says why.",
        slug="nobody-invited",
        errors=errors,
        refusals=[RefusalRead.model_validate(r).model_dump(mode="json") for r in refusals],
    )
