"""The built-in templates: one for every kind, channel and locale; each passes validation and
renders with its kind's sample data (and with the data that takes its other branches), in the
right language; reminders never repeat their wording on consecutive sends."""

from __future__ import annotations

import re
from typing import Any

import pytest

from notifier.kinds import KINDS, LOCALES, TEMPLATED_CHANNELS
from notifier.templates.defaults import BUILTIN, defaults
from notifier.templates.rendering import CHANNEL_PARTS, RenderedParts, compile_source, validate
from tests.notifier.templates_support import ENGLISH_DATA

KEYS = [
    (kind, channel, locale)
    for kind in KINDS
    for channel in TEMPLATED_CHANNELS
    for locale in LOCALES
]
REMINDERS = ("interview_reminder", "invitation_reminder")
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")

# Data that takes each kind's other branches: empty optional values, the other invitation
# kind, a final expiry, a room instead of online, a reschedule, one interviewer...
BRANCHES: dict[str, list[dict[str, Any]]] = {
    "stage_passed": [
        {"next_steps": [], "to_stage_kind": kind, "recipient_name": ""}
        for kind in ("ai_interview", "assessment", "background_check", "offer", "hired")
    ],
    "rejected": [{"reason": "", "reason_code": ""}],
    "result_under_review": [{"expected_by": ""}],
    "approval_requested": [{"position": 2, "due_at": ""}],
    "interview_invitation": [{"slots": []}],
    "invitation_reminder": [{"invitation_kind": "ai_interview", "pick_url": ""}],
    "invite_expired": [
        {"invitation_kind": "live_interview", "final": True, "makeup_until": ""},
        {"final": False, "makeup_until": ""},
    ],
    "interview_booked": [
        {"location": "Everest, floor 12", "rescheduled": True, "interviewer_count": 1}
    ],
    "interview_cancelled": [{"reason": "面试官临时出差"}],
    "interview_reminder": [{"reminder": "1d"}],
    "message_unanswered": [{"waited_hours": 1}],
    "unread_follow_up": [{"channels_tried": ["email"]}],
}


def render(kind: str, channel: str, locale: str, **data: Any) -> RenderedParts:
    source = defaults()[(kind, channel, locale)]
    variables = {**KINDS[kind].sample_data(), "locale": locale, **data}
    return compile_source(source).render(variables)


def texts(parts: RenderedParts) -> list[str]:
    return [text for text in (parts.subject, parts.text, parts.html) if text is not None]


def test_there_is_a_default_for_every_kind_channel_and_locale_and_nothing_else() -> None:
    assert sorted(defaults()) == sorted(KEYS)
    on_disk = {path.name for path in BUILTIN.iterdir() if path.is_dir()}
    assert on_disk == set(LOCALES)
    for locale in LOCALES:
        kinds_on_disk = {path.name for path in (BUILTIN / locale).iterdir() if path.is_dir()}
        assert kinds_on_disk == set(KINDS)
        for kind in KINDS:
            files = {path.name for path in (BUILTIN / locale / kind).iterdir()}
            expected = {f"{c}.{part}" for c in TEMPLATED_CHANNELS for part in CHANNEL_PARTS[c]}
            assert files == expected, (locale, kind)


def test_defaults_are_loaded_once() -> None:
    assert defaults() is defaults()


@pytest.mark.parametrize(("kind", "channel", "locale"), KEYS)
def test_every_default_passes_validation(kind: str, channel: str, locale: str) -> None:
    source = defaults()[(kind, channel, locale)]

    assert validate(source, kind=KINDS[kind], channel=channel, locale=locale) == []


@pytest.mark.parametrize(("kind", "channel", "locale"), KEYS)
def test_every_default_renders_with_sample_data_and_every_branch(
    kind: str, channel: str, locale: str
) -> None:
    for data in [{}, *BRANCHES.get(kind, [])]:
        for variant in (0, 1, 2):
            parts = render(kind, channel, locale, variant=variant, **data)

            assert parts.text
            assert (parts.subject is not None) == (channel in ("email", "in_app"))
            assert (parts.html is not None) == (channel == "email")
            for text in texts(parts):
                assert "{{" not in text
                assert "{%" not in text
                assert "None" not in text
                assert "[[content]]" not in text
            if parts.subject is not None:
                assert parts.subject.strip()
                assert "\n" not in parts.subject
            assert "\n\n\n" not in parts.text


@pytest.mark.parametrize(("kind", "channel"), [(k, c) for k in KINDS for c in TEMPLATED_CHANNELS])
def test_english_defaults_are_in_english_and_chinese_ones_in_chinese(
    kind: str, channel: str
) -> None:
    for data in [{}, *BRANCHES.get(kind, [])]:
        english = {**data, **ENGLISH_DATA}
        if data.get("reason"):
            english["reason"] = "the interviewer is travelling"
        for variant in (0, 1, 2):
            parts = render(kind, channel, "en", variant=variant, **english)
            for text in texts(parts):
                assert not CJK.findall(text), (kind, channel, variant, text)
            chinese = render(kind, channel, "zh-CN", variant=variant, **data)
            assert CJK.search(chinese.text)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_html_default_is_a_whole_document_in_its_language(locale: str) -> None:
    for kind in KINDS:
        html = render(kind, "email", locale).html

        assert html is not None
        assert html.startswith("<!DOCTYPE html>")
        assert f'<html lang="{locale}">' in html
        assert html.rstrip().endswith("</html>")


def test_data_is_escaped_in_html_and_left_alone_in_text() -> None:
    parts = render("interview_booked", "email", "en", job_title="R&D <Lead>", location="A<B>")

    assert parts.html is not None
    assert "R&amp;D &lt;Lead&gt;" in parts.html
    assert "A&lt;B&gt;" in parts.html
    assert "<Lead>" not in parts.html
    assert "R&D <Lead>" in parts.text


@pytest.mark.parametrize(("locale", "limit"), [("zh-CN", 120), ("en", 200)])
def test_text_messages_are_short(locale: str, limit: int) -> None:
    for kind in KINDS:
        for variant in (0, 1, 2):
            text = render(kind, "sms", locale, variant=variant).text
            assert len(text) <= limit, (kind, variant, len(text))
            assert "\n" not in text


@pytest.mark.parametrize("kind", REMINDERS)
@pytest.mark.parametrize("channel", TEMPLATED_CHANNELS)
@pytest.mark.parametrize("locale", LOCALES)
def test_reminders_never_repeat_their_wording_on_consecutive_sends(
    kind: str, channel: str, locale: str
) -> None:
    for data in [{}, *BRANCHES.get(kind, [])]:
        sent = [render(kind, channel, locale, variant=n, **data) for n in range(9)]

        for n in range(8):
            assert sent[n].text != sent[n + 1].text, (n, sent[n].text)
            if sent[n].subject is not None:
                assert sent[n].subject != sent[n + 1].subject
        # At least three phrasings, so any three sends in a row differ from each other.
        assert len({parts.text for parts in sent[:3]}) == 3


def test_interview_reminders_say_how_long_is_left() -> None:
    for reminder, zh, en in (("1d", "1 天", "1 day"), ("2h", "2 小时", "2 hours")):
        for variant in (0, 1):
            assert (
                zh
                in render(
                    "interview_reminder", "sms", "zh-CN", reminder=reminder, variant=variant
                ).text
            )
            assert (
                en
                in render(
                    "interview_reminder", "sms", "en", reminder=reminder, variant=variant
                ).text
            )


def test_an_invitation_names_its_slots_link_and_deadline() -> None:
    text = render("interview_invitation", "email", "zh-CN").text

    assert "2026年12月1日 周二 10:00\u201310:45" in text
    assert "2026年12月2日 周三 14:00\u201314:45" in text
    assert "https://careers.example.com/pick/abc" in text
    assert "2026年11月30日 周一 18:00" in text


def test_a_booking_names_its_time_place_and_panel() -> None:
    online = render("interview_booked", "email", "en").text
    in_room = render(
        "interview_booked", "email", "en", location="Everest, floor 12", interviewer_count=1
    ).text

    assert "When: Tue 1 Dec 2026, 10:00\u201310:45 (China Time)" in online
    assert "Where: Online (video call)" in online
    assert "Panel: 2 interviewers" in online
    assert "Where: Everest, floor 12" in in_room
    assert "Panel: 1 interviewer\n" in in_room


def test_a_rejection_gives_its_reason_only_when_there_is_one() -> None:
    with_reason = render("rejected", "email", "en", reason="Not enough Go experience.").text
    without = render("rejected", "email", "en", reason="").text

    assert "The main reason: Not enough Go experience." in with_reason
    assert "reason" not in without.lower()
    assert "this time." in without


def test_a_pass_lists_the_next_steps() -> None:
    text = render(
        "stage_passed", "in_app", "en", next_steps=["Send your diploma", "Book a call"]
    ).text

    assert "1. Send your diploma\n2. Book a call" in text


def test_under_review_says_when_it_is_expected() -> None:
    assert "Thu 3 Dec 2026, 18:00" in render("result_under_review", "in_app", "en").text
    assert "预计" not in render("result_under_review", "in_app", "zh-CN", expected_by="").text
