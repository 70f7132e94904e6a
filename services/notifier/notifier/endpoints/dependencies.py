"""Who may manage customers' webhook endpoints, and the notifier's settings for routes."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import Depends

from notifier.settings import NotifierSettings
from shared.auth.principal import Principal, Role
from shared.http.dependencies import CurrentPrincipal, RuntimeDep
from shared.problems import forbidden

WEBHOOKS_SCOPE = "notifications:webhooks"


async def get_settings(runtime: RuntimeDep) -> NotifierSettings:
    return cast(NotifierSettings, runtime.settings)


Settings = Annotated[NotifierSettings, Depends(get_settings)]


async def webhook_manager(principal: CurrentPrincipal) -> Principal:
    """Admins, and HR users granted the webhooks scope (an integration owner on the HR side):
    an endpoint receives every candidate's notices, so the role alone is not enough."""
    if principal.role is Role.ADMIN or (
        principal.role is Role.HR and WEBHOOKS_SCOPE in principal.scopes
    ):
        return principal
    raise forbidden(f"This needs the admin role, or the hr role with the scope {WEBHOOKS_SCOPE}.")


WebhookManager = Annotated[Principal, Depends(webhook_manager)]
