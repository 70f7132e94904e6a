"""``python -m bench``: set up a throwaway database and broker namespace, measure events and
HTTP against their floors, print the table, write ``bench/results/`` and the results block of
``docs/benchmarks.md``, and clean up.

The exit code is 0 when every measurement ran, whether or not its target was met (a missed
target is printed as MISSED); it is 1 when a measurement could not be taken.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import shutil
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import uvloop

from bench import environment, events, loadgen, report, web
from bench.environment import BenchRun
from bench.report import Figure

EVENTS_RATIO_TARGET = 0.5
EVENT_P99_TARGET_MS = 50.0
HTTP_RATIO_TARGET = 0.5


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=["events", "http"], help="run one part only")
    parser.add_argument("--events", type=int, default=20_000, help="events per side for throughput")
    parser.add_argument("--rate", type=float, default=1_000.0, help="offered events/s for latency")
    parser.add_argument("--latency-seconds", type=float, default=12.0)
    parser.add_argument("--http-seconds", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--admin-database-url", default=environment.DEFAULT_ADMIN_URL)
    parser.add_argument("--amqp-url", default=environment.DEFAULT_AMQP_URL)
    parser.add_argument(
        "--no-docs", action="store_true", help="do not rewrite the results in docs/benchmarks.md"
    )
    parser.add_argument(
        "--keep-logs", action="store_true", help="keep the services' logs after a clean run"
    )
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="keep the run's database and broker namespace (to look into a failed run)",
    )
    return parser


def _event_figures(result: events.EventsResult) -> list[Figure]:
    return [
        Figure(
            key="events_throughput",
            title="events outbox -> relay -> inbox",
            unit="events/s",
            ours=result.ours.per_s,
            floor=result.floor.per_s,
            target=EVENTS_RATIO_TARGET,
            comparison="ratio>=",
        ),
        Figure(
            key="event_latency_p99",
            title=f"event commit-to-handled p99 at {result.latency.offered_per_s:.0f}/s",
            unit="ms",
            ours=result.latency.distribution_ms.p99,
            floor=None,
            target=EVENT_P99_TARGET_MS,
            comparison="ours<",
        ),
    ]


def _http_figures(result: web.HttpResult) -> list[Figure]:
    return [
        Figure(
            key="http_create_application",
            title="POST /v1/jobs/{job_id}/applications",
            unit="requests/s",
            ours=result.ours.per_s,
            floor=result.floor.per_s,
            target=HTTP_RATIO_TARGET,
            comparison="ratio>=",
        )
    ]


def _event_details(result: events.EventsResult) -> dict[str, Any]:
    def throughput(value: events.Throughput) -> dict[str, Any]:
        return {
            **asdict(value),
            "per_s": round(value.per_s, 1),
            "consumer_cpu_ms_per_event": round(value.consumer_cpu_ms_per_event, 3),
            "producer_cpu_ms_per_event": round(value.producer_cpu_ms_per_event, 3),
        }

    return {
        "ours": throughput(result.ours),
        "floor": throughput(result.floor),
        "latency": asdict(result.latency),
        "latency_relaxed": asdict(result.latency_relaxed),
    }


def _http_details(result: web.HttpResult) -> dict[str, Any]:
    def load(value: loadgen.LoadResult) -> dict[str, Any]:
        return {
            **asdict(value),
            "per_s": round(value.per_s, 1),
            "server_cpu_ms_per_request": round(value.server_cpu_ms_per_request, 3),
        }

    return {"ours": load(result.ours), "floor": load(result.floor)}


async def _measure(run: BenchRun, args: argparse.Namespace) -> dict[str, Any]:
    figures: list[Figure] = []
    details: dict[str, Any] = {}
    errors: dict[str, str] = {}
    disturbances: list[str] = []
    await environment.create_database(run)
    if args.only in (None, "events"):
        plan = events.EventsPlan(
            count=args.events, rate=args.rate, latency_seconds=args.latency_seconds
        )
        details["events_plan"] = asdict(plan)
        try:
            result = await events.measure(run, plan)
        except Exception as exc:
            errors["events"] = f"{type(exc).__name__}: {exc}"
        else:
            figures += _event_figures(result)
            details["events"] = _event_details(result)
            disturbances += result.disturbances
    if args.only in (None, "http"):
        http_plan = web.HttpPlan(connections=args.connections, seconds=args.http_seconds)
        details["http_plan"] = {**asdict(http_plan), "load_generator": loadgen.tool()}
        try:
            http = await web.measure(run, http_plan)
        except Exception as exc:
            errors["http"] = f"{type(exc).__name__}: {exc}"
        else:
            figures += _http_figures(http)
            details["http"] = _http_details(http)
            disturbances += http.disturbances
    return {"figures": figures, "details": details, "errors": errors, "disturbances": disturbances}


async def _main(args: argparse.Namespace, argv: list[str]) -> int:
    run = BenchRun(admin_url=args.admin_database_url, amqp_url=args.amqp_url)
    started = datetime.now(UTC)
    load_before = report.load_average()
    clock = time.monotonic()
    print(f"bench run {run.run_id}: database {run.database}, broker namespace {run.namespace}")
    versions = await environment.server_versions(run)
    try:
        measured = await _measure(run, args)
    finally:
        if args.keep_data:
            print(f"kept database {run.database} and broker namespace {run.namespace}")
        else:
            await environment.drop_database(run)
            await environment.delete_namespace(run)
    figures: list[Figure] = measured["figures"]
    errors: dict[str, str] = measured["errors"]
    document: dict[str, Any] = {
        "date": started.isoformat(timespec="seconds"),
        "command": "make bench" if not argv else "uv run python -m bench " + shlex.join(argv),
        "machine": report.machine_info(versions),
        "load": {"before": load_before, "after": report.load_average()},
        "duration_s": round(time.monotonic() - clock, 1),
        "figures": [figure.as_dict() for figure in figures],
        "details": measured["details"],
        "errors": errors,
        "disturbances": measured["disturbances"],
    }
    print()
    print(report.table(figures))
    for figure in figures:
        if not figure.passed:
            measured_as = (
                f"ours {figure.ours:,.1f} {figure.unit}"
                if figure.ratio is None
                else f"ratio {figure.ratio:.2f} (ours {figure.ours:,.1f}, floor "
                f"{figure.floor:,.1f} {figure.unit})"
            )
            print(f"MISSED: {figure.title}: {measured_as}; target {figure.target_text}")
    for disturbance in measured["disturbances"]:
        print(f"DISTURBED: {disturbance}; take these figures with care, or run again")
    for part, error in errors.items():
        print(f"ERROR in {part}: {error}  (logs kept in {run.workdir})")
    latest, dated = report.write_json(document, started.strftime("%Y%m%dT%H%M%SZ"))
    print(f"\nresults: {latest} and {dated}")
    # Only a complete run replaces the published figures.
    if args.only is None and not args.no_docs and not errors and report.update_doc(document):
        print(f"results block of {report.DOC} updated")
    if not errors and not args.keep_logs:
        shutil.rmtree(run.workdir, ignore_errors=True)
    return 1 if errors else 0


def main(argv: list[str] | None = None) -> None:
    arguments = sys.argv[1:] if argv is None else argv
    logging.basicConfig(level=logging.WARNING)
    args = _parser().parse_args(arguments)
    sys.exit(uvloop.run(_main(args, arguments)))
