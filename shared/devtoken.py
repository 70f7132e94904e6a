"""Mint a development bearer token: ``python -m shared.devtoken --role hr --sub hr-alice``.

Signs with ``RECRUITING_JWT_SECRET`` (from the environment or ``.env``), the secret the services
verify with in development. Refuses to run when ``RECRUITING_ENVIRONMENT`` is production.
"""

from __future__ import annotations

import argparse
import time
from typing import ClassVar

import jwt

from shared.auth.principal import Role
from shared.settings import ServiceSettings


class _SuiteSettings(ServiceSettings):
    service_name: ClassVar[str] = "devtoken"


def mint(secret: str, *, subject: str, role: Role, scopes: list[str], ttl_s: int) -> str:
    now = int(time.time())
    claims = {
        "sub": subject,
        "role": role.value,
        "scope": " ".join(scopes),
        "iat": now,
        "exp": now + ttl_s,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sub", required=True, help="the user's id")
    parser.add_argument("--role", required=True, choices=[role.value for role in Role])
    parser.add_argument("--scope", action="append", default=[], help="may be repeated")
    parser.add_argument("--ttl", type=int, default=8 * 3600, help="seconds")
    args = parser.parse_args()
    settings = _SuiteSettings()
    if settings.environment == "production":
        raise SystemExit("refusing to mint tokens in production")
    if settings.jwt_secret is None:
        raise SystemExit("RECRUITING_JWT_SECRET is not set (make run writes one into .env)")
    print(
        mint(
            settings.jwt_secret.get_secret_value(),
            subject=args.sub,
            role=Role(args.role),
            scopes=args.scope,
            ttl_s=args.ttl,
        )
    )


if __name__ == "__main__":
    main()
