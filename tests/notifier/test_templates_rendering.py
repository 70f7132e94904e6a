"""Rendering and checking template sources: the time and word filters, validation with line
numbers, the sandbox and the shape of what comes out. Pure functions, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from notifier.kinds import KINDS
from notifier.templates.rendering import (
    Source,
    TemplateProblem,
    TemplateRenderError,
    compile_source,
    resolve_locale,
    validate,
)

BOOKED = KINDS["interview_booked"]


def render_body(body: str, **data: Any) -> str:
    return compile_source(Source(subject=None, body=body)).render(data).text


def problems(body: str, *, kind: str = "interview_booked", **parts: str | None) -> list[str]:
    source = Source(subject=parts.get("subject", "s"), body=body, html=parts.get("html"))
    return [
        f"{p.field}:{p.line}:{p.message}"
        for p in validate(source, kind=KINDS[kind], channel="email", locale="zh-CN")
    ]


# --------------------------------------------------------------------------------- times


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("zh-CN", "2026年12月1日 周二 10:00"), ("en", "Tue 1 Dec 2026, 10:00")],
)
def test_when_shows_a_local_time_in_the_locale(locale: str, expected: str) -> None:
    text = render_body(
        "{{ t | when }}", t="2026-12-01T02:00:00Z", time_zone="Asia/Shanghai", locale=locale
    )

    assert text == expected


def test_when_takes_its_zone_and_locale_as_arguments_over_the_template_variables() -> None:
    text = render_body(
        "{{ t | when('Europe/Berlin', 'en') }}",
        t="2026-12-01T10:00:00+08:00",
        time_zone="Asia/Shanghai",
        locale="zh-CN",
    )

    assert text == "Tue 1 Dec 2026, 03:00"


def test_when_without_a_zone_shows_the_time_at_its_own_offset() -> None:
    assert render_body("{{ t | when }}", t="2026-12-03T18:00:00+08:00") == (
        "2026年12月3日 周四 18:00"
    )


def test_when_accepts_datetimes_and_reads_naive_ones_as_utc() -> None:
    aware = render_body(
        "{{ t | when(locale='en') }}",
        t=datetime(2026, 12, 1, 2, tzinfo=UTC),
        time_zone="Asia/Tokyo",
    )
    naive = render_body(
        "{{ t | when(locale='en') }}", t=datetime(2026, 12, 1, 2), time_zone="Asia/Tokyo"
    )

    assert aware == naive == "Tue 1 Dec 2026, 11:00"


def test_an_empty_time_shows_as_nothing() -> None:
    assert render_body("[{{ t | when }}][{{ t | day }}][{{ t | clock }}]", t="") == "[][][]"


def test_day_clock_and_span() -> None:
    data = {
        "a": "2026-12-01T10:00:00+08:00",
        "b": "2026-12-01T10:45:00+08:00",
        "c": "2026-12-02T09:00:00+08:00",
        "time_zone": "Asia/Shanghai",
        "locale": "en",
    }

    text = render_body(
        "{{ a | day }}|{{ a | clock }}|{{ a | span(b) }}|{{ a | span(c) }}|"
        "{{ a | span(b, locale='zh-CN') }}",
        **data,
    )

    assert text.split("|") == [
        "Tue 1 Dec 2026",
        "10:00",
        "Tue 1 Dec 2026, 10:00\u201310:45",
        "Tue 1 Dec 2026, 10:00 \u2013 Wed 2 Dec 2026, 09:00",
        "2026年12月1日 周二 10:00\u201310:45",
    ]


@pytest.mark.parametrize(
    ("zone", "locale", "expected"),
    [
        ("Asia/Shanghai", "zh-CN", "北京时间"),
        ("Asia/Shanghai", "en", "China Time"),
        ("Europe/Berlin", "en", "Central European Time"),
        ("UTC", "zh-CN", "UTC"),
        ("", "en", ""),
    ],
)
def test_zone_names_a_time_zone_for_readers(zone: str, locale: str, expected: str) -> None:
    assert render_body("{{ time_zone | zone }}", time_zone=zone, locale=locale) == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("next Tuesday", "when needs an RFC 3339 time; the value is not one."),
        (42, "when needs an RFC 3339 time; the value is a int."),
    ],
)
def test_a_time_that_is_not_one_fails_without_showing_the_value(value: object, reason: str) -> None:
    with pytest.raises(TemplateRenderError) as raised:
        render_body("line one\n{{ t | when }}", t=value)

    assert str(raised.value) == f"body line 2: {reason}"
    assert (raised.value.part, raised.value.line) == ("body", 2)


def test_an_unknown_time_zone_fails() -> None:
    with pytest.raises(TemplateRenderError, match="not a known IANA zone"):
        render_body("{{ t | when('Mars/Olympus_Mons') }}", t="2026-12-01T10:00:00Z")


# --------------------------------------------------------------------------------- words


@pytest.mark.parametrize(
    ("key", "zh", "en"),
    [
        ("round_2", "二面", "second-round interview"),
        ("round1", "一面", "first-round interview"),
        ("round_12", "第12轮面试", "round 12 interview"),
        ("ai_interview", "AI 面试", "AI interview"),
        ("background_check", "背景调查", "background check"),
        ("culture_fit", "culture fit", "culture fit"),
    ],
)
def test_stage_keys_are_shown_in_words(key: str, zh: str, en: str) -> None:
    text = render_body("{{ k | stage_name }}|{{ k | stage_name('en') }}", k=key, locale="zh-CN")

    assert text.split("|") == [zh, en]


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        ("2h", "2 小时", "2 hours"),
        ("1d", "1 天", "1 day"),
        ("30m", "30 分钟", "30 minutes"),
        ("1d12h", "1 天 12 小时", "1 day 12 hours"),
        ("1h", "1 小时", "1 hour"),
    ],
)
def test_duration_reads_a_reminder_offset(value: str, zh: str, en: str) -> None:
    text = render_body("{{ r | duration }}|{{ r | duration('en') }}", r=value, locale="zh-CN")

    assert text.split("|") == [zh, en]


@pytest.mark.parametrize("value", ["soon", "2x", "", "2h later"])
def test_duration_refuses_what_is_not_an_offset(value: str) -> None:
    with pytest.raises(TemplateRenderError, match="duration needs a value such as 1d"):
        render_body("{{ r | duration }}", r=value, locale="en")


def test_kind_and_channel_names() -> None:
    text = render_body(
        "{{ k | kind_name }}|{{ c | channel_names }}|{{ k | kind_name('en') }}|"
        "{{ c | channel_names('en') }}|{{ three | channel_names('en') }}|"
        "{{ 'sms' | channel_names }}",
        k="interview_invitation",
        c=["in_app", "sms"],
        three=["in_app", "sms", "email"],
        locale="zh-CN",
    )

    assert text.split("|") == [
        "面试邀请",
        "站内消息、短信",
        "interview invitation",
        "in-app message and text message",
        "in-app message, text message and email",
        "短信",
    ]


def test_every_kind_has_a_name_in_both_locales() -> None:
    for kind in KINDS:
        for locale in ("zh-CN", "en"):
            name = render_body("{{ k | kind_name }}", k=kind, locale=locale)
            assert name
            assert "_" not in name


def test_clause_drops_the_full_stop_a_reason_was_written_with() -> None:
    text = render_body(
        "原因：{{ a | clause }}。Reason: {{ b | clause }}.",  # noqa: RUF001
        a="经验不足。",
        b="Not enough experience. ",
    )

    assert text == "原因：经验不足。Reason: Not enough experience."  # noqa: RUF001


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("zh-CN", "zh-CN"),
        ("en", "en"),
        ("en-US", "en"),
        ("en_GB", "en"),
        ("EN", "en"),
        ("zh", "zh-CN"),
        ("zh-Hans", "zh-CN"),
        ("fr", "zh-CN"),
        ("", "zh-CN"),
        (None, "zh-CN"),
    ],
)
def test_locales_resolve_to_a_known_one(given: str | None, used: str) -> None:
    assert resolve_locale(given) == used


# --------------------------------------------------------------------------------- output


def test_only_the_html_part_is_escaped() -> None:
    compiled = compile_source(
        Source(subject="{{ job_title }}", body="{{ job_title }}", html="<p>{{ job_title }}</p>")
    )

    parts = compiled.render({"job_title": "R&D <Lead>"})

    assert parts.subject == "R&D <Lead>"
    assert parts.text == "R&D <Lead>"
    assert parts.html == "<p>R&amp;D &lt;Lead&gt;</p>"


def test_a_subject_is_one_line_whatever_the_data_holds() -> None:
    compiled = compile_source(Source(subject="Hi {{ recipient_name }}\n", body="x"))

    parts = compiled.render({"recipient_name": "Li\r\nBcc: someone"})

    assert parts.subject == "Hi Li Bcc: someone"


def test_text_keeps_at_most_one_blank_line_and_no_trailing_spaces() -> None:
    body = "Hello   \n{% if a %}\n\nA\n{% endif %}\n\n\n\n{% if b %}B{% endif %}\n\nEnd\n\n"

    assert render_body(body, a=True, b=False) == "Hello\n\nA\n\nEnd"


def test_block_tags_on_their_own_lines_leave_no_blank_lines() -> None:
    body = "Slots:\n{% for s in slots %}\n- {{ s }}\n{% endfor %}\nEnd"

    assert render_body(body, slots=["a", "b"]) == "Slots:\n- a\n- b\nEnd"


def test_a_missing_variable_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(TemplateRenderError) as raised:
        render_body("Dear\n{{ recipient_name }},", job_title="x")

    assert str(raised.value) == "body line 2: 'recipient_name' is undefined"


@pytest.mark.parametrize(
    "body",
    [
        "{{ {}[recipient_name] }}",
        "{{ steps[recipient_name] }}",
        "{{ recipient_name.encode('ascii') }}",
        "{{ recipient_name | int + recipient_name }}",
    ],
)
def test_a_render_error_does_not_carry_the_values(body: str) -> None:
    with pytest.raises(TemplateRenderError) as raised:
        render_body("x\n" + body, recipient_name="李雷 alice@example.com", steps={"a": 1})

    assert str(raised.value).startswith("body line 2: ")
    assert "alice" not in str(raised.value)
    assert "李" not in str(raised.value)


# --------------------------------------------------------------------------------- sandbox


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{{ job_title.__class__ }}", "unsafe"),
        ("{{ job_title.__class__.__mro__ }}", "unsafe"),
        ("{{ 'x' * 100000 }}", "Numbers above 10000"),
        ("{{ job_title * 50000 }}", "Numbers above 10000"),
        ("{{ 2 ** 1000 }}", "Powers above 64"),
        ("{{ job_title.center(1000000) }}", "Numbers above 10000"),
        ("{{ job_title | center(1000000) }}", "Numbers above 10000"),
        ("{{ '%99999s' % job_title }}", "Format widths"),
        ("{{ '%99999s' | format(job_title) }}", "Format widths"),
        ("{% for i in range(5000) %}{% endfor %}", r"range\(\) may make at most"),
        ("{{ next_steps.append('x') }}", "unsafe"),
        ("{{ cycler }}", "undefined"),
    ],
)
def test_the_sandbox_refuses_what_a_message_never_needs(body: str, reason: str) -> None:
    with pytest.raises(TemplateRenderError, match=reason):
        render_body(body, job_title="Engineer", next_steps=[])


def test_the_sandbox_still_allows_ordinary_template_work() -> None:
    text = render_body(
        "{% set ns = namespace(n=0) %}{% for s in steps %}{% set ns.n = ns.n + 1 %}{% endfor %}"
        "{{ ns.n }} {{ steps | join(', ') | upper }} {{ '%-3s|' % 'a' }} {{ 3 * 'ab' }}"
        " {{ range(3) | list }} {{ title | truncate(9) }}",
        steps=["a", "b"],
        title="A long job title",
    )

    assert text == "2 A, B a  | ababab [0, 1, 2] A..."


# --------------------------------------------------------------------------------- validation


def test_a_valid_source_has_no_problems() -> None:
    body = (
        "{% set online = location == 'online' %}\n"
        "{{ recipient_name }} {{ starts_at | span(ends_at) }} {{ 'online' if online }}\n"
        "{% for word in ['a', 'b'] %}{{ loop.index }}{{ word }}{% endfor %}\n"
        "{% macro row(label) %}{{ label }}: {{ caller() }}{% endmacro %}\n"
        "{% call row('Where') %}{{ location }}{% endcall %}\n"
        "{% with n = interviewer_count %}{{ n }}{% endwith %}"
    )

    assert problems(body) == []


def test_a_syntax_error_is_refused_with_its_line() -> None:
    assert problems("Hello\n{% if recipient_name %}\n{{ job_title }") == [
        "body:3:syntax error: unexpected '}'"
    ]


def test_an_unclosed_block_is_refused_with_the_line_it_was_noticed_on() -> None:
    [problem] = problems("{% if rescheduled %}\nMoved\n")

    assert problem.startswith("body:")
    assert "syntax error" in problem
    assert "endif" in problem


def test_unknown_variables_are_refused_each_with_its_first_line() -> None:
    body = "Hi {{ recipient_name }}\n\n{{ candidate_nme }}\n{{ salary }} and {{ candidate_nme }}"

    assert problems(body) == [
        "body:3:unknown variable 'candidate_nme'",
        "body:4:unknown variable 'salary'",
    ]


def test_variables_of_another_kind_are_unknown() -> None:
    # pick_url belongs to invitations, not to bookings.
    assert problems("{{ pick_url }}") == ["body:1:unknown variable 'pick_url'"]


def test_a_name_declared_in_a_scope_is_unknown_outside_it() -> None:
    body = (
        "{% for slot in [1] %}{{ slot }}{{ loop.index }}{% endfor %}\n"
        "{{ slot }}\n"
        "{% with n = 1 %}{{ n }}{% endwith %}\n"
        "{{ n }} {{ loop.index }}"
    )

    assert problems(body) == [
        "body:2:unknown variable 'slot'",
        "body:4:unknown variable 'loop'",
        "body:4:unknown variable 'n'",
    ]


def test_problems_in_every_part_are_reported_with_their_part() -> None:
    found = problems("ok", subject="{{ subjekt }}", html="<p>\n{{ htm }}</p>")

    assert found == ["subject:1:unknown variable 'subjekt'", "html:2:unknown variable 'htm'"]


def test_unknown_filters_and_tests_are_refused_with_their_line() -> None:
    body = "{{ job_title | shout }}\n{% if variant %}{{ job_title | whisper }}{% endif %}\n" + (
        "{% if variant is prime %}x{% endif %}"
    )

    assert problems(body) == [
        "body:1:unknown filter 'shout'",
        "body:2:unknown filter 'whisper'",
        "body:3:unknown test 'prime'",
    ]


def test_an_unknown_filter_and_an_unknown_variable_are_both_reported() -> None:
    assert problems("{{ job_title | shout }}\n{{ salary }}") == [
        "body:1:unknown filter 'shout'",
        "body:2:unknown variable 'salary'",
    ]


@pytest.mark.parametrize(
    ("body", "tag"),
    [
        ("{% include 'footer' %}", "include"),
        ("{% extends 'base' %}", "extends"),
        ("{% import 'macros' as m %}", "import"),
        ("{% from 'macros' import row %}", "import"),
    ],
)
def test_templates_cannot_load_other_templates(body: str, tag: str) -> None:
    assert problems("x\n" + body) == [f"body:2:'{tag}' is not available here"]


def test_a_source_that_fails_with_the_sample_data_is_refused_with_the_line() -> None:
    body = "Hello\n{{ job_title }}\n{{ starts_at | when('Mars/Olympus') }}"

    assert problems(body) == [
        "body:3:fails with the kind's sample data: The time zone is not a known IANA zone name."
    ]


def test_the_trial_render_tries_each_reminder_variant() -> None:
    body = "{% if variant == 2 %}{{ starts_at | duration }}{% endif %}"

    [problem] = problems(body, kind="interview_reminder")

    assert problem.startswith("body:1:fails with the kind's sample data: duration needs")


@pytest.mark.parametrize(
    ("channel", "source", "expected"),
    [
        ("sms", Source(subject="Hi", body="x"), ["subject:None:sms templates have no subject."]),
        (
            "chat",
            Source(subject=None, body="x", html="<p>"),
            ["html:None:chat templates have no html."],
        ),
        (
            "in_app",
            Source(subject="s", body="x", html="<p>"),
            ["html:None:in_app templates have no html."],
        ),
        (
            "in_app",
            Source(subject=None, body="x"),
            ["subject:None:in_app templates need a subject."],
        ),
        (
            "email",
            Source(subject=" ", body=""),
            [
                "subject:None:email templates need a subject.",
                "body:None:email templates need a body.",
            ],
        ),
    ],
)
def test_each_channel_takes_only_its_parts(
    channel: str, source: Source, expected: list[str]
) -> None:
    found = validate(source, kind=BOOKED, channel=channel, locale="en")

    assert [f"{p.field}:{p.line}:{p.message}" for p in found] == expected
    assert all(p.code in ("missing_part", "part_not_allowed") for p in found)


def test_a_problem_reads_with_its_line() -> None:
    problem = TemplateProblem("body", 3, "unknown variable 'candidate_nme'", "unknown_variable")

    assert str(problem) == "line 3: unknown variable 'candidate_nme'"
    assert str(TemplateProblem("subject", None, "sms templates have no subject.", "x")) == (
        "sms templates have no subject."
    )
