"""iCalendar feeds as busy time: recurrence expansion (RRULE, RDATE, EXDATE), what is not busy,
all-day and floating events in the resource's zone, malformed feeds named by line, and the
import route (replacing the last import, access)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from scheduler.app import spec as scheduler_spec
from scheduler.busy_blocks.ical import FeedError, parse_feed
from shared.clock import ManualClock
from tests.scheduler.resources_support import (
    ADMIN,
    HR,
    INTERVIEWER_SUB,
    insert_interviewer,
    insert_room,
)
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.support.tokens import auth

NOW = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
WINDOW_END = NOW + timedelta(days=180)
AS_ADMIN = auth("admin", ADMIN)
AS_IVAN = auth("interviewer", INTERVIEWER_SUB)
ICS = {"Content-Type": "text/calendar; charset=utf-8"}


def feed(*events: str) -> str:
    body = "".join(f"BEGIN:VEVENT\r\n{event.strip()}\r\nEND:VEVENT\r\n" for event in events)
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n"


def event(uid: str, *lines: str) -> str:
    return "\r\n".join([f"UID:{uid}", *lines])


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def blocks(text: str, zone: str = "Asia/Shanghai") -> list[tuple[datetime, datetime]]:
    parsed = parse_feed(text, time_zone=zone, start=NOW, end=WINDOW_END, prefix="feed:t:")
    return [(b.start, b.end) for b in parsed]


# The pure parser.


def test_weekly_rule_with_an_exdate_and_an_rdate_expands_across_berlins_dst_switch() -> None:
    text = feed(
        event(
            "weekly",
            "DTSTART;TZID=Europe/Berlin:20260316T100000",
            "DTEND;TZID=Europe/Berlin:20260316T110000",
            "RRULE:FREQ=WEEKLY;COUNT=4",
            "EXDATE;TZID=Europe/Berlin:20260323T100000",
            "RDATE;TZID=Europe/Berlin:20260325T150000",
        )
    )

    assert blocks(text) == [
        (utc(2026, 3, 16, 9), utc(2026, 3, 16, 10)),  # CET
        (utc(2026, 3, 25, 14), utc(2026, 3, 25, 15)),  # the RDATE
        (utc(2026, 3, 30, 8), utc(2026, 3, 30, 9)),  # CEST: still 10:00 local
        (utc(2026, 4, 6, 8), utc(2026, 4, 6, 9)),
    ]


def test_occurrences_are_keyed_by_uid_and_recurrence_id() -> None:
    text = feed(
        event(
            "daily",
            "DTSTART:20260302T010000Z",
            "DTEND:20260302T020000Z",
            "RRULE:FREQ=DAILY;COUNT=2",
        )
    )

    parsed = parse_feed(text, time_zone="UTC", start=NOW, end=WINDOW_END, prefix="feed:o:")

    assert [b.external_id for b in parsed] == [
        "feed:o:daily/20260302T010000Z",
        "feed:o:daily/20260303T010000Z",
    ]


def test_transparent_and_cancelled_events_are_not_busy() -> None:
    text = feed(
        event("free", "DTSTART:20260302T010000Z", "DTEND:20260302T020000Z", "TRANSP:TRANSPARENT"),
        event("off", "DTSTART:20260303T010000Z", "DTEND:20260303T020000Z", "STATUS:CANCELLED"),
        event("busy", "DTSTART:20260304T010000Z", "DTEND:20260304T020000Z", "TRANSP:OPAQUE"),
    )

    assert blocks(text) == [(utc(2026, 3, 4, 1), utc(2026, 3, 4, 2))]


def test_an_all_day_event_blocks_the_whole_local_day_of_the_resource() -> None:
    text = feed(event("trip", "DTSTART;VALUE=DATE:20260305", "DTEND;VALUE=DATE:20260307"))

    assert blocks(text, "Asia/Shanghai") == [(utc(2026, 3, 4, 16), utc(2026, 3, 6, 16))]
    assert blocks(text, "America/New_York") == [(utc(2026, 3, 5, 5), utc(2026, 3, 7, 5))]


def test_an_all_day_event_on_a_dst_switch_day_is_23_hours_long() -> None:
    text = feed(event("sunday", "DTSTART;VALUE=DATE:20260308"))

    assert blocks(text, "America/New_York") == [(utc(2026, 3, 8, 5), utc(2026, 3, 9, 4))]


def test_floating_times_are_read_in_the_resources_zone() -> None:
    text = feed(event("local", "DTSTART:20260302T100000", "DURATION:PT30M"))

    assert blocks(text, "Asia/Shanghai") == [(utc(2026, 3, 2, 2), utc(2026, 3, 2, 2, 30))]


def test_occurrences_are_clipped_to_the_window() -> None:
    text = feed(
        event("past", "DTSTART:20260201T000000Z", "DTEND:20260202T000000Z"),
        event("straddling", "DTSTART:20260228T230000Z", "DTEND:20260301T010000Z"),
        event("far", "DTSTART:20261201T000000Z", "DTEND:20261201T010000Z"),
    )

    assert blocks(text) == [(NOW, utc(2026, 3, 1, 1))]


def test_an_endless_rule_is_expanded_only_over_the_window() -> None:
    text = feed(event("forever", "DTSTART:20260302T010000Z", "DURATION:PT1H", "RRULE:FREQ=DAILY"))

    assert len(blocks(text)) == 179


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nthis is not a property\r\nEND:VCALENDAR\r\n", 3, "not"),
        (feed(event("x", "DTSTART:2026XX02T010000Z")), 6, "DTSTART"),
        (feed(event("x", "DTSTART:20260302T010000Z", "RRULE:FREQ=SOMETIMES")), 7, "RRULE"),
        ("BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VCALENDAR\r\n", 4, "does not close"),
        ("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", 1, "never closed"),
        ("VERSION:2.0\r\n", 1, "outside"),
        (feed("DTSTART:20260302T010000Z"), 4, "without UID"),
        (feed(event("x", "SUMMARY:no start")), 4, "without DTSTART"),
    ],
)
def test_a_malformed_feed_is_refused_naming_the_line(text: str, line: int, fragment: str) -> None:
    with pytest.raises(FeedError) as refused:
        parse_feed(text, time_zone="UTC", start=NOW, end=WINDOW_END, prefix="feed:t:")

    assert refused.value.line == line
    assert fragment in str(refused.value)


def test_an_empty_feed_is_refused() -> None:
    with pytest.raises(FeedError, match="empty"):
        parse_feed("\r\n", time_zone="UTC", start=NOW, end=WINDOW_END, prefix="feed:t:")


def test_folded_lines_are_unfolded_and_keep_their_first_line_number() -> None:
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:folded\r\n"
        "SUMMARY:a long\r\n  summary\r\nDTSTART:2026XX\r\n 02T010000Z\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )

    with pytest.raises(FeedError) as refused:
        parse_feed(text, time_zone="UTC", start=NOW, end=WINDOW_END, prefix="feed:t:")

    assert refused.value.line == 7


# The import route.


@pytest.fixture
async def scheduler_at_now() -> AsyncIterator[Running]:
    async with api(scheduler_spec, clock=ManualClock(NOW)) as service:
        yield service


async def test_interviewer_imports_their_feed_and_its_blocks_are_listed(
    scheduler_at_now: Running, db: asyncpg.Connection
) -> None:
    ivan = await insert_interviewer(db, subject=INTERVIEWER_SUB)
    text = feed(
        event("standup", "DTSTART:20260302T010000Z", "DURATION:PT30M", "RRULE:FREQ=DAILY;COUNT=3")
    )

    response = await scheduler_at_now.client.put(
        f"/v1/interviewers/{ivan}/calendar-feeds/outlook", content=text, headers={**AS_IVAN, **ICS}
    )
    listed = await scheduler_at_now.client.get(
        f"/v1/interviewers/{ivan}/busy-blocks?start=2026-03-01T00:00:00Z&end=2026-03-10T00:00:00Z",
        headers=AS_IVAN,
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "name": "outlook",
        "resource_kind": "interviewer",
        "resource_id": str(ivan),
        "blocks": 3,
        "window_start": "2026-03-01T00:00:00Z",
        "window_end": "2026-08-28T00:00:00Z",
        "imported_at": "2026-03-01T00:00:00Z",
    }
    items = listed.json()["items"]
    assert [(b["starts_at"], b["source"], b["feed_name"]) for b in items] == [
        ("2026-03-02T01:00:00Z", "feed", "outlook"),
        ("2026-03-03T01:00:00Z", "feed", "outlook"),
        ("2026-03-04T01:00:00Z", "feed", "outlook"),
    ]
    # Feed blocks change only by importing again.
    deleted = await scheduler_at_now.client.delete(
        f"/v1/interviewers/{ivan}/busy-blocks/{items[0]['id']}", headers=AS_IVAN
    )
    assert_problem(deleted, 409, "busy-block-from-feed")


async def test_reimporting_a_feed_replaces_its_blocks_and_leaves_other_feeds_alone(
    scheduler_at_now: Running, db: asyncpg.Connection
) -> None:
    ivan = await insert_interviewer(db)
    path = f"/v1/interviewers/{ivan}/calendar-feeds"
    first = feed(
        event("a", "DTSTART:20260302T010000Z", "DURATION:PT1H"),
        event("b", "DTSTART:20260303T010000Z", "DURATION:PT1H"),
    )
    other = feed(event("c", "DTSTART:20260305T010000Z", "DURATION:PT1H"))
    await scheduler_at_now.client.put(f"{path}/work", content=first, headers={**AS_ADMIN, **ICS})
    await scheduler_at_now.client.put(f"{path}/home", content=other, headers={**AS_ADMIN, **ICS})

    again = await scheduler_at_now.client.put(
        f"{path}/work",
        content=feed(event("b", "DTSTART:20260304T010000Z", "DURATION:PT1H")),
        headers={**AS_ADMIN, **ICS},
    )

    assert again.json()["blocks"] == 1
    rows = await db.fetch(
        """SELECT f.name, lower(b.during) AS starts FROM scheduler.busy_blocks b
           JOIN scheduler.calendar_feeds f ON f.id = b.feed_id ORDER BY starts"""
    )
    assert [(r["name"], r["starts"]) for r in rows] == [
        ("work", utc(2026, 3, 4, 1)),
        ("home", utc(2026, 3, 5, 1)),
    ]
    removed = await scheduler_at_now.client.delete(f"{path}/home", headers=AS_ADMIN)
    assert removed.status_code == 204
    assert await db.fetchval("SELECT count(*) FROM scheduler.busy_blocks") == 1


async def test_all_day_feed_event_blocks_the_room_day_in_its_zone(
    scheduler_at_now: Running, db: asyncpg.Connection
) -> None:
    room = await insert_room(db, time_zone="Europe/Berlin")

    response = await scheduler_at_now.client.put(
        f"/v1/rooms/{room}/calendar-feeds/facilities",
        content=feed(event("cleaning", "DTSTART;VALUE=DATE:20260310")),
        headers={**AS_ADMIN, **ICS},
    )

    assert response.status_code == 200, response.text
    row = await db.fetchrow(
        "SELECT lower(during) AS s, upper(during) AS e FROM scheduler.busy_blocks"
    )
    assert (row["s"], row["e"]) == (utc(2026, 3, 9, 23), utc(2026, 3, 10, 23))


async def test_a_malformed_feed_is_refused_with_its_line_and_nothing_changes(
    scheduler_at_now: Running, db: asyncpg.Connection
) -> None:
    ivan = await insert_interviewer(db)
    path = f"/v1/interviewers/{ivan}/calendar-feeds/work"
    await scheduler_at_now.client.put(
        path,
        content=feed(event("a", "DTSTART:20260302T010000Z", "DURATION:PT1H")),
        headers={**AS_ADMIN, **ICS},
    )

    response = await scheduler_at_now.client.put(
        path, content=feed(event("a", "DTSTART:2026-03-02")), headers={**AS_ADMIN, **ICS}
    )

    problem = assert_problem(response, 422, "invalid-icalendar")
    assert problem["line"] == 6
    assert problem["detail"].startswith("line 6: ")
    assert await db.fetchval("SELECT count(*) FROM scheduler.busy_blocks") == 1


async def test_a_feed_must_be_text_calendar(
    scheduler_at_now: Running, db: asyncpg.Connection
) -> None:
    ivan = await insert_interviewer(db)

    response = await scheduler_at_now.client.put(
        f"/v1/interviewers/{ivan}/calendar-feeds/work",
        content=feed(),
        headers={**AS_ADMIN, "Content-Type": "application/json"},
    )

    assert_problem(response, 415, "unsupported-media-type")


async def test_feed_import_access(scheduler_at_now: Running, db: asyncpg.Connection) -> None:
    ivan = await insert_interviewer(db, subject=INTERVIEWER_SUB)
    olga = await insert_interviewer(db, subject="int-olga")
    room = await insert_room(db)
    client = scheduler_at_now.client
    body = feed()

    assert_problem(
        await client.put(f"/v1/interviewers/{ivan}/calendar-feeds/w", content=body, headers=ICS),
        401,
    )
    assert_problem(
        await client.put(
            f"/v1/interviewers/{olga}/calendar-feeds/w", content=body, headers={**AS_IVAN, **ICS}
        ),
        404,
    )
    assert_problem(
        await client.put(
            f"/v1/interviewers/{ivan}/calendar-feeds/w",
            content=body,
            headers={**auth("hr", HR), **ICS},
        ),
        403,
    )
    assert_problem(
        await client.put(
            f"/v1/rooms/{room}/calendar-feeds/w", content=body, headers={**AS_IVAN, **ICS}
        ),
        403,
    )
    assert_problem(
        await client.put(
            f"/v1/interviewers/{ivan}/calendar-feeds/bad%20name",
            content=body,
            headers={**AS_IVAN, **ICS},
        ),
        422,
    )
