"""The /metrics scrape: gauges computed from the database and Redis, and the job and store counters that
workers keep in Redis, beside the web workers' own prometheus_client metrics."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from redis import Redis
from redis.exceptions import RedisError

from bridge.db.models import Event, Offer
from bridge.infra.context import Context
from bridge.infra.queue import queue_depths

JOBS_KEY, STORE_KEY = "relance:metrics:jobs", "relance:metrics:store"  # written by bridge.infra.observability
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, float("inf"))


class StateCollector:
    """Gauges computed at scrape time from the database and Redis, plus the job and store counters."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Metric]:
        """Metric families for one scrape; a part that cannot be read is reported, not raised."""
        errors = GaugeMetricFamily("relance_scrape_error", "1 when a part could not be read", labels=["part"])
        for part, read in (("database", self._database), ("redis", self._redis)):
            try:
                yield from list(read())
                errors.add_metric([part], 0)
            except (sa.exc.SQLAlchemyError, RedisError, OSError):
                errors.add_metric([part], 1)
        yield errors

    def _database(self) -> Iterator[Metric]:
        with self.ctx.sessions() as session:
            offers = session.execute(sa.select(Offer.status, sa.func.count()).group_by(Offer.status)).all()
            pending, oldest = session.execute(
                sa.select(sa.func.count(), sa.func.min(Event.received_at)).where(Event.status == "pending")
            ).one()
        family = GaugeMetricFamily("relance_offers", "Offers by status", labels=["status"])
        for status, count in offers:
            family.add_metric([status], count)
        yield family
        yield GaugeMetricFamily("relance_events_pending", "Events not processed yet", value=pending)
        age = (self.ctx.now() - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "relance_oldest_pending_event_seconds", "Age of the oldest pending event", age
        )

    def _redis(self) -> Iterator[Metric]:
        depth = GaugeMetricFamily("relance_queue_depth", "Jobs waiting per queue", labels=["queue"])
        for name, count in queue_depths(self.ctx.redis).items():
            depth.add_metric([name], count)
        yield depth
        yield from _job_families(_hash(self.ctx.redis, JOBS_KEY))
        calls = CounterMetricFamily(
            "relance_store_api_calls", "Store API calls", labels=["platform", "outcome"]
        )
        throttles = CounterMetricFamily("relance_store_api_throttles", "Throttled calls", labels=["platform"])
        for field, value in sorted(_hash(self.ctx.redis, STORE_KEY).items()):
            platform, outcome = field.split("|", 1)
            calls.add_metric([platform, outcome], value)
            if outcome == "throttled":
                throttles.add_metric([platform], value)
        yield calls
        yield throttles


def _hash(redis: Redis, key: str) -> dict[str, float]:
    found: dict[Any, Any] = redis.hgetall(key)  # type: ignore[assignment]
    return {_text(k): float(v) for k, v in found.items()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _job_families(fields: dict[str, float]) -> Iterator[Metric]:
    runs = CounterMetricFamily("relance_jobs", "Job runs by outcome", labels=["job", "outcome"])
    failures = CounterMetricFamily("relance_job_failures", "Failed job runs", labels=["job"])
    durations = HistogramMetricFamily("relance_job_duration_seconds", "Job run time", labels=["job"])
    names = sorted({f.split("|")[1] for f in fields if f.startswith("sum|")})
    for field, value in sorted(fields.items()):
        kind, name, *rest = field.split("|")
        if kind == "count":
            runs.add_metric([name, rest[0]], value)
            if rest[0] == "failed":
                failures.add_metric([name], value)
    for name in names:
        counts = [fields.get(f"bucket|{name}|{i}", 0.0) for i in range(len(JOB_BUCKETS))]
        cumulative = [sum(counts[: i + 1]) for i in range(len(counts))]
        buckets = [(_le(le), c) for le, c in zip(JOB_BUCKETS, cumulative, strict=True)]
        durations.add_metric([name], buckets, fields.get(f"sum|{name}", 0.0))
    yield from (runs, failures, durations)


def _le(bound: float) -> str:
    return "+Inf" if bound == float("inf") else str(bound)


class _Local:
    """This process's prometheus_client metrics (single-process mode)."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def scrape_registry(ctx: Context) -> CollectorRegistry:
    """The registry behind /metrics: every web worker's metrics plus the computed state."""
    registry = CollectorRegistry(auto_describe=False)
    if ctx.settings.prometheus_multiproc_dir:
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Local())
    registry.register(StateCollector(ctx))
    return registry
