"""Searchable free text (resume, notes) without keeping a plaintext index.

Text is normalized (NFKC, case-folded) and cut into terms: a run of Latin letters and digits is
one term (a word); a run of CJK characters gives each pair of neighbouring characters (a
bigram), and a lone CJK character is a term of its own. Chinese has no spaces between words, and
bigrams are what CJK search engines index when no dictionary segmenter is used: a query matches
a text that contains every bigram of the query. Each term is stored only as a keyed hash (the
first 8 bytes of the keyring's blind index, as a signed 64-bit integer), so the index reveals
nothing without the index key; a query is hashed the same way and matched by array containment
(``search_tokens @> query``) on a GIN index.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from shared.crypto import Keyring

CONTEXT = "talentpool.search"
# Letters and digits of Latin-like scripts (with + and # for C++ and C#), or runs of CJK
# ideographs, kana and Hangul.
_WORD = re.compile(r"[^\W_\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]+[+#]*")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
MAX_TERMS = 20_000


def terms(text: str) -> set[str]:
    """The terms of a text: its words and its CJK bigrams (or lone CJK characters)."""
    normalized = unicodedata.normalize("NFKC", text).casefold()
    found = {match.group() for match in _WORD.finditer(normalized)}
    for run in _CJK.findall(normalized):
        if len(run) == 1:
            found.add(run)
        else:
            found.update(run[i : i + 2] for i in range(len(run) - 1))
    return found


def hashed(keyring: Keyring, values: Iterable[str]) -> list[int]:
    """Keyed 64-bit hashes of terms, sorted (stable arrays compare and diff cheaply)."""
    return sorted(
        {
            int.from_bytes(keyring.blind_index(term, context=CONTEXT)[:8], "big", signed=True)
            for term in values
        }
    )


def index_tokens(keyring: Keyring, *texts: str | None) -> list[int]:
    """The search tokens of a person's texts (at most ``MAX_TERMS`` terms)."""
    collected: set[str] = set()
    for text in texts:
        if text:
            collected |= terms(text)
    return hashed(keyring, sorted(collected)[:MAX_TERMS])


def query_tokens(keyring: Keyring, query: str) -> list[int]:
    """The tokens a text must all contain to match ``query`` (empty: the query has no terms)."""
    return hashed(keyring, terms(query))
