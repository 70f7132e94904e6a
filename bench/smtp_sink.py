"""``python -m bench.smtp_sink --port N --out FILE``: an SMTP server (aiosmtpd, on uvloop) that
accepts every message and records, per recipient of each, the moment it accepted the message
(``time.time()`` just before answering 250 to its DATA), its ``Message-ID``, the recipient, the
message's size and the connection it came on (the client's port). The benchmark reads the
records back to time the emails and to count duplicates and lost ones.

Records are tab-separated lines appended to ``--out`` and flushed every few milliseconds (and on
SIGTERM); a reader takes only complete lines (``SinkLog``). With ``--sample FILE`` the first
message accepted is also written whole, so the floor can send messages of the same shape.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import uvloop
from aiosmtpd.smtp import SMTP, Envelope, Session

FLUSH_INTERVAL_S = 0.01
_MESSAGE_ID = re.compile(
    rb"^message-id:[ \t]*(\S[^\r\n]*?)[ \t]*\r?$", re.IGNORECASE | re.MULTILINE
)
_HEADER_END = re.compile(rb"\r?\n\r?\n")


@dataclass(frozen=True)
class Record:
    accepted_at: float
    message_id: str
    recipient: str
    size: int
    # The client's port: which connection brought the message.
    connection: int


def message_id_of(raw: bytes) -> str:
    """The ``Message-ID`` header of a raw message (empty when it has none)."""
    end = _HEADER_END.search(raw)
    found = _MESSAGE_ID.search(raw, 0, end.start() if end else len(raw))
    return found.group(1).decode("ascii", "replace") if found else ""


def format_record(record: Record) -> str:
    return (
        f"{record.accepted_at:.6f}\t{record.message_id}\t{record.recipient}\t{record.size}\t"
        f"{record.connection}\n"
    )


def parse_records(lines: Iterable[str]) -> list[Record]:
    records = []
    for line in lines:
        accepted_at, message_id, recipient, size, connection = line.split("\t")
        records.append(
            Record(float(accepted_at), message_id, recipient, int(size), int(connection))
        )
    return records


class SinkLog:
    """Reads a sink's records as they are written, complete lines only."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = 0
        self.records: list[Record] = []

    def read(self) -> list[Record]:
        """The records written since the last call (also appended to ``records``)."""
        try:
            with self._path.open("rb") as source:
                source.seek(self._offset)
                chunk = source.read()
        except FileNotFoundError:
            return []
        complete = chunk.rfind(b"\n") + 1
        if complete == 0:
            return []
        self._offset += complete
        new = parse_records(chunk[:complete].decode().splitlines())
        self.records.extend(new)
        return new


class _Recorder:
    """aiosmtpd's handler: accept everything, remember what was accepted and when."""

    def __init__(self, out: IO[str], sample: Path | None) -> None:
        self._out = out
        self._sample = sample
        self._pending: list[str] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        if self._sample is not None:
            self._sample.write_bytes(raw)
            self._sample = None
        message_id = message_id_of(raw)
        connection = int(session.peer[1]) if isinstance(session.peer, tuple) else 0
        accepted_at = time.time()
        for recipient in envelope.rcpt_tos:
            record = Record(accepted_at, message_id, recipient, len(raw), connection)
            self._pending.append(format_record(record))
        return "250 OK"

    def flush(self) -> None:
        if self._pending:
            pending, self._pending = self._pending, []
            self._out.write("".join(pending))
            self._out.flush()


async def serve(
    port: int,
    out: Path,
    *,
    stopping: asyncio.Event,
    sample: Path | None = None,
    host: str = "127.0.0.1",
) -> None:
    """Accept messages on ``host:port`` until ``stopping`` is set, then write what is left."""
    loop = asyncio.get_running_loop()
    with out.open("a", encoding="utf-8") as sink:
        recorder = _Recorder(sink, sample)

        def protocol() -> Any:
            # A fixed host name: aiosmtpd would otherwise look up the FQDN per connection.
            return SMTP(recorder, hostname="bench-sink", enable_SMTPUTF8=True, timeout=60)

        server = await loop.create_server(protocol, host=host, port=port)
        try:
            while not stopping.is_set():
                recorder.flush()
                await asyncio.sleep(FLUSH_INTERVAL_S)
        finally:
            recorder.flush()
            server.close()


async def _main(args: argparse.Namespace) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stopping.set)
    await serve(args.port, args.out, stopping=stopping, sample=args.sample, host=args.host)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.smtp_sink", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True, help="where the records go")
    parser.add_argument("--sample", type=Path, help="write the first message accepted here")
    args = parser.parse_args()
    uvloop.run(_main(args))


if __name__ == "__main__":
    main()
