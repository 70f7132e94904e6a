"""Prometheus metrics shared by every service; each sample carries a ``service`` label.

RED for HTTP and for messages, outbox lag, timer lag. Gauges that need the database are set by
the relay and the timer runner on each pass rather than queried at scrape time.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "http_requests_total",
    "HTTP requests by route template and status code.",
    ["service", "method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "http_request_duration_seconds",
    "HTTP request duration by route template.",
    ["service", "method", "route"],
    buckets=_LATENCY_BUCKETS,
)
EVENTS_PUBLISHED = Counter(
    "events_published_total", "Events confirmed by the broker.", ["service", "type"]
)
EVENTS_PUBLISH_FAILURES = Counter(
    "events_publish_failures_total", "Relay batches that failed to publish.", ["service"]
)
EVENTS_CONSUMED = Counter(
    "events_consumed_total",
    "Events taken off the service's queue, by outcome "
    "(handled, duplicate, retried, parked, requeued).",
    ["service", "type", "outcome"],
)
EVENTS_RETRIED = Counter(
    "events_retried_total", "Events sent to a delayed-retry queue.", ["service", "type"]
)
EVENTS_DELAYED = Counter(
    "events_delayed_total",
    "Handling put off because the database was unreachable (not counted as an attempt).",
    ["service", "type"],
)
EVENTS_PARKED = Counter(
    "events_parked_total",
    "Events parked after their last attempt or as poison.",
    ["service", "type", "reason"],
)
INBOX_DUPLICATES = Counter(
    "inbox_duplicates_skipped_total",
    "Redelivered events whose effects were already committed.",
    ["service", "type"],
)
EVENT_HANDLING_DURATION = Histogram(
    "event_handling_duration_seconds",
    "Time from taking an event off the queue to acknowledging it.",
    ["service", "type"],
    buckets=_LATENCY_BUCKETS,
)
EVENT_BATCH_SIZE = Histogram(
    "event_batch_size",
    "Messages handled together in one transaction by the consumer.",
    ["service"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200),
)
EVENT_BATCHES_SPLIT = Counter(
    "event_batches_split_total",
    "Batches rolled back because one of their events failed, then handled one by one.",
    ["service"],
)
OUTBOX_BACKLOG = Gauge("outbox_backlog", "Outbox rows not yet published.", ["service"])
OUTBOX_OLDEST_AGE = Gauge(
    "outbox_oldest_age_seconds", "Age of the oldest unpublished outbox row.", ["service"]
)
TIMERS_DUE = Gauge("timers_due", "Timers past their due time and not yet handled.", ["service"])
TIMER_LAG = Histogram(
    "timer_lag_seconds",
    "Delay between a timer's due time and its handling.",
    ["service", "kind"],
    buckets=(0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0),
)
TIMERS_FIRED = Counter(
    "timers_fired_total",
    "Timers handled, by outcome (fired, retried, failed).",
    ["service", "kind", "outcome"],
)
