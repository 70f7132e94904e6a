"""Email over SMTP: a small pool of reused connections, so a burst of notices does not open a
connection (and a TLS handshake, and a login) per message.

The ``Message-ID`` is derived from the delivery id: a message sent again after a crash (the
server accepted it but we never recorded that) carries the same id, which receiving systems
use to drop the duplicate, and which bounce reports quote back to us.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from email import encoders
from email._policybase import Compat32
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr

import aiosmtplib

from notifier.channels.base import OutgoingMessage, SendResult
from notifier.channels.receipts import Receipt, parse
from notifier.settings import NotifierSettings
from shared.logging import get_logger

log = get_logger(__name__)

# Headers this channel writes itself; a caller's ``headers`` may not replace them.
RESERVED_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "bcc",
        "sender",
        "subject",
        "date",
        "message-id",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)
_HEADER_NAME = re.compile(r"^[!-9;-~]+$")  # printable ASCII without the colon (RFC 5322 ftext)
_ATOM = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~\u00a0-\U0010ffff-]+$")
_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_ENHANCED_CODE = re.compile(r"^\s*([245]\.\d{1,3}\.\d{1,3})\b")
_INVALID_ADDRESS = "The email address is not valid."


class InvalidEmail(ValueError):
    """The message cannot be written as an email; the text says why, with no personal data."""


def address_problem(address: str) -> str | None:
    """Why ``address`` cannot be an email recipient, or None. A syntax check only (a dot-atom
    local part and a host name, internationalized ones included): whether the mailbox exists
    only its server can say, and asking DNS here would slow every send."""
    if len(address) > 254 or address.count("@") != 1:
        return _INVALID_ADDRESS
    local, _, domain = address.partition("@")
    if not local or len(local.encode()) > 64:
        return _INVALID_ADDRESS
    if not all(_ATOM.match(atom) for atom in local.split(".")):
        return _INVALID_ADDRESS
    try:
        ascii_domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return _INVALID_ADDRESS
    labels = ascii_domain.split(".")
    if len(labels) < 2 or labels[-1].isdigit() or not all(_LABEL.match(label) for label in labels):
        return _INVALID_ADDRESS
    return None


def message_id_for(delivery_id: uuid.UUID, domain: str) -> str:
    """The same delivery always gets the same ``Message-ID``."""
    return f"<{delivery_id}@{domain}>"


def build_email(
    message: OutgoingMessage, *, sender: str, message_id: str, now: datetime | None = None
) -> bytes:
    """The bytes sent for ``message`` (see ``email_message``). Raises ``InvalidEmail``."""
    return email_message(message, sender=sender, message_id=message_id, now=now).as_bytes(
        policy=WIRE
    )


def email_message(
    message: OutgoingMessage, *, sender: str, message_id: str, now: datetime | None = None
) -> Message:
    """The email for ``message``: the text body, the HTML alternative when
    there is one, the attachments, and the extra headers (List-Unsubscribe, ...). A calendar
    attachment that carries an iTIP ``method`` is also put among the alternatives (iMIP, RFC
    6047), as calendar services do, so mail clients offer to accept or decline. Raises
    ``InvalidEmail``.

    Written with the ``compat32`` MIME classes: the ``EmailMessage`` API parses and refolds
    every header through its header registry, about ten times the CPU for the same bytes.
    """
    extra = dict(message.headers)
    for name in extra:
        if not _HEADER_NAME.match(name) or name.lower() in RESERVED_HEADERS:
            raise InvalidEmail(f"The header {name!r} may not be set on an email.")
    for value in (sender, message.address, message.subject or "", *extra.values()):
        if "\r" in value or "\n" in value:
            # A line break in a header value would let it write headers of its own.
            raise InvalidEmail("A header value is not valid.")
    parsed = [
        (attachment, _content_type(attachment.content_type)) for attachment in message.attachments
    ]
    # Every part is base64 (UTF-8 text is, with the stdlib's charset table), and base64 never
    # holds "_": a boundary with one cannot occur in a part, so it need not be searched for
    # in the text (the stdlib's own boundaries are, with a regular expression compiled for
    # each message).
    boundary = f"=_{uuid.uuid4().hex}"
    alternatives: list[Message] = [MIMEText(message.text, "plain", "utf-8")]
    if message.html is not None:
        alternatives.append(MIMEText(message.html, "html", "utf-8"))
    for attachment, (maintype, subtype, params) in parsed:
        if (maintype, subtype) == ("text", "calendar") and "method" in params:
            try:
                calendar = attachment.data.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidEmail("A calendar attachment is not UTF-8 text.") from None
            invitation = MIMEText(calendar, "calendar", "utf-8")
            for key, param in params.items():
                if key != "charset":
                    invitation.set_param(key, param)
            alternatives.append(invitation)
    body: Message = alternatives[0]
    if len(alternatives) > 1:
        body = MIMEMultipart("alternative", boundary=f"{boundary}_a")
        for alternative in alternatives:
            body.attach(alternative)
    root = body
    if parsed:
        root = MIMEMultipart("mixed", boundary=f"{boundary}_m")
        root.attach(body)
        for attachment, (maintype, subtype, params) in parsed:
            part = MIMEBase(maintype, subtype)
            for key, param in params.items():
                part.set_param(key, param)
            part.set_payload(attachment.data)
            encoders.encode_base64(part)
            part.add_header("Content-Disposition", "attachment", filename=attachment.filename)
            root.attach(part)
    name, address = parseaddr(sender)
    root["From"] = formataddr((name, address), charset="utf-8")
    root["To"] = _header(message.address)
    if message.subject is not None:
        root["Subject"] = _header(message.subject)
    root["Date"] = format_datetime(now or datetime.now(UTC))
    root["Message-ID"] = message_id
    for name, value in extra.items():
        root[name] = _header(value)
    return root


class _Wire(Compat32):
    """``compat32`` as sent. Headers are not folded below RFC 5322's 998-character limit: a
    folded List-Unsubscribe or Subject is valid, but some clients keep the fold's whitespace
    in the value. An ASCII header that fits on its line (every header we write: the others
    are encoded words by then) is written as it is; ``compat32`` would run it through a
    ``Header`` object to the same bytes, a third of the cost of building an email."""

    def _fold(self, name: str, value: object, sanitize: bool) -> str:
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + len(value) + 2 <= (self.max_line_length or 0)
            and "\r" not in value
            and "\n" not in value
        ):
            return f"{name}: {value}{self.linesep}"
        folded: str = super()._fold(name, value, sanitize)  # type: ignore[misc]
        return folded


WIRE = _Wire(max_line_length=998)


def _header(value: str) -> str:
    """ASCII as it is; anything else as an RFC 2047 encoded word in UTF-8."""
    return value if value.isascii() else Header(value, "utf-8").encode()


def _content_type(value: str) -> tuple[str, str, dict[str, str]]:
    header = Message()
    header["Content-Type"] = value
    maintype, subtype = header.get_content_maintype(), header.get_content_subtype()
    if maintype == "multipart" or header.get_content_type() != value.split(";")[0].strip().lower():
        raise InvalidEmail("An attachment's content type is not valid.")
    params = {
        str(key).lower(): str(param)
        for key, param in (header.get_params() or [])[1:]
        if isinstance(param, str)
    }
    return maintype, subtype, params


class _Stage:
    """Where an SMTP error happened decides what it means: refusing us at connect, EHLO or
    login is about our configuration or the server (worth another try later); refusing the
    sender, the recipient or the data is about this message."""

    CONNECT = "connect"
    SEND = "send"


def classify_smtp_error(error: BaseException, stage: str) -> SendResult:
    """``retry`` for 4xx, timeouts and connection trouble; ``failed`` for a 5xx about the
    message. The reason quotes the reply code and enhanced status code, never the server's
    text (it usually repeats the address)."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        refusal = error.recipients[0] if error.recipients else None
        code = refusal.code if refusal is not None else 0
        detail = _code_text(code, refusal.message if refusal is not None else "")
        if code >= 500:
            return SendResult("failed", reason=f"The mail server refused the recipient ({detail}).")
        return SendResult("retry", reason=f"The mail server deferred the recipient ({detail}).")
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        detail = _code_text(error.code, error.message)
        return SendResult("retry", reason=f"The mail server refused our login ({detail}).")
    if isinstance(error, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return SendResult("retry", reason="The mail server did not answer in time.")
    if isinstance(error, aiosmtplib.SMTPResponseException):
        detail = _code_text(error.code, error.message)
        if stage == _Stage.SEND and error.code >= 500:
            return SendResult("failed", reason=f"The mail server refused the message ({detail}).")
        return SendResult("retry", reason=f"The mail server deferred the message ({detail}).")
    if isinstance(error, aiosmtplib.SMTPNotSupported):
        if stage == _Stage.SEND:
            # SMTPUTF8 missing for an internationalized address: no retry will change that.
            return SendResult(
                "failed", reason="The mail server does not support what this message needs."
            )
        return SendResult("retry", reason="The mail server does not support the configured TLS.")
    if isinstance(error, aiosmtplib.SMTPServerDisconnected):
        return SendResult("retry", reason="The mail server closed the connection.")
    if isinstance(error, aiosmtplib.SMTPConnectError | OSError):
        return SendResult("retry", reason="The mail server could not be reached.")
    return SendResult("retry", reason=f"Sending the email failed ({type(error).__name__}).")


def _reply_code(error: aiosmtplib.SMTPException) -> int:
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        return error.recipients[0].code if error.recipients else 0
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return error.code
    return 0


def _code_text(code: int, message: str) -> str:
    enhanced = _ENHANCED_CODE.match(message or "")
    return f"{code} {enhanced.group(1)}" if enhanced else str(code)


_SMTP_ERRORS = (aiosmtplib.SMTPException, OSError, TimeoutError)


class SmtpChannel:
    """Sends email through the configured SMTP server over at most ``smtp_connections``
    connections, kept open between messages. A connection the server closed while idle is
    noticed on the next message (at its first command, before the server took anything),
    which is then sent on a new connection; should a disconnect come later in the
    transaction, the resend carries the same Message-ID."""

    name = "email"

    def __init__(self, settings: NotifierSettings) -> None:
        self._settings = settings
        self._slots = asyncio.Semaphore(settings.smtp_connections)
        self._idle: list[aiosmtplib.SMTP] = []
        self._closed = False
        self._sender = parseaddr(settings.smtp_from)[1]
        domain = self._sender.rpartition("@")[2]
        self._domain = domain or "notifier.invalid"

    async def send(self, message: OutgoingMessage) -> SendResult:
        problem = address_problem(message.address)
        if problem is not None:
            return SendResult("failed", reason=problem)
        message_id = message_id_for(message.delivery_id, self._domain)
        try:
            mime = build_email(message, sender=self._settings.smtp_from, message_id=message_id)
        except InvalidEmail as error:
            return SendResult("failed", reason=str(error))
        if self._closed:
            return SendResult("retry", reason="The email channel is shutting down.")
        async with self._slots:
            result = await self._transmit(mime, message.address)
        if result.outcome == "sent":
            return SendResult("sent", provider_message_id=message_id)
        log.info("email.not_sent", outcome=result.outcome, reason=result.reason)
        return result

    async def _transmit(self, mime: bytes, recipient: str) -> SendResult:
        while True:
            client = self._take_idle()
            fresh = client is None
            if client is None:
                try:
                    client = await self._connect()
                except _SMTP_ERRORS as error:
                    return classify_smtp_error(error, _Stage.CONNECT)
            keep = False
            try:
                await client.sendmail(
                    self._sender,
                    [recipient],
                    mime,
                    # An internationalized address needs the server's SMTPUTF8.
                    mail_options=[] if recipient.isascii() else ["SMTPUTF8"],
                )
                keep = True
                return SendResult("sent")
            except (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPResponseException) as error:
                # 421: the server is closing this session (often an idle one); it accepted
                # nothing, so a reused connection gets one more try on a new connection.
                closing = _reply_code(error) == 421
                if closing and not fresh:
                    continue
                keep = not closing  # aiosmtplib has reset the transaction (RSET)
                return classify_smtp_error(error, _Stage.SEND)
            except aiosmtplib.SMTPServerDisconnected as error:
                if not fresh:
                    continue
                return classify_smtp_error(error, _Stage.SEND)
            except _SMTP_ERRORS as error:
                return classify_smtp_error(error, _Stage.SEND)
            except ValueError:
                # aiosmtplib could not write the envelope or the message (before sending it).
                return SendResult("failed", reason="The email could not be written for SMTP.")
            finally:
                # A timeout or a cancellation mid-transaction leaves the session in an
                # unknown state: such a connection is closed, never reused.
                if keep and not self._closed:
                    self._idle.append(client)
                else:
                    client.close()

    def _take_idle(self) -> aiosmtplib.SMTP | None:
        while self._idle:
            client = self._idle.pop()
            if client.is_connected:
                return client
            client.close()
        return None

    async def _connect(self) -> aiosmtplib.SMTP:
        settings = self._settings
        username = password = None
        if settings.smtp_username is not None and settings.smtp_password is not None:
            username = settings.smtp_username
            password = settings.smtp_password.get_secret_value()
        client = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            use_tls=settings.smtp_use_tls,
            start_tls=settings.smtp_start_tls and not settings.smtp_use_tls,
            timeout=settings.smtp_timeout_s,
            username=username,
            password=password,
        )
        try:
            await client.connect()
        except BaseException:
            client.close()
            raise
        return client

    async def close(self) -> None:
        """Say goodbye on every idle connection (QUIT), closing it regardless after a short
        wait; connections still sending are closed when their message is done."""
        self._closed = True
        idle, self._idle = self._idle, []
        for client in idle:
            try:
                async with asyncio.timeout(min(self._settings.smtp_timeout_s, 5.0)):
                    await client.quit()
            except _SMTP_ERRORS:
                pass
            finally:
                client.close()


# Bounce and delivery events from the email provider, in the generic receipt shape
# (``channels/receipts.py``); ``message_id`` is the Message-ID we sent.
RECEIPT_STATUSES = {"delivered": "delivered", "bounced": "bounced", "hard_bounce": "bounced"}


def parse_receipts(body: bytes, signature: str | None, secret: str | None) -> list[Receipt]:
    """The provider's events, with each Message-ID written as we sent it (``<...>``)."""
    return [
        replace(receipt, provider_message_id=_bracketed(receipt.provider_message_id))
        for receipt in parse(body, signature, secret, statuses=RECEIPT_STATUSES)
    ]


def _bracketed(message_id: str) -> str:
    return message_id if message_id.startswith("<") else f"<{message_id}>"
