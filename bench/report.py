"""Figures, the table printed at the end of a run, the JSON written to ``bench/results/`` and
the results block of ``docs/benchmarks.md``."""

from __future__ import annotations

import json
import math
import os
import platform
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
DOC_START = "<!-- bench:results:start -->"
DOC_END = "<!-- bench:results:end -->"


@dataclass(frozen=True)
class Distribution:
    count: int
    mean: float
    p50: float
    p90: float
    p99: float
    max: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Distribution:
        if not values:
            raise ValueError("no values to summarise")
        ordered = sorted(values)
        return cls(
            count=len(ordered),
            mean=sum(ordered) / len(ordered),
            p50=percentile(ordered, 50),
            p90=percentile(ordered, 90),
            p99=percentile(ordered, 99),
            max=ordered[-1],
        )


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Figure:
    """One measured figure: ours against its floor (a ratio), or against an absolute bound."""

    key: str
    title: str
    unit: str
    ours: float
    floor: float | None
    target: float
    # "ours==": a count that must be exactly the target (duplicates, lost messages: 0).
    comparison: Literal["ratio>=", "ours<", "ours>=", "ours=="]

    @property
    def ratio(self) -> float | None:
        return None if self.floor is None else self.ours / self.floor

    @property
    def passed(self) -> bool:
        if self.comparison == "ratio>=":
            return self.ratio is not None and self.ratio >= self.target
        if self.comparison == "ours>=":
            return self.ours >= self.target
        if self.comparison == "ours==":
            return self.ours == self.target
        return self.ours < self.target

    @property
    def target_text(self) -> str:
        if self.comparison == "ratio>=":
            return f"ratio >= {self.target:g}"
        if self.comparison == "ours>=":
            return f">= {self.target:g} {self.unit}"
        if self.comparison == "ours==":
            return f"== {self.target:g}"
        return f"< {self.target:g} {self.unit}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "title": self.title,
            "unit": self.unit,
            "ours": round(self.ours, 3),
            "floor": None if self.floor is None else round(self.floor, 3),
            "ratio": None if self.ratio is None else round(self.ratio, 4),
            "target": self.target_text,
            "passed": self.passed,
        }


def machine_info(versions: dict[str, str]) -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    memory_gb: float | None = None
    try:
        pages, page_size = os.sysconf("SC_PHYS_PAGES"), os.sysconf("SC_PAGE_SIZE")
        memory_gb = round(pages * page_size / 2**30, 1)
    except (ValueError, OSError):
        memory_gb = None
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "memory_gb": memory_gb,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        **versions,
    }


def load_average() -> list[float]:
    return [round(value, 2) for value in os.getloadavg()]


def _number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.1f}" if abs(value) >= 10 else f"{value:,.2f}"


def table(figures: Sequence[Figure]) -> str:
    header = ("figure", "ours", "floor", "ratio", "target", "result")
    rows = [
        (
            f"{figure.title} ({figure.unit})",
            _number(figure.ours),
            _number(figure.floor),
            "-" if figure.ratio is None else f"{figure.ratio:.2f}",
            figure.target_text,
            "pass" if figure.passed else "MISSED",
        )
        for figure in figures
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in (header, *rows)
    ]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


def write_json(
    document: dict[str, Any], stamp: str, directory: Path = RESULTS_DIR
) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=2, sort_keys=False) + "\n"
    latest = directory / "latest.json"
    dated = directory / f"{stamp}.json"
    for path in (dated, latest):
        partial = path.with_suffix(".json.tmp")
        partial.write_text(text)
        partial.replace(path)
    return latest, dated


def markdown(document: dict[str, Any]) -> str:
    """The results block of ``docs/benchmarks.md``, from a run's JSON document."""
    machine = document["machine"]
    load = document["load"]
    lines = [
        f"Measured {document['date']} with `{document['command']}` on {machine['cores']} cores "
        f"({machine['cpu']}, {machine['memory_gb']} GB), Python {machine['python']}, "
        f"PostgreSQL {machine['postgresql']}, RabbitMQ {machine['rabbitmq']}. "
        f"Load average (1/5/15 min) before the run: {_loads(load['before'])}; "
        f"after: {_loads(load['after'])}.",
        "",
        *(f"**Disturbed:** {note}.\n" for note in document.get("disturbances", [])),
        "| figure | ours | floor | ratio | target | result |",
        "|---|---:|---:|---:|---|---|",
    ]
    for figure in document["figures"]:
        floor = figure["floor"]
        ratio = "-" if not floor else f"{figure['ours'] / floor:.2f}"
        result = "pass" if figure["passed"] else "**MISSED**"
        lines.append(
            f"| {figure['title']} ({figure['unit']}) | {_number(figure['ours'])} | "
            f"{_number(figure['floor'])} | {ratio} | {figure['target']} | {result} |"
        )
    details = document["details"]
    http = details.get("http")
    if http:
        connections = details["http_plan"]["connections"]
        lines += [
            "",
            f"| HTTP at {connections} connections | requests/s | p50 ms | p99 ms | "
            "CPU ms per request (server) |",
            "|---|---:|---:|---:|---:|",
        ]
        for label, key in (
            ("pipeline `POST /v1/jobs/{job_id}/applications`", "ours"),
            ("floor: FastAPI + asyncpg, one INSERT", "floor"),
        ):
            latency = http[key]["latency_ms"]
            lines.append(
                f"| {label} | {http[key]['per_s']:,.0f} | {latency['p50']:.1f} | "
                f"{latency['p99']:.1f} | {http[key]['server_cpu_ms_per_request']:.2f} |"
            )
    lines += _webhook_lines(details)
    lines += _portal_lines(details)
    lines += _analytics_lines(details)
    lines += _notifier_lines(details)
    events = details.get("events")
    if events:
        lines += [
            "",
            "| events | events/s | CPU ms per event, consuming process | CPU ms per event, "
            "producing process |",
            "|---|---:|---:|---:|",
        ]
        for label, key in (
            ("ours: inbox consumer (bench service) / OutboxWriter and relay", "ours"),
            ("floor: aio-pika consumer / aio-pika publisher", "floor"),
        ):
            part = events[key]
            lines.append(
                f"| {label} | {part['per_s']:,.0f} | {part['consumer_cpu_ms_per_event']:.3f} | "
                f"{part['producer_cpu_ms_per_event']:.3f} |"
            )
        lines += [
            "",
            "| commit-to-handled latency | offered events/s | achieved | p50 ms | p90 ms | "
            "p99 ms | max ms |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for label, key in (
            ("at the target load", "latency"),
            ("at half our measured throughput (informative)", "latency_relaxed"),
        ):
            latency = events[key]
            dist = latency["distribution_ms"]
            lines.append(
                f"| {label} | {latency['offered_per_s']:,.0f} | "
                f"{latency['achieved_per_s']:,.0f} | {dist['p50']:,.1f} | {dist['p90']:,.1f} | "
                f"{dist['p99']:,.1f} | {dist['max']:,.1f} |"
            )
        lines.append("")
        lines.append(f"Events of {events['ours']['message_bytes']} bytes.")
    return "\n".join(lines)


def _webhook_lines(details: dict[str, Any]) -> list[str]:
    hooks = details.get("webhooks")
    if not hooks:
        return []
    connections = details["webhooks_plan"]["connections"]
    lines = [
        "",
        f"| signed webhooks at {connections} connections | requests/s | p50 ms | p99 ms | "
        "CPU ms per request (server) | load generator CPU (share of a core) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, key in (
        ("pipeline `POST /v1/webhooks/ai-interviews/{vendor}`, signed", "ours"),
        ("floor: FastAPI + asyncpg, one INSERT", "floor"),
    ):
        part = hooks[key]
        latency = part["latency_ms"]
        lines.append(
            f"| {label} | {part['per_s']:,.0f} | {latency['p50']:.1f} | {latency['p99']:.1f} | "
            f"{part['server_cpu_ms_per_request']:.2f} | {part['client_cpu_share']:.2f} |"
        )
    sizes = hooks["pool_sizes"]
    lines += [
        "",
        f"Signing took {hooks['signing_us_per_request']:.1f} µs per request, before each round "
        f"(pools of {min(sizes):,} to {max(sizes):,} requests); "
        f"{hooks['deliveries_recorded']:,} deliveries recorded in the measured rounds.",
    ]
    return lines


def _portal_lines(details: dict[str, Any]) -> list[str]:
    view = details.get("portal")
    if not view:
        return []
    connections = details["portal_plan"]["connections"]
    lines = [
        "",
        f"| candidate's view at {connections} connections | requests/s | p50 ms | p90 ms | "
        "p99 ms | max ms | CPU ms per request (server) | bytes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, key, size in (
        (
            f"`GET /v1/portal/application` ({view['stages']} stages, {view['messages']} messages)",
            "view",
            "view_bytes",
        ),
        ("`GET /v1/portal/messages`, first page (informative)", "thread", "thread_bytes"),
        ("the view on one connection alone (informative)", "view_single", "view_bytes"),
    ):
        part = view[key]
        latency = part["latency_ms"]
        lines.append(
            f"| {label} | {part['per_s']:,.0f} | {latency['p50']:.1f} | {latency['p90']:.1f} | "
            f"{latency['p99']:.1f} | {latency['max']:.1f} | "
            f"{part['server_cpu_ms_per_request']:.2f} | {view[size]:,} |"
        )
    return lines


def _analytics_lines(details: dict[str, Any]) -> list[str]:
    numbers = details.get("analytics")
    if not numbers:
        return []
    seeded = numbers["seeded"]
    lines = [
        "",
        f"| analytics over {seeded['applications']:,} applications | median ms | max ms | "
        "requests | bytes |",
        "|---|---:|---:|---:|---:|",
    ]
    for timing in numbers["timings"].values():
        lines.append(
            f"| `GET {timing['path']}` | {timing['median_ms']:,.1f} | {timing['max_ms']:,.1f} | "
            f"{len(timing['samples_ms'])} | {timing['response_bytes']:,} |"
        )
    lines += [
        "",
        f"History: {seeded['jobs']} jobs, {seeded['applications']:,} applications, "
        f"{seeded['stage_changes']:,} stage changes, {seeded['ai_interviews']:,} AI interviews, "
        f"written in {seeded['seconds']:.0f} s.",
    ]
    return lines


def _notifier_lines(details: dict[str, Any]) -> list[str]:
    emails = details.get("notifier")
    if not emails:
        return []
    connections = emails["connections"]
    lines = [
        "",
        f"| stage_changed to email, {connections} SMTP connections | emails/s | "
        "CPU ms per email, sender | CPU ms per email, SMTP sink | duplicates | lost |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    tallies = emails["tallies"]
    floor = tallies["floor"]
    for label, key, duplicates, lost in (
        (
            "ours: the notifier (consumer, planner, dispatcher)",
            "ours",
            emails["duplicates"],
            emails["lost"],
        ),
        ("floor: raw aiosmtplib `sendmail` loops", "floor", floor["duplicates"], floor["lost"]),
    ):
        part = emails[key]
        lines.append(
            f"| {label} | {part['per_s']:,.0f} | {part['sender_cpu_ms_per_email']:.3f} | "
            f"{part['sink_cpu_ms_per_email']:.3f} | {duplicates:,} | {lost:,} |"
        )
    latency = emails["latency"]
    dist = latency["distribution_ms"]
    lines += [
        "",
        "| event-to-accepted latency | offered events/s | achieved | p50 ms | p90 ms | p99 ms | "
        "max ms |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| stage_changed published to email accepted | {latency['offered_per_s']:,.0f} | "
        f"{latency['achieved_per_s']:,.0f} | {dist['p50']:,.1f} | {dist['p90']:,.1f} | "
        f"{dist['p99']:,.1f} | {dist['max']:,.1f} |",
        "",
        f"Emails of {emails['ours']['message_bytes']:,} bytes; the pipeline answering the "
        f"contact lookups used {emails['ours']['pipeline_cpu_ms_per_email']:.3f} ms of CPU per "
        f"email. {_recorded_text(emails)}",
    ]
    return lines


def _recorded_text(emails: dict[str, Any]) -> str:
    """How far the notifier's own records (``deliveries``) kept up with what the sink saw."""
    measured = emails["ours"]["emails"]
    lag = emails["ours"]["record_lag_s"]
    if lag is not None:
        text = (
            f"The notifier had recorded all {measured:,} as sent {lag:.1f} s after the sink "
            "accepted the last"
        )
    else:
        sent = emails["delivery_statuses"].get("sent", 0)
        text = (
            f"The notifier had recorded only {sent:,} of the {measured:,} as sent when it "
            "stopped being waited for"
        )
    final = emails["final_statuses"]
    total = sum(final.values())
    return f"{text}; at the end, {final.get('sent', 0):,} of all {total:,} of ours were."


def _loads(values: Sequence[float]) -> str:
    return " / ".join(f"{value:.2f}" for value in values)


def update_doc(document: dict[str, Any]) -> bool:
    """Replace the results block of ``docs/benchmarks.md``; false when the doc has no block."""
    if not DOC.exists():
        return False
    text = DOC.read_text()
    pattern = re.compile(re.escape(DOC_START) + r".*?" + re.escape(DOC_END), re.DOTALL)
    if not pattern.search(text):
        return False
    block = f"{DOC_START}\n{markdown(document)}\n{DOC_END}"
    DOC.write_text(pattern.sub(lambda _: block, text))
    return True
