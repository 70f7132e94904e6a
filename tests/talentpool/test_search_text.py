"""Searching resumes and notes, Chinese included, without a plaintext index: Latin words are
terms, Chinese runs are cut into overlapping character pairs, and every term is stored only as
a keyed hash; a query matches a text holding every term of the query."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from shared.crypto import Keyring, decode_key, generate_key
from talentpool.segments.text import CONTEXT, index_tokens, query_tokens, terms
from tests.support.running import Running
from tests.talentpool.segments_support import AS_POOL_HR, a_person, pool_api, selected

RESUME = "2019-2023 负责用户增长的数据分析，搭建 A/B 测试平台。熟悉 Python、SQL 和 C++。"  # noqa: RUF001


@pytest.fixture
async def pool() -> AsyncIterator[Running]:
    async with pool_api() as service:
        yield service


def _keyring() -> Keyring:
    return Keyring(
        {"k1": decode_key(generate_key())}, current="k1", index_key=decode_key(generate_key())
    )


def test_chinese_is_cut_into_overlapping_character_pairs() -> None:
    assert terms("数据分析") == {"数据", "据分", "分析"}


def test_latin_words_are_whole_terms_case_folded_and_full_width_letters_normalized() -> None:
    full_width_python = "\uff30\uff59\uff54\uff48\uff4f\uff4e"

    found = terms(f"{full_width_python} SQL c++ C# node.js")

    assert found == {"python", "sql", "c++", "c#", "node", "js"}


def test_mixed_text_gives_words_and_pairs_and_a_lone_character_stands_alone() -> None:
    assert terms("熟悉Python和SQL") == {"熟悉", "python", "和", "sql"}


def test_punctuation_alone_has_no_terms() -> None:
    assert terms("！？…, - ()") == set()  # noqa: RUF001


def test_tokens_are_keyed_hashes_and_another_key_gives_others() -> None:
    first, second = _keyring(), _keyring()

    tokens = index_tokens(first, RESUME)

    assert all(isinstance(t, int) and -(2**63) <= t < 2**63 for t in tokens)
    assert tokens == sorted(set(tokens))
    assert set(query_tokens(first, "数据分析")) <= set(tokens)
    assert not set(query_tokens(second, "数据分析")) & set(tokens)
    expected = int.from_bytes(first.blind_index("数据", context=CONTEXT)[:8], "big", signed=True)
    assert expected in tokens


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("数据分析", True),
        ("用户增长", True),
        ("数据", True),
        ("测试平台", True),
        ("PYTHON sql", True),
        ("c++", True),
        ("\uff33\uff51\uff4c", True),  # full-width letters
        ("数据分析 Python", True),
        ("分析数据", False),  # the pairs of another order are not in the text
        ("数据挖掘", False),
        ("java", False),
        ("pyth", False),  # words match whole, not by prefix
        ("数据分析 java", False),  # every term must be there
    ],
)
async def test_a_query_finds_the_texts_holding_every_one_of_its_terms(
    pool: Running, db: asyncpg.Connection, query: str, found: bool
) -> None:
    person = await a_person(db, resume=RESUME)

    expected = {person.profile_id} if found else set()
    assert await selected(pool, {"text": query}, AS_POOL_HR) == expected


async def test_notes_are_searched_like_the_resume(pool: Running, db: asyncpg.Connection) -> None:
    noted = await a_person(db, resume="Java developer", notes="二面表现很好，沟通能力强")  # noqa: RUF001
    await a_person(db, resume="沟通")

    assert await selected(pool, {"text": "沟通能力"}, AS_POOL_HR) == {noted.profile_id}


async def test_tokens_made_with_another_index_key_match_nothing(
    pool: Running, db: asyncpg.Connection
) -> None:
    await a_person(db, resume=RESUME, index_key=_keyring())

    assert await selected(pool, {"text": "数据分析"}, AS_POOL_HR) == set()


async def test_the_stored_tokens_hold_no_text(db: asyncpg.Connection) -> None:
    person = await a_person(db, resume=RESUME)

    stored = await db.fetchval(
        "SELECT search_tokens::text FROM talentpool.profiles WHERE id = $1", person.profile_id
    )

    assert stored and not any(word in stored for word in ("数据", "python", "sql"))
