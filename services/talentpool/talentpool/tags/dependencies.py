"""Who may change tag rules: they tag anyone in the pool, so admins and HR who may search the
whole pool (``talentpool:search``). Reading them is open to HR and admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from shared.auth.principal import Principal
from shared.http.dependencies import Staff
from shared.problems import forbidden
from talentpool.profiles.dependencies import TALENTPOOL_SCOPE, sees_whole_pool
from talentpool.tags.names import TAG_PATTERN


async def rule_manager(principal: Staff) -> Principal:
    if not sees_whole_pool(principal):
        raise forbidden(f"Changing tag rules needs the scope {TALENTPOOL_SCOPE} (or an admin).")
    return principal


RuleManager = Annotated[Principal, Depends(rule_manager)]

TagPath = Annotated[
    str,
    Path(
        pattern=TAG_PATTERN,
        description="A tag: a lowercase slug (`no_show`, `on_hold`, `re_invite`, `runner_up`, "
        "`set_aside`, or one of HR's own).",
        examples=["on_hold"],
    ),
]
