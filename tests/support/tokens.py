"""Bearer tokens for tests, signed with the run's development secret."""

from __future__ import annotations

import time
from typing import Any

import jwt

from tests.support import environment


def token(
    role: str = "hr",
    sub: str = "hr-alice",
    *,
    scopes: tuple[str, ...] = (),
    expires_in: int = 3600,
    secret: str | None = None,
    **claims: Any,
) -> str:
    now = int(time.time())
    payload: dict[str, Any] = {
        "sub": sub,
        "role": role,
        "scope": " ".join(scopes),
        "iat": now,
        "exp": now + expires_in,
        **claims,
    }
    return jwt.encode(payload, secret or environment.JWT_SECRET, algorithm="HS256")


def auth(role: str = "hr", sub: str = "hr-alice", **kwargs: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(role, sub, **kwargs)}"}
