"""Templates: rendering a message with the template in force, and saving, listing and
activating versions.

The template in force for (kind, channel, locale) is its active saved version, or the built-in
default (version 0) when none is active. At most one version of a key is active: saving makes
the new version the active one, activating an earlier version (or 0) switches back. Versions are
never changed once saved, so a compiled template is cached by its row id for as long as the
process lives, and rendering a message costs one indexed lookup and the render itself.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from notifier.kinds import KINDS, LOCALES, TEMPLATED_CHANNELS, Kind
from notifier.templates.defaults import default
from notifier.templates.models import Template
from notifier.templates.rendering import (
    CompiledTemplate,
    Source,
    TemplateProblem,
    TemplateRenderError,
    compile_source,
    resolve_locale,
    validate,
)
from shared.logging import get_logger
from shared.problems import not_found, version_mismatch
from shared.unit import UnitOfWork

__all__ = [
    "Current",
    "InvalidTemplate",
    "RenderedMessage",
    "TemplateRenderError",
    "TemplateStatus",
    "activate",
    "current",
    "default_source",
    "get_version",
    "list_versions",
    "overview",
    "preview",
    "render",
    "save",
]

log = get_logger(__name__)

# Compiled saved versions kept per process; a few per (kind, channel, locale) in use at most.
_CACHE_SIZE = 1024


@dataclass(frozen=True)
class RenderedMessage:
    subject: str | None
    text: str
    html: str | None
    version: int  # 0 for the built-in default


@dataclass(frozen=True)
class Current:
    """The template in force: its version (0 for the default), its source and, for a saved
    version, its row."""

    version: int
    source: Source
    template: Template | None


@dataclass(frozen=True)
class TemplateStatus:
    kind: str
    channel: str
    locale: str
    current_version: int
    latest_version: int


class InvalidTemplate(Exception):
    """A source (or preview data) was refused; ``problems`` says where and why."""

    def __init__(self, problems: list[TemplateProblem]) -> None:
        super().__init__("; ".join(str(problem) for problem in problems))
        self.problems = problems


class _Compiled:
    """Compiled templates: saved versions by row id (bounded, least recently used first out),
    defaults by key (all of them fit)."""

    def __init__(self) -> None:
        self._saved: OrderedDict[uuid.UUID, CompiledTemplate] = OrderedDict()
        self._defaults: dict[tuple[str, str, str], CompiledTemplate] = {}

    def saved(self, template_id: uuid.UUID) -> CompiledTemplate | None:
        compiled = self._saved.get(template_id)
        if compiled is not None:
            self._saved.move_to_end(template_id)
        return compiled

    def remember(self, template_id: uuid.UUID, compiled: CompiledTemplate) -> None:
        self._saved[template_id] = compiled
        if len(self._saved) > _CACHE_SIZE:
            self._saved.popitem(last=False)

    def default(self, kind: str, channel: str, locale: str) -> CompiledTemplate:
        key = (kind, channel, locale)
        compiled = self._defaults.get(key)
        if compiled is None:
            compiled = self._defaults[key] = compile_source(default(kind, channel, locale))
        return compiled


_compiled = _Compiled()


def default_source(kind: str, channel: str, locale: str) -> Source:
    """The built-in source (version 0) of a (kind, channel, locale)."""
    return default(kind, channel, locale)


def _source(template: Template) -> Source:
    return Source(subject=template.subject, body=template.body, html=template.html)


def _key(kind: str, channel: str, locale: str) -> sa.ColumnElement[bool]:
    return sa.and_(Template.kind == kind, Template.channel == channel, Template.locale == locale)


# ---------------------------------------------------------------------------------------------
# Rendering


InForce = dict[tuple[str, str, str], tuple[uuid.UUID, int]]


async def in_force(session: AsyncSession, keys: Iterable[tuple[str, str, str]]) -> InForce:
    """The saved version in force for each (kind, channel, locale) of ``keys``, in one query;
    keys absent from the answer use their built-in default. A dispatcher rendering a batch of
    messages asks once per batch instead of once per message."""
    wanted = list({(kind, channel, resolve_locale(locale)) for kind, channel, locale in keys})
    if not wanted:
        return {}
    rows = await session.execute(
        sa.select(Template.kind, Template.channel, Template.locale, Template.id, Template.version)
        .where(
            sa.tuple_(Template.kind, Template.channel, Template.locale).in_(wanted),
            Template.active,
        )
        .order_by(Template.kind, Template.channel, Template.locale, Template.version.desc())
        .ext(distinct_on(Template.kind, Template.channel, Template.locale))
    )
    return {(row.kind, row.channel, row.locale): (row.id, row.version) for row in rows}


async def render(
    session: AsyncSession,
    *,
    kind: str,
    channel: str,
    locale: str,
    variables: Mapping[str, Any],
    versions: InForce | None = None,
) -> RenderedMessage:
    """One message from the template in force. An unknown locale falls back to zh-CN (and
    ``locale`` in the data is set to the one used); ``variant`` is 0 unless given. Raises
    ``TemplateRenderError`` when the kind or channel has no templates or the data does not fit
    the template."""
    if kind not in KINDS or channel not in TEMPLATED_CHANNELS:
        raise TemplateRenderError(f"no templates for kind {kind!r} on channel {channel!r}")
    shown = resolve_locale(locale)
    found: Any
    if versions is not None:
        # From ``in_force``, asked for this message's key with the rest of its batch.
        found = versions.get((kind, channel, shown))
    else:
        found = (
            await session.execute(
                sa.select(Template.id, Template.version)
                .where(_key(kind, channel, shown), Template.active)
                .order_by(Template.version.desc())
                .limit(1)
            )
        ).first()
    if found is None:
        compiled, version = _compiled.default(kind, channel, shown), 0
    else:
        template_id, version = found
        cached = _compiled.saved(template_id)
        if cached is None:
            row = (
                await session.execute(
                    sa.select(Template.subject, Template.body, Template.html).where(
                        Template.id == template_id
                    )
                )
            ).one()
            cached = compile_source(Source(subject=row.subject, body=row.body, html=row.html))
            _compiled.remember(template_id, cached)
        compiled = cached
    parts = compiled.render({"variant": 0, **variables, "locale": shown})
    return RenderedMessage(subject=parts.subject, text=parts.text, html=parts.html, version=version)


async def preview(
    session: AsyncSession,
    *,
    kind: Kind,
    channel: str,
    locale: str,
    source: Source | None,
    data: Mapping[str, Any],
) -> RenderedMessage:
    """Render ``source`` (validated, not saved; version -1) or else the template in force,
    with ``data`` over the kind's sample data. Raises ``InvalidTemplate`` for a refused source
    or data naming unknown variables, ``TemplateRenderError`` when the data does not fit."""
    known = kind.all_variables()
    unknown = sorted(name for name in data if name not in known)
    if unknown:
        raise InvalidTemplate(
            [
                TemplateProblem(
                    f"data.{name}", None, f"unknown variable '{name}'", "unknown_variable"
                )
                for name in unknown
            ]
        )
    variables = {**kind.sample_data(), **data}
    if source is None:
        return await render(
            session, kind=kind.name, channel=channel, locale=locale, variables=variables
        )
    problems = validate(source, kind=kind, channel=channel, locale=locale)
    if problems:
        raise InvalidTemplate(problems)
    parts = compile_source(source).render({**variables, "locale": locale})
    return RenderedMessage(subject=parts.subject, text=parts.text, html=parts.html, version=-1)


# ---------------------------------------------------------------------------------------------
# Reading


async def current(session: AsyncSession, *, kind: str, channel: str, locale: str) -> Current:
    template = (
        await session.execute(
            sa.select(Template)
            .where(_key(kind, channel, locale), Template.active)
            .order_by(Template.version.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if template is None:
        return Current(version=0, source=default(kind, channel, locale), template=None)
    return Current(version=template.version, source=_source(template), template=template)


async def list_versions(
    session: AsyncSession, *, kind: str, channel: str, locale: str
) -> list[Template]:
    """Every saved version, newest first."""
    rows = await session.execute(
        sa.select(Template).where(_key(kind, channel, locale)).order_by(Template.version.desc())
    )
    return list(rows.scalars())


async def get_version(
    session: AsyncSession, *, kind: str, channel: str, locale: str, version: int
) -> Template | None:
    return (
        await session.execute(
            sa.select(Template).where(_key(kind, channel, locale), Template.version == version)
        )
    ).scalar_one_or_none()


async def overview(session: AsyncSession) -> list[TemplateStatus]:
    """Every (kind, channel, locale) with its version in force and its latest saved version,
    in the order of ``KINDS``, channels and locales."""
    rows = await session.execute(
        sa.select(
            Template.kind,
            Template.channel,
            Template.locale,
            sa.func.max(Template.version).filter(Template.active),
            sa.func.max(Template.version),
        ).group_by(Template.kind, Template.channel, Template.locale)
    )
    saved = {(kind, channel, locale): (cur, latest) for kind, channel, locale, cur, latest in rows}
    statuses = []
    for kind in KINDS:
        for channel in TEMPLATED_CHANNELS:
            for locale in LOCALES:
                cur, latest = saved.get((kind, channel, locale), (None, None))
                statuses.append(TemplateStatus(kind, channel, locale, cur or 0, latest or 0))
    return statuses


# ---------------------------------------------------------------------------------------------
# Writing


async def _lock(session: AsyncSession, kind: str, channel: str, locale: str) -> None:
    # Saves and activations of one key queue here, so version numbers never collide and the
    # "one active version" rule holds; other keys are not held up.
    name = f"notifier.templates:{kind}:{channel}:{locale}"
    await session.execute(
        sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtextextended(name, 0)))
    )


async def save(
    unit: UnitOfWork,
    *,
    kind: Kind,
    channel: str,
    locale: str,
    source: Source,
    created_by: str,
    expected_version: int | None,
) -> Template:
    """Validate ``source`` and save it as the next version, which becomes the one in force.
    ``expected_version`` (If-Match) is the version in force the editor started from; another
    one now is a 412. Raises ``InvalidTemplate`` with every problem of the source."""
    problems = validate(source, kind=kind, channel=channel, locale=locale)
    if problems:
        raise InvalidTemplate(problems)
    session = unit.session
    await _lock(session, kind.name, channel, locale)
    in_force = await current(session, kind=kind.name, channel=channel, locale=locale)
    if expected_version is not None and expected_version != in_force.version:
        raise version_mismatch(in_force.version)
    latest = (
        await session.execute(
            sa.select(sa.func.coalesce(sa.func.max(Template.version), 0)).where(
                _key(kind.name, channel, locale)
            )
        )
    ).scalar_one()
    await session.execute(
        sa.update(Template)
        .where(_key(kind.name, channel, locale), Template.active)
        .values(active=False)
    )
    template = Template(
        id=uuid.uuid4(),
        kind=kind.name,
        channel=channel,
        locale=locale,
        version=latest + 1,
        subject=source.subject,
        body=source.body,
        html=source.html,
        active=True,
        created_by=created_by,
        created_at=unit.clock.now(),
    )
    session.add(template)
    await session.flush()
    log.info(
        "templates.saved", kind=kind.name, channel=channel, locale=locale, version=template.version
    )
    return template


async def activate(
    unit: UnitOfWork,
    *,
    kind: Kind,
    channel: str,
    locale: str,
    version: int,
    expected_version: int | None,
) -> Current:
    """Put an earlier saved version back in force, or the built-in default with version 0.
    Raises a 404 problem for a version that was never saved, 412 when ``expected_version`` is
    not the version in force."""
    session = unit.session
    await _lock(session, kind.name, channel, locale)
    in_force = await current(session, kind=kind.name, channel=channel, locale=locale)
    if expected_version is not None and expected_version != in_force.version:
        raise version_mismatch(in_force.version)
    if version != 0 and (
        await get_version(session, kind=kind.name, channel=channel, locale=locale, version=version)
        is None
    ):
        raise not_found(f"version of the {kind.name} {channel} {locale} template", version)
    await session.execute(
        sa.update(Template)
        .where(_key(kind.name, channel, locale), Template.active != (Template.version == version))
        .values(active=Template.version == version)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    log.info("templates.activated", kind=kind.name, channel=channel, locale=locale, version=version)
    return await current(session, kind=kind.name, channel=channel, locale=locale)
