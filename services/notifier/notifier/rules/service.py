"""Rules: which kinds tell which audience on which channels, and their fallbacks; admins
change them through the API (checked here against ``notifier.kinds``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.kinds import KINDS
from notifier.rules.models import Rule
from notifier.rules.schemas import RuleWrite
from shared.http.pagination import PageParams, paginate
from shared.problems import Problem, conflict, version_mismatch
from shared.unit import UnitOfWork


async def rules_for(
    session: AsyncSession, keys: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], Rule]:
    """The enabled rules among (kind, audience) ``keys``, in one query."""
    wanted = list(set(keys))
    if not wanted:
        return {}
    rows = await session.scalars(
        sa.select(Rule).where(
            sa.tuple_(Rule.kind, Rule.audience).in_(wanted), Rule.enabled.is_(True)
        )
    )
    return {(rule.kind, rule.audience): rule for rule in rows}


async def list_rules(session: AsyncSession) -> list[Rule]:
    return list(await session.scalars(sa.select(Rule).order_by(Rule.kind, Rule.audience)))


async def get_rule(session: AsyncSession, kind: str, audience: str) -> Rule | None:
    return await session.get(Rule, (kind, audience))


# Changing rules (the admin API).


def is_known(kind: str, audience: str) -> bool:
    """Whether ``kind`` exists and has ``audience`` (``notifier.kinds``)."""
    known = KINDS.get(kind)
    return known is not None and audience in known.audiences


async def list_page(session: AsyncSession, *, params: PageParams) -> tuple[list[Rule], str | None]:
    return await paginate(
        session, sa.select(Rule), order_by=[Rule.kind, Rule.audience], params=params
    )


def invalid(field: str, message: str) -> Problem:
    """A 422 naming one body field, shaped like the framework's validation errors."""
    return Problem(
        422,
        "Invalid request",
        f"body.{field}: {message}",
        slug="validation-error",
        errors=[{"field": field, "location": "body", "message": message, "code": "invalid"}],
    )


def _check_channels(channels: Sequence[str], audience: str, field: str) -> None:
    seen: set[str] = set()
    for index, channel in enumerate(channels):
        if channel == "chat" and audience == "candidate":
            raise invalid(
                f"{field}.{index}", "chat robots post to staff groups, never to candidates"
            )
        if channel in seen:
            raise invalid(f"{field}.{index}", f"{channel} is listed twice")
        seen.add(channel)


def check(kind: str, audience: str, body: RuleWrite) -> list[dict[str, Any]]:
    """The rule's fallback as stored, after the checks the schema alone cannot make (they
    depend on the audience, on the order of the steps, or on both fields of a step). Raises a
    422 naming the field."""
    _check_channels(body.channels, audience, "channels")
    steps: list[dict[str, Any]] = []
    previous: int | None = None
    for index, step in enumerate(body.fallback):
        where = f"fallback.{index}"
        if previous is not None and step.after_minutes <= previous:
            raise invalid(
                f"{where}.after_minutes",
                f"must be more than the step before's {previous} minutes",
            )
        previous = step.after_minutes
        if step.action is not None:
            if step.channels is not None:
                raise invalid(where, "a step has either channels or an action, not both")
            if index != len(body.fallback) - 1:
                raise invalid(f"{where}.action", "hr_follow_up must be the last step")
            if kind == "unread_follow_up":
                # Its own follow-up would be another unread_follow_up, and so on for ever.
                raise invalid(f"{where}.action", "unread_follow_up cannot follow itself up")
            steps.append({"after_minutes": step.after_minutes, "action": step.action})
            continue
        if step.channels is None:
            raise invalid(where, "a step needs channels or an action")
        _check_channels(step.channels, audience, f"{where}.channels")
        steps.append({"after_minutes": step.after_minutes, "channels": list(step.channels)})
    return steps


async def put(
    *,
    unit: UnitOfWork,
    kind: str,
    audience: str,
    body: RuleWrite,
    expected_version: int | None,
    actor: str,
) -> tuple[Rule, bool]:
    """Replace the rule (or create it, if it was ever removed); ``(rule, created)``.
    ``expected_version`` (If-Match) 0 means "only if there is none"; a stale one is a 412.
    The change applies to notifications planned from now on."""
    fallback = check(kind, audience, body)
    now = unit.clock.now()
    values = {
        "channels": list(body.channels),
        "fallback": fallback,
        "urgent": body.urgent,
        "enabled": body.enabled,
        "updated_by": actor,
        "updated_at": now,
    }
    session = unit.session
    rule = await session.get(Rule, (kind, audience), with_for_update=True)
    if rule is None:
        if expected_version not in (None, 0):
            raise version_mismatch(0)
        created: Rule | None = await session.scalar(
            pg_insert(Rule)
            .values(kind=kind, audience=audience, version=1, **values)
            .on_conflict_do_nothing()
            .returning(Rule)
        )
        if created is not None:
            return created, True
        rule = await session.get(Rule, (kind, audience), with_for_update=True)
        if rule is None:
            raise conflict("The rule changed while being saved; retry.")
    if expected_version is not None and expected_version != rule.version:
        raise version_mismatch(rule.version)
    for field, value in values.items():
        setattr(rule, field, value)
    rule.version += 1
    await session.flush()
    return rule, False
