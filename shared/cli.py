"""The command line every service gets: ``python -m <service>
serve|migrate|revision|openapi|rotate-keys``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import TextIO

import uvicorn
from alembic import command
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from shared.bootstrap import bootstrap
from shared.crypto import DecryptionError, Keyring, PiiKeysMissing
from shared.db.engine import Database
from shared.http.app import create_app
from shared.key_rotation import rotate_table
from shared.logging import configure_logging, get_logger
from shared.migrations import alembic_config, upgrade
from shared.service import ServiceSpec
from shared.settings import ServiceSettings

DEFAULT_ROTATION_BATCH = 500


def main(spec: ServiceSpec, app_path: str, argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {spec.name}", description=spec.title)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the HTTP service and its background workers")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    migrate = commands.add_parser("migrate", help="create database, role and schema; migrate")
    migrate.add_argument("--skip-bootstrap", action="store_true", help="only run migrations")
    revision = commands.add_parser("revision", help="autogenerate a migration from the models")
    revision.add_argument("-m", "--message", required=True)
    revision.add_argument("--rev-id", required=True, help="next number, e.g. 0003")
    commands.add_parser("openapi", help="print the OpenAPI document")
    rotate = commands.add_parser(
        "rotate-keys",
        help="re-encrypt personal data still under an old PII key with the current one",
    )
    rotate.add_argument(
        "--batch-size",
        type=_positive,
        default=DEFAULT_ROTATION_BATCH,
        help=f"rows per transaction (default {DEFAULT_ROTATION_BATCH})",
    )
    args = parser.parse_args(argv)

    try:
        settings = spec.settings_class()
    except ValidationError as error:
        # The settings hide their input in errors, so no key or password is printed.
        parser.exit(2, f"{parser.prog}: invalid settings: {error}\n")
    if args.command == "serve":
        uvicorn.run(
            app_path,
            factory=True,
            host=args.host or settings.host,
            port=args.port or settings.port,
            loop="uvloop",
            http="httptools",
            log_config=None,
            access_log=False,
            proxy_headers=True,
            timeout_graceful_shutdown=15,
        )
    elif args.command == "migrate":
        configure_logging(spec.name, settings.log_level)
        log = get_logger("migrate")
        if not args.skip_bootstrap:
            asyncio.run(bootstrap(settings, spec.extensions))
        upgrade(settings, spec)
        log.info("migrate.done", schema=settings.schema)
    elif args.command == "revision":
        command.revision(
            alembic_config(settings, spec),
            message=args.message,
            autogenerate=True,
            rev_id=args.rev_id,
        )
    elif args.command == "openapi":
        json.dump(create_app(spec, settings).openapi(), sys.stdout, indent=2, sort_keys=True)
        sys.stdout.write("\n")
    elif args.command == "rotate-keys":
        status = asyncio.run(rotate_keys(spec, settings, batch_size=args.batch_size))
        if status:
            raise SystemExit(status)


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


async def rotate_keys(
    spec: ServiceSpec,
    settings: ServiceSettings,
    *,
    batch_size: int = DEFAULT_ROTATION_BATCH,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """``rotate-keys``: re-encrypt, table by table (``spec.key_rotations``), every row still
    under a PII key other than the current one, one batch per transaction; report the rows
    moved per table on ``out``, a problem on ``err``. The exit status: 0, or 1 when the keys
    are not configured or a row cannot be decrypted with them (what was moved stays moved, and
    running it again after fixing the keys carries on)."""
    out = out or sys.stdout
    err = err or sys.stderr
    if not spec.key_rotations:
        print(
            f"{spec.name} keeps no personal data encrypted with the PII keys: nothing to do.",
            file=out,
        )
        return 0
    try:
        keyring = Keyring.from_settings(settings)
    except PiiKeysMissing as error:
        print(f"rotate-keys: {error}", file=err)
        return 1
    print(
        f"{spec.name}: re-encrypting under key {keyring.current!r} "
        f"(keys configured: {', '.join(sorted(keyring.key_ids))}; batches of {batch_size})",
        file=out,
    )
    db = Database(settings)
    total = 0
    try:
        for rotation in spec.key_rotations:
            moved = 0

            def count(batch: int) -> None:
                nonlocal moved
                moved += batch

            try:
                await rotate_table(db, keyring, rotation, batch_size=batch_size, on_batch=count)
            except (DecryptionError, OSError, SQLAlchemyError) as error:
                print(
                    f"{rotation.table}: {moved} {_rows(moved)} re-encrypted, then stopped", file=out
                )
                print(f"rotate-keys: {_failure(rotation.table, error)}", file=err)
                return 1
            total += moved
            print(f"{rotation.table}: {moved} {_rows(moved)} re-encrypted", file=out)
    finally:
        await db.dispose()
    if total:
        print(f"done: {total} {_rows(total)} moved to key {keyring.current!r}.", file=out)
    else:
        print(f"done: no row was under a key other than {keyring.current!r}.", file=out)
    return 0


def _failure(table: str, error: Exception) -> str:
    if isinstance(error, DecryptionError):
        return (
            f"a row of {table} cannot be decrypted ({error}). Every key that data was "
            "encrypted with must stay in PII_KEYS until this command has moved its rows: put "
            "the old key back (with the same value) and run it again."
        )
    # Statement parameters are hidden (shared.db.engine), so no personal data is printed.
    return f"database error: {type(error).__name__}: {error}"


def _rows(count: int) -> str:
    return "row" if count == 1 else "rows"
