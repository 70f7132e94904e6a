from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from pipeline.calendar.service import CalendarCache
from shared.calendar import BusinessCalendar
from shared.http.dependencies import Unit


def calendar_cache(request: Request) -> CalendarCache:
    """The app's calendar cache (one per app, so each app instance has its own)."""
    state = request.app.state
    cache: CalendarCache | None = getattr(state, "pipeline_calendar_cache", None)
    if cache is None:
        cache = CalendarCache()
        state.pipeline_calendar_cache = cache
    return cache


async def current_calendar(request: Request, unit: Unit) -> BusinessCalendar:
    """China's calendar with the configured overrides, for due-date arithmetic."""
    return await calendar_cache(request).get(unit.session)


CurrentCalendar = Annotated[BusinessCalendar, Depends(current_calendar)]
