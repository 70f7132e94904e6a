"""The built-in templates: version 0 of every (kind, channel, locale), used until someone saves
a version of their own, and again after they activate version 0.

They are files, so that translators and designers can edit them as text:
``builtin/<locale>/<kind>/<channel>.<part>`` with parts ``subject``, ``body`` and ``html``.
An email's HTML file holds only what goes inside the message; the locale's ``layout.html``
wraps it (its ``[[content]]`` line is replaced) when the files are loaded, so the default an
editor starts from is one complete HTML document. They are read once per process.
"""

from __future__ import annotations

import functools
from pathlib import Path

from notifier.kinds import KINDS, LOCALES, TEMPLATED_CHANNELS
from notifier.templates.rendering import CHANNEL_PARTS, REQUIRED_PARTS, Source

BUILTIN = Path(__file__).parent / "builtin"
_CONTENT = "[[content]]"

Key = tuple[str, str, str]  # (kind, channel, locale)


@functools.cache
def defaults() -> dict[Key, Source]:
    """Every built-in source. A missing required file is a packaging fault and raises at once
    (the tests load them all), rather than when the first such message is sent."""
    loaded: dict[Key, Source] = {}
    for locale in LOCALES:
        layout = (BUILTIN / locale / "layout.html").read_text(encoding="utf-8")
        if _CONTENT not in layout:
            raise RuntimeError(f"{locale}/layout.html has no {_CONTENT} line")
        for kind in KINDS:
            for channel in TEMPLATED_CHANNELS:
                parts = _read_parts(locale, kind, channel)
                html = parts.get("html")
                loaded[(kind, channel, locale)] = Source(
                    subject=parts.get("subject"),
                    body=parts["body"],
                    html=layout.replace(_CONTENT, html.strip()) if html is not None else None,
                )
    return loaded


def _read_parts(locale: str, kind: str, channel: str) -> dict[str, str]:
    folder = BUILTIN / locale / kind
    parts: dict[str, str] = {}
    for part in CHANNEL_PARTS[channel]:
        path = folder / f"{channel}.{part}"
        if path.is_file():
            parts[part] = path.read_text(encoding="utf-8").rstrip("\n")
        elif part in REQUIRED_PARTS[channel]:
            raise RuntimeError(f"the built-in template {locale}/{kind}/{channel}.{part} is missing")
    return parts


def default(kind: str, channel: str, locale: str) -> Source:
    """The built-in source of one (kind, channel, locale); ``KeyError`` if there is none."""
    return defaults()[(kind, channel, locale)]
