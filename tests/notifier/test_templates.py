"""Template routes: staff read, admins and scoped HR save and activate versions, anyone on the
staff previews; and ``service.render``, which every message goes through."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from notifier.kinds import KINDS, LOCALES, TEMPLATED_CHANNELS
from notifier.templates import service
from notifier.templates.defaults import default
from notifier.templates.rendering import compile_source
from tests.notifier.templates_support import (
    ADMIN,
    HR,
    HR_EDITOR,
    INTERVIEWER,
    templates_api,
)
from tests.support.problems import assert_problem
from tests.support.running import Running
from tests.support.tokens import auth

BASE = "/v1/templates"
SMS_EN = f"{BASE}/interview_booked/sms/en"
EMAIL_ZH = f"{BASE}/interview_booked/email/zh-CN"
SMS_BODY = "{{ job_title }} at {{ starts_at | when }}, {{ location }}"


@pytest.fixture
async def templates_http() -> AsyncIterator[Running]:
    async with templates_api() as service_:
        yield service_


async def save(
    http: Running, path: str = SMS_EN, headers: dict[str, str] | None = None, **body: Any
) -> dict[str, Any]:
    response = await http.client.post(
        f"{path}/versions", json=body or {"body": SMS_BODY}, headers=headers or ADMIN
    )
    assert response.status_code == 201, response.text
    saved: dict[str, Any] = response.json()
    return saved


async def preview(http: Running, path: str = SMS_EN, **body: Any) -> dict[str, Any]:
    response = await http.client.post(f"{path}/preview", json=body, headers=HR)
    assert response.status_code == 200, response.text
    shown: dict[str, Any] = response.json()
    return shown


# --------------------------------------------------------------------------------- listing


async def test_staff_list_every_kind_channel_and_locale_with_the_version_in_force(
    templates_http: Running,
) -> None:
    await save(templates_http)
    await save(templates_http)
    await templates_http.client.post(f"{SMS_EN}/versions/1/activate", headers=ADMIN)

    response = await templates_http.client.get(BASE, headers=HR)

    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == len(KINDS) * len(TEMPLATED_CHANNELS) * len(LOCALES)
    by_key = {(i["kind"], i["channel"], i["locale"]): i for i in items}
    assert by_key[("interview_booked", "sms", "en")] == {
        "kind": "interview_booked",
        "channel": "sms",
        "locale": "en",
        "description": KINDS["interview_booked"].description,
        "current_version": 1,
        "latest_version": 2,
    }
    others = [i for key, i in by_key.items() if key != ("interview_booked", "sms", "en")]
    assert {(i["current_version"], i["latest_version"]) for i in others} == {(0, 0)}
    assert "webhook" not in {i["channel"] for i in items}


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), (INTERVIEWER, 403), (auth("service", "svc-pipeline"), 403)],
)
async def test_only_staff_read_templates(
    templates_http: Running, headers: dict[str, str], status: int
) -> None:
    listed = await templates_http.client.get(BASE, headers=headers)
    one = await templates_http.client.get(EMAIL_ZH, headers=headers)
    version = await templates_http.client.get(f"{EMAIL_ZH}/versions/0", headers=headers)

    for response in (listed, one, version):
        assert_problem(response, status, "unauthorized" if status == 401 else "forbidden")


async def test_a_template_reads_as_its_default_until_a_version_is_saved(
    templates_http: Running,
) -> None:
    response = await templates_http.client.get(EMAIL_ZH, headers=HR)

    assert response.status_code == 200
    assert response.headers["etag"] == '"0"'
    body = response.json()
    source = default("interview_booked", "email", "zh-CN")
    assert (body["subject"], body["body"], body["html"]) == (
        source.subject,
        source.body,
        source.html,
    )
    assert body["current_version"] == 0
    assert body["versions"] == []
    assert body["parts"] == ["subject", "body", "html"]
    assert body["required_parts"] == ["subject", "body"]
    assert body["variables"] == KINDS["interview_booked"].all_variables()
    assert body["sample_data"] == KINDS["interview_booked"].sample_data()
    assert {"when", "span", "zone", "duration"} <= set(body["filters"])
    assert body["description"] == KINDS["interview_booked"].description


@pytest.mark.parametrize(
    "path",
    [
        f"{BASE}/no_such_kind/email/en",
        f"{BASE}/interview_booked/webhook/en",
        f"{BASE}/interview_booked/fax/en",
        f"{BASE}/interview_booked/email/fr",
        f"{BASE}/interview_booked/email/en-US",
    ],
)
async def test_unknown_kinds_channels_and_locales_are_not_found(
    templates_http: Running, path: str
) -> None:
    responses = [
        await templates_http.client.get(path, headers=ADMIN),
        await templates_http.client.get(f"{path}/versions/0", headers=ADMIN),
        await templates_http.client.post(f"{path}/versions", json={"body": "x"}, headers=ADMIN),
        await templates_http.client.post(f"{path}/versions/0/activate", headers=ADMIN),
        await templates_http.client.post(f"{path}/preview", json={}, headers=ADMIN),
    ]

    for response in responses:
        assert_problem(response, 404, "not-found")


# --------------------------------------------------------------------------------- saving


async def test_an_admin_saves_a_version_that_is_then_in_force(templates_http: Running) -> None:
    response = await templates_http.client.post(
        f"{EMAIL_ZH}/versions",
        json={"subject": "面试：{{ job_title }}", "body": "Body {{ location }}"},  # noqa: RUF001
        headers=ADMIN,
    )

    assert response.status_code == 201, response.text
    saved = response.json()
    assert response.headers["location"] == f"{EMAIL_ZH}/versions/1"
    assert response.headers["etag"] == '"1"'
    assert {k: saved[k] for k in ("kind", "channel", "locale", "version", "active")} == {
        "kind": "interview_booked",
        "channel": "email",
        "locale": "zh-CN",
        "version": 1,
        "active": True,
    }
    assert (saved["subject"], saved["body"], saved["html"]) == (
        "面试：{{ job_title }}",  # noqa: RUF001
        "Body {{ location }}",
        None,
    )
    assert saved["created_by"] == "admin-ada"
    read = await templates_http.client.get(EMAIL_ZH, headers=HR)
    assert read.headers["etag"] == '"1"'
    assert (read.json()["current_version"], read.json()["body"]) == (1, "Body {{ location }}")
    fetched = await templates_http.client.get(response.headers["location"], headers=HR)
    assert fetched.json() == saved


async def test_hr_with_the_templates_scope_may_save(templates_http: Running) -> None:
    saved = await save(templates_http, headers=HR_EDITOR)

    assert (saved["version"], saved["created_by"]) == (1, "hr-erin")


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        (HR, 403),
        (auth("hr", "hr-bob", scopes=("notifications:read",)), 403),
        (INTERVIEWER, 403),
        (auth("interviewer", "iv-x", scopes=("notifications:templates",)), 403),
    ],
)
async def test_only_admins_and_scoped_hr_save_or_activate(
    templates_http: Running, headers: dict[str, str], status: int, db: asyncpg.Connection
) -> None:
    saved = await templates_http.client.post(
        f"{SMS_EN}/versions", json={"body": SMS_BODY}, headers=headers
    )
    activated = await templates_http.client.post(f"{SMS_EN}/versions/0/activate", headers=headers)

    for response in (saved, activated):
        assert_problem(response, status, "unauthorized" if status == 401 else "forbidden")
    assert await db.fetchval("SELECT count(*) FROM notifier.templates") == 0


async def test_a_syntax_error_is_refused_with_its_line(templates_http: Running) -> None:
    response = await templates_http.client.post(
        f"{EMAIL_ZH}/versions",
        json={"subject": "ok", "body": "Hello\n{% if location %}\n{{ job_title }"},
        headers=ADMIN,
    )

    problem = assert_problem(response, 422, "invalid-template")
    assert problem["errors"] == [
        {
            "field": "body",
            "location": "body",
            "message": "line 3: syntax error: unexpected '}'",
            "code": "syntax_error",
            "line": 3,
        }
    ]


async def test_unknown_variables_are_refused_with_their_lines(
    templates_http: Running, db: asyncpg.Connection
) -> None:
    response = await templates_http.client.post(
        f"{EMAIL_ZH}/versions",
        json={
            "subject": "{{ job_title }} {{ salary }}",
            "body": "Hi {{ recipient_name }},\n\n{{ candidate_nme }}",
            "html": "<p>\n{{ pick_url }}</p>",
        },
        headers=ADMIN,
    )

    problem = assert_problem(response, 422, "invalid-template")
    assert [(e["field"], e["message"], e["code"]) for e in problem["errors"]] == [
        ("subject", "line 1: unknown variable 'salary'", "unknown_variable"),
        ("body", "line 3: unknown variable 'candidate_nme'", "unknown_variable"),
        ("html", "line 2: unknown variable 'pick_url'", "unknown_variable"),
    ]
    assert "candidate_nme" in problem["detail"]
    assert await db.fetchval("SELECT count(*) FROM notifier.templates") == 0


@pytest.mark.parametrize(
    ("channel", "body", "errors"),
    [
        ("sms", {"subject": "Hi", "body": "x"}, [("subject", "part_not_allowed")]),
        ("chat", {"body": "x", "html": "<p>x</p>"}, [("html", "part_not_allowed")]),
        ("in_app", {"subject": "s", "body": "x", "html": "<p>"}, [("html", "part_not_allowed")]),
        ("in_app", {"body": "x"}, [("subject", "missing_part")]),
        ("email", {"body": "x"}, [("subject", "missing_part")]),
        ("email", {"subject": "s", "body": "  \n"}, [("body", "missing_part")]),
    ],
)
async def test_each_channel_takes_only_its_parts(
    templates_http: Running, channel: str, body: dict[str, str], errors: list[tuple[str, str]]
) -> None:
    response = await templates_http.client.post(
        f"{BASE}/interview_booked/{channel}/en/versions", json=body, headers=ADMIN
    )

    problem = assert_problem(response, 422, "invalid-template")
    assert [(e["field"], e["code"]) for e in problem["errors"]] == errors


async def test_email_html_is_optional(templates_http: Running) -> None:
    saved = await save(templates_http, EMAIL_ZH, subject="s", body="b")

    assert saved["html"] is None


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"subject": "s"},
        {"body": 3},
        {"body": "x", "footer": "y"},
        {"body": "x" * 20_001},
    ],
)
async def test_a_malformed_body_is_refused_naming_the_field(
    templates_http: Running, body: dict[str, Any]
) -> None:
    response = await templates_http.client.post(f"{SMS_EN}/versions", json=body, headers=ADMIN)

    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"]


async def test_sources_are_kept_exactly_as_written(templates_http: Running) -> None:
    saved = await save(templates_http, body="\n  {{ job_title }}  \n")
    refused = await templates_http.client.post(
        f"{SMS_EN}/versions", json={"body": "\n\n{{ oops }}"}, headers=ADMIN
    )

    assert saved["body"] == "\n  {{ job_title }}  \n"
    assert assert_problem(refused, 422)["errors"][0]["line"] == 3


async def test_saving_from_a_stale_version_is_refused(templates_http: Running) -> None:
    await save(templates_http)

    stale = await templates_http.client.post(
        f"{SMS_EN}/versions", json={"body": SMS_BODY}, headers={**ADMIN, "If-Match": '"0"'}
    )
    fresh = await templates_http.client.post(
        f"{SMS_EN}/versions", json={"body": SMS_BODY}, headers={**ADMIN, "If-Match": '"1"'}
    )

    assert assert_problem(stale, 412, "version-mismatch")["current_version"] == 1
    assert fresh.status_code == 201
    assert fresh.json()["version"] == 2


async def test_a_repeated_save_with_the_same_idempotency_key_saves_once(
    templates_http: Running, db: asyncpg.Connection
) -> None:
    headers = {**ADMIN, "Idempotency-Key": "save-template-1"}

    first = await templates_http.client.post(
        f"{SMS_EN}/versions", json={"body": SMS_BODY}, headers=headers
    )
    again = await templates_http.client.post(
        f"{SMS_EN}/versions", json={"body": SMS_BODY}, headers=headers
    )
    other = await templates_http.client.post(
        f"{SMS_EN}/versions", json={"body": "{{ job_title }}"}, headers=headers
    )

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert_problem(other, 422)
    assert await db.fetchval("SELECT count(*) FROM notifier.templates") == 1


async def test_concurrent_saves_get_consecutive_versions(templates_http: Running) -> None:
    responses = await asyncio.gather(
        *(
            templates_http.client.post(
                f"{SMS_EN}/versions", json={"body": f"{n} {{{{ job_title }}}}"}, headers=ADMIN
            )
            for n in range(8)
        )
    )

    assert [r.status_code for r in responses] == [201] * 8
    assert sorted(r.json()["version"] for r in responses) == list(range(1, 9))
    read = (await templates_http.client.get(SMS_EN, headers=HR)).json()
    assert read["current_version"] == 8
    assert [v["active"] for v in read["versions"]] == [True] + [False] * 7


# --------------------------------------------------------------------------------- versions


async def test_versions_are_listed_newest_first_and_each_can_be_read(
    templates_http: Running,
) -> None:
    await save(templates_http, body="one {{ job_title }}")
    await save(templates_http, body="two {{ job_title }}", headers=HR_EDITOR)

    read = (await templates_http.client.get(SMS_EN, headers=HR)).json()
    first = await templates_http.client.get(f"{SMS_EN}/versions/1", headers=HR)
    zero = await templates_http.client.get(f"{SMS_EN}/versions/0", headers=HR)
    missing = await templates_http.client.get(f"{SMS_EN}/versions/3", headers=HR)
    negative = await templates_http.client.get(f"{SMS_EN}/versions/-1", headers=HR)

    assert [(v["version"], v["active"], v["created_by"]) for v in read["versions"]] == [
        (2, True, "hr-erin"),
        (1, False, "admin-ada"),
    ]
    assert (first.json()["body"], first.json()["active"]) == ("one {{ job_title }}", False)
    assert first.headers["etag"] == '"1"'
    assert zero.json() == {
        "kind": "interview_booked",
        "channel": "sms",
        "locale": "en",
        "version": 0,
        "active": False,
        "subject": None,
        "body": default("interview_booked", "sms", "en").body,
        "html": None,
        "created_by": None,
        "created_at": None,
    }
    assert_problem(missing, 404, "not-found")
    assert_problem(negative, 422, "validation-error")


async def test_activating_goes_back_to_an_earlier_version_or_the_default(
    templates_http: Running,
) -> None:
    await save(templates_http, body="one {{ job_title }}")
    await save(templates_http, body="two {{ job_title }}")

    back = await templates_http.client.post(f"{SMS_EN}/versions/1/activate", headers=HR_EDITOR)
    shown_back = await preview(templates_http)
    to_default = await templates_http.client.post(f"{SMS_EN}/versions/0/activate", headers=ADMIN)
    shown_default = await preview(templates_http)

    assert back.status_code == 200, back.text
    assert back.headers["etag"] == '"1"'
    assert (back.json()["current_version"], back.json()["body"]) == (1, "one {{ job_title }}")
    assert [v["active"] for v in back.json()["versions"]] == [False, True]
    assert shown_back["text"] == "one 后端工程师"
    assert shown_back["version"] == 1
    assert to_default.json()["current_version"] == 0
    assert to_default.json()["body"] == default("interview_booked", "sms", "en").body
    assert [v["active"] for v in to_default.json()["versions"]] == [False, False]
    assert shown_default["version"] == 0
    assert shown_default["text"].startswith("示例科技: your 后端工程师 interview is confirmed")


async def test_saving_after_going_back_makes_the_next_version(templates_http: Running) -> None:
    await save(templates_http)
    await save(templates_http)
    await templates_http.client.post(f"{SMS_EN}/versions/0/activate", headers=ADMIN)

    saved = await save(templates_http, headers={**ADMIN, "If-Match": '"0"'})

    assert (saved["version"], saved["active"]) == (3, True)


async def test_activating_a_version_never_saved_is_not_found(templates_http: Running) -> None:
    await save(templates_http)

    response = await templates_http.client.post(f"{SMS_EN}/versions/5/activate", headers=ADMIN)

    assert_problem(response, 404, "not-found")
    read = (await templates_http.client.get(SMS_EN, headers=HR)).json()
    assert read["current_version"] == 1


async def test_activating_from_a_stale_version_is_refused(templates_http: Running) -> None:
    await save(templates_http)
    await save(templates_http)

    stale = await templates_http.client.post(
        f"{SMS_EN}/versions/1/activate", headers={**ADMIN, "If-Match": '"1"'}
    )
    bad = await templates_http.client.post(
        f"{SMS_EN}/versions/1/activate", headers={**ADMIN, "If-Match": "latest"}
    )

    assert assert_problem(stale, 412, "version-mismatch")["current_version"] == 2
    assert_problem(bad, 400, "invalid-if-match")


# --------------------------------------------------------------------------------- preview


async def test_preview_renders_the_template_in_force_with_sample_data(
    templates_http: Running,
) -> None:
    shown = await preview(templates_http, EMAIL_ZH)

    assert shown["version"] == 0
    assert shown["subject"] == "【示例科技】面试已确认：后端工程师｜2026年12月1日 周二 10:00"  # noqa: RUF001
    assert "时间：2026年12月1日 周二 10:00\u201310:45（北京时间）" in shown["text"]  # noqa: RUF001
    assert shown["html"].startswith("<!DOCTYPE html>")


async def test_preview_lays_posted_data_over_the_sample(templates_http: Running) -> None:
    shown = await preview(
        templates_http,
        EMAIL_ZH,
        data={"recipient_name": "韩梅梅", "location": "<Everest>", "interviewer_count": 3},
    )

    assert shown["text"].startswith("韩梅梅，您好：")  # noqa: RUF001
    assert "地点：<Everest>" in shown["text"]  # noqa: RUF001
    assert "面试官：3 位" in shown["text"]  # noqa: RUF001
    assert "&lt;Everest&gt;" in shown["html"]


async def test_preview_renders_a_posted_source_without_saving_it(
    templates_http: Running, db: asyncpg.Connection
) -> None:
    shown = await preview(
        templates_http,
        EMAIL_ZH,
        source={
            "subject": "Interview {{ starts_at | day }}",
            "body": "{{ recipient_name }}: {{ starts_at | span(ends_at) }}",
            "html": "<b>{{ job_title }}</b>",
        },
        data={"job_title": "R&D"},
    )

    assert shown == {
        "subject": "Interview 2026年12月1日 周二",
        "text": "李雷: 2026年12月1日 周二 10:00\u201310:45",
        "html": "<b>R&amp;D</b>",
        "version": None,
    }
    assert await db.fetchval("SELECT count(*) FROM notifier.templates") == 0


async def test_preview_of_a_broken_source_names_its_lines(templates_http: Running) -> None:
    response = await templates_http.client.post(
        f"{SMS_EN}/preview",
        json={"source": {"body": "ok\n{{ candidate_nme }}\n{% endif %}"}},
        headers=HR,
    )

    problem = assert_problem(response, 422, "invalid-template")
    assert [(e["field"], e["message"]) for e in problem["errors"]] == [
        ("source.body", "line 3: syntax error: Encountered unknown tag 'endif'.")
    ]


async def test_preview_with_unknown_variables_in_the_data_is_refused(
    templates_http: Running,
) -> None:
    response = await templates_http.client.post(
        f"{SMS_EN}/preview", json={"data": {"salary": 1, "pick_url": "x"}}, headers=HR
    )

    problem = assert_problem(response, 422, "invalid-template")
    assert [(e["field"], e["code"]) for e in problem["errors"]] == [
        ("data.pick_url", "unknown_variable"),
        ("data.salary", "unknown_variable"),
    ]


async def test_preview_with_data_the_template_cannot_use_says_why(
    templates_http: Running,
) -> None:
    response = await templates_http.client.post(
        f"{SMS_EN}/preview", json={"data": {"starts_at": "someday soon"}}, headers=HR
    )

    problem = assert_problem(response, 422, "render-failed")
    assert problem["detail"] == ("body line 2: span needs an RFC 3339 time; the value is not one.")
    assert "someday" not in problem["detail"]


@pytest.mark.parametrize("body", [{"data": []}, {"source": {"subject": "x"}}, {"extra": 1}])
async def test_a_malformed_preview_is_refused(templates_http: Running, body: Any) -> None:
    response = await templates_http.client.post(f"{SMS_EN}/preview", json=body, headers=HR)

    assert_problem(response, 422, "validation-error")


@pytest.mark.parametrize(("headers", "status"), [({}, 401), (INTERVIEWER, 403)])
async def test_only_staff_preview(
    templates_http: Running, headers: dict[str, str], status: int
) -> None:
    response = await templates_http.client.post(f"{SMS_EN}/preview", json={}, headers=headers)

    assert_problem(response, status)


async def test_the_routes_are_documented(templates_http: Running) -> None:
    document = (await templates_http.client.get("/openapi.json")).json()

    paths = {path for path in document["paths"] if path.startswith(BASE)}
    assert paths == {
        BASE,
        f"{BASE}/{{kind}}/{{channel}}/{{locale}}",
        f"{BASE}/{{kind}}/{{channel}}/{{locale}}/versions",
        f"{BASE}/{{kind}}/{{channel}}/{{locale}}/versions/{{version}}",
        f"{BASE}/{{kind}}/{{channel}}/{{locale}}/versions/{{version}}/activate",
        f"{BASE}/{{kind}}/{{channel}}/{{locale}}/preview",
    }
    for path in paths:
        for operation in document["paths"][path].values():
            assert operation["summary"]
            assert operation["tags"] == ["templates"]
            assert {"401", "403"} <= set(operation["responses"])


# --------------------------------------------------------------------------------- render


async def test_render_uses_the_default_until_a_version_is_saved(templates_http: Running) -> None:
    runtime = templates_http.runtime
    variables = KINDS["interview_booked"].sample_data()

    async with runtime.db.sessionmaker() as session:
        before = await service.render(
            session, kind="interview_booked", channel="sms", locale="en", variables=variables
        )
    await save(templates_http, body="v1 {{ job_title }} {{ locale }}")
    async with runtime.db.sessionmaker() as session:
        after = await service.render(
            session, kind="interview_booked", channel="sms", locale="en", variables=variables
        )

    assert before.version == 0
    assert before.text.startswith("示例科技: your 后端工程师 interview is confirmed")
    assert (before.subject, before.html) == (None, None)
    assert after == service.RenderedMessage(
        subject=None, text="v1 后端工程师 en", html=None, version=1
    )


@pytest.mark.parametrize(("asked", "used"), [("en-US", "en"), ("fr", "zh-CN"), ("", "zh-CN")])
async def test_render_falls_back_to_a_known_locale(
    templates_http: Running, asked: str, used: str
) -> None:
    async with templates_http.runtime.db.sessionmaker() as session:
        rendered = await service.render(
            session,
            kind="offer",
            channel="in_app",
            locale=asked,
            variables={**KINDS["offer"].sample_data(), "locale": asked},
        )

    expected = compile_source(default("offer", "in_app", used)).render(
        {**KINDS["offer"].sample_data(), "locale": used}
    )
    assert (rendered.subject, rendered.text) == (expected.subject, expected.text)
    assert (rendered.subject or "").startswith("好消息" if used == "zh-CN" else "Great news")


async def test_render_gives_reminders_variant_zero_unless_told(templates_http: Running) -> None:
    variables = KINDS["interview_reminder"].sample_data()
    del variables["variant"]

    async with templates_http.runtime.db.sessionmaker() as session:
        first = await service.render(
            session, kind="interview_reminder", channel="sms", locale="en", variables=variables
        )
        second = await service.render(
            session,
            kind="interview_reminder",
            channel="sms",
            locale="en",
            variables={**variables, "variant": 1},
        )

    assert first.text.startswith("示例科技 reminder:")
    assert second.text != first.text


async def test_render_refuses_data_the_template_cannot_use_without_showing_it(
    templates_http: Running,
) -> None:
    variables = {**KINDS["interview_booked"].sample_data(), "starts_at": "alice@example.com"}
    missing = KINDS["interview_booked"].sample_data()
    del missing["location"]

    async with templates_http.runtime.db.sessionmaker() as session:
        with pytest.raises(service.TemplateRenderError) as bad_time:
            await service.render(
                session, kind="interview_booked", channel="email", locale="en", variables=variables
            )
        with pytest.raises(service.TemplateRenderError) as no_location:
            await service.render(
                session, kind="interview_booked", channel="email", locale="en", variables=missing
            )
        with pytest.raises(service.TemplateRenderError, match="no templates"):
            await service.render(
                session, kind="interview_booked", channel="webhook", locale="en", variables={}
            )

    assert "alice" not in str(bad_time.value)
    assert "needs an RFC 3339 time" in str(bad_time.value)
    assert str(no_location.value).endswith("'location' is undefined")


async def test_a_saved_version_is_compiled_once_and_kept_by_its_id(
    templates_http: Running, db: asyncpg.Connection
) -> None:
    # Saved versions never change, so the compiled template is kept by the row's id; this
    # proves it by changing the row behind the service's back, which nothing else does.
    await save(templates_http, body="first {{ job_title }}")
    variables = KINDS["interview_booked"].sample_data()

    async def rendered() -> str:
        async with templates_http.runtime.db.sessionmaker() as session:
            message = await service.render(
                session, kind="interview_booked", channel="sms", locale="en", variables=variables
            )
        return message.text

    assert await rendered() == "first 后端工程师"
    await db.execute("UPDATE notifier.templates SET body = 'changed'")
    assert await rendered() == "first 后端工程师"
    await save(templates_http, body="second {{ job_title }}")
    assert await rendered() == "second 后端工程师"
