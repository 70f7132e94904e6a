"""The outermost middleware of every service: request and correlation ids, RED metrics by route
template, one access log line per request, and a problem document (never a traceback) for any
unexpected fault."""

from __future__ import annotations

import time
from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared import context
from shared.http.errors import problem_response
from shared.logging import get_logger
from shared.metrics import HTTP_DURATION, HTTP_REQUESTS
from shared.problems import problem_type

log = get_logger("http")

_QUIET_PATHS = frozenset({"/livez", "/readyz", "/metrics"})


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        request_id = context.clean_id(headers.get("x-request-id")) or context.new_id()
        correlation_id = context.clean_id(headers.get("x-correlation-id")) or request_id
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_ids(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                raw = list(message.get("headers", []))
                raw.append((b"x-request-id", request_id.encode()))
                raw.append((b"x-correlation-id", correlation_id.encode()))
                message["headers"] = raw
            await send(message)

        with context.bound(
            request_id=request_id,
            correlation_id=correlation_id,
            traceparent=context.clean_traceparent(headers.get("traceparent")),
        ):
            try:
                await self.app(scope, receive, send_with_ids)
            except Exception as exc:
                log.error("http.unhandled", error=type(exc).__name__, exc_info=exc)
                if not response_started:
                    body: dict[str, Any] = {
                        "type": "about:blank",
                        "title": "Internal server error",
                        "status": 500,
                        "detail": "Unexpected error; quote the request id if you report it.",
                        "instance": scope.get("path"),
                        "request_id": request_id,
                    }
                    await problem_response(500, body)(scope, receive, send_with_ids)
            finally:
                self._observe(scope, status, time.perf_counter() - started)

    def _observe(self, scope: Scope, status: int, elapsed: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or "<unmatched>"
        method = scope.get("method", "")
        HTTP_REQUESTS.labels(self.service, method, template, str(status)).inc()
        HTTP_DURATION.labels(self.service, method, template).observe(elapsed)
        if template in _QUIET_PATHS:
            return
        log.info(
            "http.request",
            method=method,
            route=template,
            status=status,
            duration_ms=round(elapsed * 1000, 2),
        )


class BodyLimitMiddleware:
    """Refuses request bodies over the limit with 413: at once when Content-Length says so,
    otherwise as soon as the streamed body passes the limit."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            body = {
                "type": problem_type("payload-too-large"),
                "title": "Content too large",
                "status": 413,
                "detail": f"The request body is larger than {self.max_bytes} bytes.",
                "instance": scope.get("path"),
                "request_id": scope.get("state", {}).get("request_id"),
            }
            await problem_response(413, body, {"Connection": "close"})(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise HTTPException(
                        413, f"The request body is larger than {self.max_bytes} bytes."
                    )
            return message

        await self.app(scope, limited_receive, send)
