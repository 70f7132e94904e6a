"""Loopback stand-ins for the providers the notifier talks to: a real SMTP server (aiosmtpd)
and a scriptable HTTP server (Starlette on uvicorn), each on a free port of 127.0.0.1 and
started and stopped as an async context manager.

    async with SmtpPeer() as smtp:
        channel = SmtpChannel(NotifierSettings(**smtp.settings()))
        smtp.refuse_next(550, "5.1.1 User unknown")       # the next message is refused
        ...
        await smtp.wait_for_messages(1)
        smtp.messages[0].message["Subject"]

    async with HttpPeer(Reply(503), Reply(200, json={"id": "m-1"})) as gateway:
        ... NotifierSettings(sms_gateway_url=gateway.url("/messages")) ...
        gateway.requests[0].json()

They speak the real protocols, so what the channels do is tested end to end, without patching
our code or httpx.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email
import email.policy
import ipaddress
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self

import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port nobody listens on right now (for servers that must be told theirs up front)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])


async def wait_until(
    condition: Callable[[], bool], *, timeout: float = 5.0, what: str = "a condition"
) -> None:
    """Poll ``condition`` (e.g. ``lambda: smtp.abandoned == 1``) until it holds; fail the
    test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.01)


# TLS.


class LoopbackCertificate:
    """A self-signed certificate for 127.0.0.1 and localhost, written to ``directory``. Trust
    it in a client with ``monkeypatch.setenv("SSL_CERT_FILE", str(cert.ca_file))`` (OpenSSL
    reads the variable whenever a default context is made)."""

    def __init__(self, directory: Path) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "loopback test peer")])
        now = dt.datetime.now(dt.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.DNSName("localhost"),
                        x509.IPAddress(ipaddress.IPv4Address(LOOPBACK)),
                    ]
                ),
                critical=False,
            )
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256())
        )
        self.ca_file = directory / "loopback-cert.pem"
        self.key_file = directory / "loopback-key.pem"
        self.ca_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        self.key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.ca_file, self.key_file)
        return context


# SMTP.


@dataclass(frozen=True)
class ReceivedMail:
    """A message the peer accepted (answered 250 to its DATA)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes
    # 1 for the first connection that said EHLO/HELO, 2 for the next...
    connection: int

    @property
    def recipients(self) -> tuple[str, ...]:
        """The envelope's recipients (``rcpt_tos``)."""
        return self.rcpt_tos


RefusalStage = Literal["rcpt", "data", "RCPT", "DATA"]


@dataclass
class _Refusal:
    code: int
    text: str
    at: Literal["rcpt", "data"]


class SmtpPeer:
    """An SMTP server on loopback (aiosmtpd's ``Controller``, in its own thread).

    - ``messages``: what it accepted, parsed with ``email`` (policy ``default``).
    - ``refuse_next(code, text, count=, at=)``: answer the next ``count`` messages with that
      reply at RCPT (the usual place for 550 unknown user, 451 greylisting) or at DATA.
    - ``hold()`` / ``release()``: hold the replies to DATA; ``held`` says how many wait. A
      message counts as received only when its 250 is sent: if the client goes away while it
      is held, it is counted in ``abandoned`` instead.
    - ``drop_connections()``: close every open connection from the server side (as an idle
      timeout does).
    - ``connections``: how many connections said EHLO/HELO; ``logins``: user names that
      authenticated.
    - ``tls="implicit"`` (TLS from the first byte, port 465 style) or ``"starttls"`` (and then
      required), with ``certificate``; ``auth=(user, password)`` offers AUTH and accepts only
      that login (535 otherwise).
    """

    def __init__(
        self,
        *,
        auth: tuple[str, str] | None = None,
        tls: Literal["implicit", "starttls"] | None = None,
        certificate: LoopbackCertificate | None = None,
    ) -> None:
        if tls is not None and certificate is None:
            raise ValueError("tls needs a certificate")
        self.host = LOOPBACK
        self.port = 0
        self._auth = auth
        self._tls = tls
        self._certificate = certificate
        self._lock = threading.Lock()
        self._messages: list[ReceivedMail] = []
        self._refusals: list[_Refusal] = []
        self._released = threading.Event()
        self._released.set()
        self._held = 0
        self.abandoned = 0
        self.logins: list[str] = []
        self._connection_numbers: dict[int, int] = {}
        self._servers: list[SMTP] = []
        self._controller: Controller | None = None

    # What tests read.

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._messages)

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._connection_numbers)

    @property
    def held(self) -> int:
        with self._lock:
            return self._held

    @property
    def refusals_left(self) -> int:
        """Scripted refusals (``refuse_next``) not answered yet."""
        with self._lock:
            return len(self._refusals)

    def settings(self, **overrides: Any) -> dict[str, Any]:
        """``NotifierSettings`` fields pointing the email channel at this peer."""
        fields: dict[str, Any] = {"smtp_host": self.host, "smtp_port": self.port}
        if self._tls == "implicit":
            fields["smtp_use_tls"] = True
        elif self._tls == "starttls":
            fields["smtp_start_tls"] = True
        if self._auth is not None:
            fields["smtp_username"], fields["smtp_password"] = self._auth
        return {**fields, **overrides}

    async def wait_for_messages(self, count: int, *, timeout: float = 5.0) -> list[ReceivedMail]:
        await wait_until(
            lambda: len(self.messages) >= count, timeout=timeout, what=f"{count} messages"
        )
        return self.messages

    async def wait_until_held(self, count: int = 1, *, timeout: float = 5.0) -> None:
        await wait_until(lambda: self.held >= count, timeout=timeout, what=f"{count} held replies")

    # What tests script.

    def refuse_next(
        self, code: int, text: str = "", *, count: int = 1, at: RefusalStage = "rcpt"
    ) -> None:
        """Answer the next ``count`` messages with ``"{code} {text}"`` at RCPT or DATA (either
        case)."""
        stage: Literal["rcpt", "data"] = "data" if at.lower() == "data" else "rcpt"
        with self._lock:
            self._refusals.extend(_Refusal(code, text, stage) for _ in range(count))

    def hold(self) -> None:
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    async def drop_connections(self) -> None:
        controller = self._running()

        async def close_all() -> None:
            for server in self._servers:
                if server.transport is not None:
                    server.transport.close()

        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(close_all(), controller.loop))

    # Lifecycle.

    async def __aenter__(self) -> Self:
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if self._auth is not None:
            # aiosmtpd knows only STARTTLS as TLS; under implicit TLS it must offer AUTH anyway.
            # Logging in stays optional (requiring it without TLS makes aiosmtpd warn): tests
            # see who logged in in ``logins``.
            kwargs.update(
                authenticator=self._authenticate,
                auth_require_tls=self._tls == "starttls",
            )
        if self._tls == "starttls":
            assert self._certificate is not None
            kwargs.update(tls_context=self._certificate.server_context(), require_starttls=True)
        ssl_context = None
        if self._tls == "implicit":
            assert self._certificate is not None
            ssl_context = self._certificate.server_context()
        self._controller = _RecordingController(
            self,
            _Handler(self),
            hostname=self.host,
            port=self.port,
            ssl_context=ssl_context,
            **kwargs,
        )
        await asyncio.to_thread(self._controller.start)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()
        controller, self._controller = self._controller, None
        if controller is not None:
            await asyncio.to_thread(controller.stop)

    def _running(self) -> Controller:
        if self._controller is None:
            raise RuntimeError("the SMTP peer is not running")
        return self._controller

    # Called on the peer's own thread.

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if isinstance(data, LoginPassword) and self._auth is not None:
            user, password = data.login.decode(), data.password.decode()
            if (user, password) == self._auth:
                with self._lock:
                    self.logins.append(user)
                return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def _saw_connection(self, server: SMTP) -> None:
        with self._lock:
            self._connection_numbers.setdefault(id(server), len(self._connection_numbers) + 1)

    def _take_refusal(self, at: str) -> str | None:
        with self._lock:
            if self._refusals and self._refusals[0].at == at:
                refusal = self._refusals.pop(0)
                return f"{refusal.code} {refusal.text}".rstrip()
        return None

    async def _hold_if_asked(self) -> None:
        if self._released.is_set():
            return
        with self._lock:
            self._held += 1
        try:
            # The test releases from its own thread and loop: a threading.Event, polled.
            while not self._released.is_set():  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        except asyncio.CancelledError:
            # The client went away while its reply was held: the message was not accepted.
            with self._lock:
                self.abandoned += 1
            raise
        finally:
            with self._lock:
                self._held -= 1

    def _accept(self, server: SMTP, envelope: Envelope) -> bool:
        raw = envelope.original_content or b""
        with self._lock:
            if server.transport is None or server.transport.is_closing():
                self.abandoned += 1
                return False
            parsed: EmailMessage = email.message_from_bytes(raw, policy=email.policy.default)
            self._messages.append(
                ReceivedMail(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    message=parsed,
                    raw=raw,
                    connection=self._connection_numbers.get(id(server), 0),
                )
            )
        return True


class _RecordingController(Controller):
    def __init__(self, peer: SmtpPeer, handler: _Handler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._peer = peer

    def factory(self) -> SMTP:
        server = SMTP(self.handler, **self.SMTP_kwargs)
        self._peer._servers.append(server)
        return server


class _Handler:
    """aiosmtpd's hooks (it finds them by these names)."""

    def __init__(self, peer: SmtpPeer) -> None:
        self._peer = peer

    async def handle_EHLO(  # noqa: N802
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        self._peer._saw_connection(server)
        return responses

    async def handle_HELO(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str
    ) -> str:
        session.host_name = hostname
        self._peer._saw_connection(server)
        return f"250 {server.hostname}"

    async def handle_RCPT(  # noqa: N802
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        refusal = self._peer._take_refusal("rcpt")
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        await self._peer._hold_if_asked()
        refusal = self._peer._take_refusal("data")
        if refusal is not None:
            return refusal
        # Nothing is awaited between here and aiosmtpd writing the reply.
        self._peer._accept(server, envelope)
        return "250 OK"


# HTTP.


@dataclass(frozen=True)
class Reply:
    """One scripted answer: ``json`` (serialized) or ``body`` (sent as is, e.g. garbage),
    after ``delay_s`` seconds (a delay longer than the client's timeout plays a timeout)."""

    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay_s: float = 0.0

    def render(self) -> Response:
        if self.body is not None:
            content, media_type = self.body, "application/octet-stream"
        elif self.json is not None:
            content, media_type = json.dumps(self.json).encode(), "application/json"
        else:
            content, media_type = b"", "text/plain"
        return Response(
            content=content,
            status_code=self.status,
            headers=dict(self.headers),
            media_type=self.headers.get("content-type", media_type),
        )


@dataclass(frozen=True)
class ReceivedRequest:
    method: str
    path: str
    # The query string's parameters, decoded (the last value of a repeated name).
    query: dict[str, str]
    raw_query: str
    # Lowercase names.
    headers: dict[str, str]
    body: bytes
    # The client's source port: the same port for two requests means one reused connection.
    client_port: int

    def json(self) -> Any:
        return json.loads(self.body)


class _QuietServer(uvicorn.Server):
    # uvicorn installs its own SIGINT handler when run on the main thread; in a test run,
    # Ctrl-C must stay pytest's.
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpPeer:
    """An HTTP server on loopback that records every request (method, path, query, headers,
    body) and answers with the scripted replies in order, then with ``default``.

    ``reply(...)`` adds replies to the script; ``url(path)`` is an address on the peer;
    ``wait_for_requests(n)`` waits until ``n`` requests came in. A reply's delay ends early
    when the peer stops, so a timed-out request never holds up the test's teardown.
    """

    def __init__(self, *replies: Reply, default: Reply | None = None) -> None:
        self._script: list[Reply] = list(replies)
        self.default = default if default is not None else Reply(200, json={})
        self.requests: list[ReceivedRequest] = []
        self.port = 0
        self._server: _QuietServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
        self.app = Starlette(routes=[Route("/{path:path}", self._answer, methods=methods)])

    def reply(self, *replies: Reply) -> None:
        self._script.extend(replies)

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + (path if path.startswith("/") else f"/{path}")

    async def wait_for_requests(self, count: int, *, timeout: float = 5.0) -> list[ReceivedRequest]:
        await wait_until(
            lambda: len(self.requests) >= count, timeout=timeout, what=f"{count} requests"
        )
        return list(self.requests)

    async def _answer(self, request: Request) -> Response:
        body = await request.body()
        self.requests.append(
            ReceivedRequest(
                method=request.method,
                path=request.url.path,
                query=dict(request.query_params),
                raw_query=request.url.query,
                headers={name.lower(): value for name, value in request.headers.items()},
                body=body,
                client_port=request.client.port if request.client is not None else 0,
            )
        )
        reply = self._script.pop(0) if self._script else self.default
        if reply.delay_s > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), reply.delay_s)
        return reply.render()

    async def __aenter__(self) -> Self:
        config = uvicorn.Config(
            self.app,
            host=LOOPBACK,
            port=0,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=2,
        )
        self._server = _QuietServer(config)
        self._task = asyncio.create_task(self._server.serve())
        await wait_until(
            lambda: (self._server is not None and self._server.started) or self._task_failed(),
            timeout=10,
            what="the HTTP peer to start",
        )
        if self._task_failed():
            await self._task  # raises what stopped it
        self.port = int(self._server.servers[0].sockets[0].getsockname()[1])
        return self

    def _task_failed(self) -> bool:
        return self._task is not None and self._task.done()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._task is not None:
            await self._task
