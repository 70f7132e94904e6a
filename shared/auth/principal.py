"""Staff principals from bearer JWTs (HS256 in development, RS256 with a key or JWKS in
production)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import jwt

from shared.problems import service_unavailable, unauthorized
from shared.settings import ServiceSettings

# Verified tokens are remembered (a client sends the same token on every request, and decoding
# was a tenth of a simple request's CPU): at most this many, each for at most this long and
# never past its own expiry, so a signing key withdrawn from the JWKS stops counting soon.
_VERIFIED_MAX = 1024
_VERIFIED_TTL_S = 60.0


class Role(StrEnum):
    HR = "hr"
    INTERVIEWER = "interviewer"
    ADMIN = "admin"
    # Another service of the suite calling with a token of its own (least privilege: it is
    # admitted only where a route asks for this role and the scope it needs).
    SERVICE = "service"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    scopes: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN


class TokenVerifier:
    """Verifies a bearer token and turns its claims into a ``Principal``.

    Claims: ``sub``, ``role`` (hr, interviewer, admin, service), scopes in ``scope``
    (space-separated) or ``scopes`` (a list), ``exp`` required; ``iss``/``aud`` checked when
    configured.
    """

    def __init__(self, settings: ServiceSettings) -> None:
        self._algorithm = settings.jwt_algorithm
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self._leeway = settings.jwt_leeway_s
        self._key: Any = None
        self._jwks: jwt.PyJWKClient | None = None
        if self._algorithm == "HS256":
            self._key = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        elif settings.jwt_jwks_url:
            self._jwks = jwt.PyJWKClient(
                settings.jwt_jwks_url, cache_keys=True, lifespan=300, timeout=5
            )
        else:
            self._key = settings.jwt_public_key
        self._verified: dict[str, tuple[Principal, float]] = {}

    @property
    def configured(self) -> bool:
        return self._key is not None or self._jwks is not None

    async def verify(self, token: str) -> Principal:
        if not self.configured:
            raise unauthorized("This service has no token verification configured.")
        known = self._verified.get(token)
        if known is not None:
            if time.time() < known[1]:
                return known[0]
            del self._verified[token]
        key = self._key
        if self._jwks is not None:
            try:
                signing_key = await asyncio.to_thread(self._jwks.get_signing_key_from_jwt, token)
            except jwt.PyJWKClientConnectionError as exc:
                # Our identity provider is unreachable: not the caller's fault.
                raise service_unavailable("The token signing keys cannot be fetched.") from exc
            except jwt.PyJWTError as exc:
                raise unauthorized("The bearer token's signing key is unknown.") from exc
            key = signing_key.key
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[self._algorithm],
                issuer=self._issuer,
                audience=self._audience,
                leeway=self._leeway,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": self._audience is not None,
                },
            )
        except jwt.ExpiredSignatureError as exc:
            raise unauthorized("The bearer token has expired.") from exc
        except jwt.PyJWTError as exc:
            raise unauthorized("The bearer token is invalid.") from exc
        principal = principal_from_claims(claims)
        self._remember(token, principal, claims["exp"])
        return principal

    def _remember(self, token: str, principal: Principal, expires: Any) -> None:
        if not isinstance(expires, int | float):
            return
        now = time.time()
        until = min(float(expires) + self._leeway, now + _VERIFIED_TTL_S)
        if len(self._verified) >= _VERIFIED_MAX:
            del self._verified[next(iter(self._verified))]  # the oldest
        self._verified[token] = (principal, until)


_ROLES = frozenset(role.value for role in Role)


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise unauthorized("The bearer token has no subject.")
    raw_role = claims.get("role")
    if not isinstance(raw_role, str) or raw_role not in _ROLES:
        raise unauthorized("The bearer token has no known role.")
    role = Role(raw_role)
    raw_scopes = claims.get("scopes", claims.get("scope", ""))
    if isinstance(raw_scopes, str):
        scopes = frozenset(raw_scopes.split())
    elif isinstance(raw_scopes, list) and all(isinstance(s, str) for s in raw_scopes):
        scopes = frozenset(raw_scopes)
    else:
        raise unauthorized("The bearer token's scopes are malformed.")
    return Principal(subject=subject, role=role, scopes=scopes)
