"""The talent pool's durable timers (campaign runs, retention sweeps); each domain registers its
handlers on ``timer_handlers``."""

from __future__ import annotations

from shared.timers import TimerHandlers

timer_handlers = TimerHandlers()
