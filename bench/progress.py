"""Following a service through a backlog: a count polled until it reaches its target, and the
timeline of that count kept for the JSON.

Shared by the parts that time a burst from outside the process (expiries, talent pool
ingestion), so they poll, give up and thin their timelines the same way.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench.processes import Child

Timeline = list[tuple[float, int]]


async def poll_count(
    connection: Any,
    query: str,
    *args: Any,
    target: int,
    child: Child,
    since: float,
    timeout_s: float,
    interval_s: float,
    what: str,
) -> tuple[Timeline, float]:
    """Run ``query`` (a count) every ``interval_s`` until it reaches ``target``, failing early
    when ``child`` dies or after ``timeout_s`` ("N of M <what> after T s").

    Returns the timeline, (seconds since ``since``, count) per poll, and the wall-clock time of
    the last poll: the end of the window, overstated by at most one interval.
    """
    timeline: Timeline = []
    deadline = time.monotonic() + timeout_s
    while True:
        count = int(await connection.fetchval(query, *args))
        now = time.time()
        timeline.append((round(now - since, 3), count))
        if count >= target:
            return timeline, now
        child.check_alive()
        if time.monotonic() > deadline:
            raise RuntimeError(f"{count:,} of {target:,} {what} after {timeout_s:.0f} s")
        await asyncio.sleep(interval_s)


def per_second(timeline: Timeline) -> Timeline:
    """The first poll of every second and the last poll: every second is enough for the JSON."""
    first: dict[int, tuple[float, int]] = {}
    for at, count in timeline:
        first.setdefault(int(at), (at, count))
    return [*first.values(), timeline[-1]]
