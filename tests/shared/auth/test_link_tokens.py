"""Candidate link tokens: unguessable, stored only as a hash, scoped to a purpose and a subject,
and dead once expired or revoked."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from shared.auth.link_tokens import (
    TOUCH_INTERVAL,
    LinkLookup,
    LinkState,
    LinkTokens,
    hash_token,
)
from shared.clock import ManualClock
from tests.support import testkit
from tests.support.running import Running, api

PURPOSE = "application-status"
APPLICATION = "0193e0c4-aaaa-7000-8000-000000000001"
OTHER_APPLICATION = "0193e0c4-aaaa-7000-8000-000000000002"
LIFETIME = timedelta(days=7)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def service(clock: ManualClock) -> AsyncIterator[Running]:
    async with api(testkit.spec, clock=clock) as running_service:
        yield running_service


@pytest.fixture
def tokens(service: Running) -> LinkTokens:
    assert service.runtime.link_tokens is not None
    return service.runtime.link_tokens


async def _issue(
    service: Running, tokens: LinkTokens, clock: ManualClock, subject: str = APPLICATION
) -> str:
    async with service.runtime.db.transaction() as session:
        issued = await tokens.issue(
            session, purpose=PURPOSE, subject_id=subject, expires_at=clock.now() + LIFETIME
        )
    return issued.token


async def _resolve(
    service: Running, tokens: LinkTokens, token: str, purpose: str = PURPOSE
) -> str | None:
    async with service.runtime.db.transaction() as session:
        grant = await tokens.resolve(session, token, purpose=purpose)
    return grant.subject_id if grant else None


async def test_token_carries_at_least_128_random_bits(
    service: Running, tokens: LinkTokens, clock: ManualClock
) -> None:
    issued = [await _issue(service, tokens, clock) for _ in range(20)]

    for token in issued:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128
        assert token.isascii()
        assert all(c.isalnum() or c in "-_" for c in token)  # safe in a URL as is
    assert len(set(issued)) == len(issued)


async def test_token_is_stored_only_as_its_hash(
    service: Running, tokens: LinkTokens, clock: ManualClock, db: asyncpg.Connection
) -> None:
    token = await _issue(service, tokens, clock)

    rows = await db.fetch("SELECT t::text AS whole, token_hash FROM testkit.link_tokens t")

    assert len(rows) == 1
    assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).digest() == hash_token(token)
    assert token not in rows[0]["whole"]
    assert token.encode().hex() not in rows[0]["whole"]


async def test_issued_token_resolves_to_its_subject(
    service: Running, tokens: LinkTokens, clock: ManualClock, db: asyncpg.Connection
) -> None:
    token = await _issue(service, tokens, clock)

    assert await _resolve(service, tokens, token) == APPLICATION
    last_used = await db.fetchval("SELECT last_used_at FROM testkit.link_tokens")
    assert last_used == clock.now()


@pytest.mark.parametrize("token", ["", "nope", "x" * 129], ids=["empty", "unknown", "too-long"])
async def test_unknown_token_resolves_to_nothing(
    service: Running, tokens: LinkTokens, clock: ManualClock, token: str
) -> None:
    await _issue(service, tokens, clock)

    assert await _resolve(service, tokens, token) is None


async def test_expired_token_resolves_to_nothing(
    service: Running, tokens: LinkTokens, clock: ManualClock
) -> None:
    token = await _issue(service, tokens, clock)
    clock.advance(LIFETIME - timedelta(seconds=1))
    assert await _resolve(service, tokens, token) == APPLICATION

    clock.advance(timedelta(seconds=1))

    assert await _resolve(service, tokens, token) is None


async def test_revoked_token_resolves_to_nothing(
    service: Running, tokens: LinkTokens, clock: ManualClock
) -> None:
    async with service.runtime.db.transaction() as session:
        issued = await tokens.issue(
            session, purpose=PURPOSE, subject_id=APPLICATION, expires_at=clock.now() + LIFETIME
        )
    async with service.runtime.db.transaction() as session:
        assert await tokens.revoke(session, token_id=issued.id) is True
    async with service.runtime.db.transaction() as session:
        assert await tokens.revoke(session, token_id=issued.id) is False

    assert await _resolve(service, tokens, issued.token) is None


async def test_token_for_another_purpose_resolves_to_nothing(
    service: Running, tokens: LinkTokens, clock: ManualClock
) -> None:
    token = await _issue(service, tokens, clock)

    assert await _resolve(service, tokens, token, purpose="interview-booking") is None
    assert await _resolve(service, tokens, token) == APPLICATION


async def test_revoke_all_ends_every_token_of_that_subject_only(
    service: Running, tokens: LinkTokens, clock: ManualClock
) -> None:
    mine = [await _issue(service, tokens, clock) for _ in range(3)]
    theirs = await _issue(service, tokens, clock, subject=OTHER_APPLICATION)

    async with service.runtime.db.transaction() as session:
        revoked = await tokens.revoke_all(session, purpose=PURPOSE, subject_id=APPLICATION)

    assert revoked == 3
    assert [await _resolve(service, tokens, token) for token in mine] == [None, None, None]
    assert await _resolve(service, tokens, theirs) == OTHER_APPLICATION


async def test_issuing_inside_a_rolled_back_transaction_leaves_no_token(
    service: Running, tokens: LinkTokens, clock: ManualClock, db: asyncpg.Connection
) -> None:
    async def issue_then_fail() -> None:
        async with service.runtime.db.transaction() as session:
            await tokens.issue(
                session, purpose=PURPOSE, subject_id=APPLICATION, expires_at=clock.now() + LIFETIME
            )
            raise RuntimeError("the surrounding work failed")

    with pytest.raises(RuntimeError, match="surrounding work"):
        await issue_then_fail()

    assert await db.fetchval("SELECT count(*) FROM testkit.link_tokens") == 0


# ``lookup``: telling unknown tokens from expired and revoked ones


async def _lookup(
    service: Running, tokens: LinkTokens, token: str, purpose: str = PURPOSE
) -> LinkLookup:
    async with service.runtime.db.transaction() as session:
        return await tokens.lookup(session, token, purpose=purpose)


async def test_lookup_of_a_valid_token_gives_its_grant(
    service: Running, tokens: LinkTokens, clock: ManualClock
) -> None:
    token = await _issue(service, tokens, clock)

    found = await _lookup(service, tokens, token)

    assert found.state is LinkState.VALID
    assert found.grant is not None
    assert found.grant.subject_id == APPLICATION
    assert found.grant.expires_at == clock.now() + LIFETIME


@pytest.mark.parametrize("token", ["", "nope", "x" * 129], ids=["empty", "unknown", "too-long"])
async def test_lookup_of_an_unknown_token_says_unknown(
    service: Running, tokens: LinkTokens, clock: ManualClock, token: str
) -> None:
    await _issue(service, tokens, clock)

    assert (await _lookup(service, tokens, token)) == LinkLookup(LinkState.UNKNOWN)


async def test_lookup_of_a_token_for_another_purpose_says_unknown(
    service: Running, tokens: LinkTokens, clock: ManualClock
) -> None:
    token = await _issue(service, tokens, clock)

    found = await _lookup(service, tokens, token, purpose="interview-booking")

    assert found == LinkLookup(LinkState.UNKNOWN)


async def test_lookup_of_an_expired_token_says_expired(
    service: Running, tokens: LinkTokens, clock: ManualClock
) -> None:
    token = await _issue(service, tokens, clock)
    clock.advance(LIFETIME)

    assert (await _lookup(service, tokens, token)) == LinkLookup(LinkState.EXPIRED)


async def test_lookup_of_a_revoked_token_says_revoked_even_once_expired(
    service: Running, tokens: LinkTokens, clock: ManualClock
) -> None:
    async with service.runtime.db.transaction() as session:
        issued = await tokens.issue(
            session, purpose=PURPOSE, subject_id=APPLICATION, expires_at=clock.now() + LIFETIME
        )
        await tokens.revoke(session, token_id=issued.id)

    assert (await _lookup(service, tokens, issued.token)).state is LinkState.REVOKED
    clock.advance(LIFETIME * 2)
    assert (await _lookup(service, tokens, issued.token)).state is LinkState.REVOKED


async def test_lookup_records_use_at_most_once_a_minute(
    service: Running, tokens: LinkTokens, clock: ManualClock, db: asyncpg.Connection
) -> None:
    token = await _issue(service, tokens, clock)
    first_use = clock.now()

    await _lookup(service, tokens, token)
    clock.advance(TOUCH_INTERVAL - timedelta(seconds=1))
    await _lookup(service, tokens, token)
    assert await db.fetchval("SELECT last_used_at FROM testkit.link_tokens") == first_use

    clock.advance(timedelta(seconds=1))
    await _lookup(service, tokens, token)
    assert await db.fetchval("SELECT last_used_at FROM testkit.link_tokens") == clock.now()


async def test_lookup_of_an_expired_token_does_not_record_use(
    service: Running, tokens: LinkTokens, clock: ManualClock, db: asyncpg.Connection
) -> None:
    token = await _issue(service, tokens, clock)
    clock.advance(LIFETIME)

    await _lookup(service, tokens, token)

    assert await db.fetchval("SELECT last_used_at FROM testkit.link_tokens") is None


async def test_list_for_gives_one_subjects_tokens_newest_first_without_values(
    service: Running, tokens: LinkTokens, clock: ManualClock
) -> None:
    older = await _issue(service, tokens, clock)
    clock.advance(timedelta(minutes=1))
    newer = await _issue(service, tokens, clock)
    await _issue(service, tokens, clock, subject=OTHER_APPLICATION)

    async with service.runtime.db.transaction() as session:
        records = await tokens.list_for(session, purpose=PURPOSE, subject_id=APPLICATION)

    assert [record.created_at for record in records] == [
        clock.now(),
        clock.now() - timedelta(minutes=1),
    ]
    assert {record.subject_id for record in records} == {APPLICATION}
    assert all(older not in repr(record) and newer not in repr(record) for record in records)


async def test_revoke_for_touches_only_the_named_subjects_token(
    service: Running, tokens: LinkTokens, clock: ManualClock
) -> None:
    async with service.runtime.db.transaction() as session:
        issued = await tokens.issue(
            session, purpose=PURPOSE, subject_id=APPLICATION, expires_at=clock.now() + LIFETIME
        )

    async with service.runtime.db.transaction() as session:
        wrong = await tokens.revoke_for(
            session, token_id=issued.id, purpose=PURPOSE, subject_id=OTHER_APPLICATION
        )
    assert wrong is None
    assert (await _lookup(service, tokens, issued.token)).state is LinkState.VALID

    async with service.runtime.db.transaction() as session:
        revoked = await tokens.revoke_for(
            session, token_id=issued.id, purpose=PURPOSE, subject_id=APPLICATION
        )
    revoked_at = clock.now()
    clock.advance(timedelta(minutes=5))
    async with service.runtime.db.transaction() as session:
        again = await tokens.revoke_for(
            session, token_id=issued.id, purpose=PURPOSE, subject_id=APPLICATION
        )

    assert revoked is not None
    assert revoked.revoked_at == revoked_at
    assert again is not None
    assert again.revoked_at == revoked_at  # revoking twice keeps the first time
    assert (await _lookup(service, tokens, issued.token)).state is LinkState.REVOKED
