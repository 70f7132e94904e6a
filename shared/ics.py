"""iCalendar (RFC 5545) rendering of one interview, with iTIP's METHOD (RFC 5546): a pure function
over plain data, no database or framework. The scheduler serves it and the notifier attaches it
to emails; both render the same UID and SEQUENCE (carried by the interview events), so whichever
file a calendar client gets last updates the one event it holds.

The UID stays for the interview's life and SEQUENCE grows with every change, so a calendar
client updates (or removes, after a CANCEL) the event it already holds rather than adding one.
Times are written in UTC, so no VTIMEZONE is needed and daylight-saving changes cannot shift them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import icalendar

PRODID = "-//recruiting//scheduler//EN"
# Not a mailbox: replies go through the suite's own API, and calendar clients only need a stable
# organizer to match updates to the event they hold.
ORGANIZER_URI = "urn:recruiting:scheduler"
ORGANIZER_NAME = "Recruiting scheduler"
MEDIA_TYPE = "text/calendar"


@dataclass(frozen=True)
class Attendee:
    """One person on the event, named only as far as the viewer may know them."""

    uri: str
    name: str
    role: str = "REQ-PARTICIPANT"
    # iTIP PARTSTAT: NEEDS-ACTION, ACCEPTED, DECLINED.
    status: str = "NEEDS-ACTION"


@dataclass(frozen=True)
class CalendarInterview:
    uid: str
    sequence: int
    starts_at: datetime
    ends_at: datetime
    stamp: datetime
    summary: str
    cancelled: bool
    confirmed: bool
    time_zone: str
    location: str | None = None
    attendees: list[Attendee] = field(default_factory=list)


def render(interview: CalendarInterview) -> bytes:
    """The VCALENDAR of one interview: METHOD:REQUEST while it stands, METHOD:CANCEL after."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if interview.cancelled else "REQUEST")

    event = icalendar.Event()
    event.add("uid", interview.uid)
    event.add("sequence", interview.sequence)
    event.add("dtstamp", _utc(interview.stamp))
    event.add("dtstart", _utc(interview.starts_at))
    event.add("dtend", _utc(interview.ends_at))
    event.add("summary", interview.summary)
    event.add("description", _description(interview))
    if interview.cancelled:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED" if interview.confirmed else "TENTATIVE")
    event.add("transp", "OPAQUE")
    if interview.location:
        event.add("location", interview.location)
    organizer = icalendar.vCalAddress(ORGANIZER_URI)
    organizer.params["cn"] = icalendar.vText(ORGANIZER_NAME)
    event.add("organizer", organizer)
    for attendee in interview.attendees:
        address = icalendar.vCalAddress(attendee.uri)
        address.params["cn"] = icalendar.vText(attendee.name)
        address.params["role"] = icalendar.vText(attendee.role)
        address.params["partstat"] = icalendar.vText(attendee.status)
        address.params["cutype"] = icalendar.vText("INDIVIDUAL")
        event.add("attendee", address, encode=False)
    calendar.add_component(event)
    ical: bytes = calendar.to_ical()
    return ical


def _description(interview: CalendarInterview) -> str:
    zone = ZoneInfo(interview.time_zone)
    start = interview.starts_at.astimezone(zone)
    end = interview.ends_at.astimezone(zone)
    when = f"{start:%Y-%m-%d %H:%M}-{end:%H:%M} {interview.time_zone} (UTC{start:%z})"
    if interview.cancelled:
        return f"Cancelled: {when}"
    return when


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    return moment.astimezone(UTC)
