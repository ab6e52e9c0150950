"""Abandoned checkout → sweep → journey run → its code step → code on the store → email → order with the
code → redeemed and measured.

The store is the built-in demo store (codes in Redis) so this runs without a platform; the same flow against a
fake Shopify lives in tests/integration/connectors/shopify/.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Activity, Cart, JourneyRun, Lead, Offer, Ruleset, Shop
from bridge.infra import queue
from bridge.infra.context import Context
from bridge.outreach import codes, steps, sweep, triggers
from tests.conftest import fixture
from tests.fakes.smtp import SMTPServer
from tests.integration.outreach.journeys_helpers import (
    campaign,
    change_rules,
    live_document,
    runs,
    send_due_steps,
    single_offer_journeys,
)

CHECKOUT_AT = "2026-11-25T09:50:00Z"


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


@pytest.fixture
def shop(ctx, shopify_shop, smtp):
    """The shop as a demo store whose journeys send one code a minute after abandonment (or a lead's entry
    into hot), at once (no quiet hours), holding nobody out."""
    ctx.settings = ctx.settings.with_overrides(smtp_url=smtp.url)
    document = {"campaign": campaign(sender_name="Demo Shop"), "journeys": single_offer_journeys()}
    with transaction(ctx.sessions) as session:
        row = session.get(Shop, shopify_shop["id"])
        row.state = {"demo": True}
        session.add(
            Ruleset(shop_id=row.id, version=1, document=document, created_at=ctx.now(), created_by="t")
        )
    return shopify_shop


def set_campaign(ctx: Context, shop_id: int, **changes) -> None:
    """A new rules version whose campaign settings differ by `changes`."""
    with transaction(ctx.sessions) as session:
        latest = session.scalars(
            sa.select(Ruleset).where(Ruleset.shop_id == shop_id).order_by(Ruleset.version.desc())
        ).first()
        document = {**latest.document, "campaign": {**latest.document["campaign"], **changes}}
        session.add(
            Ruleset(
                shop_id=shop_id,
                version=latest.version + 1,
                document=document,
                created_at=ctx.now(),
                created_by="t",
            )
        )


def set_delay(ctx: Context, shop_id: int, minutes: int) -> None:
    """A new rules version with another abandonment delay."""
    set_campaign(ctx, shop_id, abandonment_delay_minutes=minutes)


def checkout_payload(email: str = "shopper@example.com", token: str = "chk-1") -> dict:
    payload = json.loads(fixture("shopify", "checkouts__create.json"))
    payload.update(
        email=email,
        token=token,
        cart_token=f"cart-{token}",
        created_at=CHECKOUT_AT,
        updated_at=CHECKOUT_AT,
        buyer_accepts_marketing=True,
    )
    payload["customer"].update(email=email, id=int(hashlib.sha256(email.encode()).hexdigest()[:12], 16))
    return payload


def order_payload(checkout: dict, codes: list[str]) -> dict:
    order = json.loads(fixture("shopify", "orders__create.json"))
    order.update(
        checkout_token=checkout["token"],
        cart_token=checkout["cart_token"],
        email=checkout["email"],
        created_at="2026-11-25T11:30:00Z",
        updated_at="2026-11-25T11:30:00Z",
        total_price="358.20",
    )
    order["customer"] = {**order["customer"], "id": checkout["customer"]["id"], "email": checkout["email"]}
    order["discount_codes"] = [{"code": c, "amount": "39.80", "type": "percentage"} for c in codes]
    return order


def rows(ctx: Context, model, *where):
    with ctx.sessions() as s:
        return list(s.scalars(sa.select(model).where(*where)))


def demo_codes(ctx: Context, shop_id: int) -> set[str]:
    return {k.decode() for k in ctx.redis.hkeys(f"relance:demo:{shop_id}:codes")}


def abandon(ctx, clock, post_shopify, run_jobs, checkout) -> None:
    """The checkout, abandoned by the sweep (its journey starts), then its first step sent a minute later."""
    assert post_shopify("checkouts/create", checkout).status_code == 200
    run_jobs()
    clock.advance(minutes=61)
    assert sweep.sweep(ctx) == 1
    run_jobs()
    send_due_steps(ctx, clock, run_jobs)


def start_and_step(ctx, clock, cart_id: int) -> Offer:
    """What the sweep's job and the journeys' sweep do for one marked cart, one call at a time: start its run,
    then (a minute later) decide its code step; the step's offer, its code job queued."""
    assert triggers.start_cart_run(ctx, cart_id) == "started"
    clock.advance(minutes=1)
    [run] = runs(ctx, JourneyRun.cart_id == cart_id)
    assert steps.advance(ctx, run.id) == "sent"
    [offer] = rows(ctx, Offer, Offer.cart_id == cart_id)
    return offer


def test_full_recovery_loop(ctx, clock, shop, smtp, post_shopify, run_jobs, client):
    checkout = checkout_payload()
    abandon(ctx, clock, post_shopify, run_jobs, checkout)
    [cart] = rows(ctx, Cart)
    assert cart.status == "abandoned" and cart.abandoned_at == clock.now - timedelta(minutes=1)
    [run] = runs(ctx)
    assert (run.cart_id, run.journey_key, run.status, run.exit_reason) == (
        cart.id,
        "cart",
        "ended",
        "completed",
    )
    [offer] = rows(ctx, Offer)
    assert (offer.run_id, offer.step, offer.reason) == (run.id, 0, "abandoned_cart")
    assert offer.status == "sent" and offer.code and len(offer.code) >= 10 and not offer.holdout
    assert demo_codes(ctx, shop["id"]) == {offer.code}
    assert {a.kind for a in rows(ctx, Activity)} >= {"checkout_started", "cart_abandoned"}
    [message] = smtp.messages
    assert message["To"] == "shopper@example.com" and message["List-Unsubscribe"]
    text = message.get_body(("plain",)).get_content()
    assert offer.code in text and "Demo Shop" in message["Subject"] + text
    html = message.get_body(("html",)).get_content()
    pixel = re.search(r'src="http://relance\.test(/t/o/[^"]+\.gif)"', html).group(1)
    assert client.get(pixel).mimetype == "image/gif"
    click = re.search(r'href="http://relance\.test(/t/c/[^"]+)"', html).group(1)
    landed = client.get(click)
    assert landed.status_code == 302 and landed.location.startswith("https://demo.myshopify.com/discount/")
    assert {a.kind for a in rows(ctx, Activity)} >= {"promo_email_open", "email_click"}

    post_shopify("orders/create", order_payload(checkout, [offer.code.lower()]))
    run_jobs()
    [offer] = rows(ctx, Offer)
    [cart] = rows(ctx, Cart)
    assert offer.status == "redeemed" and offer.order_total == Decimal("358.20")
    assert cart.status == "recovered" and cart.order_total == Decimal("358.20")
    auth = {"Authorization": f"Bearer {shop['api_key']}"}
    figures = client.get("/api/v1/metrics?from=2026-11-01&to=2026-12-01", headers=auth).json
    assert figures["carts"]["abandoned"] == 1 and figures["carts"]["recovered"] == 1
    assert figures["offers"] == {"sent": 1, "redeemed": 1, "redemption_rate": 1.0}
    assert figures["revenue"]["recovered"] == "358.20" and figures["revenue"]["from_codes"] == "358.20"
    assert figures["recovery"]["treated_carts"] == 1 and figures["recovery"]["treated_rate"] == 1.0


def test_two_sweeps_never_double_process(ctx, clock, shop, post_shopify, run_jobs):
    post_shopify("checkouts/create", checkout_payload())
    run_jobs()
    clock.advance(minutes=61)
    assert sweep.sweep(ctx) + sweep.sweep(ctx) == 1
    run_jobs()
    assert len(runs(ctx)) == 1
    send_due_steps(ctx, clock, run_jobs)
    assert len(rows(ctx, Offer)) == 1
    assert len([a for a in rows(ctx, Activity) if a.kind == "cart_abandoned"]) == 1


def test_not_due_and_no_email_carts_are_left_alone(ctx, clock, shop, post_shopify, run_jobs):
    post_shopify("checkouts/create", checkout_payload())
    cart_only = json.loads(fixture("shopify", "carts__create.json"))
    cart_only.update(created_at=CHECKOUT_AT, updated_at=CHECKOUT_AT)
    post_shopify("carts/create", cart_only)
    run_jobs()
    clock.advance(minutes=30)
    assert sweep.sweep(ctx) == 0
    clock.advance(minutes=31)
    assert sweep.sweep(ctx) == 1  # the checkout; the anonymous cart has no email
    run_jobs()
    assert {c.status for c in rows(ctx, Cart)} == {"abandoned", "active"}


def test_order_before_delivery_cancels_offer_and_removes_code(ctx, clock, shop, smtp, post_shopify, run_jobs):
    checkout = checkout_payload()
    post_shopify("checkouts/create", checkout)
    run_jobs()
    clock.advance(minutes=61)
    [cart] = rows(ctx, Cart)
    assert sweep.mark_abandoned(ctx, shop["id"], [cart.id], clock.now) == [cart.id]  # the sweep's job
    offer = start_and_step(ctx, clock, cart.id)
    assert codes.create_on_store(ctx, offer.id) == "created"
    assert demo_codes(ctx, shop["id"]) == {offer.code}
    post_shopify("orders/create", order_payload(checkout, []))
    run_jobs()  # processes the order, then the queued delivery's final check
    [offer] = rows(ctx, Offer)
    assert offer.status == "cancelled" and offer.decision == "ordered_meanwhile"
    assert demo_codes(ctx, shop["id"]) == set()
    assert smtp.messages == []
    assert rows(ctx, Cart)[0].status == "recovered"  # an order on an abandoned cart, code or not


def test_no_consent_ends_the_journey_before_its_step(ctx, clock, shop, smtp, post_shopify, run_jobs):
    checkout = checkout_payload()
    checkout["buyer_accepts_marketing"] = False
    abandon(ctx, clock, post_shopify, run_jobs, checkout)
    [run] = runs(ctx)
    assert (run.status, run.exit_reason, run.step) == ("ended", "no_consent", 0)
    assert rows(ctx, Offer) == [] and demo_codes(ctx, shop["id"]) == set()
    assert smtp.messages == []


def test_shopify_rules_stored_without_consent_still_need_it(ctx, clock, shop, smtp, post_shopify, run_jobs):
    # Saving `require_consent: false` is refused on Shopify; a version stored before that rule (written here
    # straight to the table) must not mail a discount code to a customer who did not accept marketing emails.
    set_campaign(ctx, shop["id"], require_consent=False)
    checkout = checkout_payload()
    checkout["buyer_accepts_marketing"] = False
    abandon(ctx, clock, post_shopify, run_jobs, checkout)
    [run] = runs(ctx)
    assert (run.status, run.exit_reason) == ("ended", "no_consent")
    assert rows(ctx, Offer) == [] and smtp.messages == []


def test_unsubscribe_link_opts_out_shop_wide(ctx, clock, shop, smtp, post_shopify, run_jobs, client):
    abandon(ctx, clock, post_shopify, run_jobs, checkout_payload())
    link = smtp.messages[0]["List-Unsubscribe"].strip().strip("<>").removeprefix("http://relance.test")
    assert client.get(link).status_code == 200
    assert client.post(link).status_code == 200
    [lead] = [lead for lead in rows(ctx, Lead) if lead.email == "shopper@example.com"]
    assert lead.unsubscribed_at is not None and lead.accepts_marketing is False
    clock.advance(days=8)
    abandon(ctx, clock, post_shopify, run_jobs, checkout_payload(token="chk-2"))
    first, second = runs(ctx)
    assert (second.status, second.exit_reason) == ("ended", "unsubscribed")
    assert [o.run_id for o in rows(ctx, Offer)] == [first.id]
    assert len(smtp.messages) == 1


def test_forged_tracking_tokens_get_nothing(ctx, client, shop):
    assert client.get("/t/c/not-a-token").status_code == 404
    assert client.get("/u/not-a-token").status_code == 404
    assert client.get("/t/o/forged.gif").mimetype == "image/gif"  # pixels never break an email
    assert rows(ctx, Activity) == []


def test_holdout_lead_gets_no_code_but_is_tracked(ctx, clock, shop, smtp, post_shopify, run_jobs, client):
    change_rules(ctx, shop["id"], journeys=single_offer_journeys(holdout_share=0.5))
    emails = [f"buyer{i}@example.com" for i in range(12)]
    for i, email in enumerate(emails):
        post_shopify("checkouts/create", checkout_payload(email=email, token=f"h{i}"))
    run_jobs()
    clock.advance(minutes=61)
    sweep.sweep(ctx)
    run_jobs()
    send_due_steps(ctx, clock, run_jobs)
    made = rows(ctx, Offer)
    held = [o for o in made if o.holdout]
    assert held and len(held) < len(made) == len(emails)
    assert all(o.code is None and o.status == "suppressed" and o.decision == "holdout" for o in held)
    ended = {run.id: run.exit_reason for run in runs(ctx)}
    assert {ended[o.run_id] for o in held} == {"holdout"}
    assert len(smtp.messages) == len(made) - len(held)
    auth = {"Authorization": f"Bearer {shop['api_key']}"}
    figures = client.get("/api/v1/metrics?from=2026-11-01&to=2026-12-01", headers=auth).json
    assert figures["recovery"]["holdout_carts"] == len(held)
    assert figures["recovery"]["treated_carts"] == len(made) - len(held)


def test_a_sweep_while_redis_is_down_loses_no_cart(ctx, clock, shop, smtp, post_shopify, run_jobs):
    from redis import Redis

    post_shopify("checkouts/create", checkout_payload())
    run_jobs()
    clock.advance(minutes=61)
    live = ctx.redis
    ctx.redis = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.2)
    assert sweep.sweep(ctx) == 0  # nothing could be queued: the window is not claimed
    ctx.redis = live
    assert rows(ctx, Shop)[0].swept_until is None
    assert sweep.sweep(ctx) == 1
    run_jobs()
    send_due_steps(ctx, clock, run_jobs)
    assert [o.status for o in rows(ctx, Offer)] == ["sent"]


def test_a_journey_start_lost_after_marking_is_started_again(ctx, clock, shop, smtp, post_shopify, run_jobs):
    post_shopify("checkouts/create", checkout_payload())
    run_jobs()
    clock.advance(minutes=61)
    [cart] = rows(ctx, Cart)
    assert sweep.mark_abandoned(ctx, shop["id"], [cart.id], clock.now) == [cart.id]  # then the job died
    assert triggers.restart_orphans(ctx) == 0  # too fresh: the job may still be on its way
    clock.advance(minutes=3)
    assert triggers.restart_orphans(ctx) == 1
    run_jobs()
    assert [run.cart_id for run in runs(ctx)] == [cart.id]
    assert triggers.restart_orphans(ctx) == 0
    send_due_steps(ctx, clock, run_jobs, minutes=0)  # due since a minute after the marking
    assert [o.status for o in rows(ctx, Offer)] == ["sent"]


def test_sweeps_claim_windows_and_never_go_back(ctx, clock, shop, post_shopify, run_jobs):
    post_shopify("checkouts/create", checkout_payload(email="a@example.com", token="a"))
    run_jobs()
    clock.advance(minutes=61)
    assert sweep.sweep(ctx) == 1
    first = rows(ctx, Shop)[0].swept_until
    assert first == clock.now - timedelta(minutes=60)
    assert sweep.sweep(ctx) == 0  # the same instant: an empty window
    run_jobs()
    later = checkout_payload(email="b@example.com", token="b")
    later.update(created_at="2026-11-25T11:01:00Z", updated_at="2026-11-25T11:01:00Z")
    post_shopify("checkouts/create", later)
    run_jobs()
    set_delay(ctx, shop["id"], 180)  # a longer delay: the watermark stays, nothing is handed out twice
    clock.advance(minutes=61)
    assert sweep.sweep(ctx) == 0 and rows(ctx, Shop)[0].swept_until == first
    clock.advance(minutes=119)
    assert sweep.sweep(ctx) == 0  # 11:01 + 3 h is not reached yet
    clock.advance(minutes=2)
    assert sweep.sweep(ctx) == 1
    run_jobs()
    assert sorted(c.status for c in rows(ctx, Cart)) == ["abandoned", "abandoned"]
    assert len([a for a in rows(ctx, Activity) if a.kind == "cart_abandoned"]) == 2


def test_a_cart_that_arrives_behind_the_watermark_is_still_abandoned_once(
    ctx, clock, shop, post_shopify, run_jobs
):
    clock.advance(minutes=61)
    assert sweep.sweep(ctx) == 0  # claims everything idle since before 10:01
    clock.advance(minutes=30)
    # A checkout delivered late (a reconciliation, a backlog): its activity (09:50) lies behind the watermark.
    post_shopify("checkouts/create", checkout_payload())
    run_jobs()
    clock.advance(minutes=1)
    assert sweep.sweep(ctx) == 1  # a straggler
    assert sweep.sweep(ctx) == 0  # queued once per grace period, not on every sweep
    run_jobs()
    [cart] = rows(ctx, Cart)
    assert cart.status == "abandoned"
    clock.advance(minutes=11)
    assert sweep.sweep(ctx) == 0  # no longer active
    assert len(runs(ctx)) == 1


def test_a_lost_sweep_batch_is_queued_again_after_the_grace(ctx, clock, shop, post_shopify, run_jobs):
    post_shopify("checkouts/create", checkout_payload())
    run_jobs()
    clock.advance(minutes=51)  # idle 61 minutes: just due
    assert sweep.sweep(ctx) == 1
    queue.get_queue(ctx.redis, queue.CAMPAIGNS).empty()  # the batch is lost (Redis flushed, say)
    clock.advance(minutes=1)
    assert sweep.sweep(ctx) == 0  # within the grace: a batch queued a minute ago is left to its job
    clock.advance(minutes=10)
    assert sweep.sweep(ctx) == 1
    run_jobs()
    assert [c.status for c in rows(ctx, Cart)] == ["abandoned"] and len(runs(ctx)) == 1


def test_a_window_reaching_far_back_is_left_to_its_job_for_the_grace(
    ctx, clock, shop, post_shopify, run_jobs
):
    post_shopify("checkouts/create", checkout_payload())
    run_jobs()
    clock.advance(hours=3)  # the first sweep (or the first after downtime) hands out a cart idle for hours
    assert sweep.sweep(ctx) == 1
    clock.advance(seconds=1)
    assert sweep.sweep(ctx) == 0  # its job has not run yet: not a straggler, however old the cart
    clock.advance(minutes=9)
    assert sweep.sweep(ctx) == 0
    clock.advance(minutes=1)  # the window was handed out 10 minutes ago and the cart is still active
    assert sweep.sweep(ctx) == 1
    run_jobs()
    assert [c.status for c in rows(ctx, Cart)] == ["abandoned"] and len(runs(ctx)) == 1


def test_concurrent_sweeps_hand_each_cart_out_once(ctx, clock, shop, post_shopify, run_jobs):
    for i in range(30):
        post_shopify("checkouts/create", checkout_payload(email=f"c{i}@example.com", token=f"c{i}"))
    run_jobs()
    clock.advance(minutes=61)
    results: list[int] = []
    barrier = threading.Barrier(4)

    def one() -> None:
        barrier.wait()
        results.append(sweep.sweep(ctx))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(results) == [0, 0, 0, 30]
    run_jobs()
    assert {c.status for c in rows(ctx, Cart)} == {"abandoned"}
    assert len({run.cart_id for run in runs(ctx)}) == len(runs(ctx)) == 30


def test_a_lead_turning_hot_gets_a_personal_offer(ctx, clock, shop, smtp, post_shopify, run_jobs):
    import scoring

    change_rules(ctx, shop["id"], scoring={**scoring.DEFAULT_SCORING, "tiers": {"warm": 10, "hot": 15}})
    post_shopify("checkouts/create", checkout_payload())
    run_jobs()
    [lead] = [lead for lead in rows(ctx, Lead) if lead.email == "shopper@example.com"]
    assert lead.tier == "hot"
    [run] = runs(ctx)
    assert (run.trigger, run.journey_key, run.lead_id) == ("tier_entered", "hot-lead", lead.id)
    assert rows(ctx, Offer) == []  # the step is a minute after the entry
    send_due_steps(ctx, clock, run_jobs)
    [offer] = rows(ctx, Offer)
    assert (offer.reason, offer.status, offer.cart_id) == ("hot_lead", "sent", None)
    assert len(smtp.messages) == 1 and offer.code in smtp.messages[0].get_body(("plain",)).get_content()


def ten_points_each(ctx, shop_id: int, hot: int) -> None:
    """Rules where an account and a product view score 10 each, for good, and nothing else counts."""
    import scoring

    doc = live_document(ctx, shop_id)
    with transaction(ctx.sessions) as session:
        rules = {
            **scoring.DEFAULT_SCORING,
            "activities": {"account_created": {"points": 10}, "product_view": {"points": 10}},
            "criteria": [],
            "decay": {"half_life_days": 3650},
            "tiers": {"warm": 5, "hot": hot},
        }
        scoring.load_rules(rules)  # valid as a merchant would have to write it
        session.add(
            Ruleset(
                shop_id=shop_id,
                version=2,
                created_at=ctx.now(),
                created_by="t",
                document={**doc, "scoring": rules},
            )
        )


@pytest.mark.parametrize("hot", [20, 10])
def test_storefront_events_in_a_batch_never_make_an_offer(
    ctx, clock, shop, client, post_shopify, run_jobs, hot
):
    """A store webhook and a storefront event of one shopper in one job. With hot at 20 the lead turns hot
    only with the storefront's points, and storefront traffic must never mail, batch or not; with hot at 10
    the store's own event makes it hot and its journey starts as usual."""
    from bridge.db.models import Event
    from bridge.events import pipeline

    ten_points_each(ctx, shop["id"], hot)
    customer = json.loads(fixture("shopify", "customers__create.json"))
    customer.update(
        email="ana@example.com", id=4242, created_at=clock().isoformat(), updated_at=clock().isoformat()
    )
    customer["email_marketing_consent"] = {"state": "subscribed", "opt_in_level": "single_opt_in"}
    post_shopify("customers/create", customer)
    with ctx.sessions() as s:
        key = s.get(Shop, shop["id"]).public_key
    view = {
        "event": "product_viewed", "id": "sh-1", "client_id": "c-1", "timestamp": clock().isoformat(),
        "email": "ana@example.com", "product_id": 7001, "url": "https://demo.myshopify.com/products/mug",
    }  # fmt: skip
    assert client.post(f"/collect/{key}", data=json.dumps(view)).status_code == 202
    with ctx.sessions() as s:
        ids = list(s.scalars(sa.select(Event.id).order_by(Event.id)))
    assert pipeline.handle_events(ctx, ids) == {"processed": 2}  # one job, as an ingest window makes it
    run_jobs()
    [lead] = rows(ctx, Lead)
    # With hot at 20 the storefront's points cannot lift the lead into hot on their own (scoring.engine).
    assert (lead.score, lead.tier) == ((19, "warm") if hot == 20 else (20, "hot"))
    assert [run.instance for run in runs(ctx)] == ([] if hot == 20 else [f"tier:hot:{lead.id}"])
    send_due_steps(ctx, clock, run_jobs)
    reasons = [o.reason for o in rows(ctx, Offer)]
    assert reasons == ([] if hot == 20 else ["hot_lead"])


def test_relance_sweep_from_the_command_line_abandons_due_carts(ctx, shop, monkeypatch):
    from click.testing import CliRunner

    from bridge.cli import main

    idle_since = datetime.now(UTC) - timedelta(hours=2)  # the command runs on the real clock
    with transaction(ctx.sessions) as session:
        lead = Lead(
            shop_id=shop["id"], email="cli@example.com", created_at=idle_since, source={}, breakdown={}
        )
        session.add(lead)
        session.flush()
        for token, email in (("due", "cli@example.com"), ("anonymous", None)):
            session.add(
                Cart(
                    shop_id=shop["id"],
                    lead_id=lead.id if email else None,
                    checkout_token=token,
                    email=email,
                    created_at=idle_since,
                    last_activity_at=idle_since,
                    status="active",
                    items={"lines": [{"title": "Mug", "quantity": 1, "price": "12.00"}]},
                )
            )
    for name in ("REDIS_URL", "RELANCE_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)  # embedded: the command runs the jobs itself
    monkeypatch.setenv("DATABASE_URL", ctx.settings.database_url)
    monkeypatch.setenv("ENCRYPTION_KEYS", ",".join(ctx.settings.encryption_keys))
    monkeypatch.setenv("INSTANCE_PATH", ctx.settings.instance_path)
    result = CliRunner().invoke(main, ["sweep"])
    assert result.exit_code == 0 and "1 due cart(s) queued" in result.output, result.output
    with ctx.sessions() as session:
        states = dict(session.execute(sa.select(Cart.checkout_token, Cart.status)).all())
    assert states == {"due": "abandoned", "anonymous": "active"}
    assert [a.kind for a in rows(ctx, Activity)] == ["cart_abandoned"]


def test_two_sweeps_in_one_second_queue_two_jobs(ctx, clock, shop, post_shopify, run_jobs):
    for token, at in (("a", "2026-11-25T09:50:00Z"), ("b", "2026-11-25T09:50:00.500Z")):
        payload = checkout_payload(email=f"{token}@example.com", token=token)
        payload.update(created_at=at, updated_at=at)
        post_shopify("checkouts/create", payload)
    run_jobs()
    clock.advance(minutes=50, seconds=0.2)  # the window ends at 09:50:00.2: cart a only
    assert sweep.sweep(ctx) == 1
    clock.advance(seconds=0.6)  # the same second: the next window holds cart b
    assert sweep.sweep(ctx) == 1
    assert len(queue.get_queue(ctx.redis, queue.CAMPAIGNS).job_ids) == 2  # neither job overwrote the other
    run_jobs()
    assert sorted(c.status for c in rows(ctx, Cart)) == ["abandoned", "abandoned"]
