from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from pipeline.applications import service
from pipeline.applications.models import Application
from shared.http.dependencies import Staff, Unit
from shared.problems import not_found


async def _load(
    unit: Unit, principal: Staff, application_id: uuid.UUID, *, for_update: bool
) -> Application:
    application = await service.get_visible(
        session=unit.session,
        principal=principal,
        application_id=application_id,
        for_update=for_update,
    )
    if application is None:
        raise not_found("application", application_id)
    return application


ApplicationId = Annotated[uuid.UUID, Path(description="The application's id.")]


async def visible_application(
    application_id: ApplicationId, unit: Unit, principal: Staff
) -> Application:
    """The application if the caller may see it (404 otherwise, so ids cannot be probed)."""
    return await _load(unit, principal, application_id, for_update=False)


async def locked_application(
    application_id: ApplicationId, unit: Unit, principal: Staff
) -> Application:
    """As ``visible_application``, locked until the request's transaction ends."""
    return await _load(unit, principal, application_id, for_update=True)


VisibleApplication = Annotated[Application, Depends(visible_application)]
LockedApplication = Annotated[Application, Depends(locked_application)]
