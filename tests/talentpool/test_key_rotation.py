"""Rotating the keys of the talent pool's personal data with ``python -m talentpool
rotate-keys`` (its function, run in-process): after a new key is made current, the command
moves every profile's name, email, phone and resume and every note to it, batch by batch, and
a second run moves nothing; with the keys missing or an old key already dropped it stops with
a clear error and a non-zero status."""

from __future__ import annotations

import io
from typing import Any

import asyncpg
import pytest
from pydantic import SecretStr

from shared.cli import main, rotate_keys
from shared.contacts import normalize_email
from shared.crypto import generate_key, key_id_of
from talentpool.app import spec as talentpool_spec
from talentpool.profiles import contacts
from talentpool.settings import TalentpoolSettings
from tests.support import environment
from tests.support.pii import keyring as run_keyring
from tests.support.running import Running, api
from tests.talentpool.tags_support import AS_ADMIN, Person, a_person

OLD = "test-1"  # the run's key (tests/support/environment.py)
NEW = "test-2"
CIPHERTEXTS = (
    ("profiles", "full_name_ciphertext"),
    ("profiles", "email_ciphertext"),
    ("profiles", "phone_ciphertext"),
    ("profiles", "resume_ciphertext"),
    ("profile_notes", "body_ciphertext"),
)


@pytest.fixture(autouse=True)
def _keys_given_explicitly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings merge a dict given to them with the environment's: without the run's
    ``RECRUITING_PII_KEYS`` the keys of each test are exactly those it gives."""
    monkeypatch.delenv("RECRUITING_PII_KEYS")
    monkeypatch.delenv("RECRUITING_PII_CURRENT_KEY")


def _keys(**extra: str) -> dict[str, SecretStr]:
    """The run's key and ``extra``."""
    return {kid: SecretStr(key) for kid, key in {**environment.PII_KEYS, **extra}.items()}


def _keys_only(kid: str, key: str) -> dict[str, SecretStr]:
    return {kid: SecretStr(key)}


RUN_KEYS: dict[str, Any] = {"pii_keys": _keys(), "pii_current_key": OLD}


def _settings(**overrides: Any) -> TalentpoolSettings:
    return TalentpoolSettings(**overrides)


async def _run(settings: TalentpoolSettings, *, batch_size: int = 500) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = await rotate_keys(talentpool_spec, settings, batch_size=batch_size, out=out, err=err)
    return status, out.getvalue(), err.getvalue()


async def _someone_with_data(pool: Running, db: asyncpg.Connection, n: int) -> Person:
    """A person whose contact data (as the matcher writes it), resume and note are all
    encrypted under the run's key."""
    person = await a_person(db)
    ring = run_keyring()
    email = f"person.{n}@example.com"
    await db.execute(
        """UPDATE talentpool.profiles SET full_name_ciphertext = $2, email_ciphertext = $3,
           email_index = $4, phone_ciphertext = $5 WHERE id = $1""",
        person.profile_id,
        ring.encrypt(f"Person {n}", context=contacts.NAME_CONTEXT),
        ring.encrypt(email, context=contacts.EMAIL_CONTEXT),
        contacts.email_index(ring, email),
        ring.encrypt(f"+86138000000{n:02d}", context=contacts.PHONE_CONTEXT),
    )
    changed = await pool.client.patch(
        f"/v1/profiles/{person.profile_id}",
        json={"resume_text": f"Resume of person {n}"},
        headers=AS_ADMIN,
    )
    assert changed.status_code == 200, changed.text
    noted = await pool.client.post(
        f"/v1/profiles/{person.profile_id}/notes",
        json={"body": f"Note about person {n}"},
        headers=AS_ADMIN,
    )
    assert noted.status_code == 201, noted.text
    return person


async def _key_ids(db: asyncpg.Connection) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for table, column in CIPHERTEXTS:
        values = await db.fetch(
            f"SELECT {column} AS v FROM talentpool.{table} WHERE {column} IS NOT NULL"  # noqa: S608
        )
        found[f"{table}.{column}"] = {key_id_of(row["v"]) for row in values}
    return found


async def test_rotation_moves_every_ciphertext_to_the_new_key_and_a_second_run_moves_none(
    db: asyncpg.Connection,
) -> None:
    async with api(talentpool_spec, **RUN_KEYS) as pool:
        people = [await _someone_with_data(pool, db, n) for n in range(3)]
        before = [
            (await pool.client.get(f"/v1/profiles/{p.profile_id}", headers=AS_ADMIN)).json()
            for p in people
        ]
    await a_person(db)  # without any ciphertext: not counted
    assert (before[0]["full_name"], before[0]["resume_text"]) == ("Person 0", "Resume of person 0")
    assert set().union(*(await _key_ids(db)).values()) == {OLD}
    new_key = generate_key()
    rotated = _settings(pii_keys=_keys(**{NEW: new_key}), pii_current_key=NEW)

    status, out, err = await _run(rotated, batch_size=2)
    again, out_again, _ = await _run(rotated, batch_size=2)

    assert (status, err) == (0, "")
    assert "profiles: 3 rows re-encrypted" in out
    assert "profile_notes: 3 rows re-encrypted" in out
    assert "done: 6 rows moved to key 'test-2'." in out
    assert again == 0
    assert "profiles: 0 rows re-encrypted" in out_again
    assert "profile_notes: 0 rows re-encrypted" in out_again
    assert "done: no row was under a key other than 'test-2'." in out_again
    assert all(kids == {NEW} for kids in (await _key_ids(db)).values())
    # Readable with the new key alone: the old one can now be removed.
    async with api(talentpool_spec, pii_keys=_keys_only(NEW, new_key), pii_current_key=NEW) as pool:
        for n, (person, old) in enumerate(zip(people, before, strict=True)):
            read = await pool.client.get(f"/v1/profiles/{person.profile_id}", headers=AS_ADMIN)
            assert read.status_code == 200, read.text
            body = read.json()
            for field in ("full_name", "email", "phone", "resume_text"):
                assert body[field] == old[field]
            assert body["version"] == old["version"]  # the data did not change
            notes = await pool.client.get(
                f"/v1/profiles/{person.profile_id}/notes", headers=AS_ADMIN
            )
            assert [note["body"] for note in notes.json()["items"]] == [f"Note about person {n}"]
        # The blind indexes are keyed with the index key, which did not change.
        found = await pool.client.get(
            "/v1/profiles",
            params={"email": normalize_email("Person.0@example.com")},
            headers=AS_ADMIN,
        )
        assert [p["id"] for p in found.json()["items"]] == [str(people[0].profile_id)]


async def test_without_keys_the_command_says_which_settings_to_set_and_fails() -> None:
    status, out, err = await _run(_settings(pii_keys={}, pii_index_key=None, pii_current_key=None))

    assert status == 1
    assert out == ""
    assert "PII keys are not configured" in err
    assert "PII_KEYS" in err


async def test_with_the_old_key_already_dropped_it_stops_and_moves_nothing(
    db: asyncpg.Connection,
) -> None:
    async with api(talentpool_spec, **RUN_KEYS) as pool:
        await _someone_with_data(pool, db, 7)
    new_key = generate_key()

    status, out, err = await _run(_settings(pii_keys=_keys_only(NEW, new_key), pii_current_key=NEW))

    assert status == 1, (out, err)
    assert "(keys configured: test-2;" in out
    assert "profiles: 0 rows re-encrypted, then stopped" in out
    assert "cannot be decrypted" in err
    assert f"no key {OLD!r} in the keyring" in err
    assert "put the old key back" in err
    assert "Person 7" not in out + err and "person.7@example.com" not in out + err
    assert all(kids == {OLD} for kids in (await _key_ids(db)).values())
    # Put back, the command carries on.
    fixed = _settings(pii_keys=_keys(**{NEW: new_key}), pii_current_key=NEW)
    assert (await _run(fixed))[0] == 0
    assert all(kids == {NEW} for kids in (await _key_ids(db)).values())


async def test_a_key_under_the_wrong_id_is_refused_as_undecryptable(
    db: asyncpg.Connection,
) -> None:
    async with api(talentpool_spec, **RUN_KEYS) as pool:
        await _someone_with_data(pool, db, 8)
    # ``test-1`` configured with another value than the one the data was encrypted with.
    wrong = {OLD: SecretStr(generate_key()), NEW: SecretStr(generate_key())}

    status, _, err = await _run(_settings(pii_keys=wrong, pii_current_key=NEW))

    assert status == 1
    assert "failed authentication" in err
    assert all(kids == {OLD} for kids in (await _key_ids(db)).values())


def test_invalid_key_settings_stop_the_command_before_it_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A current key that is not among the keys.
    monkeypatch.setenv("TALENTPOOL_PII_CURRENT_KEY", "no-such-key")

    with pytest.raises(SystemExit) as exited:
        main(talentpool_spec, "talentpool.app:create", ["rotate-keys"])

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "invalid settings" in err
    assert "pii_current_key must name one of pii_keys" in err
    assert all(key not in err for key in environment.PII_KEYS.values())


def test_a_batch_size_below_one_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(talentpool_spec, "talentpool.app:create", ["rotate-keys", "--batch-size", "0"])

    assert exited.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err
