"""``python -m bench``: set up a throwaway database and broker namespace, measure events, HTTP
and signed webhooks against their floors and the candidate's view and analytics against their
bounds, print the table, write ``bench/results/`` and the results block of
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
from pathlib import Path
from typing import Any

import uvloop

from bench import (
    analytics,
    emails,
    environment,
    events,
    expiries,
    loadgen,
    portal,
    report,
    slots,
    talentpool_ingest,
    talentpool_segments,
    web,
    webhooks,
)
from bench.environment import BenchRun
from bench.report import Figure

EVENTS_RATIO_TARGET = 0.5
EVENT_P99_TARGET_MS = 50.0
HTTP_RATIO_TARGET = 0.5
WEBHOOK_RATIO_TARGET = 0.5
WEBHOOK_P99_TARGET_MS = 100.0
PORTAL_P99_TARGET_MS = 20.0
ANALYTICS_TARGET_MS = 500.0
PARTS = (
    "events",
    "http",
    "webhooks",
    "portal",
    "analytics",
    "expiries",
    "slots",
    "notifier",
    "talentpool",
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=PARTS, help="run one part only")
    parser.add_argument("--events", type=int, default=20_000, help="events per side for throughput")
    parser.add_argument("--rate", type=float, default=1_000.0, help="offered events/s for latency")
    parser.add_argument("--latency-seconds", type=float, default=12.0)
    parser.add_argument("--http-seconds", type=float, default=15.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--webhook-seconds", type=float, default=15.0)
    parser.add_argument("--webhook-connections", type=int, default=64)
    parser.add_argument(
        "--webhook-applications",
        type=int,
        default=10_000,
        help="applications the signed deliveries name in turn",
    )
    parser.add_argument("--portal-seconds", type=float, default=9.0)
    parser.add_argument("--portal-connections", type=int, default=4)
    parser.add_argument("--portal-messages", type=int, default=100)
    parser.add_argument("--analytics-applications", type=int, default=100_000)
    parser.add_argument(
        "--analytics-repeats", type=int, default=7, help="timed requests per analytics route"
    )
    parser.add_argument("--expiries", type=int, default=100_000, help="invitations falling due")
    parser.add_argument(
        "--expiries-batch-size",
        type=int,
        help="the scheduler's timer_batch_size (default: its own)",
    )
    parser.add_argument("--slots-requests", type=int, default=200, help="timed proposal requests")
    parser.add_argument("--slots-core-runs", type=int, default=300, help="timed core runs")
    parser.add_argument(
        "--notifier-events",
        type=int,
        default=10_000,
        help="stage_changed events (and emails) per side for the notifier's throughput",
    )
    parser.add_argument(
        "--notifier-rate", type=float, default=200.0, help="offered events/s for its latency"
    )
    parser.add_argument(
        "--notifier-latency-seconds",
        type=float,
        default=10.0,
        help="measured seconds of the notifier's latency round (after a 2 s warm-up)",
    )
    parser.add_argument(
        "--load-generator",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="auto: wrk when installed, else bench/loadgen.py",
    )
    parser.add_argument("--admin-database-url", default=environment.DEFAULT_ADMIN_URL)
    parser.add_argument("--amqp-url", default=environment.DEFAULT_AMQP_URL)
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=report.RESULTS_DIR,
        help="where the JSON goes (default bench/results/; another one for trial runs)",
    )
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


def _webhook_figures(result: webhooks.WebhookResult, connections: int) -> list[Figure]:
    return [
        Figure(
            key="webhook_ingestion",
            title=f"signed POST /v1/webhooks/ai-interviews/{{vendor}} at {connections} connections",
            unit="requests/s",
            ours=result.ours.per_s,
            floor=result.floor.per_s,
            target=WEBHOOK_RATIO_TARGET,
            comparison="ratio>=",
        ),
        Figure(
            key="webhook_latency_p99",
            title=f"signed webhook p99 at {connections} connections",
            unit="ms",
            ours=result.ours.latency_ms.p99,
            floor=None,
            target=WEBHOOK_P99_TARGET_MS,
            comparison="ours<",
        ),
    ]


def _portal_figures(result: portal.PortalResult, connections: int) -> list[Figure]:
    return [
        Figure(
            key="portal_view_p99",
            title=f"GET /v1/portal/application p99 at {connections} connections "
            f"({result.stages} stages, {result.messages} messages)",
            unit="ms",
            ours=result.view.latency_ms.p99,
            floor=None,
            target=PORTAL_P99_TARGET_MS,
            comparison="ours<",
        )
    ]


def _analytics_figures(result: analytics.AnalyticsResult) -> list[Figure]:
    count = len(next(iter(result.timings.values())).samples_ms)
    return [
        Figure(
            key=f"analytics_{name}_max",
            title=f"GET {timing.path}, {result.seeded.applications:,} applications, "
            f"slowest of {count}",
            unit="ms",
            ours=timing.max_ms,
            floor=None,
            target=ANALYTICS_TARGET_MS,
            comparison="ours<",
        )
        for name, timing in result.timings.items()
    ]


def _load_details(value: loadgen.LoadResult) -> dict[str, Any]:
    return {
        **asdict(value),
        "per_s": round(value.per_s, 1),
        "server_cpu_ms_per_request": round(value.server_cpu_ms_per_request, 3),
        "client_cpu_share": round(value.client_cpu_share, 3),
    }


def _webhook_details(result: webhooks.WebhookResult) -> dict[str, Any]:
    return {
        "ours": _load_details(result.ours),
        "floor": _load_details(result.floor),
        "signing_us_per_request": round(result.signing_us_per_request, 2),
        "pool_sizes": result.pool_sizes,
        "deliveries_recorded": result.deliveries_recorded,
    }


def _portal_details(result: portal.PortalResult) -> dict[str, Any]:
    return {
        "view": _load_details(result.view),
        "thread": _load_details(result.thread),
        "view_single": _load_details(result.view_single),
        "view_bytes": result.view_bytes,
        "thread_bytes": result.thread_bytes,
        "stages": result.stages,
        "messages": result.messages,
    }


def _analytics_details(result: analytics.AnalyticsResult) -> dict[str, Any]:
    return {
        "seeded": {**asdict(result.seeded), "seconds": round(result.seeded.seconds, 1)},
        "timings": {
            name: {
                "path": timing.path,
                "median_ms": round(timing.median_ms, 1),
                "max_ms": round(timing.max_ms, 1),
                "samples_ms": [round(sample, 1) for sample in timing.samples_ms],
                "response_bytes": timing.response_bytes,
            }
            for name, timing in result.timings.items()
        },
    }


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
    return {"ours": _load_details(result.ours), "floor": _load_details(result.floor)}


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
    if args.only in (None, "webhooks"):
        webhook_plan = webhooks.WebhookPlan(
            connections=args.webhook_connections,
            seconds=args.webhook_seconds,
            applications=args.webhook_applications,
        )
        details["webhooks_plan"] = {**asdict(webhook_plan), "load_generator": loadgen.tool()}
        try:
            hooks = await webhooks.measure(run, webhook_plan)
        except Exception as exc:
            errors["webhooks"] = f"{type(exc).__name__}: {exc}"
        else:
            figures += _webhook_figures(hooks, webhook_plan.connections)
            details["webhooks"] = _webhook_details(hooks)
            disturbances += hooks.disturbances
    if args.only in (None, "portal"):
        portal_plan = portal.PortalPlan(
            connections=args.portal_connections,
            seconds=args.portal_seconds,
            messages=args.portal_messages,
        )
        details["portal_plan"] = {**asdict(portal_plan), "load_generator": loadgen.tool()}
        try:
            view = await portal.measure(run, portal_plan)
        except Exception as exc:
            errors["portal"] = f"{type(exc).__name__}: {exc}"
        else:
            figures += _portal_figures(view, portal_plan.connections)
            details["portal"] = _portal_details(view)
            disturbances += view.disturbances
    if args.only in (None, "analytics"):
        analytics_plan = analytics.AnalyticsPlan(
            applications=args.analytics_applications, repeats=args.analytics_repeats
        )
        details["analytics_plan"] = asdict(analytics_plan)
        try:
            numbers = await analytics.measure(run, analytics_plan)
        except Exception as exc:
            errors["analytics"] = f"{type(exc).__name__}: {exc}"
        else:
            figures += _analytics_figures(numbers)
            details["analytics"] = _analytics_details(numbers)
            disturbances += numbers.disturbances
    if args.only in (None, "expiries"):
        expiries_plan = expiries.ExpiriesPlan(
            invitations=args.expiries, batch_size=args.expiries_batch_size
        )
        details["expiries_plan"] = asdict(expiries_plan)
        try:
            expired = await expiries.measure(run, expiries_plan)
        except Exception as exc:
            errors["expiries"] = f"{type(exc).__name__}: {exc}"
        else:
            figures += expiries.figures(expired)
            details["expiries"] = expiries.details(expired)
            disturbances += expired.disturbances
    if args.only in (None, "slots"):
        slots_plan = slots.SlotsPlan(
            endpoint_requests=args.slots_requests, core_runs=args.slots_core_runs
        )
        details["slots_plan"] = asdict(slots_plan)
        try:
            slotted = await slots.measure(run, slots_plan)
        except Exception as exc:
            errors["slots"] = f"{type(exc).__name__}: {exc}"
        else:
            figures += slots.figures(slotted, slots_plan)
            details["slots"] = slots.details(slotted)
            disturbances += slotted.disturbances
    if args.only in (None, "notifier"):
        notifier_plan = emails.NotifierPlan(
            events=args.notifier_events,
            rate=args.notifier_rate,
            latency_seconds=args.notifier_latency_seconds,
        )
        details["notifier_plan"] = asdict(notifier_plan)
        try:
            sent = await emails.measure(run, notifier_plan)
        except Exception as exc:
            errors["notifier"] = f"{type(exc).__name__}: {exc}"
        else:
            figures += emails.figures(sent)
            details["notifier"] = emails.details(sent)
            disturbances += sent.disturbances
    if args.only in (None, "talentpool"):
        try:
            ingested = await talentpool_ingest.measure(run, talentpool_ingest.IngestPlan())
        except Exception as exc:
            errors["talentpool_ingest"] = f"{type(exc).__name__}: {exc}"
        else:
            figures += talentpool_ingest.figures(ingested)
            details["talentpool_ingest"] = talentpool_ingest.details(ingested)
            disturbances += ingested.disturbances
        try:
            segmented = await talentpool_segments.measure(run, talentpool_segments.SegmentsPlan())
        except Exception as exc:
            errors["talentpool_segments"] = f"{type(exc).__name__}: {exc}"
        else:
            figures += talentpool_segments.figures(segmented)
            details["talentpool_segments"] = talentpool_segments.details(segmented)
            disturbances += segmented.disturbances
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
    latest, dated = report.write_json(
        document, started.strftime("%Y%m%dT%H%M%SZ"), args.results_dir
    )
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
    loadgen.preferred = args.load_generator
    sys.exit(uvloop.run(_main(args, arguments)))
