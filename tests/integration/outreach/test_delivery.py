"""Delivery of an offer and the life of its code: one email per offer whatever fails, the outbound webhook
as a retried job of its own with a stable secret, lost deliveries found again, expired codes never mailed,
and every dead code removed from the store until the store confirms it.

Real SMTP servers (aiosmtpd), real Redis and RQ, the demo store or a fake WooCommerce over HTTP; the
merchant's webhook endpoint is faked at the HTTP boundary with `responses`.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from datetime import timedelta

import pytest
import responses
import sqlalchemy as sa
from click.testing import CliRunner
from itsdangerous import URLSafeSerializer
from marshmallow import ValidationError

import campaigns
from bridge import jobs, schedule, wiring
from bridge.db import transaction
from bridge.db.models import Activity, AuditLog, Cart, Lead, Offer, Ruleset, Shop
from bridge.infra import queue
from bridge.infra.netguard import Guard
from bridge.leads.rules import campaign_settings_for, journeys_for
from bridge.outreach import code_cleanup, codes, delivery, outbound, tracking
from bridge.shops.registry import create_shop
from tests.fakes.http_recorder import HTTPRecorder
from tests.fakes.smtp import SMTPServer
from tests.fakes.woocommerce_store import FakeWooStore
from tests.integration.connectors.woocommerce.conftest import CK, CS

HOOK = "https://hooks.example.com/relance"


class ScriptedSMTP(SMTPServer):
    """A real SMTP server whose answers to DATA follow a script: "250 OK", "451 ...", "550 ...", or "drop"
    (the message arrives, then the connection closes before any answer). Accepted and dropped messages are
    kept: both reached the server."""

    def __init__(self, *answers: str) -> None:
        super().__init__()
        self.answers = list(answers)
        self.keeper.handle_DATA = self._data  # type: ignore[method-assign]

    async def _data(self, server, session, envelope) -> str:
        import email
        import email.policy

        answer = self.answers.pop(0) if self.answers else "250 OK"
        if answer.startswith("250") or answer == "drop":
            self.keeper.messages.append(
                email.message_from_bytes(envelope.content, policy=email.policy.default)
            )
        if answer == "drop":
            server.transport.close()
        return answer


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def shop(ctx, shopify_shop, smtp) -> int:
    """A shop on the demo store (codes in Redis) that mails through `smtp` at once."""
    ctx.settings = ctx.settings.with_overrides(smtp_url=smtp.url, mail_from="Demo <offers@shop.example>")
    with transaction(ctx.sessions) as session:
        session.get(Shop, shopify_shop["id"]).state = {"demo": True}
    use_campaign(ctx, shopify_shop["id"])
    return shopify_shop["id"]


def use_campaign(ctx, shop_id: int, **changes) -> None:
    """A new rules version whose campaign sends at once, holds nobody out, with `changes`."""
    with transaction(ctx.sessions) as session:
        version = (
            session.scalar(sa.select(sa.func.max(Ruleset.version)).where(Ruleset.shop_id == shop_id)) or 0
        )
        campaign = {**campaigns.DEFAULT_CAMPAIGN, "quiet_hours": None, "holdout_share": 0, **changes}
        session.add(
            Ruleset(
                shop_id=shop_id,
                version=version + 1,
                document={"campaign": campaign},
                created_at=ctx.now(),
                created_by="t",
            )
        )


def planned_offer(ctx, shop_id: int, email: str = "ana@example.com", first_name: str = "Ana") -> int:
    """A lead, its abandoned cart and a planned offer, as the campaign's decision leaves them."""
    now = ctx.now()
    with transaction(ctx.sessions) as session:
        lead = Lead(  # consent given, as the policy requires (the final check looks again)
            shop_id=shop_id,
            email=email,
            first_name=first_name,
            created_at=now,
            source={},
            breakdown={},
            accepts_marketing=True,
        )
        session.add(lead)
        session.flush()
        cart = Cart(
            shop_id=shop_id,
            lead_id=lead.id,
            checkout_token=f"chk-{lead.id}",
            email=email,
            currency="EUR",
            created_at=now - timedelta(hours=2),
            last_activity_at=now - timedelta(hours=2),
            status="abandoned",
            abandoned_at=now,
            items={"lines": [{"title": "Mug", "quantity": 1, "price": "12.00"}]},
        )
        session.add(cart)
        session.flush()
        offer = Offer(
            shop_id=shop_id,
            lead_id=lead.id,
            cart_id=cart.id,
            reason="abandoned_cart",
            code=campaigns.generate_code("TEST"),
            kind="percentage",
            value=10,
            currency="EUR",
            starts_at=now,
            expires_at=now + timedelta(hours=24),
            send_at=now,
            created_at=now,
            recipient=email,
        )
        session.add(offer)
        session.flush()
        return offer.id


def created_offer(ctx, shop_id: int, **kwargs) -> int:
    """A planned offer whose code the store now has; its delivery job waits in the queue."""
    offer_id = planned_offer(ctx, shop_id, **kwargs)
    assert codes.create_on_store(ctx, offer_id) == "created"
    return offer_id


def get(ctx, offer_id: int) -> Offer:
    with ctx.sessions() as session:
        return session.get(Offer, offer_id)


def demo_codes(ctx, shop_id: int) -> set[str]:
    return {k.decode() for k in ctx.redis.hkeys(f"relance:demo:{shop_id}:codes")}


def audit(ctx, action: str) -> list[dict]:
    with ctx.sessions() as session:
        return [a.detail for a in session.scalars(sa.select(AuditLog).where(AuditLog.action == action))]


def lose_queued_jobs(ctx) -> None:
    """The queued jobs vanish (a crash before the enqueue, Redis flushed)."""
    queue.get_queue(ctx.redis, queue.CAMPAIGNS).empty()


def verifies(request, secret: str) -> bool:
    """The check a merchant's endpoint makes (README): HMAC of "<timestamp>." + raw body."""
    timestamp = request.headers["X-Relance-Timestamp"]
    body = request.body if isinstance(request.body, bytes) else request.body.encode()
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(request.headers["X-Relance-Signature"], f"sha256={expected}")


# 1. One email per offer, whatever fails after it left.


def test_a_failing_webhook_never_mails_the_customer_twice(ctx, shop, smtp, run_jobs):
    use_campaign(ctx, shop, webhook_url=HOOK)
    offer_id = created_offer(ctx, shop)
    with responses.RequestsMock() as hook:
        hook.add(responses.POST, HOOK, status=500)
        run_jobs()  # the delivery, then the webhook job, which fails (RQ schedules its retry)
        assert jobs.deliver_offer(offer_id) == "not_ready"  # what a retried delivery job finds
        assert len(hook.calls) == 1
    assert len(smtp.messages) == 1
    offer = get(ctx, offer_id)
    assert (offer.status, offer.error) == ("sent", None) and offer.sent_at == ctx.now()
    assert audit(ctx, "offer.webhook_failed") == [{"offer_id": offer_id, "error": "HTTP 500", "final": False}]


@pytest.mark.parametrize("rebinds", [False, True])
def test_the_webhook_is_never_posted_to_a_private_address(ctx, shop, rebinds):
    with HTTPRecorder() as server:
        url = f"http://localhost:{server.port}/relance"
        if rebinds:  # a public-looking name that resolves to this machine when the job connects
            url = f"https://hooks.example.com:{server.port}/relance"
            ctx.guard = Guard(resolve=lambda host, port: ["127.0.0.1"])
        use_campaign(ctx, shop, webhook_url=url)
        offer_id = created_offer(ctx, shop)
        with pytest.raises(outbound.WebhookFailed):
            jobs.post_offer(offer_id)
        assert server.requests == []
    assert audit(ctx, "offer.webhook_failed") == [
        {"offer_id": offer_id, "error": outbound.REFUSED, "final": True}
    ]


def test_a_connection_lost_after_the_message_was_handed_over_is_not_mailed_again(ctx, shop):
    with ScriptedSMTP("drop") as server:
        ctx.settings = ctx.settings.with_overrides(smtp_url=server.url)
        offer_id = created_offer(ctx, shop)
        assert jobs.deliver_offer(offer_id) == "unknown"
        assert jobs.deliver_offer(offer_id) == "not_ready"  # RQ's retry, or another worker
        assert len(server.messages) == 1
    offer = get(ctx, offer_id)
    assert offer.status == "sent" and offer.error.startswith("email outcome unknown, not sent again")


def test_a_temporary_refusal_is_retried_and_the_webhook_posted_once(ctx, shop, run_jobs):
    use_campaign(ctx, shop, webhook_url=HOOK)
    with ScriptedSMTP("451 4.3.0 Try again later") as server, responses.RequestsMock() as hook:
        ctx.settings = ctx.settings.with_overrides(smtp_url=server.url)
        hook.add(responses.POST, HOOK, status=204)
        offer_id = created_offer(ctx, shop)
        run_jobs()  # the delivery is refused (RQ will retry it); the webhook job posts
        offer = get(ctx, offer_id)
        assert (offer.status, offer.sent_at) == ("created", None)
        assert offer.error.startswith(delivery.EMAIL_RETRY) and "451" in offer.error
        assert jobs.deliver_offer(offer_id) == "sent"  # the retry
        run_jobs()
        assert len(server.messages) == 1 and len(hook.calls) == 1  # the retry queued no second webhook
    assert (get(ctx, offer_id).status, get(ctx, offer_id).error) == ("sent", None)
    assert audit(ctx, "offer.webhook_sent") == [{"offer_id": offer_id}]


def test_a_permanent_refusal_fails_the_offer_and_the_code_is_removed(ctx, shop):
    with ScriptedSMTP("550 5.1.1 No such mailbox") as server:
        ctx.settings = ctx.settings.with_overrides(smtp_url=server.url)
        offer_id = created_offer(ctx, shop)
        assert jobs.deliver_offer(offer_id) == "failed"
    offer = get(ctx, offer_id)
    assert offer.error.startswith("email refused: message refused: 550")
    assert demo_codes(ctx, shop) == set() and offer.code_removed_at == ctx.now()


# 13. The message itself.


def test_a_recipient_that_is_two_addresses_fails_the_offer_and_nobody_is_mailed(ctx, shop, smtp):
    offer_id = created_offer(ctx, shop)
    with transaction(ctx.sessions) as session:
        session.get(Offer, offer_id).recipient = "ana@example.com, eve@example.net"
    assert jobs.deliver_offer(offer_id) == "failed"
    assert smtp.messages == []
    offer = get(ctx, offer_id)
    assert offer.status == "failed" and offer.error == "recipient is not exactly one email address"


def test_an_email_has_a_date_and_a_message_id_of_the_senders_domain(ctx, shop, smtp):
    assert jobs.deliver_offer(created_offer(ctx, shop)) == "sent"
    [message] = smtp.messages
    assert message["Date"] and message["Message-ID"].endswith("@shop.example>")
    assert message["To"] == "ana@example.com"


def test_customer_text_is_never_a_link_in_the_html(ctx, shop, smtp):
    offer_id = created_offer(ctx, shop, first_name="https://evil.example/win")
    assert jobs.deliver_offer(offer_id) == "sent"
    html = smtp.messages[0].get_body(("html",)).get_content()
    assert "https://evil.example/win" in html and 'href="https://evil.example' not in html
    assert 'href="http://relance.test/t/c/' in html and 'href="http://relance.test/u/' in html


# 2. The outbound webhook's secret.


def read_secret(client, api_key: str, rotate: bool = False) -> str:
    """The secret as the merchant reads it (or rotates it) over the API."""
    headers = {"Authorization": f"Bearer {api_key}"}
    if rotate:
        response = client.post("/api/v1/outbound-webhook/secret/rotate", headers=headers)
    else:
        response = client.get("/api/v1/outbound-webhook/secret", headers=headers)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    return response.json["secret"]


def test_the_webhook_secret_is_stable_across_retries_and_readable_by_the_merchant(
    ctx, shop, shopify_shop, client, run_jobs
):
    use_campaign(ctx, shop, webhook_url=HOOK)
    offer_id = created_offer(ctx, shop)
    with responses.RequestsMock() as hook:
        hook.add(responses.POST, HOOK, status=503)
        hook.add(responses.POST, HOOK, status=200)
        run_jobs()  # the first attempt fails
        assert jobs.post_offer(offer_id) == "sent"  # RQ's retry
        posted = [call.request for call in hook.calls]
    secret = read_secret(client, shopify_shop["api_key"])
    assert len(posted) == 2 and all(verifies(r, secret) for r in posted)
    assert b'"offer_id": %d' % offer_id in posted[0].body and b'"type": "offer.ready"' in posted[0].body
    with ctx.sessions() as session:
        stored = session.get(Shop, shop).state[outbound.SETTINGS_KEY]
    assert secret not in stored and ctx.vault.decrypt(stored) == secret  # encrypted at rest
    assert [a["final"] for a in audit(ctx, "offer.webhook_failed")] == [False]
    assert audit(ctx, "offer.webhook_sent") == [{"offer_id": offer_id}]


def test_only_the_shops_api_key_reads_or_rotates_the_secret(ctx, shop, shopify_shop, client):
    path = "/api/v1/outbound-webhook/secret"
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.post(f"{path}/rotate").status_code == 401
    first = read_secret(client, shopify_shop["api_key"])
    assert read_secret(client, shopify_shop["api_key"]) == first
    rotated = read_secret(client, shopify_shop["api_key"], rotate=True)
    assert rotated != first and read_secret(client, shopify_shop["api_key"]) == rotated
    assert outbound.ensure_secret(ctx, shop) == rotated
    assert audit(ctx, "outbound_secret.rotated") == [{}]


def test_a_webhook_whose_retries_are_used_up_is_recorded_as_final(ctx, shop):
    use_campaign(ctx, shop, webhook_url=HOOK)
    offer_id = created_offer(ctx, shop)
    with responses.RequestsMock() as hook:
        hook.add(responses.POST, HOOK, status=410)
        with pytest.raises(outbound.WebhookFailed):
            jobs.post_offer(offer_id)  # outside RQ: no retry left
    assert audit(ctx, "offer.webhook_failed") == [{"offer_id": offer_id, "error": "HTTP 410", "final": True}]


def test_relance_shops_webhook_secret_prints_and_rotates_it(ctx, shop, shopify_shop, monkeypatch):
    from bridge.cli import main

    for name, value in (
        ("DATABASE_URL", ctx.settings.database_url),
        ("ENCRYPTION_KEYS", ",".join(ctx.settings.encryption_keys)),
        ("INSTANCE_PATH", ctx.settings.instance_path),
    ):
        monkeypatch.setenv(name, value)
    for name in ("REDIS_URL", "RELANCE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    try:
        shown = CliRunner().invoke(main, ["shops", "webhook-secret", "--shop", shopify_shop["shop_key"]])
        again = CliRunner().invoke(main, ["shops", "webhook-secret", "--shop-key", shopify_shop["shop_key"]])
        rotated = CliRunner().invoke(
            main, ["shops", "webhook-secret", "--shop", shopify_shop["shop_key"], "--rotate"]
        )
        unknown = CliRunner().invoke(main, ["shops", "webhook-secret", "--shop", "nope"])
    finally:
        wiring.install(ctx)  # the command made its own context the process's
    assert shown.exit_code == 0, shown.output
    assert shown.output == again.output and len(shown.output.strip()) == 64
    assert rotated.exit_code == 0 and rotated.output != shown.output
    assert outbound.ensure_secret(ctx, shop) == rotated.output.strip()
    assert unknown.exit_code != 0 and "unknown shop key" in unknown.output


# 3. A delivery lost between the code's commit and its job.


def test_a_lost_delivery_job_is_queued_again_once_its_send_time_is_well_past(
    ctx, clock, shop, smtp, run_jobs
):
    offer_id = created_offer(ctx, shop)
    clock.advance(minutes=6)
    assert delivery.redeliver_lost(ctx) == 0  # its job is still queued
    lose_queued_jobs(ctx)
    assert delivery.redeliver_lost(ctx) == 1
    assert delivery.redeliver_lost(ctx) == 0  # queued again: live
    run_jobs()
    assert get(ctx, offer_id).status == "sent" and len(smtp.messages) == 1
    assert delivery.redeliver_lost(ctx) == 0


def test_a_fresh_delivery_is_left_to_its_job_and_redis_down_is_no_exception(ctx, clock, shop):
    from redis import Redis

    offer_id = created_offer(ctx, shop)
    lose_queued_jobs(ctx)
    clock.advance(minutes=4)
    assert delivery.redeliver_lost(ctx) == 0  # the job may still be on its way
    live, ctx.redis = ctx.redis, Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    try:
        assert delivery.schedule_delivery(ctx, offer_id, None) is False
        assert delivery.schedule_delivery(ctx, offer_id, ctx.now() + timedelta(hours=1)) is False
        clock.advance(minutes=2)
        assert delivery.redeliver_lost(ctx) == 0
    finally:
        ctx.redis = live
    assert delivery.redeliver_lost(ctx) == 1


def test_the_redelivery_runs_as_a_periodic_job():
    periodic = {p.func: p for p in schedule.periodic_jobs()}
    assert periodic[jobs.redeliver_lost].queue == queue.CAMPAIGNS


# 4. Expired codes are never mailed.


def test_an_expired_code_is_not_mailed_but_expired_and_removed(ctx, clock, shop, smtp):
    offer_id = created_offer(ctx, shop)
    clock.advance(hours=24)
    assert jobs.deliver_offer(offer_id) == "expired"
    assert smtp.messages == [] and demo_codes(ctx, shop) == set()
    offer = get(ctx, offer_id)
    assert offer.status == "expired" and offer.code_removed_at == clock.now


# 6. Every dead code leaves the store, retried until the store confirms it.


def test_unsubscribing_cancels_unsent_offers_and_the_clean_up_removes_their_codes(ctx, shop, client, smtp):
    offer_id = created_offer(ctx, shop)
    with ctx.sessions() as session:
        link = tracking.unsubscribe_url(ctx, session.get(Offer, offer_id)).removeprefix("http://relance.test")
    assert client.post(link).status_code == 200
    offer = get(ctx, offer_id)
    assert (offer.status, offer.decision, offer.code_removed_at) == ("cancelled", "unsubscribed", None)
    assert jobs.deliver_offer(offer_id) == "not_ready" and smtp.messages == []
    assert code_cleanup.remove_expired(ctx) == 1
    assert demo_codes(ctx, shop) == set() and get(ctx, offer_id).code_removed_at == ctx.now()
    assert code_cleanup.remove_expired(ctx) == 0


class CancellingWooStore(FakeWooStore):
    """A store during whose coupon creation the offer is cancelled (the customer unsubscribes)."""

    on_create = staticmethod(lambda: None)

    def _coupons(self, request, body):
        if request.method == "POST":
            self.on_create()
        return super()._coupons(request, body)


@pytest.fixture
def woo(ctx, smtp):
    """A WooCommerce shop on a fake store over HTTP (on 127.0.0.1: ALLOW_PRIVATE_NETWORK_URLS); campaign mails
    through `smtp`."""
    ctx.settings = ctx.settings.with_overrides(smtp_url=smtp.url, allow_private_network_urls=True)
    with CancellingWooStore(consumer_key=CK, consumer_secret=CS) as store:
        with transaction(ctx.sessions) as session:
            shop_id = create_shop(
                session,
                ctx.vault,
                platform="woocommerce",
                domain=store.url,
                now=ctx.now(),
                webhook_secret="wc_secret_" + "x" * 20,
                consumer_key=CK,
                consumer_secret=CS,
            ).shop.id
        use_campaign(ctx, shop_id)
        yield store, shop_id


def test_a_failed_removal_is_retried_until_the_store_confirms(ctx, clock, woo):
    store, shop_id = woo
    offer_id = created_offer(ctx, shop_id)
    assert len(store.coupons) == 1
    clock.advance(hours=25)
    store.fail_next(1, status=403)
    assert code_cleanup.remove_expired(ctx) == 0  # marked expired, but the store refused the removal
    offer = get(ctx, offer_id)
    assert (offer.status, offer.code_removed_at, offer.attempts) == ("expired", None, 1)
    assert offer.error.startswith("code removal failed") and len(store.coupons) == 1
    assert code_cleanup.remove_expired(ctx) == 1
    assert store.coupons == {} and get(ctx, offer_id).code_removed_at == clock.now


def test_a_code_already_gone_from_the_store_counts_as_removed(ctx, woo):
    store, shop_id = woo
    offer_id = created_offer(ctx, shop_id)
    with transaction(ctx.sessions) as session:
        session.get(Offer, offer_id).status = "cancelled"
    store.coupons.clear()  # the merchant deleted it by hand
    assert code_cleanup.remove_expired(ctx) == 1 and get(ctx, offer_id).code_removed_at is not None


def test_a_code_created_while_its_offer_was_cancelled_is_removed(ctx, woo):
    store, shop_id = woo
    offer_id = planned_offer(ctx, shop_id)

    def unsubscribe() -> None:
        with transaction(ctx.sessions) as session:
            offer = session.get(Offer, offer_id)
            tracking.opt_out(session, shop_id, offer.recipient, offer.lead_id, ctx.now())

    store.on_create = unsubscribe
    assert codes.create_on_store(ctx, offer_id) == "not_planned"
    offer = get(ctx, offer_id)
    assert offer.status == "cancelled" and offer.platform_discount_id == str(next(iter(store.coupons)))
    assert queue.get_queue(ctx.redis, queue.CAMPAIGNS).count == 0  # nothing to deliver
    assert code_cleanup.remove_expired(ctx) == 1 and store.coupons == {}


# 7. The clean-up never overwrites a redemption.


def test_the_clean_up_never_overwrites_a_redemption_committed_meanwhile(ctx, clock, shop):
    offer_id = created_offer(ctx, shop)
    assert jobs.deliver_offer(offer_id) == "sent"
    clock.advance(hours=25)
    outcome: dict[str, object] = {}

    def clean_up() -> None:
        try:
            outcome["removed"] = code_cleanup.remove_expired(ctx)
        except Exception as exc:  # reported below, with the state it left
            outcome["error"] = exc

    with ctx.engine.connect() as conn:
        redeem = conn.begin()  # the order with our code, being applied (bridge/carts.py)
        conn.execute(sa.update(Offer).where(Offer.id == offer_id).values(status="redeemed"))
        worker = threading.Thread(target=clean_up)
        worker.start()
        time.sleep(0.5)  # the clean-up reads the offer as `sent`, then waits for the row
        redeem.commit()
    worker.join(timeout=30)
    assert get(ctx, offer_id).status == "redeemed"
    assert outcome == {"removed": 0}


# 14. One salt per link purpose.


def test_a_token_works_only_for_its_own_purpose(ctx, shop, client):
    offer_id = created_offer(ctx, shop)
    with ctx.sessions() as session:
        offer = session.get(Offer, offer_id)
        pixel = tracking.open_url(ctx, offer).removeprefix("http://relance.test/t/o/").removesuffix(".gif")
        click = tracking.click_url(ctx, offer, "https://demo.myshopify.com/cart").split("/t/c/")[1]
        unsubscribe = tracking.unsubscribe_url(ctx, offer).split("/u/")[1]
    assert client.get(f"/u/{pixel}").status_code == 404
    assert client.get(f"/u/{click}").status_code == 404
    assert client.get(f"/t/c/{unsubscribe}").status_code == 404
    assert client.get(f"/t/o/{unsubscribe}.gif").mimetype == "image/gif"
    with ctx.sessions() as session:
        assert session.scalars(sa.select(Activity.kind)).all() == []  # neither an open nor a click
    assert client.get(f"/u/{unsubscribe}").status_code == 200
    assert client.get(f"/t/o/{pixel}.gif").status_code == 200
    with ctx.sessions() as session:
        assert session.scalars(sa.select(Activity.kind)).all() == ["promo_email_open"]


def test_links_of_emails_sent_before_the_purpose_salts_still_work(ctx, shop, client):
    offer_id = created_offer(ctx, shop)
    legacy = URLSafeSerializer(ctx.settings.secret_key, salt="relance-tracking")
    old_unsubscribe, old_pixel = legacy.dumps({"o": offer_id, "u": 0}), legacy.dumps({"o": offer_id})
    old_click = legacy.dumps({"o": offer_id, "u": "https://demo.myshopify.com/cart"})
    assert client.get(f"/u/{old_pixel}").status_code == 404
    assert client.get(f"/u/{old_click}").status_code == 404
    assert client.get(f"/t/c/{old_unsubscribe}").status_code == 404
    assert client.get(f"/t/c/{old_click}").status_code == 302
    assert client.post(f"/u/{old_unsubscribe}").status_code == 200
    assert get(ctx, offer_id).status == "cancelled"


def test_a_template_that_fails_for_this_customer_fails_the_offer_once_with_its_reason(
    ctx, shop, smtp, run_jobs
):
    # Valid when saved (the sample customer is "Alex"), a division by zero for "Ana".
    body = "{{ 100 // (first_name|length - 3) }} {{ unsubscribe_url }}"
    use_campaign(ctx, shop, email={"subject": "Hi", "body": body})
    offer_id = created_offer(ctx, shop)
    run_jobs()
    assert jobs.deliver_offer(offer_id) == "not_ready"  # a retried job, a redelivery: nothing more
    assert delivery.redeliver_lost(ctx) == 0
    offer = get(ctx, offer_id)
    assert (offer.status, offer.error) == ("failed", "body: line 1: integer division or modulo by zero")
    assert smtp.messages == [] and demo_codes(ctx, shop) == set()


def test_rules_saved_before_a_template_check_fail_the_offer_once(ctx, shop, smtp):
    # %-formatting of text was accepted before templates had a work budget; now it is refused when loaded.
    use_campaign(ctx, shop, email={"subject": "Hi", "body": "{{ '%s!' % code }} {{ unsubscribe_url }}"})
    offer_id = created_offer(ctx, shop)
    assert jobs.deliver_offer(offer_id) == "failed"
    assert jobs.deliver_offer(offer_id) == "not_ready"
    offer = get(ctx, offer_id)
    assert offer.status == "failed" and offer.error.startswith("body: line 1: ")
    assert "the '%' operator only works on numbers" in offer.error
    assert smtp.messages == [] and demo_codes(ctx, shop) == set()


def test_rules_saved_before_a_template_check_still_serve_every_other_job(ctx, shop):
    # The sweep, the steps and attribution read the same rules: one template the checks now refuse must not
    # stop them for the whole shop (only the send that renders it fails). The single offer's template lives
    # in the journey its campaign converts into.
    body = "{{ '%s!' % code }} {{ unsubscribe_url }}"
    use_campaign(ctx, shop, email={"subject": "Hi", "body": body}, abandonment_delay_minutes=45)
    with transaction(ctx.sessions) as session:
        settings = campaign_settings_for(session, shop)
        journeys = journeys_for(session, shop)
    cart = next(journey for journey in journeys if journey.key == "cart")
    assert settings.abandonment_delay_minutes == 45 and cart.steps[0].messages["en"].body == body
    saved = campaigns.dump_journeys([cart])
    with pytest.raises(ValidationError):  # the same journey, saved today, is refused
        campaigns.load_journeys(saved)
