"""One benchmark run's own database (``recruiting_bench_<id>``) and broker namespace
(``bench-<id>``), created at the start and removed at the end, so a run never touches
development or test data and several runs never collide."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import aio_pika
import asyncpg
from sqlalchemy.engine import make_url

from bench.service.app import BenchSettings
from bench.service.app import spec as bench_spec
from pipeline.app import spec as pipeline_spec
from pipeline.settings import PipelineSettings
from shared.bootstrap import bootstrap
from shared.crypto import generate_key
from shared.db.engine import asyncpg_dsn
from shared.messaging.topology import Topology
from shared.migrations import upgrade
from shared.service import ServiceSpec
from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
SPECS: tuple[ServiceSpec, ...] = (bench_spec, pipeline_spec)
# Settings a developer's shell may carry; children must not inherit them.
_FOREIGN_PREFIXES = ("RECRUITING_", "PIPELINE_", "BENCH_")
FLOOR_EXCHANGE_SUFFIX = "floor"
FLOOR_QUEUE_SUFFIX = "floor"
PII_KEY_ID = "bench"

_Settings = TypeVar("_Settings", bound=ServiceSettings)


@dataclass(frozen=True)
class BenchRun:
    admin_url: str
    amqp_url: str
    run_id: str = field(default_factory=lambda: secrets.token_hex(4))
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    # Keys for personal data at rest (candidates' contacts), generated per run.
    pii_key: str = field(default_factory=generate_key)
    pii_index_key: str = field(default_factory=generate_key)
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-")))

    @property
    def database(self) -> str:
        return f"recruiting_bench_{self.run_id}"

    @property
    def namespace(self) -> str:
        return f"bench-{self.run_id}"

    @property
    def floor_exchange(self) -> str:
        return f"{self.namespace}.{FLOOR_EXCHANGE_SUFFIX}"

    @property
    def floor_queue(self) -> str:
        return f"{self.namespace}.{FLOOR_QUEUE_SUFFIX}"

    def database_url(self, role: str) -> str:
        url = make_url(self.admin_url).set(username=role, password=None, database=self.database)
        return url.render_as_string(hide_password=False)

    def admin_dsn(self, database: str | None = None) -> str:
        url = make_url(self.admin_url)
        if database is not None:
            url = url.set(database=database)
        return asyncpg_dsn(url)

    def _common(self) -> dict[str, Any]:
        return {
            "admin_database_url": self.admin_url,
            "database_name": self.database,
            "amqp_url": self.amqp_url,
            "broker_namespace": self.namespace,
            "jwt_secret": self.jwt_secret,
            "pii_keys": {PII_KEY_ID: self.pii_key},
            "pii_index_key": self.pii_index_key,
        }

    def bench_settings(self, **overrides: Any) -> BenchSettings:
        """Settings for the bench service in this process; ``.env`` is deliberately not read."""
        values = {**self._common(), "database_url": self.database_url("bench"), **overrides}
        return BenchSettings(_env_file=None, **values)

    def pipeline_settings(self) -> PipelineSettings:
        values = {**self._common(), "database_url": self.database_url("pipeline")}
        return PipelineSettings(_env_file=None, **values)

    def service_settings(
        self, settings_type: type[_Settings], service: str, **overrides: Any
    ) -> _Settings:
        """Settings for another service in this process (its schema, queues), on this run's
        database and namespace; ``.env`` is not read, and the PII keys are the service's
        defaults unless given in ``overrides``."""
        return settings_type(
            _env_file=None,
            admin_database_url=self.admin_url,
            database_name=self.database,
            amqp_url=self.amqp_url,
            broker_namespace=self.namespace,
            jwt_secret=self.jwt_secret,
            database_url=self.database_url(service),
            **overrides,
        )

    def service_env(self, service: str) -> dict[str, str]:
        """The environment of another service's process: ``child_env`` without a developer's
        own ``<SERVICE>_*`` settings (they must not leak into the run), and the service's
        database role."""
        prefix = f"{service.upper()}_"
        env = {k: v for k, v in self.child_env().items() if not k.startswith(prefix)}
        env[f"{prefix}DATABASE_URL"] = self.database_url(service)
        return env

    def child_env(self, **extra: str) -> dict[str, str]:
        """The environment of a service process: this run's database and namespace only.

        A developer's ``.env`` is not read either (``RECRUITING_ENV_FILE`` is empty).
        """
        env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_PREFIXES)}
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "RECRUITING_ENV_FILE": "",
                "RECRUITING_ADMIN_DATABASE_URL": self.admin_url,
                "RECRUITING_DATABASE_NAME": self.database,
                "RECRUITING_AMQP_URL": self.amqp_url,
                "RECRUITING_BROKER_NAMESPACE": self.namespace,
                "RECRUITING_JWT_SECRET": self.jwt_secret,
                "RECRUITING_PII_KEYS": json.dumps({PII_KEY_ID: self.pii_key}),
                "RECRUITING_PII_INDEX_KEY": self.pii_index_key,
                "BENCH_DATABASE_URL": self.database_url("bench"),
                "PIPELINE_DATABASE_URL": self.database_url("pipeline"),
                **extra,
            }
        )
        return env

    def topology(self, service: str, settings: ServiceSettings) -> Topology:
        return Topology(
            namespace=self.namespace,
            service=service,
            retry_delays_ms=tuple(settings.retry_delays_ms),
            delivery_limit=settings.delivery_limit,
        )


async def delete_service_queues(run: BenchRun, service: str, settings: ServiceSettings) -> None:
    """A service's queues in the run's namespace (the runner removes the exchanges)."""
    connection = await aio_pika.connect(run.amqp_url, timeout=10)
    try:
        for name in run.topology(service, settings).all_queues():
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.queue_delete(name)
            with contextlib.suppress(Exception):
                await channel.close()
    finally:
        await connection.close()


async def create_database(run: BenchRun) -> None:
    """Create the run's database, the services' roles and schemas, and migrate them."""
    for settings, spec in (
        (run.bench_settings(), bench_spec),
        (run.pipeline_settings(), pipeline_spec),
    ):
        await bootstrap(settings, spec.extensions)
        await asyncio.to_thread(upgrade, settings, spec)


async def admin_connection(run: BenchRun, *, run_database: bool = True) -> Any:
    """A superuser asyncpg connection to the run's database (or to the admin database)."""
    return await asyncpg.connect(run.admin_dsn(run.database if run_database else None), timeout=10)


async def drop_database(run: BenchRun) -> None:
    connection = await admin_connection(run, run_database=False)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{run.database}" WITH (FORCE)')
    finally:
        await connection.close()


async def delete_namespace(run: BenchRun) -> None:
    """Remove every queue and exchange the run declared."""
    queues = [run.floor_queue]
    queues += run.topology("bench", run.bench_settings()).all_queues()
    queues += run.topology("pipeline", run.pipeline_settings()).all_queues()
    exchanges = [f"{run.namespace}.{suffix}" for suffix in ("events", "retry", "dlx")]
    exchanges.append(run.floor_exchange)
    connection = await aio_pika.connect(run.amqp_url, timeout=10)
    try:
        for name in queues:
            channel = await connection.channel()
            with contextlib.suppress(Exception):  # never declared, e.g. a phase was skipped
                await channel.queue_delete(name)
            with contextlib.suppress(Exception):
                await channel.close()
        for name in exchanges:
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.exchange_delete(name)
            with contextlib.suppress(Exception):
                await channel.close()
    finally:
        await connection.close()


async def server_versions(run: BenchRun) -> dict[str, str]:
    versions: dict[str, str] = {}
    connection = await admin_connection(run, run_database=False)
    try:
        versions["postgresql"] = str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()
    amqp = await aio_pika.connect(run.amqp_url, timeout=10)
    try:
        assert amqp.transport is not None
        properties = amqp.transport.connection.server_properties
        raw = properties.get("version", b"?")
        versions["rabbitmq"] = raw.decode() if isinstance(raw, bytes) else str(raw)
    finally:
        await amqp.close()
    return versions
