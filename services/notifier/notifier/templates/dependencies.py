"""What the template routes check before they run: who may edit, and that the
(kind, channel, locale) in the path has templates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path

from notifier.kinds import KINDS, LOCALES, TEMPLATED_CHANNELS, Kind
from shared.auth.principal import Principal, Role
from shared.http.dependencies import CurrentPrincipal
from shared.problems import Problem, forbidden

EDIT_SCOPE = "notifications:templates"


async def require_editor(principal: CurrentPrincipal) -> Principal:
    """Admins, and HR users granted the templates scope: a template reaches every candidate,
    so editing one is not for every recruiter."""
    if principal.role is Role.ADMIN or (
        principal.role is Role.HR and EDIT_SCOPE in principal.scopes
    ):
        return principal
    raise forbidden(f"Editing templates needs the admin role, or HR with the scope {EDIT_SCOPE}.")


Editor = Annotated[Principal, Depends(require_editor)]


@dataclass(frozen=True)
class TemplateKey:
    kind: Kind
    channel: str
    locale: str

    @property
    def path(self) -> str:
        return f"/v1/templates/{self.kind.name}/{self.channel}/{self.locale}"


def _no_such(what: str, value: str, known: tuple[str, ...] | list[str]) -> Problem:
    return Problem(
        404,
        "Not found",
        f"No {what} {value!r}; known: {', '.join(known)}.",
        slug="not-found",
    )


async def template_key(
    kind: Annotated[str, Path(description="The notification kind.", examples=["offer"])],
    channel: Annotated[str, Path(description="email, sms, in_app or chat.", examples=["email"])],
    locale: Annotated[str, Path(description="zh-CN or en.", examples=["zh-CN"])],
) -> TemplateKey:
    found = KINDS.get(kind)
    if found is None:
        raise _no_such("notification kind", kind, list(KINDS))
    if channel not in TEMPLATED_CHANNELS:
        # Webhooks carry a JSON payload, not a message: they have no template.
        raise _no_such("templated channel", channel, TEMPLATED_CHANNELS)
    if locale not in LOCALES:
        raise _no_such("locale", locale, LOCALES)
    return TemplateKey(kind=found, channel=channel, locale=locale)


Key = Annotated[TemplateKey, Depends(template_key)]
