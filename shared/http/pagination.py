"""Cursor (keyset) pagination: a stable order over unique keys, an opaque cursor naming the last
row seen, and a maximum page size."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

import orjson
import sqlalchemy as sa
from fastapi import Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from shared.problems import Problem

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

# A sort key: a column, or a mapped attribute such as ``Job.created_at``.
OrderKey = sa.ColumnElement[Any] | QueryableAttribute[Any]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )


class PageParams(BaseModel):
    limit: int
    cursor: str | None


# async: a plain ``def`` dependency would run in the thread pool, a thread hop per request.
async def page_params(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description=f"Page size, at most {MAX_LIMIT}.")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=512, description="`next_cursor` of the previous page.")
    ] = None,
) -> PageParams:
    return PageParams(limit=limit, cursor=cursor)


PageQuery = Annotated[PageParams, Depends(page_params)]


def encode_cursor(values: Sequence[Any]) -> str:
    raw = orjson.dumps(list(values), default=str)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _invalid_cursor() -> Problem:
    return Problem(
        400, "Bad request", "The cursor is not one this endpoint issued.", slug="invalid-cursor"
    )


def decode_cursor(cursor: str, columns: Sequence[OrderKey]) -> list[Any]:
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as exc:
        raise _invalid_cursor() from exc
    if not isinstance(values, list) or len(values) != len(columns):
        raise _invalid_cursor()
    try:
        return [_coerce(value, column) for value, column in zip(values, columns, strict=True)]
    except (TypeError, ValueError) as exc:
        raise _invalid_cursor() from exc


def _coerce(value: Any, column: OrderKey) -> Any:
    python_type = column.type.python_type
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    if not isinstance(value, python_type):
        raise TypeError("cursor value of the wrong type")
    return value


async def paginate(
    session: AsyncSession,
    statement: sa.Select[Any],
    *,
    order_by: Sequence[OrderKey],
    params: PageParams,
    descending: bool = False,
) -> tuple[list[Any], str | None]:
    """Run ``statement`` one page at a time, ordered by ``order_by`` (whose last column must be
    unique). Returns the page's rows (ORM objects when the statement selects one entity) and the
    next cursor."""
    if params.cursor is not None:
        after = decode_cursor(params.cursor, order_by)
        bound = [
            sa.literal(value, type_=column.type)
            for value, column in zip(after, order_by, strict=True)
        ]
        keys, values = sa.tuple_(*order_by), sa.tuple_(*bound)
        statement = statement.where(keys < values if descending else keys > values)
    ordering = [column.desc() if descending else column.asc() for column in order_by]
    result = await session.execute(statement.order_by(*ordering).limit(params.limit + 1))
    rows = list(result.scalars().all()) if _single_entity(statement) else list(result.all())
    if len(rows) <= params.limit:
        return rows, None
    rows = rows[: params.limit]
    last = rows[-1]
    return rows, encode_cursor([_value_of(last, column) for column in order_by])


def _single_entity(statement: sa.Select[Any]) -> bool:
    descriptions = statement.column_descriptions
    return (
        len(descriptions) == 1
        and descriptions[0].get("entity") is not None
        and descriptions[0].get("expr") is descriptions[0].get("entity")
    )


def _value_of(row: Any, column: OrderKey) -> Any:
    key = getattr(column, "key", None) or getattr(column, "name", None)
    if key is None:
        raise ValueError("pagination columns need names")
    return getattr(row, key)
