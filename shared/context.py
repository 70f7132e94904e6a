"""Ids that follow a unit of work (a request, a consumed event, a fired timer) through logs and
into the events it emits."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import structlog

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)
traceparent: ContextVar[str | None] = ContextVar("traceparent", default=None)

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")


def new_id() -> str:
    return uuid.uuid4().hex


def clean_id(value: str | None) -> str | None:
    """An id from outside, kept only if it is short and plain (it ends up in logs)."""
    return value if value and _SAFE_ID.match(value) else None


def clean_traceparent(value: str | None) -> str | None:
    return value if value and _TRACEPARENT.match(value) else None


@contextmanager
def bound(**ids: str | None) -> Iterator[None]:
    """Set the given ids (request_id, correlation_id, traceparent, event_id, ...) for logs and
    for events emitted inside the block."""
    tokens = []
    for var in (request_id, correlation_id, traceparent):
        if var.name in ids:
            tokens.append((var, var.set(ids[var.name])))
    log_ids = {key: value for key, value in ids.items() if value is not None}
    with structlog.contextvars.bound_contextvars(**log_ids):
        try:
            yield
        finally:
            for var, token in reversed(tokens):
                var.reset(token)
