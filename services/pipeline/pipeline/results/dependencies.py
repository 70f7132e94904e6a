from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Path

from pipeline.results import service
from pipeline.results.models import Result
from shared.http.dependencies import Staff, Unit
from shared.problems import not_found

ResultId = Annotated[uuid.UUID, Path(description="The result's id.")]


async def visible_result(result_id: ResultId, unit: Unit, principal: Staff) -> Result:
    """The result, if the caller may see its application or is named in its approval chain."""
    result = await service.get_visible(
        session=unit.session, principal=principal, result_id=result_id, for_update=False
    )
    if result is None:
        raise not_found("result", result_id)
    return result


async def locked_result(result_id: ResultId, unit: Unit, principal: Staff) -> Result:
    """As ``visible_result``, locked until the request's transaction ends."""
    result = await service.get_visible(
        session=unit.session, principal=principal, result_id=result_id, for_update=True
    )
    if result is None:
        raise not_found("result", result_id)
    return result


VisibleResult = Annotated[Result, Depends(visible_result)]
LockedResult = Annotated[Result, Depends(locked_result)]
