"""GET /metrics, request ids, webhook counters, job and store counters, security headers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from prometheus_client import REGISTRY
from rq import SimpleWorker

from bridge.db import transaction
from bridge.db.models import Event, Lead, Offer
from bridge.infra import observability, queue
from bridge.outreach import sweep
from connectors.shopify.client import ShopifyClient
from tests.conftest import fixture
from tests.fakes.shopify_store import FakeShopify


@pytest.fixture
def app(ctx):
    from bridge.app import create_app

    ctx.settings = ctx.settings.with_overrides(public_url="http://127.0.0.1:5000")  # /metrics open locally
    application = create_app(ctx.settings, ctx=ctx)
    observability.register(application)  # idempotent: a no-op once create_app calls it
    return application


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text format."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        head, value = line.rsplit(" ", 1)
        found = dict(re.findall(r'(\w+)="([^"]*)"', head))
        if head.split("{")[0] == name and all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return None


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_metrics_count_webhooks_and_time_ingest(client, shopify_shop, post_shopify):
    before = {
        "ok": value("relance_webhooks_received_total", platform="shopify", topic="checkouts/create"),
        "dup": value("relance_webhooks_duplicate_total", platform="shopify", topic="checkouts/create"),
        "bad": value("relance_webhooks_rejected_total", platform="shopify", reason="signature"),
        "timed": value("relance_ingest_seconds_count", platform="shopify"),
    }
    raw = fixture("shopify", "checkouts__create.json")
    assert post_shopify("checkouts/create", raw, event_id="m-1").status_code == 200
    assert post_shopify("checkouts/create", raw, event_id="m-1").json["duplicate"] is True
    assert post_shopify("checkouts/create", raw, secret="forged").status_code == 401
    text = client.get("/metrics").get_data(as_text=True)
    labels = {"platform": "shopify", "topic": "checkouts/create"}
    assert sample(text, "relance_webhooks_received_total", **labels) == before["ok"] + 2
    assert sample(text, "relance_webhooks_duplicate_total", **labels) == before["dup"] + 1
    assert (
        sample(text, "relance_webhooks_rejected_total", platform="shopify", reason="signature")
        == before["bad"] + 1
    )
    assert sample(text, "relance_ingest_seconds_count", platform="shopify") == before["timed"] + 3
    assert sample(text, "relance_events_pending") == 1
    assert sample(text, "relance_queue_depth", queue="events") == 1
    assert sample(text, "relance_scrape_error", part="database") == 0


def test_state_gauges_offers_and_oldest_pending(ctx, clock, client, shopify_shop, post_shopify):
    post_shopify("customers/create", fixture("shopify", "customers__create.json"))
    clock.advance(minutes=5)
    with transaction(ctx.sessions) as s:
        lead = Lead(shop_id=shopify_shop["id"], email="x@example.com", created_at=ctx.now())
        s.add(lead)
        s.flush()
        for status in ("planned", "sent", "sent"):
            s.add(
                Offer(
                    shop_id=lead.shop_id,
                    lead_id=lead.id,
                    reason="hot_lead",
                    status=status,
                    created_at=ctx.now(),
                )
            )
    text = client.get("/metrics").get_data(as_text=True)
    assert sample(text, "relance_offers", status="sent") == 2
    assert sample(text, "relance_offers", status="planned") == 1
    assert sample(text, "relance_oldest_pending_event_seconds") == pytest.approx(300, abs=1)


def test_metrics_token_protects_the_endpoint(ctx, client):
    ctx.settings = ctx.settings.with_overrides(metrics_token="scrape-token-123")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-123"})
    assert ok.status_code == 200 and ok.mimetype == "text/plain"


@pytest.mark.parametrize("url", ["https://relance.example.com", "http://10.0.0.5:8000"])
def test_in_production_metrics_need_a_token(ctx, url):
    from bridge.app import create_app

    ctx.settings = ctx.settings.with_overrides(public_url=url, metrics_token="")
    client = create_app(ctx.settings, ctx=ctx).test_client()
    assert client.get("/metrics").status_code == 404  # not exposed at all without a token
    ctx.settings = ctx.settings.with_overrides(metrics_token="scrape-token-123")
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer scrape-token-123"}).status_code == 200


def test_scrape_survives_a_dead_redis(ctx, client):
    from redis import Redis

    ctx.redis = Redis(port=1, socket_connect_timeout=0.2)
    text = client.get("/metrics").get_data(as_text=True)
    assert sample(text, "relance_scrape_error", part="redis") == 1
    assert sample(text, "relance_scrape_error", part="database") == 0


def failing_job() -> None:
    raise RuntimeError("boom")


def failing_with_personal_data() -> None:
    raise ValueError("duplicate key (shop_id, email)=(1, ana.lopez@example.com); token=shpat_abcdef123456")


def test_a_failed_job_keeps_no_email_or_secret_in_redis(ctx):
    from rq.job import Job

    queue.enqueue(ctx.redis, failing_with_personal_data, job_id="fail-pii", retry=None)
    worker = observability.metered(SimpleWorker)([queue.get_queue(ctx.redis)], connection=ctx.redis)
    worker.work(burst=True, logging_level="CRITICAL")
    kept = Job.fetch("fail-pii", connection=ctx.redis).latest_result().exc_string
    assert "ValueError" in kept and "a***@example.com" in kept
    assert "ana.lopez@" not in kept and "abcdef123456" not in kept


def test_job_durations_and_failures_are_counted(ctx, client, shopify_shop, post_shopify):
    post_shopify("customers/create", fixture("shopify", "customers__create.json"))
    queue.enqueue(ctx.redis, failing_job, job_id="fail-1", retry=None)
    worker = observability.metered(SimpleWorker)([queue.get_queue(ctx.redis)], connection=ctx.redis)
    worker.work(burst=True, logging_level="CRITICAL")
    text = client.get("/metrics").get_data(as_text=True)
    assert sample(text, "relance_jobs_total", job="bridge.jobs.process_events", outcome="ok") == 1
    assert sample(text, "relance_job_failures_total", job=f"{__name__}.failing_job") == 1
    assert sample(text, "relance_job_duration_seconds_count", job="bridge.jobs.process_events") == 1
    assert (
        sample(text, "relance_job_duration_seconds_bucket", job="bridge.jobs.process_events", le="+Inf") == 1
    )


def test_store_calls_and_throttles_are_counted(ctx, client):
    with FakeShopify() as fake:
        session = observability.store_session(ctx.redis, "shopify")
        api = ShopifyClient(fake.shop, "shpat_x", api_origin=fake.url, session=session, sleep=lambda _s: None)
        fake.throttle_next(2)
        assert api.find_discount("NOPE") is None
    text = client.get("/metrics").get_data(as_text=True)
    assert sample(text, "relance_store_api_calls_total", platform="shopify", outcome="throttled") == 2
    assert sample(text, "relance_store_api_calls_total", platform="shopify", outcome="ok") == 1
    assert sample(text, "relance_store_api_throttles_total", platform="shopify") == 2


def test_request_id_is_echoed_or_generated(client):
    given = client.get("/healthz", headers={"X-Request-Id": "abc-123-def"})
    assert given.headers["X-Request-Id"] == "abc-123-def"
    made = client.get("/healthz", headers={"X-Request-Id": "<script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-Id"])


def test_security_headers(ctx, app, client):
    @app.get("/page")
    def page():
        return "<p>hi</p>"

    @app.get("/admin/own-csp")
    def own_csp():
        return "<p>admin</p>", 200, {"Content-Security-Policy": "frame-ancestors https://x.myshopify.com"}

    health = client.get("/healthz")
    assert health.headers["X-Content-Type-Options"] == "nosniff"
    assert health.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Content-Security-Policy" not in health.headers  # JSON needs none
    assert "Strict-Transport-Security" not in health.headers  # PUBLIC_URL is http here
    html = client.get("/page")
    assert "frame-ancestors 'none'" in html.headers["Content-Security-Policy"]
    assert html.headers["X-Frame-Options"] == "DENY"
    admin = client.get("/admin/own-csp")
    assert admin.headers["Content-Security-Policy"] == "frame-ancestors https://x.myshopify.com"
    assert "X-Frame-Options" not in admin.headers
    ctx.settings = ctx.settings.with_overrides(public_url="https://relance.example.com")
    assert client.get("/healthz").headers["Strict-Transport-Security"].startswith("max-age=")


def test_sweep_gauge_reads_after_abandonment(ctx, clock, client, shopify_shop, post_shopify, run_jobs):
    """The gauges follow real processing: an event processed leaves no pending age behind."""
    post_shopify("checkouts/create", fixture("shopify", "checkouts__create.json"))
    run_jobs()
    clock.advance(minutes=61)
    sweep.sweep(ctx)
    with ctx.sessions() as s:
        assert {e.status for e in s.query(Event)} == {"processed"}
    text = client.get("/metrics").get_data(as_text=True)
    assert sample(text, "relance_events_pending") == 0
    assert sample(text, "relance_oldest_pending_event_seconds") == 0
    assert timedelta(0) == timedelta(seconds=sample(text, "relance_oldest_pending_event_seconds"))
