"""Events the pipeline reacts to; each domain registers its handlers in its own ``consumers.py``."""

from __future__ import annotations

from shared.messaging.consumer import EventHandlers

handlers = EventHandlers()
