"""Busy time from an iCalendar feed (RFC 5545): pure functions, no database.

The text is checked line by line first (content-line syntax, BEGIN/END nesting), so a broken
feed is refused naming its line; ``icalendar`` then parses it, every property value is checked
(its errors are mapped back to the line of the property), and ``recurring_ical_events`` expands
RRULE/RDATE/EXDATE over the window. Not busy: events with ``TRANSP:TRANSPARENT`` or
``STATUS:CANCELLED``. All-day events block whole local days in the resource's zone; floating
times (no zone) are read in that zone too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events  # type: ignore[import-untyped]
from icalendar.parser import Contentline

MAX_FEED_BLOCKS = 20_000
"""More occurrences than this in the window is refused (a runaway RRULE, most likely)."""


class FeedError(ValueError):
    """A feed that cannot be imported; ``line`` is 1-based where known."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(f"line {line}: {message}" if line is not None else message)
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class FeedBlock:
    external_id: str
    start: datetime
    end: datetime


@dataclass
class _Component:
    name: str
    line: int
    properties: dict[str, int] = field(default_factory=dict)


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Unfold continuation lines, keeping each logical line's first physical line number."""
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if raw[:1] in (" ", "\t") and lines:
            first, content = lines[-1]
            lines[-1] = (first, content + raw[1:])
        elif raw.strip():
            lines.append((number, raw))
    return lines


def scan(text: str) -> list[_Component]:
    """Check content-line syntax and BEGIN/END nesting; the VEVENTs with their lines."""
    lines = _logical_lines(text)
    if not lines:
        raise FeedError("the feed is empty")
    stack: list[_Component] = []
    events: list[_Component] = []
    seen_calendar = False
    for number, content in lines:
        try:
            name, _params, value = Contentline(content).parts()  # type: ignore[no-untyped-call]
        except (ValueError, KeyError) as error:
            raise FeedError(f"not an iCalendar content line ({error})", line=number) from None
        name = name.upper()
        if name == "BEGIN":
            component = _Component(value.upper(), number)
            if not stack:
                if component.name != "VCALENDAR" or seen_calendar:
                    raise FeedError(f"BEGIN:{value} outside a VCALENDAR", line=number)
                seen_calendar = True
            stack.append(component)
            if component.name == "VEVENT" and len(stack) == 2:
                events.append(component)
        elif name == "END":
            if not stack:
                raise FeedError(f"END:{value} without a BEGIN", line=number)
            opened = stack.pop()
            if opened.name != value.upper():
                raise FeedError(
                    f"END:{value} does not close BEGIN:{opened.name} of line {opened.line}",
                    line=number,
                )
        elif not stack:
            raise FeedError(f"property {name} outside a VCALENDAR", line=number)
        else:
            stack[-1].properties.setdefault(name, number)
    if stack:
        raise FeedError(f"BEGIN:{stack[-1].name} is never closed", line=stack[-1].line)
    if not seen_calendar:
        raise FeedError("no VCALENDAR in the feed", line=1)
    return events


def _as_utc(value: date | datetime, zone: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(UTC)
    return datetime.combine(value, time(0, 0), tzinfo=zone).astimezone(UTC)


def _text(component: Any, name: str) -> str:
    value = component.get(name)
    return str(value).strip().upper() if value is not None else ""


def parse_feed(
    text: str, *, time_zone: str, start: datetime, end: datetime, prefix: str
) -> list[FeedBlock]:
    """The busy occurrences of the feed's events over ``[start, end)``, clipped to it, each
    keyed ``{prefix}{UID}/{RECURRENCE-ID in UTC}`` (stable across re-imports)."""
    events = scan(text)
    zone = ZoneInfo(time_zone)
    try:
        calendar = icalendar.Calendar.from_ical(text)
    except ValueError as error:
        raise FeedError(f"not an iCalendar feed: {error}") from None
    parsed = list(calendar.walk("VEVENT"))
    top_level = [c for c in calendar.subcomponents if c.name == "VEVENT"]
    for index, event in enumerate(top_level):
        where = events[index] if index < len(events) else _Component("VEVENT", 1)
        for prop, message in getattr(event, "errors", []):
            line = where.properties.get(str(prop).upper(), where.line) if prop else where.line
            raise FeedError(f"VEVENT property {prop or '?'}: {message}", line=line)
        if event.get("DTSTART") is None:
            raise FeedError("VEVENT without DTSTART", line=where.line)
        if event.get("UID") is None:
            raise FeedError("VEVENT without UID", line=where.line)
    if len(parsed) != len(top_level):
        raise FeedError("VEVENTs must sit directly in the VCALENDAR")
    try:
        occurrences = recurring_ical_events.of(calendar).between(start, end)
    except Exception as error:  # the library raises many kinds on bad recurrence data
        raise FeedError(f"cannot expand the recurrences: {error}") from None
    blocks: dict[str, FeedBlock] = {}
    for occurrence in occurrences:
        if _text(occurrence, "TRANSP") == "TRANSPARENT":
            continue
        if _text(occurrence, "STATUS") == "CANCELLED":
            continue
        begin = occurrence.get("DTSTART").dt
        finish_prop = occurrence.get("DTEND")
        finish = finish_prop.dt if finish_prop is not None else begin
        block_start, block_end = _as_utc(begin, zone), _as_utc(finish, zone)
        block_start, block_end = max(block_start, start), min(block_end, end)
        if block_end <= block_start:
            continue
        recurrence = occurrence.get("RECURRENCE-ID")
        key_moment = _as_utc(recurrence.dt, zone) if recurrence is not None else block_start
        key = f"{prefix}{occurrence.get('UID')}/{key_moment.strftime('%Y%m%dT%H%M%SZ')}"
        blocks[key] = FeedBlock(key, block_start, block_end)
        if len(blocks) > MAX_FEED_BLOCKS:
            raise FeedError(f"more than {MAX_FEED_BLOCKS} busy occurrences in the window")
    return sorted(blocks.values(), key=lambda b: (b.start, b.external_id))


FEED_WINDOW = timedelta(days=180)
