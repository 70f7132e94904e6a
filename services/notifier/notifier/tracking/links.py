"""Signed links the notifier puts in messages: the open pixel, click redirects, unsubscribe and
a candidate's inbox. Each carries what it is about and an HMAC-SHA256 over it, so nobody can
forge an open, redirect through us to a URL we did not send, or unsubscribe someone else.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape, unescape
from urllib.parse import quote

from notifier.settings import NotifierSettings

_HREF = re.compile(r'href="(https?://[^"]+)"', re.IGNORECASE)
_SIG_BYTES = 16


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class BadLink(ValueError):
    """A link whose signature does not match, or that is malformed."""


@dataclass(frozen=True)
class Unsubscribe:
    recipient_kind: str
    recipient_id: str
    kind: str | None  # None: everything


@dataclass(frozen=True)
class InboxGrant:
    """What a candidate inbox token grants: that candidate's inbox, until ``expires_at``."""

    candidate_id: uuid.UUID
    expires_at: datetime


class LinkSigner:
    def __init__(self, settings: NotifierSettings) -> None:
        self._key = link_key(settings)
        self._base = settings.public_url.rstrip("/")

    def _sign(self, purpose: str, text: str) -> str:
        digest = hmac.new(self._key, f"{purpose}\n{text}".encode(), hashlib.sha256).digest()
        return _b64(digest[:_SIG_BYTES])

    def _check(self, purpose: str, text: str, signature: str) -> None:
        if not signature.isascii() or not hmac.compare_digest(self._sign(purpose, text), signature):
            raise BadLink("the link's signature does not match")

    # The open pixel and click redirects of one delivery.
    def open_url(self, delivery_id: uuid.UUID) -> str:
        text = str(delivery_id)
        return f"{self._base}/v1/t/open/{text}/{self._sign('open', text)}.gif"

    def check_open(self, delivery_id: uuid.UUID, signature: str) -> None:
        self._check("open", str(delivery_id), signature)

    def click_url(self, delivery_id: uuid.UUID, target: str) -> str:
        signature = self._sign("click", f"{delivery_id}\n{target}")
        return f"{self._base}/v1/t/click/{delivery_id}/{signature}?u={quote(target, safe='')}"

    def check_click(self, delivery_id: uuid.UUID, target: str, signature: str) -> None:
        self._check("click", f"{delivery_id}\n{target}", signature)

    # Unsubscribing a recipient from a kind (or from everything).
    def unsubscribe_token(self, unsubscribe: Unsubscribe) -> str:
        body = _b64(
            json.dumps(
                [unsubscribe.recipient_kind, unsubscribe.recipient_id, unsubscribe.kind],
                separators=(",", ":"),
            ).encode()
        )
        return f"{body}.{self._sign('unsubscribe', body)}"

    def unsubscribe_url(self, unsubscribe: Unsubscribe) -> str:
        return f"{self._base}/v1/unsubscribe/{self.unsubscribe_token(unsubscribe)}"

    def read_unsubscribe(self, token: str) -> Unsubscribe:
        body, _, signature = token.partition(".")
        if not body or not signature:
            raise BadLink("malformed unsubscribe token")
        self._check("unsubscribe", body, signature)
        try:
            kind, recipient, notification_kind = json.loads(_unb64(body))
        except (ValueError, TypeError):
            raise BadLink("malformed unsubscribe token") from None
        return Unsubscribe(str(kind), str(recipient), notification_kind)

    # A candidate's in-app inbox, for the candidate portal (which has no staff token).
    def inbox_token(self, candidate_id: uuid.UUID, expires_at: datetime) -> str:
        """A bearer token for ``candidate_id``'s inbox, valid until ``expires_at`` (kept to the
        whole second). Signed, not stored: it cannot be revoked alone, hence a short life."""
        body = _b64(
            json.dumps(
                [str(candidate_id), int(expires_at.timestamp())], separators=(",", ":")
            ).encode()
        )
        return f"{body}.{self._sign('inbox', body)}"

    def read_inbox_token(self, token: str) -> InboxGrant:
        """The grant a token carries (the caller checks its expiry against its own clock).
        Raises ``BadLink`` for a forged or malformed token."""
        body, _, signature = token.partition(".")
        # compare_digest refuses non-ASCII text with a TypeError: a forged token, not a fault.
        if not body or not signature or not token.isascii():
            raise BadLink("malformed inbox token")
        self._check("inbox", body, signature)
        try:
            candidate, expires = json.loads(_unb64(body))
            if not isinstance(expires, int) or isinstance(expires, bool):
                raise TypeError("expiry is not a number of seconds")
            return InboxGrant(uuid.UUID(candidate), datetime.fromtimestamp(expires, UTC))
        except (ValueError, TypeError, AttributeError, OverflowError, OSError):
            raise BadLink("malformed inbox token") from None

    # Tracking in an email's HTML.
    def track_html(self, html: str, delivery_id: uuid.UUID) -> str:
        """Every absolute link goes through the click redirect, and an open pixel ends the
        body."""

        def rewrite(match: re.Match[str]) -> str:
            target = unescape(match.group(1))
            return f'href="{escape(self.click_url(delivery_id, target), quote=True)}"'

        tracked = _HREF.sub(rewrite, html)
        pixel = f'<img src="{self.open_url(delivery_id)}" width="1" height="1" alt="">'
        if "</body>" in tracked:
            return tracked.replace("</body>", pixel + "</body>", 1)
        return tracked + pixel


def link_key(settings: NotifierSettings) -> bytes:
    """The configured link secret; in development and tests, one derived from the PII index
    key (never in production, where the setting is required)."""
    if settings.link_secret is not None:
        return settings.link_secret.get_secret_value().encode()
    if settings.environment == "production":
        raise RuntimeError("NOTIFIER_LINK_SECRET is required in production")
    seed = settings.pii_index_key.get_secret_value() if settings.pii_index_key else "dev"
    return hashlib.sha256(b"notifier-links\n" + seed.encode()).digest()
