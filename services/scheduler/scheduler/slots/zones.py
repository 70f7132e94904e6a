"""A time zone's UTC offset over a range, as segments of constant offset, so local wall time is
an addition instead of a ``zoneinfo`` call per instant (DST switches are found once)."""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY = 86_400
# Ordinal of 1970-01-01, so a local day index converts to a ``date`` by addition.
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _offset(zone: ZoneInfo, at: int) -> int:
    delta = datetime.fromtimestamp(at, zone).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


class ZoneOffsets:
    """Offsets of ``zone`` from ``start`` to ``end`` (epoch seconds). Transitions are found by
    sampling every 12 hours and bisecting to the second where the offset changed; zones change
    offset at most twice a year, never twice within 12 hours."""

    __slots__ = ("_offsets", "_starts", "zone")

    def __init__(self, zone: ZoneInfo, start: int, end: int) -> None:
        self.zone = zone
        self._starts = [start - 2 * DAY]
        self._offsets = [_offset(zone, start - 2 * DAY)]
        probe = start - 2 * DAY
        stop = end + 2 * DAY
        step = DAY // 2
        while probe < stop:
            following = probe + step
            current = _offset(zone, following)
            if current != self._offsets[-1]:
                lo, hi = probe, following  # offset at lo is old, at hi is new
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if _offset(zone, mid) == self._offsets[-1]:
                        lo = mid
                    else:
                        hi = mid
                self._starts.append(hi)
                self._offsets.append(current)
            probe = following

    def offset(self, at: int) -> int:
        return self._offsets[bisect_right(self._starts, at) - 1]

    def local(self, at: int) -> int:
        """Local wall time as seconds since the local epoch."""
        return at + self.offset(at)

    def segments(self, start: int, end: int) -> list[tuple[int, int, int]]:
        """``(from, to, offset)`` pieces of ``[start, end)`` with a constant offset."""
        out: list[tuple[int, int, int]] = []
        index = bisect_right(self._starts, start) - 1
        cursor = start
        while cursor < end:
            following = self._starts[index + 1] if index + 1 < len(self._starts) else end
            upto = min(following, end)
            if cursor < upto:
                out.append((cursor, upto, self._offsets[index]))
            cursor = upto
            index += 1
        return out

    def wall_to_utc(self, day: date, at: time) -> int:
        """The instant of a local wall time (a time skipped by a DST switch is read with the
        offset before the switch, like ``zoneinfo`` with ``fold=0``)."""
        return int(datetime.combine(day, at, self.zone).timestamp())

    def day_start(self, day: date) -> int:
        return self.wall_to_utc(day, time(0))

    def day_of(self, at: int) -> date:
        return date.fromordinal(EPOCH_ORDINAL + self.local(at) // DAY)


def to_seconds(value: datetime) -> int:
    return int(value.timestamp())


def from_seconds(value: int) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]
