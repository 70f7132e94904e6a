"""The command line every service gets: ``python -m <service> serve|migrate|openapi``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

import uvicorn
from alembic import command

from shared.bootstrap import bootstrap
from shared.http.app import create_app
from shared.logging import configure_logging, get_logger
from shared.migrations import alembic_config, upgrade
from shared.service import ServiceSpec


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
    args = parser.parse_args(argv)

    settings = spec.settings_class()
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
