"""Journeys end to end on the built-in demo store (codes in Redis) and a real SMTP server: steps one at a
time, a code minted just before its step, orders ending runs, deferral by quiet hours and pressure, routing
by tier, the per-step holdout, and the shop of the single-offer era converted."""

from __future__ import annotations

import copy
import hashlib
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

import campaigns
from bridge.db import transaction
from bridge.db.models import Cart, JourneyRun, Lead, Offer, Ruleset, Shop
from bridge.infra.context import Context
from bridge.outreach import code_cleanup, journey_sweep, runs, sweep, triggers
from tests.conftest import fixture
from tests.fakes.smtp import SMTPServer

CHECKOUT_AT = "2026-11-25T09:50:00Z"  # the test clock starts at 10:00 UTC that day (tests/conftest.py)


def _message(subject: str, body: str) -> dict:
    return {"en": {"subject": subject, "body": body}, "fr": {"subject": f"FR {subject}", "body": body}}


def cart_journey(key: str = "cart", tiers=None, holdout: float = 0.0, steps=None) -> dict:
    return {
        "key": key,
        "trigger": "cart_abandoned",
        "audience": {"tiers": tiers},
        "holdout_share": holdout,
        "steps": steps
        or [
            {"after_minutes": 60, "messages": _message("First reminder", "Your cart waits.")},
            {
                "after_minutes": 24 * 60,
                "offer": {"kind": "percentage", "value": 10, "expires_hours": 48},
                "messages": _message("Ten percent", "{% if code %}Code {{ code }}{% endif %}"),
            },
            {"after_minutes": 72 * 60, "messages": _message("Last call", "Still there.")},
        ],
    }


@pytest.fixture
def smtp():
    with SMTPServer() as server:
        yield server


def use_rules(ctx: Context, shop_id: int, journeys: list[dict], **campaign) -> None:
    """A new rules version with these journeys and campaign settings (no quiet hours unless given)."""
    document = {
        "campaign": {
            **campaigns.DEFAULT_CAMPAIGN,
            "quiet_hours": None,
            "sender_name": "Demo Shop",
            **campaign,
        },
        "journeys": journeys,
    }
    with transaction(ctx.sessions) as session:
        version = session.scalar(sa.select(sa.func.max(Ruleset.version)).where(Ruleset.shop_id == shop_id))
        session.add(
            Ruleset(
                shop_id=shop_id,
                version=(version or 0) + 1,
                document=document,
                created_at=ctx.now(),
                created_by="t",
            )
        )


@pytest.fixture
def shop(ctx, shopify_shop, smtp):
    ctx.settings = ctx.settings.with_overrides(smtp_url=smtp.url)
    with transaction(ctx.sessions) as session:
        session.get(Shop, shopify_shop["id"]).state = {"demo": True}
    use_rules(ctx, shopify_shop["id"], [cart_journey()])
    return shopify_shop


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


def order_payload(checkout: dict, codes: list[str], at: str) -> dict:
    order = json.loads(fixture("shopify", "orders__create.json"))
    order.update(
        checkout_token=checkout["token"],
        cart_token=checkout["cart_token"],
        email=checkout["email"],
        created_at=at,
        updated_at=at,
        total_price="358.20",
    )
    order["customer"] = {**order["customer"], "id": checkout["customer"]["id"], "email": checkout["email"]}
    order["discount_codes"] = [{"code": c, "amount": "39.80", "type": "percentage"} for c in codes]
    return order


def rows(ctx: Context, model, *where, order=None):
    with ctx.sessions() as s:
        return list(
            s.scalars(sa.select(model).where(*where).order_by(order if order is not None else model.id))
        )


def demo_codes(ctx: Context, shop_id: int) -> set[str]:
    return {k.decode() for k in ctx.redis.hkeys(f"relance:demo:{shop_id}:codes")}


def abandon(ctx, clock, post_shopify, run_jobs, checkout) -> None:
    assert post_shopify("checkouts/create", checkout).status_code == 200
    run_jobs()
    clock.advance(minutes=61)
    assert sweep.sweep(ctx) == 1
    run_jobs()


def tick(ctx, run_jobs) -> int:
    """One minute's journeys sweep, and the jobs it queued."""
    handed = journey_sweep.sweep_due(ctx)
    run_jobs()
    return handed


def the_run(ctx) -> JourneyRun:
    [run] = rows(ctx, JourneyRun)
    return run


def test_steps_go_one_at_a_time_and_an_order_ends_the_run(ctx, clock, shop, smtp, post_shopify, run_jobs):
    checkout = checkout_payload()
    abandon(ctx, clock, post_shopify, run_jobs, checkout)
    run = the_run(ctx)
    [cart] = rows(ctx, Cart)
    assert (run.journey_key, run.status, run.step, run.trigger_at) == ("cart", "active", 0, cart.abandoned_at)
    assert tick(ctx, run_jobs) == 0 and smtp.messages == []  # not due before 60 minutes

    clock.advance(minutes=60)
    assert tick(ctx, run_jobs) == 1
    [reminder] = rows(ctx, Offer)
    assert (reminder.step, reminder.kind, reminder.code, reminder.status) == (0, "reminder", None, "sent")
    assert demo_codes(ctx, shop["id"]) == set()  # no code before the step that carries it
    [first] = smtp.messages
    assert "First reminder" in first["Subject"]

    clock.advance(minutes=23 * 60)
    assert tick(ctx, run_jobs) == 1
    reminder, coded = rows(ctx, Offer)
    assert coded.step == 1 and coded.status == "sent" and coded.code and not coded.holdout
    assert coded.expires_at == clock.now + timedelta(hours=48)
    assert demo_codes(ctx, shop["id"]) == {coded.code}
    assert coded.code in smtp.messages[1].get_body(("plain",)).get_content()

    post_shopify("orders/create", order_payload(checkout, [coded.code], "2026-11-26T11:30:00Z"))
    run_jobs()
    run = the_run(ctx)
    assert (run.status, run.exit_reason, run.step) == ("ended", "cart_ordered", 2)
    clock.advance(days=3)
    assert tick(ctx, run_jobs) == 0
    assert len(smtp.messages) == 2 and [o.status for o in rows(ctx, Offer)] == ["sent", "redeemed"]


def test_a_run_that_starts_late_sends_one_step_at_a_time(ctx, clock, shop, smtp, post_shopify, run_jobs):
    abandon(ctx, clock, post_shopify, run_jobs, checkout_payload())
    clock.advance(days=5)  # every step is overdue: a backlog, a worker down for days
    assert tick(ctx, run_jobs) == 1
    assert len(smtp.messages) == 1
    run = the_run(ctx)
    # The next step keeps its distance from the real send: 24 h - 1 h after it.
    assert run.step == 1 and run.next_due_at == clock.now + timedelta(hours=23)
    assert tick(ctx, run_jobs) == 0 and len(smtp.messages) == 1


def test_quiet_hours_defer_a_step_to_their_end(ctx, clock, shop, smtp, post_shopify, run_jobs):
    # 10:00 UTC is 11:00 in Paris: quiet from 11:30 to 14:00 local makes the first step (at 12:01) wait.
    use_rules(
        ctx,
        shop["id"],
        [cart_journey()],
        quiet_hours={"start": "11:30", "end": "14:00"},
        timezone="Europe/Paris",
    )
    abandon(ctx, clock, post_shopify, run_jobs, checkout_payload())
    clock.advance(minutes=60)
    assert tick(ctx, run_jobs) == 1
    run = the_run(ctx)
    assert smtp.messages == [] and rows(ctx, Offer) == []
    assert run.deferred_reason == "quiet_hours" and run.step == 0
    assert run.next_due_at.isoformat() == "2026-11-25T13:00:00+00:00"  # 14:00 in Paris
    clock.advance(minutes=58)
    assert tick(ctx, run_jobs) == 0 and smtp.messages == []
    clock.advance(minutes=1)
    assert tick(ctx, run_jobs) == 1  # the same step, handed out again once due
    assert len(smtp.messages) == 1 and the_run(ctx).step == 1


def test_pressure_defers_a_step_of_another_journey(ctx, clock, shop, smtp, post_shopify, run_jobs):
    use_rules(
        ctx,
        shop["id"],
        [cart_journey(steps=[{"after_minutes": 1, "messages": _message("Cart", "Back?")}])],
        pressure={"max_emails": 1, "window_days": 1, "min_gap_hours": 0},
    )
    first, second = checkout_payload(token="a"), checkout_payload(token="b")
    abandon(ctx, clock, post_shopify, run_jobs, first)
    clock.advance(minutes=1)
    assert tick(ctx, run_jobs) == 1 and len(smtp.messages) == 1
    sent_at = clock.now
    assert (
        post_shopify(
            "checkouts/create",
            {**second, "created_at": clock.now.isoformat(), "updated_at": clock.now.isoformat()},
        ).status_code
        == 200
    )
    run_jobs()
    clock.advance(minutes=61)
    assert sweep.sweep(ctx) == 1
    run_jobs()
    clock.advance(minutes=1)
    assert tick(ctx, run_jobs) == 1
    later = rows(ctx, JourneyRun, JourneyRun.status == "active")
    [run] = later
    assert run.deferred_reason == "frequency_cap" and len(smtp.messages) == 1
    assert run.next_due_at > sent_at + timedelta(days=1)  # when the first email leaves
    assert rows(ctx, Offer, Offer.run_id == run.id) == []  # deferred, not dropped


def test_the_first_journey_whose_audience_admits_the_tier_starts(ctx, shop):
    hot = cart_journey(
        "cart-hot",
        tiers=["hot"],
        steps=[
            {
                "after_minutes": 30,
                "offer": {"kind": "percentage", "value": 15, "expires_hours": 6},
                "messages": _message("Just for you", "{{ code }}"),
            }
        ],
    )
    use_rules(
        ctx, shop["id"], [hot, cart_journey("cart", tiers=["cold", "warm", "customer"]), cart_journey("x")]
    )
    started = {}
    with transaction(ctx.sessions) as session:
        shop_row = session.get(Shop, shop["id"])
        for number, tier in enumerate(("cold", "warm", "hot", "customer")):
            lead = Lead(shop_id=shop["id"], email=f"{tier}@example.com", tier=tier, created_at=ctx.now())
            session.add(lead)
            session.flush()
            cart = Cart(
                shop_id=shop["id"],
                lead_id=lead.id,
                email=lead.email,
                status="abandoned",
                created_at=ctx.now(),
                last_activity_at=ctx.now(),
                cart_token=f"t{number}",
            )
            session.add(cart)
            session.flush()
            run = runs.start(session, shop_row, lead, "cart_abandoned", ctx.now(), ctx.now(), cart_id=cart.id)
            started[tier] = (run.journey_key, run.next_due_at - ctx.now())
            again = runs.start(
                session, shop_row, lead, "cart_abandoned", ctx.now(), ctx.now(), cart_id=cart.id
            )
            assert again is None  # one run per trigger instance
    assert started == {
        "cold": ("cart", timedelta(minutes=60)),
        "warm": ("cart", timedelta(minutes=60)),
        "hot": ("cart-hot", timedelta(minutes=30)),
        "customer": ("cart", timedelta(minutes=60)),
    }


def test_each_step_has_its_holdout(ctx, clock, shop, smtp, post_shopify, run_jobs):
    use_rules(ctx, shop["id"], [cart_journey(holdout=0.5)])
    payloads = [checkout_payload(f"p{i}@example.com", f"t{i}") for i in range(12)]
    for payload in payloads:
        post_shopify("checkouts/create", payload)
    run_jobs()
    clock.advance(minutes=61)
    assert sweep.sweep(ctx) == 12
    run_jobs()
    for _ in range(8):
        clock.advance(days=1)
        tick(ctx, run_jobs)
    for run in rows(ctx, JourneyRun):
        expected = campaigns.holdout_stop(f"{run.shop_id}:{run.instance}", 0.5, 3)
        assert run.holdout_stop == expected
        steps = {o.step: o for o in rows(ctx, Offer, Offer.run_id == run.id)}
        if expected is None:
            assert run.exit_reason == "completed" and all(not o.holdout for o in steps.values())
            assert sorted(steps) == [0, 1, 2]
        else:
            assert run.exit_reason == "holdout" and sorted(steps) == list(range(expected + 1))
            assert steps[expected].holdout and steps[expected].status == "suppressed"
            assert all(not steps[k].holdout for k in range(expected))
    assert {run.holdout_stop for run in rows(ctx, JourneyRun)} - {None}  # some run is held out somewhere


def test_an_empty_or_unmatched_cart_is_on_record_with_why(ctx, clock, shop, smtp, post_shopify, run_jobs):
    use_rules(ctx, shop["id"], [cart_journey(tiers=["hot"])])
    abandon(ctx, clock, post_shopify, run_jobs, checkout_payload())
    run = the_run(ctx)
    assert (run.status, run.exit_reason, run.journey_key) == ("ended", "no_journey", "")
    assert triggers.restart_orphans(ctx) == 0  # a cart with its reason is not an orphan


def test_a_shop_of_the_single_offer_era_keeps_its_offer_as_a_journey(ctx, client, shop):
    old = {"campaign": {**campaigns.DEFAULT_CAMPAIGN, "quiet_hours": None}}
    old["campaign"].update(discount_value=25, code_expiry_hours=12, holdout_share=0.2, minimum_cart_value=30)
    with transaction(ctx.sessions) as session:
        session.execute(sa.delete(Ruleset).where(Ruleset.shop_id == shop["id"]))
        session.add(
            Ruleset(
                shop_id=shop["id"],
                version=1,
                document=copy.deepcopy(old),
                created_at=ctx.now(),
                created_by="t",
            )
        )
    auth = {"Authorization": f"Bearer {shop['api_key']}"}
    document = client.get("/api/v1/rules", headers=auth).json["document"]
    cart, hot, welcome, browse = document["journeys"]
    assert cart["trigger"] == "cart_abandoned" and cart["holdout_share"] == 0.2
    assert cart["steps"][0]["offer"] == {
        "kind": "percentage",
        "value": 25,
        "expires_hours": 12,
        "minimum_order": 30,
    }
    assert hot["trigger"] == "tier_entered" and hot["enabled"] and not welcome["enabled"]
    assert not browse["enabled"] and "discount_value" not in document["campaign"]
    refused = client.put("/api/v1/rules", headers=auth, json={"campaign": {"discount_value": 5}})
    assert refused.status_code == 422
    assert "journeys[].steps[].offer.value" in json.dumps(refused.json)
    kept = client.put("/api/v1/rules", headers=auth, json={"journeys": document["journeys"]})
    assert kept.status_code == 200, kept.json


def test_a_run_is_visible_per_lead_and_per_cart_in_the_api(ctx, clock, shop, post_shopify, run_jobs, client):
    abandon(ctx, clock, post_shopify, run_jobs, checkout_payload())
    clock.advance(minutes=60)
    tick(ctx, run_jobs)
    auth = {"Authorization": f"Bearer {shop['api_key']}"}
    [cart] = client.get("/api/v1/carts", headers=auth).json["carts"]
    run = cart["journey"]
    assert (run["journey"], run["status"], run["step_reached"], run["exit_reason"]) == (
        "cart",
        "active",
        1,
        None,
    )
    assert run["next_send_at"] == (clock.now + timedelta(hours=23)).isoformat()
    lead = client.get(f"/api/v1/leads/{the_run(ctx).lead_id}", headers=auth).json
    assert [r["id"] for r in lead["journeys"]] == [run["id"]]
    [reminder] = lead["offers"]
    assert (reminder["journey"], reminder["step"], reminder["code"], reminder["status"]) == (
        "cart",
        0,
        None,
        "sent",
    )
    assert reminder["locale"] == "fr"  # no locale known for this customer or shop: the merchant's setting


def test_simulation_counts_what_each_journey_and_step_would_have_done(
    ctx, clock, shop, post_shopify, run_jobs, client
):
    abandon(ctx, clock, post_shopify, run_jobs, checkout_payload())
    auth = {"Authorization": f"Bearer {shop['api_key']}"}
    candidate = [cart_journey(holdout=0.0)]
    answer = client.post("/api/v1/rules/simulate", headers=auth, json={"journeys": candidate})
    assert answer.status_code == 200, answer.json
    [cart] = answer.json["journeys"]
    assert cart["entered"] == 1 and [s["reached"] for s in cart["steps"]] == [1, 1, 1]
    [cart_row] = rows(ctx, Cart)
    assert cart["steps"][1]["codes"] == 1
    assert Decimal(cart["steps"][1]["code_cost"]) == (cart_row.subtotal / 10).quantize(Decimal("0.01"))


def test_an_opt_out_ends_the_run_and_takes_its_code_off_the_store(
    ctx, clock, shop, smtp, post_shopify, run_jobs, client
):
    coded_first = cart_journey(
        steps=[
            {
                "after_minutes": 60,
                "offer": {"kind": "fixed_amount", "value": 5, "expires_hours": 72},
                "messages": _message("Five off", "{{ code }}"),
            },
            {"after_minutes": 24 * 60, "messages": _message("Reminder", "Still there.")},
        ]
    )
    use_rules(ctx, shop["id"], [coded_first])
    abandon(ctx, clock, post_shopify, run_jobs, checkout_payload())
    clock.advance(minutes=60)
    assert tick(ctx, run_jobs) == 1
    [coded] = rows(ctx, Offer)
    assert coded.status == "sent" and demo_codes(ctx, shop["id"]) == {coded.code}
    html = smtp.messages[0].get_body(("html",)).get_content()
    unsubscribe = re.search(r'href="http://relance\.test(/u/[^"]+)"', html).group(1)
    assert client.post(unsubscribe).status_code == 200
    clock.advance(hours=23)
    assert tick(ctx, run_jobs) == 1
    run = the_run(ctx)
    assert (run.status, run.exit_reason) == ("ended", "unsubscribed") and len(smtp.messages) == 1
    assert rows(ctx, Offer)[0].status == "cancelled"
    code_cleanup.remove_expired(ctx)
    assert demo_codes(ctx, shop["id"]) == set()


def test_the_email_comes_from_the_merchants_name_in_the_customers_language(
    ctx, clock, shop, smtp, post_shopify, run_jobs
):
    abandon(ctx, clock, post_shopify, run_jobs, checkout_payload())
    clock.advance(minutes=60)
    tick(ctx, run_jobs)
    [message] = smtp.messages
    assert message["From"].addresses[0].display_name == "Demo Shop" and message["Content-Language"] == "fr"
    assert message["Subject"] == "FR First reminder"  # the merchant's locale: nothing known of the customer
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click" and message["Message-ID"]
    assert len(message.get_body(("html",)).get_content().encode()) < 100_000
