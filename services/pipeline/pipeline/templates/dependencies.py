from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from pipeline.templates import service
from pipeline.templates.models import StageTemplate
from shared.http.dependencies import Staff, Unit
from shared.problems import not_found

TemplateId = Annotated[uuid.UUID, Path(description="The template's id.")]


async def staff_template(template_id: TemplateId, unit: Unit, principal: Staff) -> StageTemplate:
    """The template (every staff member may read templates); 404 if there is none."""
    template = await service.get(session=unit.session, template_id=template_id)
    if template is None:
        raise not_found("stage template", template_id)
    return template


async def locked_template(template_id: TemplateId, unit: Unit, principal: Staff) -> StageTemplate:
    """As ``staff_template``, locked until the request's transaction ends."""
    template = await service.get(session=unit.session, template_id=template_id, for_update=True)
    if template is None:
        raise not_found("stage template", template_id)
    return template


VisibleTemplate = Annotated[StageTemplate, Depends(staff_template)]
LockedTemplate = Annotated[StageTemplate, Depends(locked_template)]
