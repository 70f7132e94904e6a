"""Staff bearer JWTs: HS256 in development, RS256 with a public key or a JWKS endpoint, and a
401 (with ``WWW-Authenticate``) or 403 problem for everything that is not good enough."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.support import environment, testkit
from tests.support.problems import assert_problem
from tests.support.running import Running, api
from tests.support.tokens import auth, token

ISSUER = "https://login.example.test/"
AUDIENCE = "recruiting-api"


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {"sub": "hr-alice", "role": "hr", "iat": now, "exp": now + 600}
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


def _bearer(encoded: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {encoded}"}


def _hs256(**overrides: Any) -> dict[str, str]:
    return _bearer(jwt.encode(_claims(**overrides), environment.JWT_SECRET, algorithm="HS256"))


def assert_unauthorized(response: Any) -> dict[str, Any]:
    body = assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
    return body


class RsaKey:
    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    @property
    def public_pem(self) -> str:
        return (
            self.private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def jwk(self) -> dict[str, Any]:
        jwk: dict[str, Any] = json.loads(
            jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key())
        )
        return {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}

    def sign(self, **overrides: Any) -> dict[str, str]:
        return _bearer(
            jwt.encode(
                _claims(**overrides), self.private, algorithm="RS256", headers={"kid": self.kid}
            )
        )


@pytest.fixture(scope="module")
def signing_key() -> RsaKey:
    return RsaKey("key-2026-01")


@pytest.fixture(scope="module")
def other_key() -> RsaKey:
    return RsaKey("key-unpublished")


@contextmanager
def jwks_server(keys: list[RsaKey]) -> Iterator[str]:
    """A real HTTP server on loopback publishing ``keys`` as a JWKS; yields its URL."""
    document = json.dumps({"keys": [key.jwk() for key in keys]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != "/.well-known/jwks.json":
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(document)))
            self.end_headers()
            self.wfile.write(document)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/.well-known/jwks.json"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# ---- HS256 (the development setting) -------------------------------------------------------


async def test_valid_hs256_token_identifies_the_caller(service: Running) -> None:
    response = await service.client.get("/v1/me", headers=auth("interviewer", "iv-bob"))

    assert response.status_code == 200
    assert response.json() == {"subject": "iv-bob", "role": "interviewer", "scopes": []}


async def test_scopes_are_read_from_a_space_separated_scope_claim(service: Running) -> None:
    response = await service.client.get("/v1/me", headers=_hs256(scope="notes:read  notes:write"))

    assert response.json()["scopes"] == ["notes:read", "notes:write"]


async def test_scopes_are_read_from_a_scopes_list_claim(service: Running) -> None:
    response = await service.client.get("/v1/me", headers=_hs256(scopes=["notes:read", "x:y"]))

    assert response.json()["scopes"] == ["notes:read", "x:y"]


async def test_malformed_scopes_claim_is_refused(service: Running) -> None:
    response = await service.client.get("/v1/me", headers=_hs256(scopes={"notes:read": True}))

    assert_unauthorized(response)


async def test_missing_token_is_a_401(service: Running) -> None:
    response = await service.client.get("/v1/me")

    body = assert_unauthorized(response)
    assert "required" in body["detail"]


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-jwt", "Bearer a.b.c", "Bearer ", "Basic aHI6cGFzc3dvcmQ=", "hr-alice"],
    ids=["garbage", "three-garbage-parts", "empty", "basic-scheme", "no-scheme"],
)
async def test_malformed_authorization_is_a_401(service: Running, authorization: str) -> None:
    response = await service.client.get("/v1/me", headers={"Authorization": authorization})

    assert_unauthorized(response)


async def test_expired_token_is_a_401_that_says_so(service: Running) -> None:
    response = await service.client.get("/v1/me", headers=auth(expires_in=-3600))

    body = assert_unauthorized(response)
    assert "expired" in body["detail"]


async def test_token_expired_within_the_leeway_is_still_accepted(service: Running) -> None:
    leeway = service.runtime.settings.jwt_leeway_s
    response = await service.client.get("/v1/me", headers=auth(expires_in=-(leeway // 2)))

    assert response.status_code == 200


async def test_token_signed_with_another_secret_is_a_401(service: Running) -> None:
    forged = token(secret="another-secret-of-sufficient-length-0123456789")
    response = await service.client.get("/v1/me", headers=_bearer(forged))

    assert_unauthorized(response)


async def test_token_with_a_tampered_payload_is_a_401(service: Running) -> None:
    header, _, signature = token("hr").split(".")
    admin_payload = jwt.utils.base64url_encode(json.dumps(_claims(role="admin")).encode())
    tampered = f"{header}.{admin_payload.decode()}.{signature}"

    assert_unauthorized(await service.client.get("/v1/me", headers=_bearer(tampered)))


async def test_unsigned_alg_none_token_is_a_401(service: Running) -> None:
    unsigned = jwt.encode(_claims(role="admin"), key="", algorithm="none")

    assert_unauthorized(await service.client.get("/v1/me", headers=_bearer(unsigned)))


@pytest.mark.parametrize(
    "overrides",
    [{"role": "superuser"}, {"role": None}, {"sub": None}, {"sub": ""}, {"exp": None}],
    ids=["unknown-role", "no-role", "no-subject", "empty-subject", "no-expiry"],
)
async def test_token_missing_required_claims_is_a_401(
    service: Running, overrides: dict[str, Any]
) -> None:
    response = await service.client.get("/v1/me", headers=_hs256(**overrides))

    assert_unauthorized(response)


async def test_wrong_role_is_a_403(service: Running) -> None:
    response = await service.client.get("/v1/admin-only", headers=auth("hr"))

    body = assert_problem(response, 403, "forbidden")
    assert "admin" in body["detail"]
    assert "www-authenticate" not in response.headers


async def test_right_role_is_admitted(service: Running) -> None:
    response = await service.client.get("/v1/admin-only", headers=auth("admin", "root"))

    assert response.json() == {"subject": "root"}


async def test_missing_scope_is_a_403_naming_it(service: Running) -> None:
    response = await service.client.get("/v1/scoped", headers=auth(scopes=("notes:write",)))

    body = assert_problem(response, 403, "forbidden")
    assert "notes:read" in body["detail"]


async def test_granted_scope_is_admitted(service: Running) -> None:
    response = await service.client.get("/v1/scoped", headers=auth(scopes=("notes:read",)))

    assert response.status_code == 200


async def test_no_verification_configured_refuses_every_token() -> None:
    async with api(testkit.spec, jwt_secret=None) as service:
        response = await service.client.get("/v1/me", headers=auth())

    assert_unauthorized(response)


# ---- issuer and audience -------------------------------------------------------------------


@pytest.fixture
async def strict_service() -> AsyncIterator[Running]:
    async with api(testkit.spec, jwt_issuer=ISSUER, jwt_audience=AUDIENCE) as service:
        yield service


async def test_configured_issuer_and_audience_are_accepted(strict_service: Running) -> None:
    response = await strict_service.client.get("/v1/me", headers=_hs256(iss=ISSUER, aud=AUDIENCE))

    assert response.status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "https://evil.example.test/", "aud": AUDIENCE},
        {"aud": AUDIENCE},
        {"iss": ISSUER, "aud": "another-api"},
        {"iss": ISSUER},
    ],
    ids=["wrong-issuer", "no-issuer", "wrong-audience", "no-audience"],
)
async def test_wrong_or_missing_issuer_or_audience_is_a_401(
    strict_service: Running, overrides: dict[str, Any]
) -> None:
    response = await strict_service.client.get("/v1/me", headers=_hs256(**overrides))

    assert_unauthorized(response)


# ---- RS256 ---------------------------------------------------------------------------------


async def test_rs256_token_is_verified_with_the_configured_public_key(
    signing_key: RsaKey, other_key: RsaKey
) -> None:
    async with api(
        testkit.spec, jwt_algorithm="RS256", jwt_public_key=signing_key.public_pem
    ) as service:
        good = await service.client.get("/v1/me", headers=signing_key.sign(role="admin"))
        forged = await service.client.get("/v1/me", headers=other_key.sign(role="admin"))
        hs256 = await service.client.get("/v1/me", headers=auth("admin"))

    assert good.json()["role"] == "admin"
    assert_unauthorized(forged)
    assert_unauthorized(hs256)


async def test_hs256_token_keyed_with_the_rs256_public_key_is_refused(
    signing_key: RsaKey,
) -> None:
    # The classic algorithm confusion: the public key is not a secret.
    header = jwt.utils.base64url_encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = jwt.utils.base64url_encode(json.dumps(_claims(role="admin")).encode())
    signing_input = header + b"." + payload
    mac = hmac.new(signing_key.public_pem.encode(), signing_input, hashlib.sha256).digest()
    confused = (signing_input + b"." + jwt.utils.base64url_encode(mac)).decode()
    async with api(
        testkit.spec, jwt_algorithm="RS256", jwt_public_key=signing_key.public_pem
    ) as service:
        response = await service.client.get("/v1/me", headers=_bearer(confused))

    assert_unauthorized(response)


async def test_rs256_token_is_verified_with_a_key_from_the_jwks_endpoint(
    signing_key: RsaKey, other_key: RsaKey
) -> None:
    with jwks_server([signing_key]) as jwks_url:
        async with api(testkit.spec, jwt_algorithm="RS256", jwt_jwks_url=jwks_url) as service:
            good = await service.client.get(
                "/v1/me", headers=signing_key.sign(sub="iv-carol", role="interviewer")
            )
            unknown_kid = await service.client.get("/v1/me", headers=other_key.sign())
            wrong_key_same_kid = await service.client.get(
                "/v1/me",
                headers=_bearer(
                    jwt.encode(
                        _claims(),
                        other_key.private,
                        algorithm="RS256",
                        headers={"kid": signing_key.kid},
                    )
                ),
            )

    assert good.status_code == 200
    assert good.json() == {"subject": "iv-carol", "role": "interviewer", "scopes": []}
    assert_unauthorized(unknown_kid)
    assert_unauthorized(wrong_key_same_kid)


async def test_unreachable_jwks_endpoint_is_a_503_not_the_callers_fault(
    signing_key: RsaKey,
) -> None:
    with jwks_server([signing_key]) as jwks_url:
        pass  # the server is gone again: nothing listens on that port any more
    async with api(testkit.spec, jwt_algorithm="RS256", jwt_jwks_url=jwks_url) as service:
        response = await service.client.get("/v1/me", headers=signing_key.sign())

    assert_problem(response, 503, "unavailable")
