"""Operations: Prometheus metrics, JSON logs with request/job ids and no personal data, headers, Sentry.

Web metrics (webhooks, ingest latency) live in prometheus_client; under gunicorn with several workers set
PROMETHEUS_MULTIPROC_DIR (deploy/gunicorn.conf.py cleans it). RQ forks a work horse per job, so per-process
files would pile up there: job and store-API counters go to a Redis hash instead, and the scrape reads them
with the queue depths and the database gauges.
"""

from __future__ import annotations

import contextlib
import contextvars
import hmac
import json
import logging
import os
import re
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import requests
import sqlalchemy as sa
from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from redis import Redis
from redis.exceptions import RedisError

from bridge.runtime import Context

log = logging.getLogger(__name__)

WEBHOOKS = Counter("relance_webhooks_received", "Authentic webhook deliveries", ["platform", "topic"])
DUPLICATES = Counter("relance_webhooks_duplicate", "Deliveries already stored", ["platform", "topic"])
REJECTED = Counter("relance_webhooks_rejected", "Webhook requests refused", ["platform", "reason"])
INGEST = Histogram(
    "relance_ingest_seconds",
    "Time to answer a webhook",
    ["platform"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
JOBS_KEY, STORE_KEY = "relance:metrics:jobs", "relance:metrics:store"
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0, float("inf"))
PLATFORMS = {"shopify", "woocommerce", "wordpress"}
REASONS = {400: "bad_request", 401: "signature", 404: "unknown_shop", 413: "too_large", 503: "unavailable"}
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("relance_request_id", default=None)


def _env(name: str) -> str:
    return os.environ.get(f"RELANCE_{name}") or os.environ.get(name) or ""


# -- hooks called from the web and the worker -------------------------------------------------------


def webhook_stored(topic: str, duplicate: bool) -> None:
    """Count an authentic delivery (ingest calls it once the event row is written or found)."""
    labels = (_platform(request.path), _topic(topic))
    _child(WEBHOOKS, labels).inc()
    if duplicate:
        _child(DUPLICATES, labels).inc()


_children: dict[tuple[int, tuple[str, ...]], Any] = {}


def _child(metric: Any, labels: tuple[str, ...]) -> Any:
    """`metric.labels(*labels)`, remembered (the label sets are few: platforms, topics, reasons)."""
    key = (id(metric), labels)
    found = _children.get(key)
    if found is None:
        found = _children[key] = metric.labels(*labels)
    return found


def record_job(redis: Redis, name: str, seconds: float, ok: bool) -> None:
    """Add one job run to the shared job counters (never raises)."""
    bucket = next(i for i, le in enumerate(JOB_BUCKETS) if seconds <= le)
    try:
        pipe = redis.pipeline(transaction=False)
        pipe.hincrby(JOBS_KEY, f"count|{name}|{'ok' if ok else 'failed'}", 1)
        pipe.hincrbyfloat(JOBS_KEY, f"sum|{name}", seconds)
        pipe.hincrby(JOBS_KEY, f"bucket|{name}|{bucket}", 1)
        pipe.execute()
    except (RedisError, OSError):
        pass


def metered(worker_class: type) -> type:
    """An RQ worker class that times every job, counts its failures and masks what it keeps of them."""

    class Metered(worker_class):  # type: ignore[misc]
        def perform_job(self, job: Any, queue: Any) -> bool:
            start, ok = time.perf_counter(), False
            try:
                ok = bool(super().perform_job(job, queue))
                return ok
            finally:
                record_job(self.connection, job.func_name, time.perf_counter() - start, ok)

        def handle_job_failure(
            self, job: Any, queue: Any, started_job_registry: Any = None, exc_string: str = ""
        ) -> None:
            # RQ keeps the traceback with the failed job in Redis for days: no email or secret in it.
            super().handle_job_failure(
                job, queue, started_job_registry=started_job_registry, exc_string=mask(exc_string)
            )

        def handle_work_horse_killed(self, job: Any, *args: Any) -> None:
            record_job(self.connection, job.func_name, 0.0, False)
            super().handle_work_horse_killed(job, *args)

    Metered.__name__ = Metered.__qualname__ = f"Metered{worker_class.__name__}"
    return Metered


class StoreSession(requests.Session):
    """A requests session that counts store API calls, throttles and failures by platform."""

    def __init__(self, redis: Redis, platform: str) -> None:
        super().__init__()
        self._redis, self._platform = redis, platform

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        try:
            response = super().request(*args, **kwargs)
        except requests.Timeout:
            self._count("timeout")
            raise
        except requests.ConnectionError:
            self._count("connection_error")
            raise
        throttled = response.status_code == 429 or b'"THROTTLED"' in response.content[:4096]
        self._count("throttled" if throttled else "error" if response.status_code >= 500 else "ok")
        return response

    def _count(self, outcome: str) -> None:
        with contextlib.suppress(RedisError, OSError):
            self._redis.hincrby(STORE_KEY, f"{self._platform}|{outcome}", 1)


def store_session(redis: Redis, platform: str) -> requests.Session:
    """The HTTP session to give a store client so its calls are counted."""
    return StoreSession(redis, platform)


# -- the scrape ---------------------------------------------------------------------------------------


class StateCollector:
    """Gauges computed at scrape time from the database and Redis, plus the job and store counters."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def collect(self) -> Iterator[Any]:
        """Metric families for one scrape; a part that cannot be read is reported, not raised."""
        errors = GaugeMetricFamily("relance_scrape_error", "1 when a part could not be read", labels=["part"])
        for part, read in (("database", self._database), ("redis", self._redis)):
            try:
                yield from list(read())
                errors.add_metric([part], 0)
            except (sa.exc.SQLAlchemyError, RedisError, OSError):
                errors.add_metric([part], 1)
        yield errors

    def _database(self) -> Iterator[Any]:
        from bridge.models import Event, Offer

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

    def _redis(self) -> Iterator[Any]:
        from bridge.queue import queue_depths

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


def _job_families(fields: dict[str, float]) -> Iterator[Any]:
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

    def collect(self) -> Iterator[Any]:
        yield from REGISTRY.collect()


def scrape_registry(ctx: Context) -> CollectorRegistry:
    """The registry behind /metrics: every web worker's metrics plus the computed state."""
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Local())
    registry.register(StateCollector(ctx))
    return registry


def register(app: Flask) -> None:
    """Add GET /metrics, request ids, webhook timing and security headers to the app."""
    if "metrics" in app.view_functions:
        return
    from flask.logging import default_handler

    app.logger.removeHandler(default_handler)  # errors go through the root handler's masking
    registry = scrape_registry(app.extensions["relance"])

    def metrics() -> Response:
        token = _env("METRICS_TOKEN")
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if token and not hmac.compare_digest(given.encode(), token.encode()):
            abort(401)
        return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)

    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"])
    app.before_request(_start_request)
    app.after_request(_finish_request)
    app.teardown_request(_end_request)


_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def _start_request() -> None:
    given = request.headers.get("X-Request-Id", "")
    _request_id.set(given if _REQUEST_ID.fullmatch(given) else secrets.token_hex(16))
    g.relance_started = time.perf_counter()


def _end_request(_exc: BaseException | None) -> None:
    _request_id.set(None)


def _finish_request(response: Response) -> Response:
    response.headers["X-Request-Id"] = _request_id.get() or ""
    if request.path.startswith("/webhooks/"):
        platform = _platform(request.path)
        elapsed = time.perf_counter() - g.get("relance_started", time.perf_counter())
        _child(INGEST, (platform,)).observe(elapsed)
        if response.status_code >= 400:
            reason = REASONS.get(response.status_code, f"http_{response.status_code}")
            _child(REJECTED, (platform, reason)).inc()
    return security_headers(response)


def _platform(path: str) -> str:
    parts = path.split("/")
    return parts[2] if len(parts) > 2 and parts[2] in PLATFORMS else "other"


_TOPIC = re.compile(r"[a-z_]+([./][a-z_]+){0,3}")


def _topic(topic: str) -> str:
    return topic if _TOPIC.fullmatch(topic or "") and len(topic) <= 64 else "other"


# -- security headers -------------------------------------------------------------------------------

DEFAULT_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'none'"
)
ADMIN_FRAME = "frame-ancestors https://admin.shopify.com https://*.myshopify.com"


def security_headers(response: Response) -> Response:
    """Headers for every response; a CSP already set (the admin page's) is left as it is."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if response.mimetype == "text/html" and "Content-Security-Policy" not in headers:
        admin = request.path.startswith("/admin")
        headers["Content-Security-Policy"] = ADMIN_FRAME if admin else DEFAULT_CSP
        if not admin:
            headers.setdefault("X-Frame-Options", "DENY")
    ctx = current_app.extensions.get("relance")
    if ctx is not None and ctx.settings.public_url.startswith("https://"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


# -- logs and Sentry --------------------------------------------------------------------------------

_MASKS = [
    (re.compile(r"gAAAAA[A-Za-z0-9_\-]+=*"), "[encrypted]"),
    (re.compile(r"(://[^:/@\s]+:)[^@\s/]+@"), r"\1***@"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[^\s'\",]+"), r"\1 ***"),
    (re.compile(r"\b(shp[a-z]{2}|rl|ck|cs|whsec|sk)_[A-Za-z0-9_\-]{6,}"), r"\1_***"),
    (
        re.compile(
            r"(?i)\b(password|passwd|secret|token|api[_-]?key|authorization|dsn|"
            r"[a-z_]*_(?:secret|token|key))([\"']?\s*[:=]\s*[\"']?)[^\s\"'&,;)]+"
        ),
        r"\1\2***",
    ),
    (re.compile(r"(?=[A-Za-z0-9_\-+]*\d)(?=[A-Za-z0-9_\-+]*[A-Za-z])\b[A-Za-z0-9_\-+]{32,}={0,2}"), "***"),
    (
        re.compile(r"\b([A-Za-z0-9_%+\-])[A-Za-z0-9._%+\-]*@([A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)"),
        r"\1***@\2",
    ),
]


def mask(text: str) -> str:
    """`text` with emails shortened (a***@example.com) and anything that looks like a secret hidden."""
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


class MaskFilter(logging.Filter):
    """Rewrites each record's message and traceback through `mask` before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            record.msg, record.args = mask(record.getMessage()), ()
        except (TypeError, ValueError):  # a malformed format string: keep the template only
            record.msg, record.args = mask(str(record.msg)), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


def current_ids() -> dict[str, str]:
    """The request id (web) or job id (worker) of the code running now."""
    rid = _request_id.get()
    if rid:
        return {"request_id": rid}
    from rq import get_current_job

    job = get_current_job()
    return {"job_id": job.id} if job is not None else {}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request or job id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **current_ids(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            doc["exception"] = record.exc_text
        return json.dumps(doc, default=str)


def configure_logging(level: str = "INFO", json_logs: bool = True, stream: Any = None) -> logging.Handler:
    """Log through one masked handler (JSON lines or plain text) on the root logger; start Sentry if set."""
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskFilter())
    plain = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handler.setFormatter(JsonFormatter() if json_logs else plain)
    handler.set_name("relance")
    root = logging.getLogger()
    for old in list(root.handlers):  # ours from an earlier call, and basicConfig's plain stderr handler
        if old.get_name() == "relance" or type(old) is logging.StreamHandler:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    init_sentry()
    return handler


def scrub_event(event: Any, _hint: Any = None) -> Any:
    """Sentry's before_send: every string of the event goes through `mask`."""
    if isinstance(event, str):
        return mask(event)
    if isinstance(event, dict):
        return {k: scrub_event(v) for k, v in event.items()}
    if isinstance(event, list | tuple):
        return [scrub_event(v) for v in event]
    return event


def init_sentry(dsn: str | None = None) -> bool:
    """Report errors to Sentry when SENTRY_DSN is set and sentry-sdk is installed; never with PII."""
    dsn = dsn or _env("SENTRY_DSN")
    if not dsn:
        return False
    try:
        import sentry_sdk
    except ImportError:
        log.warning("SENTRY_DSN is set but sentry-sdk is not installed; errors are only logged")
        return False
    sentry_sdk.init(
        dsn=dsn,
        send_default_pii=False,
        before_send=scrub_event,
        environment=_env("SENTRY_ENVIRONMENT") or None,
        traces_sample_rate=0.0,
    )
    return True
