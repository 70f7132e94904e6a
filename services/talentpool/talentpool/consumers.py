"""The talent pool's event handlers. Each domain registers its own in its ``consumers.py``;
``app.py`` imports them in order, and batch handlers run in that order within a batch: the
profiles (which create people and their timelines) before the rules that tag them."""

from __future__ import annotations

from shared.messaging.consumer import EventHandlers

handlers = EventHandlers()
