"""Personal data at rest: AES-256-GCM with a key id in every ciphertext, a keyring that encrypts
with the current key and decrypts with any, and a keyed blind index for equality lookups.

Ciphertext layout: ``0x01 | len(kid) | kid | nonce (12 bytes) | AES-GCM ciphertext and tag``.
The header and a caller-given ``context`` (e.g. ``"candidates.email"``) are authenticated as
associated data, so a ciphertext cannot be moved to another column or relabelled with another
key id without failing to decrypt. Rotating keys: add a key, make it current, then re-encrypt
the rows whose ciphertext still names an old key (``Keyring.needs_rotation``/``reencrypt``);
only after that remove the old key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

if TYPE_CHECKING:
    from shared.settings import ServiceSettings

FORMAT_VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
KID_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
_KID = re.compile(KID_PATTERN)


class PiiKeysMissing(RuntimeError):
    """No PII keys are configured, so personal data can be neither written nor read."""


class DecryptionError(ValueError):
    """A ciphertext that is malformed, names an unknown key, or fails authentication."""


def generate_key() -> str:
    """A fresh random key, base64-encoded, as the settings expect it."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def decode_key(value: str) -> bytes:
    """The 32 bytes of a base64 key; the error never repeats the value."""
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be base64 (standard alphabet) of 32 random bytes") from None
    if len(raw) != KEY_BYTES:
        raise ValueError(f"must decode to {KEY_BYTES} bytes, not {len(raw)}")
    return raw


def check_key_id(kid: str) -> str:
    if not _KID.match(kid):
        raise ValueError(f"key id {kid!r} must match {KID_PATTERN}")
    return kid


def _header(kid: str) -> bytes:
    encoded = kid.encode("ascii")
    return bytes([FORMAT_VERSION, len(encoded)]) + encoded


class Keyring:
    """Encrypts with the current key, decrypts with any key it holds, computes blind indexes."""

    def __init__(self, keys: Mapping[str, bytes], *, current: str, index_key: bytes) -> None:
        if current not in keys:
            raise ValueError("the current key must be one of the keys")
        for kid, key in keys.items():
            check_key_id(kid)
            if len(key) != KEY_BYTES:
                raise ValueError(f"key {kid!r} must be {KEY_BYTES} bytes")
        if len(index_key) < KEY_BYTES:
            raise ValueError(f"the index key must be at least {KEY_BYTES} bytes")
        self._ciphers = {kid: AESGCM(key) for kid, key in keys.items()}
        self._index_key = index_key
        self.current = current
        self.current_header = _header(current)

    @classmethod
    def from_settings(cls, settings: ServiceSettings) -> Keyring:
        """The keyring the settings describe (``pii_keys``, ``pii_current_key``,
        ``pii_index_key``); ``PiiKeysMissing`` when they are not configured."""
        if not settings.pii_keys or settings.pii_index_key is None:
            raise PiiKeysMissing(
                "PII keys are not configured: set PII_KEYS and PII_INDEX_KEY "
                "(`make env` writes development keys; see docs/deployment.md)"
            )
        keys = {kid: decode_key(key.get_secret_value()) for kid, key in settings.pii_keys.items()}
        current = settings.pii_current_key or next(iter(keys))
        return cls(
            keys,
            current=current,
            index_key=decode_key(settings.pii_index_key.get_secret_value()),
        )

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._ciphers)

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        header = self.current_header
        sealed = self._ciphers[self.current].encrypt(
            nonce, plaintext.encode("utf-8"), header + context.encode("utf-8")
        )
        return header + nonce + sealed

    def decrypt(self, ciphertext: bytes, *, context: str) -> str:
        kid, header, body = _split(ciphertext)
        cipher = self._ciphers.get(kid)
        if cipher is None:
            raise DecryptionError(f"no key {kid!r} in the keyring")
        nonce, sealed = body[:NONCE_BYTES], body[NONCE_BYTES:]
        try:
            plaintext = cipher.decrypt(nonce, sealed, header + context.encode("utf-8"))
        except InvalidTag:
            raise DecryptionError("the ciphertext failed authentication") from None
        return plaintext.decode("utf-8")

    def needs_rotation(self, ciphertext: bytes) -> bool:
        """Whether the ciphertext was made with a key other than the current one."""
        return not ciphertext.startswith(self.current_header)

    def reencrypt(self, ciphertext: bytes, *, context: str) -> bytes:
        """The same plaintext under the current key (unchanged if already under it)."""
        if not self.needs_rotation(ciphertext):
            return ciphertext
        return self.encrypt(self.decrypt(ciphertext, context=context), context=context)

    def blind_index(self, normalized: str, *, context: str) -> bytes:
        """A keyed HMAC-SHA256 of an already normalized value: equal values give equal indexes,
        and without the index key the index reveals nothing about the value."""
        message = context.encode("utf-8") + b"\x00" + normalized.encode("utf-8")
        return hmac.new(self._index_key, message, hashlib.sha256).digest()


def key_id_of(ciphertext: bytes) -> str:
    """The id of the key a ciphertext was made with."""
    return _split(ciphertext)[0]


def _split(ciphertext: bytes) -> tuple[str, bytes, bytes]:
    if len(ciphertext) < 2 or ciphertext[0] != FORMAT_VERSION:
        raise DecryptionError("not a ciphertext of a known format")
    end = 2 + ciphertext[1]
    if len(ciphertext) < end + NONCE_BYTES + 16:
        raise DecryptionError("the ciphertext is truncated")
    try:
        kid = ciphertext[2:end].decode("ascii")
    except UnicodeDecodeError:
        raise DecryptionError("the ciphertext's key id is not ASCII") from None
    return kid, ciphertext[:end], ciphertext[end:]
