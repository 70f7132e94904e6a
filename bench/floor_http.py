"""The HTTP floor: a bare FastAPI app with one endpoint that INSERTs one row with asyncpg.

No middleware, no auth, no ORM; the same uvicorn options as our services (``shared.cli``),
the same database and a pool of the same size. ``python -m bench.floor_http serve --port N``.
"""

from __future__ import annotations

import argparse
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg
import uvicorn
from fastapi import FastAPI, Request
from pydantic import BaseModel

from bench.service.app import BenchSettings
from shared.db.engine import asyncpg_dsn, service_url


class CandidateIn(BaseModel):
    full_name: str
    email: str


class RowIn(BaseModel):
    candidate: CandidateIn


class RowOut(BaseModel):
    id: uuid.UUID
    created_at: datetime


def create() -> FastAPI:
    settings = BenchSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await asyncpg.create_pool(
            asyncpg_dsn(service_url(settings)),
            min_size=settings.db_pool_size,
            max_size=settings.db_pool_size + settings.db_max_overflow,
            server_settings={"search_path": settings.schema, "timezone": "UTC"},
        )
        app.state.pool = pool
        try:
            yield
        finally:
            await pool.close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/v1/rows", status_code=201)
    async def create_row(body: RowIn, request: Request) -> RowOut:
        row_id = uuid.uuid4()
        pool: asyncpg.Pool = request.app.state.pool
        created_at = await pool.fetchval(
            "INSERT INTO floor_rows (id, full_name, email) VALUES ($1, $2, $3) "
            "RETURNING created_at",
            row_id,
            body.candidate.full_name,
            body.candidate.email,
        )
        return RowOut(id=row_id, created_at=created_at)

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve")
    serve.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(
        "bench.floor_http:create",
        factory=True,
        host="127.0.0.1",
        port=args.port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=15,
    )


if __name__ == "__main__":
    main()
