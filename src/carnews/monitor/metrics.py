"""Metrics: the snapshot in Prometheus's text format, for ``/metrics``.

Figures the database holds (fetches by source and outcome, entries, stories kept and
dropped, deliveries by state, messages sent, the queue, bounces by kind, the scheduler's
heartbeat) are read from it at scrape time (``snapshot``) and exposed by a custom
``Collector``, so every process reports the same numbers. Totals that only grow are
counters (``carnews_messages_sent_total``: ``rate()`` gives the send rate); what goes
up and down is a gauge. Only what the database has no record of is counted in the
process itself: the scheduler's job runs by outcome (``PROCESS``), seen where the
scheduler runs. The Python runtime's own metrics (``process_*``, ``python_*``) follow.
A counter's ``*_created`` sample (when this process first counted a label set) is off:
it doubles the series of every counter and tells an operator nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from carnews.monitor.health import scheduler_health
from carnews.monitor.snapshot import Snapshot
from carnews.settings import OpsSettings

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
HEALTH_STATES = ("ok", "failing", "gone")

# prometheus_client's own switch (read at each scrape), thrown once on import; untyped.
disable_created_metrics()  # type: ignore[no-untyped-call]

PROCESS = CollectorRegistry(auto_describe=True)
JOB_RUNS = Counter(
    "carnews_scheduler_job_runs",
    "Scheduled job runs in this process, by job and outcome.",
    ["job", "outcome"],
    registry=PROCESS,
)


class SnapshotCollector(Collector):
    """The database's figures, as one snapshot read them (``None``: it did not answer)."""

    def __init__(self, snapshot: Snapshot | None, ops: OpsSettings) -> None:
        self.snapshot = snapshot
        self.ops = ops

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("carnews_database_up", "1 when the database answered this scrape.")
        up.add_metric([], 0 if self.snapshot is None else 1)
        yield up
        if self.snapshot is not None:
            yield from _sources(self.snapshot)
            yield from _content(self.snapshot)
            yield from _delivery(self.snapshot)
            yield from _scheduler(self.snapshot, self.ops)


def _sources(snapshot: Snapshot) -> Iterator[Metric]:
    fetches = CounterMetricFamily(
        "carnews_fetches",
        "Polls of each source by outcome (ok, not_modified, error).",
        labels=["source", "outcome"],
    )
    health = GaugeMetricFamily(
        "carnews_source_health",
        "1 for each source's health now (ok, failing from its first error in a row, gone).",
        labels=["source", "health"],
    )
    errors = GaugeMetricFamily(
        "carnews_source_consecutive_errors", "Failed polls in a row.", labels=["source"]
    )
    success = GaugeMetricFamily(
        "carnews_source_last_success_timestamp_seconds",
        "When each source was last polled without error (Unix time).",
        labels=["source"],
    )
    for row in snapshot.sources:
        for outcome, count in row.fetches.items():
            fetches.add_metric([row.name, outcome], count)
        for state in HEALTH_STATES:
            health.add_metric([row.name, state], 1 if row.health == state else 0)
        errors.add_metric([row.name], row.consecutive_errors)
        if row.last_success_at is not None:
            success.add_metric([row.name], row.last_success_at.timestamp())
    yield from (fetches, health, errors, success)


def _content(snapshot: Snapshot) -> Iterator[Metric]:
    entries = GaugeMetricFamily("carnews_entries_stored", "Entries stored from every source.")
    entries.add_metric([], snapshot.entries)
    stories = GaugeMetricFamily(
        "carnews_stories", "Stories by verdict: kept (relevant) or dropped.", labels=["verdict"]
    )
    stories.add_metric(["kept"], snapshot.stories_kept)
    stories.add_metric(["dropped"], snapshot.stories_dropped)
    editions = GaugeMetricFamily("carnews_editions", "Editions by state.", labels=["state"])
    for state, count in snapshot.editions.items():
        editions.add_metric([state], count)
    yield from (entries, stories, editions)


def _delivery(snapshot: Snapshot) -> Iterator[Metric]:
    deliveries = GaugeMetricFamily(
        "carnews_deliveries", "Ledger rows (one per edition and reader) by state.", labels=["state"]
    )
    for state, count in snapshot.deliveries.items():
        deliveries.add_metric([state], count)
    sent = CounterMetricFamily(
        "carnews_messages_sent", "Messages the relay accepted; rate() of it is the send rate."
    )
    sent.add_metric([], snapshot.deliveries.get("sent", 0))
    queue = GaugeMetricFamily(
        "carnews_delivery_queue_depth",
        "Messages still to go out: queued, and temporary failures with a retry to come.",
    )
    queue.add_metric([], snapshot.queue_depth)
    bounces = CounterMetricFamily(
        "carnews_bounces", "Bounces and complaints received, by kind.", labels=["kind"]
    )
    for kind, count in snapshot.bounces.items():
        bounces.add_metric([kind], count)
    yield from (deliveries, sent, queue, bounces)
    if snapshot.last_send_at is not None:
        last = GaugeMetricFamily(
            "carnews_last_send_timestamp_seconds",
            "When the relay last accepted a message (Unix time).",
        )
        last.add_metric([], snapshot.last_send_at.timestamp())
        yield last


def _scheduler(snapshot: Snapshot, ops: OpsSettings) -> Iterator[Metric]:
    state = scheduler_health(snapshot.scheduler, snapshot.taken_at, ops.scheduler_stale_seconds)
    stale = GaugeMetricFamily(
        "carnews_scheduler_stale",
        "1 when a scheduler holds the lease "
        "but its heartbeat is older than ops.scheduler_stale_seconds.",
    )
    stale.add_metric([], 1 if state.state == "stale" else 0)
    yield stale
    if state.heartbeat_age_seconds is not None:
        age = GaugeMetricFamily(
            "carnews_scheduler_heartbeat_age_seconds",
            "Seconds since the scheduler's leader last renewed its lease.",
        )
        age.add_metric([], state.heartbeat_age_seconds)
        yield age


class _Runtime(Collector):
    """The default registry's collectors (process, platform, GC) and this process's own."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()
        yield from PROCESS.collect()


def exposition(snapshot: Snapshot | None, ops: OpsSettings) -> bytes:
    """The text a Prometheus scrape of this process gets."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SnapshotCollector(snapshot, ops))
    registry.register(_Runtime())
    return generate_latest(registry)
