"""Creates the database, and per service a login role and a schema that only that role may
touch. Runs with an administrator's connection; safe to run again."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import unicodedata
from collections.abc import Sequence

import asyncpg
from sqlalchemy.engine import make_url

from shared.db.engine import asyncpg_dsn
from shared.logging import get_logger
from shared.settings import ServiceSettings

log = get_logger(__name__)

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _ident(name: str) -> str:
    if not _IDENTIFIER.match(name):
        raise ValueError(f"unsafe SQL identifier: {name!r}")
    return f'"{name}"'


async def ensure_database(admin_url: str, database: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(make_url(admin_url)), timeout=10)
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", database)
        if not exists:
            await connection.execute(f"CREATE DATABASE {_ident(database)}")
            log.info("bootstrap.database_created", database=database)
    finally:
        await connection.close()


async def ensure_service_schema(
    admin_url: str,
    database: str,
    *,
    role: str,
    schema: str,
    password: str | None,
    extensions: Sequence[str] = (),
) -> None:
    """A LOGIN role owning its schema, with search_path set to it, and no rights elsewhere."""
    url = make_url(admin_url).set(database=database)
    connection = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
    try:
        async with connection.transaction():
            # Serialise concurrent bootstraps (several services migrating at once).
            await connection.execute(
                "SELECT pg_advisory_xact_lock(hashtext('recruiting.bootstrap'))"
            )
            role_exists = await connection.fetchval(
                "SELECT 1 FROM pg_roles WHERE rolname = $1", role
            )
            if not role_exists:
                await connection.execute(f"CREATE ROLE {_ident(role)} LOGIN")
            if password:
                # A SCRAM verifier, so the plain password never reaches the server or its logs.
                verifier = scram_sha256_verifier(password)
                await connection.execute(f"ALTER ROLE {_ident(role)} PASSWORD {_literal(verifier)}")
            await connection.execute(f"REVOKE ALL ON DATABASE {_ident(database)} FROM PUBLIC")
            await connection.execute(
                f"GRANT CONNECT, TEMPORARY ON DATABASE {_ident(database)} TO {_ident(role)}"
            )
            await connection.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
            await connection.execute(
                f"CREATE SCHEMA IF NOT EXISTS {_ident(schema)} AUTHORIZATION {_ident(role)}"
            )
            await connection.execute(f"REVOKE ALL ON SCHEMA {_ident(schema)} FROM PUBLIC")
            await connection.execute(
                f"ALTER ROLE {_ident(role)} IN DATABASE {_ident(database)} "
                f"SET search_path = {_ident(schema)}, public"
            )
            for extension in extensions:
                await connection.execute(
                    f"CREATE EXTENSION IF NOT EXISTS {_ident(extension)} SCHEMA public"
                )
    finally:
        await connection.close()


async def bootstrap(settings: ServiceSettings, extensions: Sequence[str] = ()) -> None:
    await ensure_database(settings.admin_database_url, settings.database_name)
    password = settings.database_password.get_secret_value() if settings.database_password else None
    await ensure_service_schema(
        settings.admin_database_url,
        settings.database_name,
        role=settings.role,
        schema=settings.schema,
        password=password,
        extensions=extensions,
    )


def scram_sha256_verifier(
    password: str, *, iterations: int = 4096, salt: bytes | None = None
) -> str:
    """The SCRAM-SHA-256 secret PostgreSQL stores for ``password`` (RFC 5802 / RFC 7677)."""
    salt = salt if salt is not None else os.urandom(16)
    salted = hashlib.pbkdf2_hmac(
        "sha256", unicodedata.normalize("NFKC", password).encode(), salt, iterations
    )
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def encode(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${iterations}:{encode(salt)}${encode(stored_key)}:{encode(server_key)}"


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
