"""Re-encrypting personal data under the current key once a new key is made current
(``shared.crypto``). Each service declares, in ``ServiceSpec.key_rotations``, one
``KeyRotation`` per table that holds ciphertexts; ``python -m <service> rotate-keys``
(``shared.cli``) runs them with ``rotate_table``: one batch per transaction until no row of the
table is left under an old key.

A rotation's ``rotate`` re-encrypts one batch and returns how many rows it moved (0 when none is
left). It locks the rows it reads (``FOR UPDATE SKIP LOCKED``), so it never overwrites a
concurrent change and several runs can share the work; a row locked by someone else at that
moment is skipped, and the next run moves it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.crypto import Keyring
from shared.db.engine import Database

DEFAULT_BATCH = 500


class RotateBatch(Protocol):
    """Re-encrypt one batch of rows still under an old key; how many (0: none left)."""

    async def __call__(
        self, *, session: AsyncSession, keyring: Keyring, batch_size: int = ...
    ) -> int: ...


@dataclass(frozen=True)
class KeyRotation:
    """The re-encryption of one table (``table`` names it in the command's report)."""

    table: str
    rotate: RotateBatch


def under_old_key(column: Any, keyring: Keyring) -> sa.ColumnElement[bool]:
    """Whether a ciphertext column holds a value sealed with a key other than the current one
    (NULL is not): its header names the key, so this is a prefix comparison in SQL."""
    header = keyring.current_header
    return sa.func.substring(column, 1, len(header)) != header


def reencrypt_columns(table: sa.Table, columns: Mapping[str, str]) -> RotateBatch:
    """The rotation of ``table`` whose ciphertext ``columns`` (column name -> encryption
    context) may be NULL: rows with any of them under an old key are locked, a batch at a time,
    and every listed column is re-encrypted (a value already under the current key is kept as
    it is). Nothing else of the row changes, not even its version: the data is the same."""
    if not columns:
        raise ValueError("a rotation needs at least one ciphertext column")
    keys = list(table.primary_key.columns)
    sealed = [table.c[name] for name in columns]

    async def rotate(
        *, session: AsyncSession, keyring: Keyring, batch_size: int = DEFAULT_BATCH
    ) -> int:
        rows = (
            await session.execute(
                sa.select(*keys, *sealed)
                .where(sa.or_(*(under_old_key(column, keyring) for column in sealed)))
                .limit(batch_size)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not rows:
            return 0
        # Bound parameters named apart from the columns: SQLAlchemy reserves the column names
        # for the SET clause of an executemany UPDATE.
        await session.execute(
            sa.update(table)
            .where(*(key == sa.bindparam(f"key_{key.name}") for key in keys))
            .values({name: sa.bindparam(f"new_{name}") for name in columns}),
            [
                {
                    **{f"key_{key.name}": row._mapping[key] for key in keys},
                    **{
                        f"new_{name}": _reseal(keyring, row._mapping[table.c[name]], context)
                        for name, context in columns.items()
                    },
                }
                for row in rows
            ],
        )
        return len(rows)

    return rotate


def _reseal(keyring: Keyring, ciphertext: bytes | None, context: str) -> bytes | None:
    return None if ciphertext is None else keyring.reencrypt(ciphertext, context=context)


async def rotate_table(
    db: Database,
    keyring: Keyring,
    rotation: KeyRotation,
    *,
    batch_size: int,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Run ``rotation`` until it moves nothing, each batch in its own transaction (so a long
    run holds no lock for long, and what it moved stays moved if it stops); the rows moved.
    ``on_batch`` is told each batch's count."""
    if batch_size < 1:
        raise ValueError("the batch size must be at least 1")
    moved = 0
    while True:
        async with db.transaction() as session:
            count = await rotation.rotate(session=session, keyring=keyring, batch_size=batch_size)
        if count == 0:
            return moved
        moved += count
        if on_batch is not None:
            on_batch(count)
