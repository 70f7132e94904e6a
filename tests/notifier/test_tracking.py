"""Opens, clicks and unsubscribe links: only links the notifier signed count, every change
moves a delivery forward once and is announced, and nothing redirects anywhere a stranger
chose."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

import asyncpg
import pytest

from notifier.tracking.links import LinkSigner, Unsubscribe
from tests.notifier.tracking_support import (
    delivery,
    delivery_events,
    notification_status,
    sent_delivery,
    signer_of,
    status_changes,
    tracking_api,
)
from tests.support.problems import assert_problem
from tests.support.running import Running

CANDIDATE = "0193b0a5-5d6e-7f80-9a1b-2c3d4e5f6a7b"
TARGET = "https://careers.example.com/pick/abc?step=2&lang=zh"


@pytest.fixture
async def api() -> AsyncIterator[Running]:
    async with tracking_api() as service:
        yield service


@pytest.fixture
def signer(api: Running) -> LinkSigner:
    return signer_of(api)


def path_of(url: str) -> str:
    """The path and query of one of the notifier's public URLs."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def assert_transparent_pixel(content: bytes) -> None:
    """A well-formed 1x1 GIF whose pixel is the transparent colour."""
    assert content.startswith(b"GIF89a")
    assert int.from_bytes(content[6:8], "little") == 1
    assert int.from_bytes(content[8:10], "little") == 1
    extension = content.index(b"\x21\xf9\x04")
    packed, transparent_index = content[extension + 3], content[extension + 6]
    assert packed & 0x01, "the transparency flag is set"
    assert transparent_index == 0
    assert content.endswith(b";")


# The open pixel


async def test_the_open_pixel_marks_a_sent_email_seen_and_delivered(
    api: Running, signer: LinkSigner, db: asyncpg.Connection
) -> None:
    notification_id, delivery_id = await sent_delivery(db)

    response = await api.client.get(path_of(signer.open_url(delivery_id)))

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/gif"
    assert response.headers["cache-control"] == "no-store"
    assert_transparent_pixel(response.content)
    row = await delivery(db, delivery_id)
    assert row["engagement"] == "seen"
    assert row["status"] == "delivered", "an open proves the message arrived"
    assert row["seen_at"] is not None
    assert await notification_status(db, notification_id) == "engaged"
    events = await delivery_events(db, delivery_id)
    assert [(e["type"], e["value"], e["source"]) for e in events] == [
        ("engagement", "seen", "pixel")
    ]
    [change] = await status_changes(db)
    assert change["delivery_id"] == str(delivery_id)
    assert change["notification_id"] == str(notification_id)
    assert change["channel"] == "email"
    assert (change["status"], change["engagement"]) == ("delivered", "seen")


async def test_a_forged_pixel_still_gets_the_image_but_records_nothing(
    api: Running, signer: LinkSigner, db: asyncpg.Connection
) -> None:
    _, delivery_id = await sent_delivery(db)
    _, other_id = await sent_delivery(db)
    # A real signature, for another delivery.
    stolen = signer.open_url(other_id).rsplit("/", 1)[1]

    for path in (
        f"/v1/t/open/{delivery_id}/AAAAAAAAAAAAAAAAAAAAAA.gif",
        f"/v1/t/open/{delivery_id}/{stolen}",
        f"/v1/t/open/not-a-uuid/{stolen}",
        f"/v1/t/open/{delivery_id}/%C3%A9t%C3%A9.gif",
        f"/v1/t/open/{delivery_id}/{'A' * 500}.gif",
    ):
        response = await api.client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"] == "image/gif"
        assert_transparent_pixel(response.content)

    assert (await delivery(db, delivery_id))["engagement"] == "none"
    assert await delivery_events(db, delivery_id) == []
    assert await status_changes(db) == []


async def test_a_pixel_of_an_unknown_delivery_records_nothing(
    api: Running, signer: LinkSigner, db: asyncpg.Connection
) -> None:
    response = await api.client.get(path_of(signer.open_url(uuid.uuid4())))

    assert response.status_code == 200
    assert_transparent_pixel(response.content)
    assert await db.fetchval("SELECT count(*) FROM notifier.delivery_events") == 0
    assert await status_changes(db) == []


async def test_opening_twice_records_one_open(
    api: Running, signer: LinkSigner, db: asyncpg.Connection
) -> None:
    _, delivery_id = await sent_delivery(db)
    url = path_of(signer.open_url(delivery_id))

    await api.client.get(url)
    first_seen = (await delivery(db, delivery_id))["seen_at"]
    await api.client.get(url)

    assert (await delivery(db, delivery_id))["seen_at"] == first_seen
    assert len(await delivery_events(db, delivery_id)) == 1
    assert len(await status_changes(db)) == 1


async def test_an_open_after_a_click_changes_nothing(
    api: Running, signer: LinkSigner, db: asyncpg.Connection
) -> None:
    _, delivery_id = await sent_delivery(db, status="delivered", engagement="clicked")

    response = await api.client.get(path_of(signer.open_url(delivery_id)))

    assert response.status_code == 200
    row = await delivery(db, delivery_id)
    assert row["engagement"] == "clicked"
    assert row["seen_at"] is None
    assert await delivery_events(db, delivery_id) == []
    assert await status_changes(db) == []


# Click redirects


async def test_a_signed_click_redirects_and_records_the_click(
    api: Running, signer: LinkSigner, db: asyncpg.Connection
) -> None:
    notification_id, delivery_id = await sent_delivery(db)

    response = await api.client.get(path_of(signer.click_url(delivery_id, TARGET)))

    assert response.status_code == 302
    assert response.headers["location"] == TARGET
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    row = await delivery(db, delivery_id)
    assert (row["status"], row["engagement"]) == ("delivered", "clicked")
    assert row["clicked_at"] is not None
    assert await notification_status(db, notification_id) == "engaged"
    events = await delivery_events(db, delivery_id)
    assert [(e["type"], e["value"], e["source"]) for e in events] == [
        ("engagement", "clicked", "click")
    ]
    [change] = await status_changes(db)
    assert (change["delivery_id"], change["engagement"]) == (str(delivery_id), "clicked")


async def test_a_click_after_an_open_moves_on_and_an_open_after_it_does_not(
    api: Running, signer: LinkSigner, db: asyncpg.Connection
) -> None:
    _, delivery_id = await sent_delivery(db)

    await api.client.get(path_of(signer.open_url(delivery_id)))
    await api.client.get(path_of(signer.click_url(delivery_id, TARGET)))
    await api.client.get(path_of(signer.open_url(delivery_id)))

    assert (await delivery(db, delivery_id))["engagement"] == "clicked"
    assert [c["engagement"] for c in await status_changes(db)] == ["seen", "clicked"]


async def test_a_click_link_sent_to_another_url_is_not_followed(
    api: Running, signer: LinkSigner, db: asyncpg.Connection
) -> None:
    _, delivery_id = await sent_delivery(db)
    signed = signer.click_url(delivery_id, TARGET)
    elsewhere = path_of(signed).split("?", 1)[0] + "?u=https%3A%2F%2Fevil.example%2F"

    assert_problem(await api.client.get(elsewhere), 404, "not-found")
    assert (await delivery(db, delivery_id))["engagement"] == "none"
    assert await status_changes(db) == []


@pytest.mark.parametrize(
    "make_path",
    [
        pytest.param(lambda d, s: f"/v1/t/click/{d}/{s}", id="no-url"),
        pytest.param(lambda d, s: f"/v1/t/click/{d}/{s}?u=", id="empty-url"),
        pytest.param(
            lambda d, s: f"/v1/t/click/{d}/AAAAAAAAAAAAAAAAAAAAAA?u=https%3A%2F%2Fa.example%2F",
            id="forged-signature",
        ),
        pytest.param(
            lambda d, s: f"/v1/t/click/not-a-uuid/{s}?u=https%3A%2F%2Fa.example%2F",
            id="bad-delivery-id",
        ),
        pytest.param(
            lambda d, s: f"/v1/t/click/{d}/%C3%A9t%C3%A9?u=https%3A%2F%2Fa.example%2F",
            id="non-ascii-signature",
        ),
        pytest.param(
            lambda d, s: f"/v1/t/click/{d}/{'A' * 500}?u=https%3A%2F%2Fa.example%2F",
            id="overlong-signature",
        ),
    ],
)
async def test_a_bad_click_link_is_a_404_and_records_nothing(
    api: Running,
    signer: LinkSigner,
    db: asyncpg.Connection,
    make_path: Callable[[uuid.UUID, str], str],
) -> None:
    _, delivery_id = await sent_delivery(db)
    signed = urlsplit(signer.click_url(delivery_id, "https://a.example/"))
    signature = signed.path.rsplit("/", 1)[1]

    response = await api.client.get(make_path(delivery_id, signature))

    body = assert_problem(response, 404, "not-found")
    assert "location" not in response.headers
    assert "a.example" not in body.get("detail", "")
    assert await delivery_events(db, delivery_id) == []


async def test_a_signed_link_to_something_other_than_a_web_page_is_not_followed(
    api: Running, signer: LinkSigner, db: asyncpg.Connection
) -> None:
    _, delivery_id = await sent_delivery(db)

    for target in ("javascript:alert(1)", "data:text/html,hi", "//evil.example/"):
        response = await api.client.get(path_of(signer.click_url(delivery_id, target)))
        assert_problem(response, 404, "not-found")

    assert await delivery_events(db, delivery_id) == []


async def test_a_click_of_an_unknown_delivery_still_takes_the_reader_on(
    api: Running, signer: LinkSigner, db: asyncpg.Connection
) -> None:
    response = await api.client.get(path_of(signer.click_url(uuid.uuid4(), TARGET)))

    assert response.status_code == 302
    assert response.headers["location"] == TARGET
    assert await db.fetchval("SELECT count(*) FROM notifier.delivery_events") == 0
    assert await status_changes(db) == []


# Unsubscribe


def unsubscribe_path(signer: LinkSigner, kind: str | None = "interview_reminder") -> str:
    return path_of(signer.unsubscribe_url(Unsubscribe("candidate", CANDIDATE, kind)))


async def recipient_row(db: asyncpg.Connection, kind: str, id: str) -> asyncpg.Record | None:
    return await db.fetchrow(
        "SELECT unsubscribed_kinds, unsubscribed_all, version, updated_at"
        " FROM notifier.recipients WHERE kind = $1 AND id = $2",
        kind,
        id,
    )


async def test_the_unsubscribe_page_asks_in_chinese_and_changes_nothing(
    api: Running, signer: LinkSigner, db: asyncpg.Connection
) -> None:
    response = await api.client.get(
        unsubscribe_path(signer), headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
    )

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-language"] == "zh-CN"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    page = response.text
    assert '<html lang="zh-CN">' in page
    assert "「面试提醒」" in page
    assert '<form method="post">' in page
    assert 'name="List-Unsubscribe" value="One-Click"' in page
    assert "确认退订" in page
    assert await recipient_row(db, "candidate", CANDIDATE) is None


@pytest.mark.parametrize(
    ("accept_language", "locale"),
    [
        ("en-US,en;q=0.9", "en"),
        ("fr-FR, en;q=0.5, zh;q=0.4", "en"),
        ("en;q=0.3, zh-TW;q=0.8", "zh-CN"),
        ("de", "zh-CN"),
        (None, "zh-CN"),
    ],
)
async def test_the_unsubscribe_page_speaks_the_language_the_browser_prefers(
    api: Running, signer: LinkSigner, accept_language: str | None, locale: str
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}

    response = await api.client.get(unsubscribe_path(signer, None), headers=headers)

    assert response.status_code == 200
    assert response.headers["content-language"] == locale
    expected = "Unsubscribe" if locale == "en" else "确认退订"
    assert expected in response.text


async def test_one_click_unsubscribes_from_the_kind_and_again_changes_nothing(
    api: Running, signer: LinkSigner, db: asyncpg.Connection
) -> None:
    path = unsubscribe_path(signer)

    first = await api.client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert first.status_code == 200
    assert first.headers["content-type"].startswith("text/html")
    assert "面试提醒" in first.text
    row = await recipient_row(db, "candidate", CANDIDATE)
    assert row is not None
    assert row["unsubscribed_kinds"] == ["interview_reminder"]
    assert row["unsubscribed_all"] is False
    assert row["updated_at"] is not None

    again = await api.client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert again.status_code == 200
    assert await recipient_row(db, "candidate", CANDIDATE) == row


async def test_unsubscribing_answers_json_to_a_client_that_asks_for_it(
    api: Running, signer: LinkSigner, db: asyncpg.Connection
) -> None:
    response = await api.client.post(
        unsubscribe_path(signer), headers={"Accept": "application/json"}
    )

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "unsubscribed": True,
        "scope": "kind",
        "kind": "interview_reminder",
        "channels_kept": ["in_app"],
    }


async def test_a_link_without_a_kind_unsubscribes_from_everything(
    api: Running, signer: LinkSigner, db: asyncpg.Connection
) -> None:
    response = await api.client.post(
        unsubscribe_path(signer, None),
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 200
    assert response.json()["scope"] == "all"
    row = await recipient_row(db, "candidate", CANDIDATE)
    assert row is not None
    assert row["unsubscribed_all"] is True
    assert row["unsubscribed_kinds"] == []


async def test_unsubscribing_adds_to_what_the_recipient_already_left(
    api: Running, signer: LinkSigner, db: asyncpg.Connection
) -> None:
    await db.execute(
        "INSERT INTO notifier.recipients (kind, id, unsubscribed_kinds, version, updated_at)"
        " VALUES ('staff', 'hr-wang', ARRAY['offer'], 4, '2026-01-01T00:00:00Z')"
    )
    token_path = path_of(
        signer.unsubscribe_url(Unsubscribe("staff", "hr-wang", "interview_reminder"))
    )

    response = await api.client.post(token_path)

    assert response.status_code == 200
    row = await recipient_row(db, "staff", "hr-wang")
    assert row is not None
    assert row["unsubscribed_kinds"] == ["offer", "interview_reminder"]
    assert row["version"] == 5


async def test_a_multipart_one_click_body_is_accepted_too(
    api: Running, signer: LinkSigner, db: asyncpg.Connection
) -> None:
    boundary = "----FormBoundary7MA4YWxkTrZu0gW"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
        f"One-Click\r\n--{boundary}--\r\n"
    ).encode()

    response = await api.client.post(
        unsubscribe_path(signer),
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    assert response.status_code == 200
    row = await recipient_row(db, "candidate", CANDIDATE)
    assert row is not None
    assert row["unsubscribed_kinds"] == ["interview_reminder"]


async def test_a_forged_or_broken_unsubscribe_token_is_a_404_and_changes_nothing(
    api: Running, signer: LinkSigner, db: asyncpg.Connection
) -> None:
    genuine = unsubscribe_path(signer).rsplit("/", 1)[1]
    body, signature = genuine.split(".")
    other = signer.unsubscribe_token(Unsubscribe("candidate", str(uuid.uuid4()), "offer"))
    tokens = [
        "nonsense",
        f"{body}.AAAAAAAAAAAAAAAAAAAAAA",
        f"{other.split('.')[0]}.{signature}",  # another recipient, this one's signature
        f"{body}.",
        "%C3%A9t%C3%A9.abc",
        "A" * 3000 + ".B",
    ]
    for token in tokens:
        for method in ("GET", "POST"):
            response = await api.client.request(method, f"/v1/unsubscribe/{token}")
            assert_problem(response, 404, "not-found")

    assert await db.fetchval("SELECT count(*) FROM notifier.recipients") == 0


async def test_a_signed_token_naming_an_unknown_kind_or_recipient_is_a_404(
    api: Running, signer: LinkSigner, db: asyncpg.Connection
) -> None:
    for wanted in (
        Unsubscribe("candidate", CANDIDATE, "no_such_kind"),
        Unsubscribe("robot", str(uuid.uuid4()), None),
    ):
        response = await api.client.post(path_of(signer.unsubscribe_url(wanted)))
        assert_problem(response, 404, "not-found")

    assert await db.fetchval("SELECT count(*) FROM notifier.recipients") == 0


async def test_a_link_signed_with_another_secret_is_refused(
    signer: LinkSigner, db: asyncpg.Connection
) -> None:
    async with tracking_api(link_secret="another-secret-of-another-install") as other:
        _, delivery_id = await sent_delivery(db)

        click = await other.client.get(path_of(signer.click_url(delivery_id, TARGET)))
        unsubscribe = await other.client.post(unsubscribe_path(signer))
        await other.client.get(path_of(signer.open_url(delivery_id)))

    assert_problem(click, 404, "not-found")
    assert_problem(unsubscribe, 404, "not-found")
    assert await delivery_events(db, delivery_id) == []
