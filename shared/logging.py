"""Structured JSON logs: every line carries the service and, when known, request, correlation
and event ids (bound in context variables by the HTTP middleware and the consumer).

Our own log lines take structlog's native path (a filtering logger, orjson, bytes straight to
stdout): it costs a fraction of the standard library's, which matters at one line per request
and per event. Libraries that log through the standard library (uvicorn, aio-pika, SQLAlchemy,
Alembic, APScheduler) are rendered to the same JSON shape by a formatter on the root logger.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import orjson
import structlog
from structlog.types import EventDict, Processor, WrappedLogger

# Keys that could carry personal data are redacted from log events wherever they appear.
_REDACTED_KEYS = frozenset(
    {"email", "phone", "name", "token", "authorization", "password", "secret", "resume"}
)


def _redact(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    for key in event_dict:
        if key.lower() in _REDACTED_KEYS:
            event_dict[key] = "[redacted]"
    return event_dict


def _logger_field(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    # ``logger`` cannot be bound directly (it is a structlog argument name).
    name = event_dict.pop("logger_name", None)
    if name is not None:
        event_dict["logger"] = name
    return event_dict


def _dumps_text(obj: Any, default: Any = None) -> str:
    return orjson.dumps(obj, default=default).decode()


def _dumps_bytes(obj: Any, default: Any = None) -> bytes:
    return orjson.dumps(obj, default=default)


class _StdoutLogger:
    """Writes one rendered line to whatever ``sys.stdout`` is at the time (test runners swap
    it), flushing so lines reach the collector promptly and whole."""

    def msg(self, message: bytes) -> None:
        stream = sys.stdout
        buffer = getattr(stream, "buffer", None)
        if buffer is not None:
            stream.flush()  # keep order with anything written through the text layer
            buffer.write(message + b"\n")
            buffer.flush()
        else:
            stream.write(message.decode() + "\n")
            stream.flush()

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def _stdout_logger_factory(*_: Any) -> _StdoutLogger:
    return _StdoutLogger()


def configure_logging(service: str, level: str = "INFO") -> None:
    """Route structlog and the standard library's loggers to JSON lines on stdout."""
    shared_processors: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _redact,
    ]
    structlog.configure(
        processors=[
            *shared_processors,
            _logger_field,
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(serializer=_dumps_bytes),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=_stdout_logger_factory,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*shared_processors, structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(serializer=_dumps_text),
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # uvicorn's access lines are replaced by our own; APScheduler says "Running job" and
    # "executed successfully" at INFO for every tick of the timer loop, twice a second per
    # process (nine lines in ten of an idle suite's log). Their warnings and errors still show.
    for noisy in (
        "uvicorn.access",
        "aiormq.connection",
        "aio_pika.robust_connection",
        "apscheduler",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str) -> Any:
    """A logger for one module; its lines say ``logger=<name>``."""
    return structlog.get_logger(logger_name=name)
