"""Operations: Prometheus metrics, request ids and security headers (logs: bridge.infra.logs; the scrape:
bridge.infra.scrape).

Web metrics (webhooks, ingest latency) live in prometheus_client; under gunicorn with several workers set
PROMETHEUS_MULTIPROC_DIR (deploy/gunicorn.conf.py cleans it). RQ forks a work horse per job, so per-process
files would pile up there: job and store-API counters go to a Redis hash instead, and the scrape reads them
with the queue depths and the database gauges.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import re
import secrets
import time
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask, Response, abort, current_app, g, request
from flask.logging import default_handler
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    Counter,
    Histogram,
    generate_latest,
)
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.job import Job
from rq.registry import StartedJobRegistry

from bridge.infra.context import Context
from bridge.infra.logs import mask, request_id_var
from bridge.infra.scrape import JOB_BUCKETS, JOBS_KEY, STORE_KEY, scrape_registry
from connectors.shopify import oauth

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
ADMIN_ORIGIN = "https://admin.shopify.com"  # the Shopify admin that frames the embedded app
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
PLATFORMS = {"shopify", "woocommerce", "wordpress"}
REASONS = {400: "bad_request", 401: "signature", 404: "unknown_shop", 413: "too_large", 503: "unavailable"}


def is_local(public_url: str) -> bool:
    """True when Relance serves this machine only (PUBLIC_URL on 127.0.0.1, localhost or ::1)."""
    return urlsplit(public_url).hostname in LOCAL_HOSTS


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
        def perform_job(self, job: Job, queue: Queue) -> bool:
            start, ok = time.perf_counter(), False
            try:
                ok = bool(super().perform_job(job, queue))
                return ok
            finally:
                record_job(self.connection, job.func_name or "unknown", time.perf_counter() - start, ok)

        def handle_job_failure(
            self,
            job: Job,
            queue: Queue,
            started_job_registry: StartedJobRegistry | None = None,
            exc_string: str = "",
        ) -> None:
            # RQ keeps the traceback with the failed job in Redis for days: no email or secret in it.
            super().handle_job_failure(
                job, queue, started_job_registry=started_job_registry, exc_string=mask(exc_string)
            )

        def handle_work_horse_killed(self, job: Job, *args: object) -> None:
            record_job(self.connection, job.func_name or "unknown", 0.0, False)
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


def register(app: Flask) -> None:
    """Add GET /metrics, request ids, webhook timing and security headers to the app."""
    if "metrics" in app.view_functions:
        return
    app.logger.removeHandler(default_handler)  # errors go through the root handler's masking
    relance: Context = app.extensions["relance"]
    registry = scrape_registry(relance)
    local = is_local(relance.settings.public_url)
    if not local and not relance.settings.metrics_token:
        log.warning("METRICS_TOKEN is not set: GET /metrics answers 404 (PUBLIC_URL is not a local address)")

    def metrics() -> Response:
        token = relance.settings.metrics_token
        if not token and not local:
            abort(404)  # in production the counters (shops, queues, errors) are for the scraper only
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
    request_id_var.set(given if _REQUEST_ID.fullmatch(given) else secrets.token_hex(16))
    g.relance_started = time.perf_counter()


def _end_request(_exc: BaseException | None) -> None:
    request_id_var.set(None)


def _finish_request(response: Response) -> Response:
    response.headers["X-Request-Id"] = request_id_var.get() or ""
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
    "base-uri 'self'"
)


def security_headers(response: Response) -> Response:
    """Headers for every response; a CSP already set (the admin page's) is left as it is.

    An admin address the admin blueprint did not answer (an unknown page) may be framed by the shop it
    names and Shopify's admin only, never by a wildcard (Shopify's security check rates one high).
    """
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if response.mimetype == "text/html" and "Content-Security-Policy" not in headers:
        frame = "frame-ancestors 'none';"
        if request.path.startswith("/admin"):
            frame = frame_ancestors_header(request.args.get("shop", ""))
        headers["Content-Security-Policy"] = f"{DEFAULT_CSP}; {frame}"
        if frame == "frame-ancestors 'none';":
            headers.setdefault("X-Frame-Options", "DENY")
    ctx = current_app.extensions.get("relance")
    if ctx is not None and ctx.settings.public_url.startswith("https://"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response


def frame_ancestors_header(shop_domain: str) -> str:
    """The CSP directive that lets this shop's admin (and only it) frame our pages."""
    shop = oauth.valid_shop_domain(shop_domain)
    if shop is None or shop != shop_domain:
        return "frame-ancestors 'none';"
    return f"frame-ancestors https://{shop} {ADMIN_ORIGIN};"
