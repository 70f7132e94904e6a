from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr, ValidationError

from shared.crypto import (
    DecryptionError,
    Keyring,
    PiiKeysMissing,
    decode_key,
    generate_key,
    key_id_of,
)
from shared.settings import ServiceSettings


class _Settings(ServiceSettings):
    service_name = "cryptotest"


@pytest.fixture(autouse=True)
def _no_pii_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test run's own keys are in the environment, and pydantic-settings merges a dict
    # given here with the environment's.
    for name in ("PII_KEYS", "PII_CURRENT_KEY", "PII_INDEX_KEY"):
        monkeypatch.delenv(f"RECRUITING_{name}", raising=False)


def _key() -> bytes:
    return decode_key(generate_key())


INDEX_KEY = _key()
OLD = _key()
NEW = _key()


def _keyring(current: str = "k1", **keys: bytes) -> Keyring:
    return Keyring(keys or {"k1": OLD}, current=current, index_key=INDEX_KEY)


@given(st.text(max_size=300))
def test_what_is_encrypted_decrypts_to_the_same_text(text: str) -> None:
    keyring = _keyring()

    assert keyring.decrypt(keyring.encrypt(text, context="c"), context="c") == text


def test_the_same_text_encrypts_differently_each_time() -> None:
    keyring = _keyring()

    assert keyring.encrypt("li@example.com", context="c") != keyring.encrypt(
        "li@example.com", context="c"
    )


def test_ciphertext_names_its_key_and_hides_the_text() -> None:
    ciphertext = _keyring().encrypt("li@example.com", context="c")

    assert key_id_of(ciphertext) == "k1"
    assert b"li@example.com" not in ciphertext


def test_ciphertext_of_another_context_is_refused() -> None:
    keyring = _keyring()
    ciphertext = keyring.encrypt("li@example.com", context="candidates.email")

    with pytest.raises(DecryptionError, match="authentication"):
        keyring.decrypt(ciphertext, context="candidates.phone")


def test_tampered_ciphertext_is_refused() -> None:
    keyring = _keyring()
    ciphertext = bytearray(keyring.encrypt("li@example.com", context="c"))
    ciphertext[-1] ^= 1

    with pytest.raises(DecryptionError):
        keyring.decrypt(bytes(ciphertext), context="c")


@pytest.mark.parametrize("ciphertext", [b"", b"\x02abc", b"\x01\x02k1", b"\x01\x02k1" + b"x" * 20])
def test_malformed_ciphertext_is_refused(ciphertext: bytes) -> None:
    with pytest.raises(DecryptionError):
        _keyring().decrypt(ciphertext, context="c")


def test_ciphertext_of_an_unknown_key_is_refused() -> None:
    ciphertext = _keyring("k1", k1=OLD).encrypt("x", context="c")

    with pytest.raises(DecryptionError, match="no key 'k1'"):
        _keyring("k2", k2=NEW).decrypt(ciphertext, context="c")


def test_rotation_reads_old_ciphertexts_and_reencrypts_them_under_the_new_key() -> None:
    old_ciphertext = _keyring("k1", k1=OLD).encrypt("li@example.com", context="c")
    rotated = _keyring("k2", k1=OLD, k2=NEW)

    assert rotated.decrypt(old_ciphertext, context="c") == "li@example.com"
    assert rotated.needs_rotation(old_ciphertext)
    moved = rotated.reencrypt(old_ciphertext, context="c")
    assert key_id_of(moved) == "k2"
    assert not rotated.needs_rotation(moved)
    assert rotated.reencrypt(moved, context="c") is moved
    # Once every row is moved the old key can go.
    assert _keyring("k2", k2=NEW).decrypt(moved, context="c") == "li@example.com"


def test_blind_index_is_stable_keyed_and_separated_by_context() -> None:
    keyring = _keyring()
    other_index_key = Keyring({"k1": OLD}, current="k1", index_key=_key())

    index = keyring.blind_index("li@example.com", context="email")

    assert index == keyring.blind_index("li@example.com", context="email")
    assert len(index) == 32
    assert index != keyring.blind_index("li@example.org", context="email")
    assert index != keyring.blind_index("li@example.com", context="phone")
    assert index != other_index_key.blind_index("li@example.com", context="email")
    # Rotating the encryption keys leaves the index as it was.
    assert index == _keyring("k2", k1=OLD, k2=NEW).blind_index("li@example.com", context="email")


def test_keyring_refuses_a_current_key_it_does_not_hold() -> None:
    with pytest.raises(ValueError, match="current key"):
        Keyring({"k1": OLD}, current="k2", index_key=INDEX_KEY)


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode(), ""])
def test_keys_must_be_base64_of_32_bytes(value: str) -> None:
    with pytest.raises(ValueError, match="32"):
        decode_key(value)


# -- settings --------------------------------------------------------------------------------


def test_keyring_from_settings_uses_the_only_key_as_current() -> None:
    settings = _Settings(pii_keys={"a": generate_key()}, pii_index_key=generate_key())

    keyring = Keyring.from_settings(settings)

    assert keyring.current == "a"
    assert "generate" not in repr(settings.pii_keys)


def test_keyring_from_settings_without_keys_says_what_is_missing() -> None:
    with pytest.raises(PiiKeysMissing, match="PII_KEYS and PII_INDEX_KEY"):
        Keyring.from_settings(_Settings(pii_keys={}, pii_index_key=None))


def test_keys_are_read_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    old, new = generate_key(), generate_key()
    monkeypatch.setenv("RECRUITING_PII_KEYS", json.dumps({"2024": old, "2025": new}))
    monkeypatch.setenv("RECRUITING_PII_CURRENT_KEY", "2025")

    settings = _Settings()

    assert settings.pii_current_key == "2025"
    assert settings.pii_keys["2024"].get_secret_value() == old
    assert "2024" in repr(settings.pii_keys) and old not in repr(settings)


def test_several_keys_need_a_current_one() -> None:
    with pytest.raises(ValidationError, match="pii_current_key"):
        _Settings(pii_keys={"a": generate_key(), "b": generate_key()}, pii_current_key=None)


def test_current_key_must_be_one_of_the_keys() -> None:
    with pytest.raises(ValidationError, match="pii_current_key must name one of pii_keys"):
        _Settings(pii_keys={"a": generate_key()}, pii_current_key="b")


def test_malformed_key_is_refused_without_repeating_it() -> None:
    with pytest.raises(ValidationError) as refused:
        _Settings(pii_keys={"a": "c2VjcmV0LWJ1dC1zaG9ydA=="})

    assert "key 'a' must decode to 32 bytes" in str(refused.value)
    assert "c2VjcmV0LWJ1dC1zaG9ydA" not in str(refused.value)


def test_malformed_index_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="pii_index_key"):
        _Settings(pii_index_key=SecretStr("nope"))


def test_production_refuses_to_start_without_pii_keys() -> None:
    with pytest.raises(ValidationError, match="production needs pii_keys and pii_index_key"):
        _Settings(environment="production", jwt_secret="x" * 40, pii_keys={}, pii_index_key=None)


def test_production_starts_with_pii_keys() -> None:
    settings = _Settings(
        environment="production",
        jwt_secret="x" * 40,
        pii_keys={"a": generate_key()},
        pii_index_key=generate_key(),
    )

    assert Keyring.from_settings(settings).current == "a"
