"""The timeline as a plain function: which stages are done, skipped, current or ahead, and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from pipeline.portal import i18n
from pipeline.portal.timeline import Change, build
from shared.calendar import CHINA, END_OF_DAY

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 9, 10, tzinfo=SHANGHAI)
KEYS = ["a", "b", "c", "d", "e"]
STAGES: list[dict[str, Any]] = [
    {"key": key, "kind": "interview", "name_zh": key, "name_en": key, "sla_days": 2} for key in KEYS
]


def _build(stage_key: str, changes: list[Change], status: str = "active", **kw: Any) -> Any:
    entered = changes[-1].occurred_at if changes else MONDAY
    return build(
        stages=STAGES,
        stage_key=stage_key,
        status=status,
        stage_entered_at=kw.get("entered", entered),
        created_at=MONDAY,
        changes=changes,
        calendar=CHINA,
        now=kw.get("now", MONDAY),
    )


def test_a_stage_moved_back_to_is_current_again_and_the_ones_after_it_are_ahead() -> None:
    changes = [
        Change("a", "b", MONDAY + timedelta(days=1)),
        Change("b", "c", MONDAY + timedelta(days=2)),
        Change("c", "b", MONDAY + timedelta(days=3)),
    ]

    timeline = _build("b", changes)

    assert [(e.key, e.state) for e in timeline.entries] == [
        ("a", "done"),
        ("b", "current"),
        ("c", "upcoming"),
        ("d", "upcoming"),
        ("e", "upcoming"),
    ]
    assert timeline.entries[1].entered_at == MONDAY + timedelta(days=3)


def test_a_rejection_in_place_keeps_the_stage_visit_open_and_ends_the_timeline() -> None:
    changes = [
        Change("a", "b", MONDAY + timedelta(days=1)),
        Change("b", "b", MONDAY + timedelta(days=2)),
    ]

    timeline = _build("b", changes, status="rejected", entered=MONDAY + timedelta(days=1))

    assert [(e.key, e.state) for e in timeline.entries] == [("a", "done"), ("b", "ended")]
    assert timeline.entries[0].left_at == MONDAY + timedelta(days=1)
    assert timeline.entries[1].expected_by is None


def test_the_first_stage_of_a_new_application_was_entered_when_it_was_created() -> None:
    timeline = _build("b", [Change("a", "b", MONDAY + timedelta(days=1))])

    assert (timeline.entries[0].entered_at, timeline.entries[0].left_at) == (
        MONDAY,
        MONDAY + timedelta(days=1),
    )


@given(
    current=st.integers(min_value=0, max_value=len(KEYS) - 1),
    hours_later=st.integers(min_value=0, max_value=24 * 30),
)
def test_an_active_application_has_one_current_stage_with_the_others_in_order(
    current: int, hours_later: int
) -> None:
    changes = [
        Change(KEYS[i], KEYS[i + 1], MONDAY + timedelta(hours=i + 1)) for i in range(current)
    ]
    now = MONDAY + timedelta(hours=current + hours_later)

    timeline = _build(KEYS[current], changes, now=now)

    states = [entry.state for entry in timeline.entries]
    assert states == ["done"] * current + ["current"] + ["upcoming"] * (len(KEYS) - current - 1)
    dates = [entry.expected_by for entry in timeline.entries[current:]]
    assert all(d is not None and d.timetz().replace(tzinfo=None) == END_OF_DAY for d in dates)
    assert dates == sorted(dates)
    assert timeline.entries[current].overdue == (now > dates[0])


def test_language_negotiation_picks_the_best_of_chinese_and_english() -> None:
    assert i18n.negotiate(None) == "zh-CN"
    assert i18n.negotiate("en-GB") == "en"
    assert i18n.negotiate("zh-CN;q=0.4, en;q=0.8") == "en"
    assert i18n.negotiate("en;q=0, zh") == "zh-CN"
    assert i18n.negotiate("fr, de") == "zh-CN"
    assert i18n.negotiate("en;q=abc, zh;q=0.1") == "zh-CN"


def test_review_text_shows_china_time() -> None:
    expected_by = datetime(2026, 3, 17, 10, tzinfo=UTC)

    assert i18n.under_review(expected_by, "en") == (
        "Under review, expected by 2026-03-17 18:00 (China time)"
    )
    assert i18n.under_review(None, "zh-CN") == "结果审核中"
