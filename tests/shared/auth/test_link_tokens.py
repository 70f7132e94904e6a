"""Candidate link tokens: unguessable, stored only as a hash, scoped to a purpose and a subject,
and dead once expired or revoked."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from shared.auth.link_tokens import LinkTokens, hash_token
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
