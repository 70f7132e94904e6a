"""The email channel against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import asyncio
import uuid
from email.parser import BytesParser
from email.policy import compat32, default
from pathlib import Path
from typing import Any, Literal

import pytest

from notifier.channels.base import Attachment, OutgoingMessage
from notifier.channels.email import (
    WIRE,
    SmtpChannel,
    address_problem,
    email_message,
    message_id_for,
)
from notifier.settings import NotifierSettings
from tests.notifier.peers import (
    LoopbackCertificate,
    RefusalStage,
    SmtpPeer,
    free_port,
    wait_until,
)

ICS = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nMETHOD:REQUEST\r\n"
    "BEGIN:VEVENT\r\nUID:interview-1@example.com\r\nDTSTAMP:20261201T000000Z\r\n"
    "DTSTART:20261201T020000Z\r\nDTEND:20261201T024500Z\r\nSUMMARY:面试\r\n"
    "END:VEVENT\r\nEND:VCALENDAR\r\n"
).encode()
UNSUBSCRIBE = {
    "List-Unsubscribe": "<https://notify.example.com/v1/unsubscribe/tok>",
    "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
}


def _message(**overrides: Any) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "delivery_id": uuid.uuid4(),
        "kind": "interview_booked",
        "address": "li.lei@example.com",
        "subject": "面试已安排",
        "text": "您好 面试已安排在 12 月 1 日 10:00。",
    }
    return OutgoingMessage(**{**fields, **overrides})


def _settings(peer: SmtpPeer, **overrides: Any) -> NotifierSettings:
    return NotifierSettings(
        **peer.settings(smtp_from="Acme Recruiting <jobs@acme.example>", **overrides)
    )


async def test_email_carries_text_html_calendar_and_unsubscribe_headers() -> None:
    async with SmtpPeer() as peer:
        channel = SmtpChannel(_settings(peer))
        message = _message(
            html="<p>您好 面试已安排</p>",
            attachments=(Attachment("invite.ics", "text/calendar; method=REQUEST", ICS),),
            headers=UNSUBSCRIBE,
        )
        result = await channel.send(message)
        await channel.close()

        assert result.outcome == "sent"
        assert result.provider_message_id == f"<{message.delivery_id}@acme.example>"
        [mail] = await peer.wait_for_messages(1)
    email = mail.message
    assert mail.mail_from == "jobs@acme.example"
    assert mail.rcpt_tos == mail.recipients == ("li.lei@example.com",)
    assert email["From"] == "Acme Recruiting <jobs@acme.example>"
    assert email["To"] == "li.lei@example.com"
    assert email["Subject"] == "面试已安排"
    assert email["Message-ID"] == result.provider_message_id
    assert email["List-Unsubscribe"] == UNSUBSCRIBE["List-Unsubscribe"]
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert email["Date"] is not None

    assert email.get_content_type() == "multipart/mixed"
    text = email.get_body(preferencelist=("plain",))
    html = email.get_body(preferencelist=("html",))
    assert text is not None and "面试已安排在" in text.get_content()
    assert html is not None and "<p>您好" in html.get_content()
    # The calendar is offered among the alternatives (iMIP) and as a file to import.
    [alternatives] = [
        p for p in email.iter_parts() if p.get_content_type() == "multipart/alternative"
    ]
    calendar_parts = [
        p for p in alternatives.iter_parts() if p.get_content_type() == "text/calendar"
    ]
    assert len(calendar_parts) == 1
    assert calendar_parts[0].get_param("method") == "REQUEST"
    [attachment] = list(email.iter_attachments())
    assert attachment.get_filename() == "invite.ics"
    assert attachment.get_content_type() == "text/calendar"
    assert attachment.get_param("method") == "REQUEST"
    assert attachment.get_payload(decode=True) == ICS


async def test_message_id_is_the_same_when_a_delivery_is_sent_again() -> None:
    async with SmtpPeer() as peer:
        channel = SmtpChannel(_settings(peer))
        message = _message()
        first = await channel.send(message)
        # As after a crash between the server's 250 and our recording it.
        second = await channel.send(message)
        other = await channel.send(_message())
        await channel.close()
        mails = await peer.wait_for_messages(3)

    assert first.provider_message_id == second.provider_message_id
    assert mails[0].message["Message-ID"] == mails[1].message["Message-ID"]
    assert mails[2].message["Message-ID"] == other.provider_message_id
    assert other.provider_message_id != first.provider_message_id
    assert message_id_for(message.delivery_id, "acme.example") == first.provider_message_id


async def test_several_emails_share_one_connection() -> None:
    async with SmtpPeer() as peer:
        channel = SmtpChannel(_settings(peer))
        results = [await channel.send(_message()) for _ in range(5)]
        await channel.close()
        mails = await peer.wait_for_messages(5)

    assert [r.outcome for r in results] == ["sent"] * 5
    assert peer.connections == 1
    assert {mail.connection for mail in mails} == {1}


async def test_concurrent_emails_use_at_most_the_configured_connections() -> None:
    async with SmtpPeer() as peer:
        channel = SmtpChannel(_settings(peer, smtp_connections=2))
        results = await asyncio.gather(*(channel.send(_message()) for _ in range(8)))
        await channel.close()
        await peer.wait_for_messages(8)

    assert {r.outcome for r in results} == {"sent"}
    assert peer.connections == 2


async def test_a_connection_the_server_dropped_is_replaced_and_the_email_sent() -> None:
    async with SmtpPeer() as peer:
        channel = SmtpChannel(_settings(peer))
        assert (await channel.send(_message())).outcome == "sent"
        await peer.drop_connections()  # as an idle timeout on the server does
        await asyncio.sleep(0.05)
        result = await channel.send(_message())
        await channel.close()
        mails = await peer.wait_for_messages(2)

    assert result.outcome == "sent"
    assert peer.connections == 2
    assert [mail.connection for mail in mails] == [1, 2]


async def test_unknown_user_fails_without_naming_the_address_and_the_connection_stays_usable() -> (
    None
):
    async with SmtpPeer() as peer:
        channel = SmtpChannel(_settings(peer))
        peer.refuse_next(550, "5.1.1 <nobody@example.com>: Recipient address rejected")
        refused = await channel.send(_message(address="nobody@example.com"))
        accepted = await channel.send(_message())
        await channel.close()
        await peer.wait_for_messages(1)

    assert refused.outcome == "failed"
    assert refused.reason is not None
    assert "550 5.1.1" in refused.reason
    assert "nobody" not in refused.reason
    assert accepted.outcome == "sent"
    assert peer.connections == 1


async def test_a_421_on_a_reused_connection_is_tried_again_on_a_new_one() -> None:
    async with SmtpPeer() as peer:
        channel = SmtpChannel(_settings(peer))
        assert (await channel.send(_message())).outcome == "sent"
        peer.refuse_next(421, "4.4.2 Idle timeout, closing")
        result = await channel.send(_message())
        await channel.close()
        mails = await peer.wait_for_messages(2)

    assert result.outcome == "sent"
    assert [mail.connection for mail in mails] == [1, 2]


async def test_a_421_on_a_new_connection_is_retried_later() -> None:
    async with SmtpPeer() as peer:
        channel = SmtpChannel(_settings(peer))
        peer.refuse_next(421, "4.3.2 Service shutting down")
        result = await channel.send(_message())
        await channel.close()

    assert result.outcome == "retry"
    assert result.reason == "The mail server deferred the recipient (421 4.3.2)."
    assert peer.messages == []


@pytest.mark.parametrize(
    ("code", "text", "at", "outcome", "reason"),
    [
        (
            451,
            "4.7.1 Greylisted, try again later",
            "rcpt",
            "retry",
            "The mail server deferred the recipient (451 4.7.1).",
        ),
        (
            452,
            "4.3.1 Insufficient system storage",
            "data",
            "retry",
            "The mail server deferred the message (452 4.3.1).",
        ),
        (
            554,
            "5.7.1 Message rejected as spam",
            "DATA",
            "failed",
            "The mail server refused the message (554 5.7.1).",
        ),
        (
            553,
            "mailbox name not allowed",
            "rcpt",
            "failed",
            "The mail server refused the recipient (553).",
        ),
    ],
)
async def test_smtp_reply_codes_are_classified(
    code: int, text: str, at: RefusalStage, outcome: str, reason: str
) -> None:
    async with SmtpPeer() as peer:
        channel = SmtpChannel(_settings(peer))
        peer.refuse_next(code, text, at=at)
        result = await channel.send(_message())
        await channel.close()

    assert result.outcome == outcome
    assert result.reason == reason
    assert peer.messages == []


async def test_refusals_apply_to_the_next_messages_only() -> None:
    async with SmtpPeer() as peer:
        channel = SmtpChannel(_settings(peer))
        peer.refuse_next(451, "4.7.1 Try later", count=2)
        outcomes = [(await channel.send(_message())).outcome for _ in range(3)]
        await channel.close()

    assert outcomes == ["retry", "retry", "sent"]


@pytest.mark.parametrize(
    "address",
    [
        "not-an-email",
        "li.lei@",
        "@example.com",
        "li lei@example.com",
        "li..lei@example.com",
        ".lilei@example.com",
        "li@lei@example.com",
        "lilei@localhost",
        "lilei@-example.com",
        "lilei@example.123",
        "lilei@example.com\r\nBcc: x@example.com",
        "x" * 65 + "@example.com",
    ],
)
async def test_an_invalid_address_fails_without_contacting_the_server(address: str) -> None:
    # Nothing listens on this port: had the channel tried, it would have said ``retry``.
    channel = SmtpChannel(NotifierSettings(smtp_host="127.0.0.1", smtp_port=free_port()))
    result = await channel.send(_message(address=address))
    await channel.close()

    assert result.outcome == "failed"
    assert result.reason == "The email address is not valid."


@pytest.mark.parametrize(
    "address",
    ["li.lei@example.com", "li.lei+jobs@mail.example.co", "o'brien@example.org", "李雷@例子.中国"],
)
def test_ordinary_and_internationalized_addresses_are_valid(address: str) -> None:
    assert address_problem(address) is None


async def test_an_unreachable_server_is_retried() -> None:
    channel = SmtpChannel(NotifierSettings(smtp_host="127.0.0.1", smtp_port=free_port()))
    result = await channel.send(_message())
    await channel.close()

    assert result.outcome == "retry"
    assert result.reason == "The mail server could not be reached."


async def test_a_server_that_does_not_answer_in_time_is_retried_and_gets_nothing() -> None:
    async with SmtpPeer() as peer:
        channel = SmtpChannel(_settings(peer, smtp_timeout_s=0.5))
        peer.hold()
        result = await channel.send(_message())
        await channel.close()
        # The client gave up: the held reply is never sent, so the message does not count.
        await wait_until(lambda: peer.abandoned == 1, what="the held message to be abandoned")
        peer.release()

    assert result.outcome == "retry"
    assert result.reason == "The mail server did not answer in time."
    assert peer.messages == []
    assert peer.abandoned == 1


async def test_a_held_message_counts_only_once_its_250_is_sent() -> None:
    async with SmtpPeer() as peer:
        channel = SmtpChannel(_settings(peer))
        peer.hold()
        sending = asyncio.create_task(channel.send(_message()))
        await peer.wait_until_held(1)
        assert peer.messages == []
        assert not sending.done()
        peer.release()
        result = await sending
        await channel.close()

    assert result.outcome == "sent"
    assert len(peer.messages) == 1
    assert peer.held == 0


async def test_login_with_the_configured_credentials() -> None:
    async with SmtpPeer(auth=("mailer", "s3cret")) as peer:
        channel = SmtpChannel(_settings(peer))
        result = await channel.send(_message())
        await channel.close()

    assert result.outcome == "sent"
    assert peer.logins == ["mailer"]


async def test_a_refused_login_is_retried_not_blamed_on_the_message() -> None:
    async with SmtpPeer(auth=("mailer", "s3cret")) as peer:
        channel = SmtpChannel(_settings(peer, smtp_password="wrong"))
        result = await channel.send(_message())
        await channel.close()

    assert result.outcome == "retry"
    assert result.reason is not None and "login" in result.reason and "535" in result.reason
    assert peer.messages == []


@pytest.mark.parametrize("tls", ["implicit", "starttls"])
async def test_tls_implicit_and_starttls_with_login(
    tls: Literal["implicit", "starttls"], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    certificate = LoopbackCertificate(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.ca_file))
    async with SmtpPeer(tls=tls, auth=("mailer", "s3cret"), certificate=certificate) as peer:
        channel = SmtpChannel(_settings(peer))
        result = await channel.send(_message())
        await channel.close()
        await peer.wait_for_messages(1)

    assert result.outcome == "sent"
    assert peer.logins == ["mailer"]


async def test_an_untrusted_certificate_is_not_accepted(tmp_path: Path) -> None:
    certificate = LoopbackCertificate(tmp_path)  # not trusted by the client
    async with SmtpPeer(tls="implicit", certificate=certificate) as peer:
        channel = SmtpChannel(_settings(peer))
        result = await channel.send(_message())
        await channel.close()

    assert result.outcome == "retry"
    assert peer.messages == []


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"X-Note": "a\r\nBcc: someone@example.com"}, "A header value is not valid."),
        ({"Bcc": "someone@example.com"}, "The header 'Bcc' may not be set on an email."),
        (
            {"Message-ID": "<other@example.com>"},
            "The header 'Message-ID' may not be set on an email.",
        ),
    ],
)
async def test_headers_cannot_inject_or_replace_what_the_channel_sets(
    headers: dict[str, str], reason: str
) -> None:
    async with SmtpPeer() as peer:
        channel = SmtpChannel(_settings(peer))
        result = await channel.send(_message(headers=headers))
        await channel.close()

    assert result.outcome == "failed"
    assert result.reason == reason
    assert peer.messages == []


async def test_a_closed_channel_asks_to_retry_later() -> None:
    async with SmtpPeer() as peer:
        channel = SmtpChannel(_settings(peer))
        assert (await channel.send(_message())).outcome == "sent"
        await channel.close()
        result = await channel.send(_message())

    assert result.outcome == "retry"
    assert len(peer.messages) == 1


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"subject": "Your interview", "text": "plain ASCII only"},
        {"html": "<p>您好</p>" * 200, "headers": UNSUBSCRIBE},
        {
            "subject": "面试" * 200,  # an encoded word longer than one line
            "headers": {"X-Campaign": "x" * 1200},  # an ASCII header past 998 characters
        },
        {
            "address": "张伟@例子.公司",
            "attachments": (
                Attachment("invite.ics", "text/calendar; method=REQUEST", ICS),
                Attachment("资料.pdf", "application/pdf", b"%PDF-1.4 \x00\xff" * 50),
            ),
        },
    ],
    ids=["default", "ascii", "long-html", "long-headers", "attachments"],
)
def test_the_written_bytes_are_what_the_stdlib_compat32_policy_writes(
    overrides: dict[str, Any],
) -> None:
    """The wire policy's shortcut for headers that fit on their line changes no byte."""
    message = _message(**overrides)
    mime = email_message(
        message, sender="Acme 招聘 <jobs@acme.example>", message_id="<id@acme.example>"
    )
    ours = mime.as_bytes(policy=WIRE)
    assert ours == mime.as_bytes(policy=compat32.clone(max_line_length=998))
    parsed = BytesParser(policy=default).parsebytes(ours)
    assert parsed["Message-ID"] == "<id@acme.example>"
    assert str(parsed["Subject"]) == message.subject
    plain = parsed.get_body(("plain",))
    assert plain is not None
    assert plain.get_content().rstrip("\n") == message.text
