"""Tag rules: HR's configuration of what tags people get on their own (the built-in ones are
seeded by the migration), and the enabled rules the consumers evaluate, read once per batch."""

from __future__ import annotations

import uuid
from typing import cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth.principal import Principal
from shared.http.pagination import PageParams, paginate
from shared.problems import Problem, not_found, version_mismatch
from shared.unit import UnitOfWork
from talentpool.tags.exceptions import built_in_rule, invalid_field, rule_name_taken
from talentpool.tags.models import TagRule
from talentpool.tags.names import TIMED_TAGS
from talentpool.tags.rules import Rule, RuleAction, Trigger, parse_conditions
from talentpool.tags.schemas import TagRuleRead, TagRuleWrite

# What a built-in rule lets HR change: switch it off and on, and how long its tag lasts.
_BUILT_IN_CHANGEABLE = frozenset({"enabled", "until_days"})
_SESSION_CACHE = "talentpool.tags.enabled_rules"


def read(rule: TagRule) -> TagRuleRead:
    trigger = cast(Trigger, rule.trigger)
    return TagRuleRead(
        id=rule.id,
        name=rule.name,
        tag=rule.tag,
        action=cast(RuleAction, rule.action),
        trigger=trigger,
        conditions=parse_conditions(trigger, rule.conditions).model_dump(mode="json"),
        until_days=rule.until_days,
        enabled=rule.enabled,
        built_in=rule.built_in,
        version=rule.version,
        created_by=rule.created_by,
        created_at=rule.created_at,
        updated_at=rule.updated_at,
    )


def _check(body: TagRuleWrite) -> None:
    if body.action == "remove" and body.until_days is not None:
        raise invalid_field("until_days", "a rule that removes a tag sets no end date")
    if body.action == "add" and body.tag in TIMED_TAGS and body.until_days is None:
        raise invalid_field("until_days", f"a rule adding {body.tag} needs until_days")


def _values(body: TagRuleWrite) -> dict[str, object]:
    return {
        "name": body.name,
        "tag": body.tag,
        "action": body.action,
        "trigger": body.trigger,
        "conditions": body.conditions.model_dump(mode="json"),
        "until_days": body.until_days,
        "enabled": body.enabled,
    }


async def create(*, unit: UnitOfWork, principal: Principal, body: TagRuleWrite) -> TagRule:
    _check(body)
    now = unit.clock.now()
    rule = TagRule(
        id=uuid.uuid4(),
        built_in=False,
        version=1,
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
        **_values(body),
    )
    unit.session.add(rule)
    await _flush(unit.session, body.name)
    return rule


async def get(session: AsyncSession, rule_id: uuid.UUID, *, for_update: bool = False) -> TagRule:
    rule = await session.get(TagRule, rule_id, with_for_update=for_update)
    if rule is None:
        raise not_found("tag rule", rule_id)
    return rule


async def replace(
    *,
    unit: UnitOfWork,
    rule_id: uuid.UUID,
    body: TagRuleWrite,
    expected_version: int | None,
    if_match_given: bool,
) -> TagRule:
    """Replace a rule as a whole, with If-Match (428 without it, 412 when stale). A built-in
    rule's tag, action, trigger, conditions and name stay as shipped (409)."""
    rule = await get(unit.session, rule_id, for_update=True)
    if not if_match_given:
        raise Problem(
            428,
            "Precondition required",
            "Replacing a tag rule needs If-Match with the version you read.",
            slug="if-match-required",
        )
    if expected_version is not None and expected_version != rule.version:
        raise version_mismatch(rule.version)
    _check(body)
    values = _values(body)
    if rule.built_in:
        shipped = read(rule)
        body_conditions = values["conditions"]
        changed = {
            name
            for name, value in values.items()
            if name != "conditions" and getattr(shipped, name) != value
        }
        if body_conditions != shipped.conditions:
            changed.add("conditions")
        if changed - _BUILT_IN_CHANGEABLE:
            raise built_in_rule(
                "A built-in rule may only be enabled, disabled or given until_days; "
                f"not changed: {', '.join(sorted(changed - _BUILT_IN_CHANGEABLE))}."
            )
    for name, value in values.items():
        setattr(rule, name, value)
    rule.version += 1
    rule.updated_at = unit.clock.now()
    await _flush(unit.session, body.name)
    return rule


async def delete(*, unit: UnitOfWork, rule_id: uuid.UUID, expected_version: int | None) -> None:
    rule = await get(unit.session, rule_id, for_update=True)
    if rule.built_in:
        raise built_in_rule("A built-in rule cannot be deleted; disable it instead.")
    if expected_version is not None and expected_version != rule.version:
        raise version_mismatch(rule.version)
    await unit.session.delete(rule)
    await unit.session.flush()


async def list_rules(
    session: AsyncSession,
    *,
    params: PageParams,
    trigger: Trigger | None,
    tag: str | None,
    enabled: bool | None,
) -> tuple[list[TagRule], str | None]:
    statement = sa.select(TagRule)
    if trigger is not None:
        statement = statement.where(TagRule.trigger == trigger)
    if tag is not None:
        statement = statement.where(TagRule.tag == tag)
    if enabled is not None:
        statement = statement.where(TagRule.enabled.is_(enabled))
    rules, next_cursor = await paginate(
        session, statement, order_by=[TagRule.created_at, TagRule.id], params=params
    )
    return rules, next_cursor


async def enabled_rules(session: AsyncSession) -> list[Rule]:
    """Every enabled rule, read once per transaction (a consumer batch): the handlers of one
    batch share it, and a change HR makes counts from the next batch on."""
    cached = session.info.get(_SESSION_CACHE)
    if cached is not None:
        return cast(list[Rule], cached)
    rows = await session.scalars(
        sa.select(TagRule)
        .where(TagRule.enabled.is_(True))
        .order_by(TagRule.built_in.desc(), TagRule.created_at, TagRule.id)
    )
    rules = []
    for row in rows:
        trigger = cast(Trigger, row.trigger)
        rules.append(
            Rule(
                id=row.id,
                tag=row.tag,
                action=cast(RuleAction, row.action),
                trigger=trigger,
                conditions=parse_conditions(trigger, row.conditions),
                until_days=row.until_days,
            )
        )
    session.info[_SESSION_CACHE] = rules
    return rules


async def _flush(session: AsyncSession, name: str) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        if "uq_tag_rules_name" in str(exc.orig):
            raise rule_name_taken(name) from exc
        raise
