"""Sorted, disjoint, half-open integer intervals ``[start, end)`` and the sweeps over them.

Every function takes normalised lists (sorted, disjoint, non-empty, not touching) and returns
one, in time linear in its inputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

Span = tuple[int, int]
Spans = list[Span]


def normalise(spans: Iterable[Span]) -> Spans:
    """Sort and merge overlapping or touching intervals; drop empty ones."""
    out: Spans = []
    append = out.append
    current_start = current_end = 0
    opened = False
    for start, end in sorted(spans):
        if start >= end:
            continue
        if not opened:
            current_start, current_end, opened = start, end, True
        elif start <= current_end:
            if end > current_end:
                current_end = end
        else:
            append((current_start, current_end))
            current_start, current_end = start, end
    if opened:
        append((current_start, current_end))
    return out


def intersect(a: Sequence[Span], b: Sequence[Span]) -> Spans:
    out: Spans = []
    i = j = 0
    while i < len(a) and j < len(b):
        a0, a1 = a[i]
        b0, b1 = b[j]
        lo = a0 if a0 > b0 else b0
        hi = a1 if a1 < b1 else b1
        if lo < hi:
            out.append((lo, hi))
        if a1 < b1:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Sequence[Span], b: Sequence[Span]) -> Spans:
    out: Spans = []
    append = out.append
    count = len(b)
    j = 0
    for start, end in a:
        while j < count and b[j][1] <= start:
            j += 1
        k = j
        cursor = start
        while k < count:
            cut_start, cut_end = b[k]
            if cut_start >= end:
                break
            if cut_start > cursor:
                append((cursor, cut_start))
            if cut_end > cursor:
                cursor = cut_end
            k += 1
        if cursor < end:
            append((cursor, end))
    return out


def at_least(sets: Sequence[Sequence[Span]], k: int) -> Spans:
    """Where at least ``k`` of the sets cover (a sweep over their edges)."""
    if k <= 0:
        return [(-(2**62), 2**62)]
    if k > len(sets):
        return []
    edges: list[tuple[int, int]] = []
    for spans in sets:
        for start, end in spans:
            edges.append((start, 1))
            edges.append((end, -1))
    # At one instant ends come before starts (-1 < 1), so half-open ends do not count.
    edges.sort()
    out: Spans = []
    depth = 0
    opened = 0
    for at, delta in edges:
        before = depth
        depth += delta
        if before < k <= depth:
            opened = at
        elif depth < k <= before and opened < at:
            if out and out[-1][1] == opened:
                out[-1] = (out[-1][0], at)
            else:
                out.append((opened, at))
    return out


def starts_within(free: Sequence[Span], *, before: int, length: int) -> Spans:
    """The starts ``s`` for which ``[s - before, s + length)`` lies inside one free interval,
    as half-open spans over integer seconds."""
    out: Spans = []
    for start, end in free:
        first = start + before
        last = end - length  # inclusive: the meeting may end exactly at ``end``
        if first <= last:
            out.append((first, last + 1))
    return out
