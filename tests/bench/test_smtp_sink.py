"""The benchmark's SMTP sink records what it accepted, and the notifier part counts duplicates
and lost emails from those records (``bench/smtp_sink.py``, ``bench/emails.py``)."""

from __future__ import annotations

import asyncio
import contextlib
from email.message import EmailMessage
from pathlib import Path

import aiosmtplib

from bench.emails import Arrivals, floor_template
from bench.processes import free_port
from bench.smtp_sink import SinkLog, message_id_of, serve


def _message(recipient: str, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "no-reply@example.com"
    message["To"] = recipient
    message["Subject"] = "面试通知"
    message["Message-ID"] = message_id
    message.set_content("你好\n.\nA line with a lone dot above it.\n")
    return message


async def test_the_sink_records_each_message_and_the_tally_counts_duplicates_and_lost(
    tmp_path: Path,
) -> None:
    port, out, sample = free_port(), tmp_path / "records", tmp_path / "sample"
    stopping = asyncio.Event()
    server = asyncio.create_task(serve(port, out, stopping=stopping, sample=sample))
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            await asyncio.sleep(0.01)
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port) as client:
            await client.send_message(_message("a@example.com", "<1@example.com>"))
            await client.send_message(_message("b@example.com", "<2@example.com>"))
            # Sent again with the same Message-ID (a resend after a crash): a duplicate.
            await client.send_message(_message("c@example.com", "<2@example.com>"))
    finally:
        stopping.set()
        await server

    arrivals = Arrivals(SinkLog(out), [])
    arrivals.update()
    assert [record.recipient for record in arrivals.records] == [
        "a@example.com",
        "b@example.com",
        "c@example.com",
    ]
    assert [record.message_id for record in arrivals.records] == [
        "<1@example.com>",
        "<2@example.com>",
        "<2@example.com>",
    ]
    tally = arrivals.tally(["a@example.com", "b@example.com", "c@example.com", "d@example.com"])
    assert (tally.accepted, tally.duplicates, tally.lost, tally.connections) == (3, 1, 1, 1)
    assert message_id_of(sample.read_bytes()) == "<1@example.com>"
    headers, body = floor_template(sample.read_bytes())
    assert b"To:" not in headers and b"Message-ID:" not in headers
    assert headers.startswith(b"From: ") and body.startswith(b"\r\n")
