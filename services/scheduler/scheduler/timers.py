"""The scheduler's timer handlers; each domain registers its kinds in its own ``timers.py``."""

from __future__ import annotations

from shared.timers import TimerHandlers

timer_handlers = TimerHandlers()
