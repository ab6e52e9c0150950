"""Alert deliveries: retried with backoff while the endpoint fails, refused outside the public internet,
signed with a secret kept encrypted and shown once, Slack's format, and nothing at all without a
subscription. The endpoint is faked at the HTTP boundary (`responses`) unless it must be a real socket."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import responses
import sqlalchemy as sa
from cryptography.fernet import Fernet
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from bridge.db import transaction
from bridge.db.models import AlertDelivery, AlertSecret, Ruleset
from bridge.infra import jobnames, queue
from bridge.infra.netguard import Guard
from bridge.leads import alerts
from bridge.outreach import alerts as sending
from campaigns.alerts import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from tests.conftest import KEY
from tests.integration.alerts.helpers import api_get, api_post, make_hot, put_alerts, warm_lead

HOOK = "https://hooks.example.com/relance"
SLACK = "https://hooks.slack.example.com/services/T000/B000/XXXX"
PUBLIC = "93.184.216.34"


@pytest.fixture
def public(ctx):
    """Every host name resolves to a public address (no DNS in tests)."""
    ctx.guard = Guard(resolve=lambda host, port: [PUBLIC])
    return ctx


def subscribe(client, shop, *subscriptions, **settings):
    response = put_alerts(client, shop["api_key"], {**settings, "subscriptions": list(subscriptions)})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def rows(ctx):
    with ctx.sessions() as session:
        return session.scalars(sa.select(AlertDelivery).order_by(AlertDelivery.id)).all()


def release_retry(ctx, delivery_id):
    """Make the job's scheduled retry due now (the test does not wait out the backoff); its delay in s."""
    job = Job.fetch(jobnames.alert_id(delivery_id), connection=ctx.redis)
    registry = ScheduledJobRegistry(queue=queue.get_queue(ctx.redis, queue.CAMPAIGNS))
    assert job.id in registry.get_job_ids()
    delay = (registry.get_scheduled_time(job) - datetime.now(UTC)).total_seconds()
    registry.schedule(job, datetime.now(UTC))
    return delay


@responses.activate
def test_a_failing_endpoint_is_retried_with_backoff_then_delivered(public, client, shopify_shop, run_jobs):
    ctx, shop = public, shopify_shop
    subscribe(client, shop, {"key": "crm", "url": HOOK, "events": ["cart.abandoned"]})
    run_jobs()  # the new version's rescore
    responses.post(HOOK, status=500)
    responses.post(HOOK, status=503)
    responses.post(HOOK, status=204)

    assert alerts.emit(ctx, shop["id"], "cart.abandoned", {"cart_id": 7, "subtotal": "20.00"}, key="7") == 1
    run_jobs()
    [row] = rows(ctx)
    assert (row.status, row.attempts, row.response_code, row.error) == ("pending", 1, 500, "HTTP 500")
    assert 5 < release_retry(ctx, row.id) <= 10  # the first backoff: 10 s
    run_jobs()
    [row] = rows(ctx)
    assert (row.status, row.attempts, row.response_code) == ("pending", 2, 503)
    assert 50 < release_retry(ctx, row.id) <= 60  # then 60 s
    run_jobs()
    [row] = rows(ctx)
    assert (row.status, row.attempts, row.response_code, row.error) == ("sent", 3, 204, None)
    assert row.duration_ms is not None and row.duration_ms >= 0
    bodies = {call.request.body for call in responses.calls}
    assert len(bodies) == 1  # the same event each time: receivers de-duplicate on its id
    assert json.loads(bodies.pop())["id"] == row.event_id


@responses.activate
def test_the_last_failure_leaves_a_failed_delivery_in_the_log(public, client, shopify_shop, run_jobs):
    ctx, shop = public, shopify_shop
    subscribe(client, shop, {"key": "crm", "url": HOOK, "events": ["offer.sent"]})
    run_jobs()
    responses.post(HOOK, status=500)
    alerts.emit(ctx, shop["id"], "offer.sent", {"offer_id": 3}, key="3")
    run_jobs()
    for _ in range(alerts.ALERT_RETRY.max):
        release_retry(ctx, rows(ctx)[0].id)
        run_jobs()
    [row] = rows(ctx)
    assert (row.status, row.attempts, row.error) == ("failed", 1 + alerts.ALERT_RETRY.max, "HTTP 500")
    log = api_get(client, shop["api_key"], "/api/v1/alerts/deliveries").get_json()["deliveries"]
    assert log[0]["status"] == "failed" and log[0]["attempts"] == 6 and log[0]["response_code"] == 500
    assert "hooks.example.com" not in json.dumps(log)  # the URL may carry a token: never in the log


def test_an_address_outside_the_public_internet_is_refused_when_saved(ctx, client, shopify_shop):
    ctx.guard = Guard(resolve=lambda host, port: ["10.0.0.8"])
    response = put_alerts(
        client,
        shopify_shop["api_key"],
        {"subscriptions": [{"key": "crm", "url": "https://crm.example.com/in", "events": ["lead.hot"]}]},
    )
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert list(errors) == ["alerts.subscriptions.0.url"]
    assert "private network" in errors["alerts.subscriptions.0.url"][0]
    with ctx.sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Ruleset)) == 0


def test_an_address_that_turns_private_is_refused_when_sent_and_not_retried(
    public, client, shopify_shop, run_jobs
):
    ctx, shop = public, shopify_shop
    subscribe(client, shop, {"key": "crm", "url": "https://crm.example.com/in", "events": ["lead.hot"]})
    run_jobs()
    ctx.guard = Guard(resolve=lambda host, port: ["127.0.0.1"])  # DNS rebinding after the check
    alerts.emit(ctx, shop["id"], "lead.hot", {"test": True}, key="x")
    run_jobs()
    [row] = rows(ctx)
    assert (row.status, row.attempts, row.response_code) == ("failed", 1, None)
    assert row.error == "refused: not a public internet address"
    assert not ScheduledJobRegistry(queue=queue.get_queue(ctx.redis, queue.CAMPAIGNS)).get_job_ids()


@responses.activate
def test_the_secret_is_encrypted_at_rest_shown_once_and_rotates(public, client, shopify_shop, run_jobs):
    ctx, shop = public, shopify_shop
    answer = subscribe(client, shop, {"key": "crm", "url": HOOK, "events": ["lead.hot"]})
    secret = answer["secrets"]["crm"]
    assert secret.startswith("whsec_") and len(secret) > 40
    assert answer["alerts"]["subscriptions"][0]["secret"] == "set"
    with ctx.sessions() as session:
        stored = session.scalar(sa.select(AlertSecret.secret_enc))
        documents = json.dumps(session.scalars(sa.select(Ruleset.document)).all())
    assert secret not in stored and Fernet(KEY.encode()).decrypt(stored.encode()).decode() == secret
    assert secret not in documents
    shown = api_get(client, shop["api_key"], "/api/v1/alerts").get_json()
    assert secret not in json.dumps(shown) and shown["subscriptions"][0]["secret"] == "set"
    again = put_alerts(client, shop["api_key"], {**shown, "sales_email": "s@shop.example"}).get_json()
    assert again["secrets"] == {}  # an unchanged subscription keeps its secret, unseen

    rotated = api_post(client, shop["api_key"], "/api/v1/alerts/subscriptions/crm/secret").get_json()[
        "secret"
    ]
    assert rotated != secret
    assert api_post(client, shop["api_key"], "/api/v1/alerts/subscriptions/nope/secret").status_code == 404
    responses.post(HOOK, status=200)
    run_jobs()
    alerts.emit(ctx, shop["id"], "lead.hot", {"test": True}, key="x")
    run_jobs()
    request = responses.calls[0].request
    expected = sign(rotated, int(request.headers[TIMESTAMP_HEADER]), request.body)
    assert request.headers[SIGNATURE_HEADER] == expected


@responses.activate
def test_a_slack_subscription_gets_slacks_incoming_webhook_format(public, client, shopify_shop, run_jobs):
    ctx, shop = public, shopify_shop
    subscribe(client, shop, {"key": "team", "url": SLACK, "events": ["lead.hot"], "format": "slack"})
    run_jobs()
    responses.post(SLACK, status=200)
    lead_id = warm_lead(ctx, shop["id"])
    make_hot(ctx, shop["id"], lead_id)
    run_jobs()
    [call] = responses.calls
    body = json.loads(call.request.body)
    assert list(body) == ["text"]
    assert body["text"] == ":fire: Hot lead ana@example.com (score 95) — demo.myshopify.com"


@responses.activate
def test_a_test_event_goes_to_one_subscription_marked_as_a_test(public, client, shopify_shop, run_jobs):
    ctx, shop = public, shopify_shop
    subscribe(
        client,
        shop,
        {"key": "crm", "url": HOOK, "events": ["cart.abandoned"]},
        {"key": "off", "url": HOOK + "/2", "events": ["lead.hot"], "enabled": False},
    )
    run_jobs()
    responses.post(HOOK, status=200)
    responses.post(HOOK + "/2", status=200)
    assert api_post(client, shop["api_key"], "/api/v1/alerts/subscriptions/off/test").status_code == 202
    assert api_post(client, shop["api_key"], "/api/v1/alerts/subscriptions/zzz/test").status_code == 404
    run_jobs()
    [call] = responses.calls
    assert call.request.url == HOOK + "/2"  # a disabled subscription can still be tested
    payload = json.loads(call.request.body)
    assert payload["type"] == "lead.hot" and payload["data"]["test"] is True
    assert rows(ctx)[0].test is True


def test_nothing_is_recorded_or_queued_without_a_subscription(ctx, shopify_shop):
    assert alerts.emit(ctx, shopify_shop["id"], "cart.abandoned", {"cart_id": 1}, key="1") == 0
    assert rows(ctx) == []
    assert queue.get_queue(ctx.redis, queue.CAMPAIGNS).count == 0


def test_an_event_emitted_twice_is_recorded_once(public, client, shopify_shop):
    ctx, shop = public, shopify_shop
    subscribe(client, shop, {"key": "crm", "url": HOOK, "events": ["cart.abandoned"]})
    assert alerts.emit(ctx, shop["id"], "cart.abandoned", {"cart_id": 1}, key="1:t") == 1
    assert alerts.emit(ctx, shop["id"], "cart.abandoned", {"cart_id": 1}, key="1:t") == 0
    assert len(rows(ctx)) == 1


def test_an_erased_lead_is_not_sent(public, client, shopify_shop, run_jobs):
    ctx, shop = public, shopify_shop
    subscribe(client, shop, {"key": "crm", "url": HOOK, "events": ["lead.hot"]})
    run_jobs()
    lead_id = warm_lead(ctx, shop["id"])
    alerts.emit(ctx, shop["id"], "lead.hot", {"lead_id": lead_id}, key="1")
    with transaction(ctx.sessions) as session:
        from bridge.db.models import Lead

        lead = session.get(Lead, lead_id)
        lead.redacted_at, lead.email = ctx.now(), None
    run_jobs()  # no HTTP mock: any request would fail the test with a connection error in the log
    [row] = rows(ctx)
    assert (row.status, row.error, row.attempts) == ("failed", "lead erased", 1)


@responses.activate
def test_a_lost_job_is_queued_again_by_the_relay(public, clock, client, shopify_shop, run_jobs):
    ctx, shop = public, shopify_shop
    subscribe(client, shop, {"key": "crm", "url": HOOK, "events": ["cart.abandoned"]})
    run_jobs()
    responses.post(HOOK, status=200)
    alerts.emit(ctx, shop["id"], "cart.abandoned", {"cart_id": 1}, key="1")
    ctx.redis.flushdb()  # Redis lost the job (a restart without persistence)
    assert sending.requeue_lost(ctx) == 0  # too recent: its job may still be on its way
    clock.advance(minutes=3)
    assert sending.requeue_lost(ctx) == 1
    assert sending.requeue_lost(ctx) == 0  # queued already
    run_jobs()
    [row] = rows(ctx)
    assert (row.status, row.attempts) == ("sent", 1) and len(responses.calls) == 1


def test_the_log_keeps_ninety_days(public, clock, client, shopify_shop):
    ctx, shop = public, shopify_shop
    subscribe(client, shop, {"key": "crm", "url": HOOK, "events": ["cart.abandoned"]})
    alerts.emit(ctx, shop["id"], "cart.abandoned", {"cart_id": 1}, key="old")
    with transaction(ctx.sessions) as session:
        session.execute(sa.update(AlertDelivery).values(status="sent"))
    clock.advance(days=89)
    alerts.emit(ctx, shop["id"], "cart.abandoned", {"cart_id": 2}, key="new")
    assert sending.prune_log(ctx) == 0
    clock.advance(days=2)
    assert sending.prune_log(ctx) == 1
    assert [r.refs["cart_id"] for r in rows(ctx)] == [2]  # the newer one, still pending, stays
