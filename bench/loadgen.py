"""The load generator, the same for our service and its floor: wrk when installed, otherwise
this module's own closed-loop HTTP/1.1 keep-alive client (``python -m bench.loadgen``).

Both keep ``connections`` persistent connections busy (closed loop) and report one
``BENCH_JSON {...}`` line: requests, duration, errors and latency percentiles in
microseconds. They either POST a JSON body with a new candidate email on every request, or send
the requests of a pool file (``bench/pool.py``) in order, starting again at the first when it
runs out (``passes`` counts how often).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import resource
import shutil
import statistics
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import uvloop

from bench import processes
from bench.pool import read as read_pool
from bench.report import Distribution

WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_post.lua"
WRK_POOL_SCRIPT = Path(__file__).resolve().parent / "wrk_pool.lua"
MARKER = "BENCH_JSON "


@dataclass(frozen=True)
class LoadResult:
    tool: str
    requests: int
    seconds: float
    errors: dict[str, int]
    latency_ms: Distribution
    rounds: tuple[dict[str, float], ...] = ()
    # CPU time the server process spent while this load ran (filled in by the caller).
    server_cpu_s: float = 0.0
    # CPU time the load generator itself used (to show it was not the bottleneck).
    client_cpu_s: float = 0.0
    # Times a pool was used up and started again (0 when every pooled request was sent once).
    passes: int = 0

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds

    @property
    def server_cpu_ms_per_request(self) -> float:
        return 1000 * self.server_cpu_s / self.requests if self.requests else 0.0

    @property
    def client_cpu_share(self) -> float:
        """The share of one core the load generator used while it ran."""
        return self.client_cpu_s / self.seconds if self.seconds else 0.0

    @property
    def failed(self) -> int:
        return sum(self.errors.values())


def combine(results: Sequence[LoadResult]) -> LoadResult:
    """Rounds taken in turns with another target, as one result: requests and seconds add up;
    latency percentiles are the medians of the rounds' (wrk reports percentiles, not samples),
    the maximum is the largest."""
    latencies = [result.latency_ms for result in results]
    errors: Counter[str] = Counter()
    for result in results:
        errors.update(result.errors)
    return LoadResult(
        tool=results[0].tool,
        requests=sum(result.requests for result in results),
        seconds=sum(result.seconds for result in results),
        errors=dict(errors),
        latency_ms=Distribution(
            count=sum(latency.count for latency in latencies),
            mean=statistics.median(latency.mean for latency in latencies),
            p50=statistics.median(latency.p50 for latency in latencies),
            p90=statistics.median(latency.p90 for latency in latencies),
            p99=statistics.median(latency.p99 for latency in latencies),
            max=max(latency.max for latency in latencies),
        ),
        server_cpu_s=sum(result.server_cpu_s for result in results),
        client_cpu_s=sum(result.client_cpu_s for result in results),
        passes=sum(result.passes for result in results),
        rounds=tuple(
            {
                "per_s": round(result.per_s, 1),
                "p50_ms": round(result.latency_ms.p50, 2),
                "p99_ms": round(result.latency_ms.p99, 2),
            }
            for result in results
        ),
    )


# "auto" (wrk when installed), "wrk" or "python"; set by ``--load-generator``.
preferred = "auto"


def tool() -> str:
    if preferred == "wrk" and not shutil.which("wrk"):
        raise RuntimeError("--load-generator wrk, but wrk is not installed")
    if preferred != "auto":
        return preferred
    return "wrk" if shutil.which("wrk") else "python"


async def run(
    url: str,
    *,
    connections: int,
    seconds: float,
    env: dict[str, str],
    workdir: Path,
    prefix: str = "bench",
    headers: dict[str, str] | None = None,
    pool: Path | None = None,
) -> LoadResult:
    """Load ``url`` for ``seconds`` and return what the generator measured: new candidates
    POSTed with ``prefix`` and ``headers``, or, with ``pool``, that pool's requests."""
    header_args = [f"{name}: {value}" for name, value in (headers or {}).items()]
    used = tool()
    if used == "wrk":
        wrk = shutil.which("wrk")
        assert wrk is not None
        script_args = [str(pool)] if pool is not None else [prefix, *header_args]
        argv = [
            wrk,
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            str(WRK_SCRIPT if pool is None else WRK_POOL_SCRIPT),
            url,
            "--",
            *script_args,
        ]
        child = await processes.start(
            "wrk", argv, env=env, workdir=workdir, capture_stdout=True, python=False
        )
    else:
        argv = [
            "-m",
            "bench.loadgen",
            url,
            "--connections",
            str(connections),
            "--seconds",
            str(seconds),
            "--prefix",
            prefix,
            *(arg for header in header_args for arg in ("--header", header)),
            *(["--pool", str(pool)] if pool is not None else []),
        ]
        child = await processes.start(
            "python-loadgen", argv, env=env, workdir=workdir, capture_stdout=True
        )
    # The generator is the only child that ends (and is reaped) while it runs, so the growth
    # of the children's CPU time is its own.
    cpu_before = _children_cpu_s()
    try:
        assert child.process.stdout is not None
        output = (await asyncio.wait_for(child.process.stdout.read(), seconds + 60)).decode()
        await child.process.wait()
    finally:
        await processes.stop(child)
    client_cpu_s = _children_cpu_s() - cpu_before
    line = next((ln for ln in output.splitlines() if ln.startswith(MARKER)), None)
    if line is None:
        raise processes.ChildFailed(f"{used} printed no summary:\n{output}\n{child.log_tail()}")
    summary = json.loads(line[len(MARKER) :])
    latency = summary["latency_us"]
    return LoadResult(
        tool=used,
        requests=int(summary["requests"]),
        seconds=summary["duration_us"] / 1e6,
        errors={k: int(v) for k, v in summary["errors"].items()},
        latency_ms=Distribution(
            count=int(summary["requests"]),
            mean=latency["mean"] / 1000,
            p50=latency["p50"] / 1000,
            p90=latency["p90"] / 1000,
            p99=latency["p99"] / 1000,
            max=latency["max"] / 1000,
        ),
        client_cpu_s=client_cpu_s,
        passes=int(summary.get("passes", 0)),
    )


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- the Python fallback ------------------------------------------------------------------


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, raw: bytes) -> int:
        if self.writer is None or self.reader is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        close = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        if length:
            await self.reader.readexactly(length)
        if close:
            await self.close()
        return status

    async def close(self) -> None:
        writer, self.writer, self.reader = self.writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


async def _load(args: argparse.Namespace) -> None:
    parts = urlsplit(args.url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path or "/"
    extra = "".join(f"{header}\r\n" for header in args.header)
    latencies: list[float] = []
    errors = {"connect": 0, "read": 0, "write": 0, "status": 0, "timeout": 0}
    records = read_pool(Path(args.pool)) if args.pool else []
    position = {"next": 0, "passes": 0}
    deadline = time.monotonic() + args.seconds

    def pooled() -> bytes:
        # One event loop: taking the next record needs no lock.
        if position["next"] == len(records):
            position["next"] = 0
            position["passes"] += 1
        position["next"] += 1
        return records[position["next"] - 1]

    async def worker(number: int) -> None:
        connection = _Connection(host, port)
        counter = 0
        try:
            while time.monotonic() < deadline:
                counter += 1
                if records:
                    raw = pooled()
                else:
                    body = (
                        '{"candidate":{"full_name":"Bench Candidate","email":"'
                        f'{args.prefix}-{number}-{counter}@example.com"}}}}'
                    ).encode()
                    raw = (
                        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                        f"{extra}\r\n"
                    ).encode() + body
                started = time.perf_counter()
                try:
                    status = await asyncio.wait_for(connection.request(raw), 10)
                except TimeoutError:
                    errors["timeout"] += 1
                    await connection.close()
                    continue
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    errors["read"] += 1
                    await connection.close()
                    continue
                latencies.append((time.perf_counter() - started) * 1e6)
                if status >= 400:
                    errors["status"] += 1
        finally:
            await connection.close()

    started = time.monotonic()
    await asyncio.gather(*(worker(n) for n in range(args.connections)))
    elapsed = time.monotonic() - started
    summary = Distribution.of(latencies or [0.0])
    sys.stdout.write(
        MARKER
        + json.dumps(
            {
                "requests": len(latencies),
                "duration_us": int(elapsed * 1e6),
                "passes": position["passes"],
                "errors": errors,
                "latency_us": {
                    "mean": summary.mean,
                    "p50": summary.p50,
                    "p90": summary.p90,
                    "p99": summary.p99,
                    "max": summary.max,
                },
            }
        )
        + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--prefix", default="bench")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--pool", help="send this pool file's requests (bench/pool.py)")
    uvloop.run(_load(parser.parse_args()))


if __name__ == "__main__":
    main()
