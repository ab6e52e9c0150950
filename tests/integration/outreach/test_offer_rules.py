# ruff: noqa: F811 (pytest fixtures imported from test_campaigns are named as arguments)
"""The rules of a journey's code step where the policy meets stored data: the shop's clock, consent, the
budget, live codes, carts that come back to life, and attribution of orders to offers and carts."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

import campaigns
from bridge import jobs
from bridge.db import transaction
from bridge.db.models import Activity, Cart, JourneyRun, Lead, Offer, Order, Shop
from bridge.infra import queue
from bridge.infra.context import Context
from bridge.outreach import code_cleanup, codes, steps, sweep, triggers
from tests.integration.outreach.journeys_helpers import runs, send_due_steps
from tests.integration.outreach.test_campaigns import (  # noqa: F401 (fixtures)
    abandon,
    checkout_payload,
    demo_codes,
    order_payload,
    rows,
    set_campaign,
    shop,
    smtp,
    start_and_step,
)


def set_shop_zone(ctx: Context, shop_id: int, zone: str) -> None:
    with transaction(ctx.sessions) as session:
        session.get(Shop, shop_id).timezone = zone


def checkout_at(ctx, post_shopify, run_jobs, at: str, **kwargs) -> dict:
    checkout = checkout_payload(**kwargs)
    checkout.update(created_at=at, updated_at=at)
    assert post_shopify("checkouts/create", checkout).status_code == 200
    run_jobs()
    return checkout


def test_quiet_hours_and_expiry_follow_the_shops_time_zone(ctx, clock, shop, smtp, post_shopify, run_jobs):
    """Default settings name no time zone: the shop's own (from the store) applies, not UTC."""
    set_shop_zone(ctx, shop["id"], "America/New_York")
    set_campaign(ctx, shop["id"], quiet_hours={"start": "21:00", "end": "08:00"}, timezone=None)
    clock.now = datetime(2026, 11, 25, 10, 50, tzinfo=UTC)
    checkout_at(ctx, post_shopify, run_jobs, "2026-11-25T10:50:00Z")
    clock.advance(minutes=70)  # 12:00 UTC = 07:00 in New York: quiet there, daytime in UTC
    assert sweep.sweep(ctx) == 1
    run_jobs()
    assert send_due_steps(ctx, clock, run_jobs) == 1  # due at 12:01: held back, not dropped
    [run] = runs(ctx)
    eight_in_new_york = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
    assert (run.status, run.deferred_reason, run.next_due_at) == ("active", "quiet_hours", eight_in_new_york)
    assert rows(ctx, Offer) == [] and smtp.messages == []
    send_due_steps(ctx, clock, run_jobs, minutes=58)
    assert rows(ctx, Offer) == [] and smtp.messages == []  # 07:59 in New York: still quiet
    send_due_steps(ctx, clock, run_jobs)
    [offer] = rows(ctx, Offer)
    assert offer.decision == "eligible" and offer.send_at == eight_in_new_york
    assert offer.expires_at == eight_in_new_york + timedelta(hours=24)  # a full day from when it arrives
    assert offer.status == "sent"
    [message] = smtp.messages
    text = message.get_body(("plain",)).get_content()
    assert "Thursday, November 26, 8:00\u202fAM" in text  # CLDR's English, in the shop's zone


def test_an_explicit_campaign_time_zone_wins_over_the_shops(ctx, clock, shop, post_shopify, run_jobs):
    set_shop_zone(ctx, shop["id"], "America/New_York")
    set_campaign(ctx, shop["id"], quiet_hours={"start": "21:00", "end": "08:00"}, timezone="Europe/Paris")
    clock.now = datetime(2026, 11, 25, 10, 50, tzinfo=UTC)
    checkout_at(ctx, post_shopify, run_jobs, "2026-11-25T10:50:00Z")
    clock.advance(minutes=70)  # 13:00 in Paris: not quiet
    sweep.sweep(ctx)
    run_jobs()
    send_due_steps(ctx, clock, run_jobs)
    [run] = runs(ctx)
    assert run.deferred_reason is None
    [offer] = rows(ctx, Offer)
    assert offer.decision == "eligible" and offer.send_at == clock.now


def test_a_withdrawn_consent_beats_the_older_checkout_consent(ctx, clock, shop, smtp, post_shopify, run_jobs):
    checkout = checkout_payload()  # accepts marketing at 09:50
    customer = {
        "id": checkout["customer"]["id"],
        "email": checkout["email"],
        "email_marketing_consent": {"state": "unsubscribed", "consent_updated_at": "2026-11-25T10:00:00Z"},
        "accepts_marketing": False,
        "created_at": "2026-11-20T10:00:00Z",
        "updated_at": "2026-11-25T10:00:00Z",
    }
    assert post_shopify("checkouts/create", checkout).status_code == 200
    assert post_shopify("customers/update", customer).status_code == 200
    run_jobs()
    clock.advance(minutes=61)
    assert sweep.sweep(ctx) == 1
    run_jobs()
    send_due_steps(ctx, clock, run_jobs)
    [run] = runs(ctx)
    assert (run.status, run.exit_reason) == ("ended", "no_consent")
    assert rows(ctx, Offer) == [] and smtp.messages == []


def test_a_cart_touched_after_it_was_marked_is_active_again_then_started_once_idle(
    ctx, clock, shop, smtp, post_shopify, run_jobs
):
    checkout = checkout_at(ctx, post_shopify, run_jobs, "2026-11-25T09:50:00Z")
    clock.advance(minutes=61)
    [cart] = rows(ctx, Cart)
    assert sweep.mark_abandoned(ctx, shop["id"], [cart.id], clock.now) == [cart.id]
    checkout.update(updated_at=clock.now.isoformat())  # the shopper is back before the decision ran
    assert post_shopify("checkouts/update", checkout).status_code == 200
    run_jobs()
    assert triggers.start_cart_run(ctx, cart.id) == "active_again"
    [cart] = rows(ctx, Cart)
    assert (cart.status, cart.abandoned_at) == ("active", None)
    assert runs(ctx) == [] and rows(ctx, Offer) == [] and smtp.messages == []
    assert not [a for a in rows(ctx, Activity) if a.kind == "cart_abandoned"]
    clock.advance(minutes=61)
    assert sweep.sweep(ctx) == 1
    run_jobs()
    send_due_steps(ctx, clock, run_jobs)
    [offer] = rows(ctx, Offer)
    assert offer.status == "sent" and len(smtp.messages) == 1


def test_a_lengthened_delay_puts_a_marked_cart_back(ctx, clock, shop, post_shopify, run_jobs):
    checkout_at(ctx, post_shopify, run_jobs, "2026-11-25T09:50:00Z")
    clock.advance(minutes=61)
    [cart] = rows(ctx, Cart)
    sweep.mark_abandoned(ctx, shop["id"], [cart.id], clock.now)
    set_campaign(ctx, shop["id"], abandonment_delay_minutes=120)
    assert triggers.start_cart_run(ctx, cart.id) == "active_again"
    assert runs(ctx) == []


def test_a_planned_code_counts_as_live(ctx, clock, shop, post_shopify, run_jobs):
    """With no pressure limits, one customer still holds one live code at a time, planned ones included: the
    second code step goes out as a reminder."""
    set_campaign(ctx, shop["id"], pressure=None)
    checkout_at(ctx, post_shopify, run_jobs, "2026-11-25T09:50:00Z", token="chk-1")
    checkout_at(ctx, post_shopify, run_jobs, "2026-11-25T09:50:00Z", token="chk-2")
    clock.advance(minutes=61)
    first, second = sorted(c.id for c in rows(ctx, Cart))
    sweep.mark_abandoned(ctx, shop["id"], [first, second], clock.now)
    first_offer = start_and_step(ctx, clock, first)  # planned: its code job not run yet
    assert triggers.start_cart_run(ctx, second) == "started"
    [run] = runs(ctx, JourneyRun.cart_id == second)
    assert steps.advance(ctx, run.id) == "sent"
    decisions = {o.cart_id: (o.status, o.decision, o.kind, o.code) for o in rows(ctx, Offer)}
    assert decisions == {
        first: ("planned", "eligible", "percentage", first_offer.code),
        second: ("created", "live_code_exists", "reminder", None),
    }


def hot_lead(
    ctx: Context, shop_id: int, now: datetime, cart_value: str | None = None, email: str = "hot@example.com"
) -> int:
    """A hot lead who accepts marketing (with a past cart of this value, if given); returns its id."""
    with transaction(ctx.sessions) as session:
        lead = Lead(
            shop_id=shop_id,
            email=email,
            accepts_marketing=True,
            tier="hot",
            score=99,
            created_at=now,
            last_activity_at=now,
        )
        session.add(lead)
        session.flush()
        if cart_value is not None:
            session.add(
                Cart(
                    shop_id=shop_id,
                    lead_id=lead.id,
                    email=lead.email,
                    cart_token=f"c-{email}",
                    subtotal=Decimal(cart_value),
                    currency="EUR",
                    status="converted",
                    created_at=now,
                    last_activity_at=now,
                )
            )
        return lead.id


def hot_run(ctx: Context, clock, lead_id: int) -> int:
    """The lead enters the hot-lead journey; a minute later its step is due. The run's id."""
    assert jobs.enter_tier(lead_id) == "started"
    clock.advance(minutes=1)
    [run] = runs(ctx, JourneyRun.lead_id == lead_id)
    return run.id


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # parallel workers need PostgreSQL
def test_a_step_waits_for_another_decision_on_the_same_lead(ctx, clock, shop):
    """A decision in flight holds the lead; a step for the same lead waits for it, then sees its offer
    (without the lock it would read no offer and make a second one)."""
    lead_id = hot_lead(ctx, shop["id"], clock.now)
    run_id = hot_run(ctx, clock, lead_id)
    results: list[str] = []
    decider = threading.Thread(target=lambda: results.append(steps.advance(ctx, run_id)))
    with transaction(ctx.sessions) as session:  # the other decision, not yet committed
        session.get(Lead, lead_id, with_for_update=True)
        session.add(
            Offer(
                shop_id=shop["id"],
                lead_id=lead_id,
                reason="abandoned_cart",
                status="planned",
                decision="eligible",
                code="OTHERDECISION",
                created_at=clock.now,
                expires_at=clock.now + timedelta(hours=24),
            )
        )
        session.flush()
        decider.start()
        decider.join(1.5)
        assert decider.is_alive() and results == []  # waiting on the lead's row lock
    decider.join(30)
    assert results == ["deferred:min_gap"]  # the pressure: it saw the committed offer
    assert [o.code for o in rows(ctx, Offer)] == ["OTHERDECISION"]


def test_a_percentage_offer_without_a_cart_still_counts_against_the_budget(ctx, clock, shop, post_shopify):
    """A hot lead's percentage code (10 %) is priced at the lead's latest cart (10 % of 398.00 = 39.80); a
    budget that cannot pay for it mints no code: the step goes out as a reminder."""
    set_campaign(ctx, shop["id"], monthly_budget=30)
    lead_id = hot_lead(ctx, shop["id"], clock.now, cart_value="398.00")
    assert steps.advance(ctx, hot_run(ctx, clock, lead_id)) == "sent"
    [reminder] = rows(ctx, Offer)
    assert (reminder.decision, reminder.kind, reminder.code, reminder.cost) == (
        "budget_exhausted",
        "reminder",
        None,
        None,
    )
    set_campaign(ctx, shop["id"], monthly_budget=50)
    other = hot_lead(ctx, shop["id"], clock.now, cart_value="398.00", email="hot2@example.com")
    assert steps.advance(ctx, hot_run(ctx, clock, other)) == "sent"
    [offer] = rows(ctx, Offer, Offer.lead_id == other)
    assert (offer.status, offer.reason, offer.cost) == (
        "planned",
        "hot_lead",
        Decimal("39.80"),
    ) and offer.code


def test_expired_codes_give_their_budget_back(ctx, clock, shop, post_shopify, run_jobs):
    set_campaign(ctx, shop["id"], monthly_budget=50, pressure=None)
    abandon(ctx, clock, post_shopify, run_jobs, checkout_payload(email="one@example.com", token="chk-1"))
    [first] = rows(ctx, Offer)
    assert first.status == "sent" and first.cost == Decimal("38.80")  # 10 % of the checkout's 388.00

    def decision_for_a_new_checkout(email: str, token: str) -> str:
        checkout_at(ctx, post_shopify, run_jobs, clock.now.isoformat(), email=email, token=token)
        clock.advance(minutes=61)
        sweep.sweep(ctx)
        run_jobs()
        send_due_steps(ctx, clock, run_jobs)
        return rows(ctx, Offer, Offer.recipient == email)[0].decision

    assert decision_for_a_new_checkout("two@example.com", "chk-2") == "budget_exhausted"  # 38.80 * 2 > 50
    clock.advance(hours=25)
    assert code_cleanup.remove_expired(ctx) >= 1
    # The first code expired unused: it no longer spends the budget.
    assert decision_for_a_new_checkout("three@example.com", "chk-3") == "eligible"


def test_a_stuck_code_job_still_waiting_is_not_queued_twice(ctx, clock, shop, post_shopify, run_jobs):
    checkout_at(ctx, post_shopify, run_jobs, "2026-11-25T09:50:00Z")
    clock.advance(minutes=61)
    [cart] = rows(ctx, Cart)
    sweep.mark_abandoned(ctx, shop["id"], [cart.id], clock.now)
    offer = start_and_step(ctx, clock, cart.id)  # queues code-<id>, which no worker has taken yet
    clock.advance(minutes=20)
    assert codes.retry_stuck_codes(ctx) == 0
    queue.get_queue(ctx.redis, queue.CAMPAIGNS).empty()  # the job is lost (a Redis flush, a crash)
    assert codes.retry_stuck_codes(ctx) == 1
    run_jobs()
    assert rows(ctx, Offer)[0].status == "sent" and demo_codes(ctx, shop["id"]) == {offer.code}


def test_an_order_placed_before_the_sweep_is_no_recovery(ctx, clock, shop, post_shopify, run_jobs):
    """The order was placed during the delay but its webhook came after the sweep marked the cart."""
    checkout = checkout_at(ctx, post_shopify, run_jobs, "2026-11-25T09:50:00Z")
    clock.advance(minutes=61)
    [cart] = rows(ctx, Cart)
    sweep.mark_abandoned(ctx, shop["id"], [cart.id], clock.now)
    order = order_payload(checkout, [])
    order.update(created_at="2026-11-25T10:20:00Z", updated_at="2026-11-25T10:20:00Z")
    post_shopify("orders/create", order)
    run_jobs()
    [cart] = rows(ctx, Cart)
    assert cart.status == "converted"


def test_an_order_using_our_code_on_a_new_checkout_recovers_the_offers_cart(
    ctx, clock, shop, post_shopify, run_jobs
):
    checkout = checkout_payload()
    abandon(ctx, clock, post_shopify, run_jobs, checkout)
    [offer] = rows(ctx, Offer)
    clock.advance(hours=1)
    elsewhere = {**checkout, "token": "chk-new", "cart_token": "cart-new"}
    order = order_payload(elsewhere, [offer.code])
    order.update(created_at=clock.now.isoformat(), updated_at=clock.now.isoformat())
    post_shopify("orders/create", order)
    run_jobs()
    [offer] = rows(ctx, Offer)
    [cart] = rows(ctx, Cart)
    assert offer.status == "redeemed" and offer.cost == Decimal("39.80")  # the order's own discount amount
    assert cart.status == "recovered" and cart.order_total == Decimal("358.20")


def test_the_code_of_a_cancelled_offer_is_not_a_redemption(ctx, clock, shop, post_shopify, run_jobs):
    checkout = checkout_payload()
    abandon(ctx, clock, post_shopify, run_jobs, checkout)
    [offer] = rows(ctx, Offer)
    with transaction(ctx.sessions) as session:
        session.get(Offer, offer.id).status = "cancelled"
    order = order_payload({**checkout, "token": "chk-new", "cart_token": "cart-new"}, [offer.code])
    post_shopify("orders/create", order)
    run_jobs()
    [offer] = rows(ctx, Offer)
    assert offer.status == "cancelled" and offer.redeemed_at is None
    assert [o.order_id for o in rows(ctx, Order)] == [str(order["id"])]


def test_the_redeemed_cost_is_what_the_order_got(ctx, clock, shop, post_shopify, run_jobs):
    checkout = checkout_payload()
    abandon(ctx, clock, post_shopify, run_jobs, checkout)
    order = order_payload(checkout, [rows(ctx, Offer)[0].code])
    order["discount_codes"][0]["amount"] = "12.34"
    post_shopify("orders/create", order)
    run_jobs()
    [offer] = rows(ctx, Offer)
    assert offer.status == "redeemed" and offer.cost == Decimal("12.34")


def test_default_settings_name_no_time_zone() -> None:
    assert campaigns.DEFAULT_CAMPAIGN["timezone"] is None
    assert campaigns.load_campaign(campaigns.DEFAULT_CAMPAIGN).timezone is None


def test_consent_withdrawn_before_the_send_cancels_the_offer(ctx, clock, shop, smtp, post_shopify, run_jobs):
    checkout = checkout_at(ctx, post_shopify, run_jobs, "2026-11-25T09:50:00Z")
    clock.advance(minutes=61)
    [cart] = rows(ctx, Cart)
    sweep.mark_abandoned(ctx, shop["id"], [cart.id], clock.now)
    offer = start_and_step(ctx, clock, cart.id)
    assert offer.decision == "eligible"
    assert codes.create_on_store(ctx, offer.id) == "created"
    customer = {
        "id": checkout["customer"]["id"],
        "email": checkout["email"],
        "accepts_marketing": False,
        "created_at": "2026-11-20T10:00:00Z",
        "updated_at": clock.now.isoformat(),
    }
    assert post_shopify("customers/update", customer).status_code == 200
    run_jobs()  # the customer update, then the queued delivery's final check
    [offer] = rows(ctx, Offer)
    assert (offer.status, offer.decision) == ("cancelled", "consent_withdrawn")
    assert smtp.messages == [] and demo_codes(ctx, shop["id"]) == set()


def test_a_late_delivery_never_mails_in_quiet_hours(ctx, clock, shop, smtp, post_shopify, run_jobs):
    """A delivery that runs late (a retry, a redelivery after a crash) and lands in the quiet hours waits for
    their end under a job of its own."""
    checkout_at(ctx, post_shopify, run_jobs, "2026-11-25T09:50:00Z")
    clock.advance(minutes=61)
    [cart] = rows(ctx, Cart)
    sweep.mark_abandoned(ctx, shop["id"], [cart.id], clock.now)
    offer = start_and_step(ctx, clock, cart.id)
    assert codes.create_on_store(ctx, offer.id) == "created"
    set_campaign(ctx, shop["id"], quiet_hours={"start": "10:00", "end": "18:00"}, timezone="UTC")
    assert jobs.deliver_offer(offer.id) == "quiet_hours"
    [offer] = rows(ctx, Offer)
    six_pm = datetime(2026, 11, 25, 18, 0, tzinfo=UTC)
    assert (offer.status, offer.send_at) == ("created", six_pm) and smtp.messages == []
    scheduled = queue.get_queue(ctx.redis, queue.CAMPAIGNS).scheduled_job_registry.get_job_ids()
    assert f"deliver-{offer.id}-at-{int(six_pm.timestamp())}" in scheduled
    clock.now = six_pm
    assert jobs.deliver_offer(offer.id) == "sent" and len(smtp.messages) == 1


def test_one_order_recovers_one_cart(ctx, clock, shop, post_shopify, run_jobs):
    """A customer abandons a cart (offer sent), then a second one, and pays the second with the first's
    code: the second cart is the recovered one, and the order's total counts once."""
    first = checkout_payload(token="chk-1")
    abandon(ctx, clock, post_shopify, run_jobs, first)
    [offer] = rows(ctx, Offer)
    second = checkout_at(ctx, post_shopify, run_jobs, clock.now.isoformat(), token="chk-2")
    clock.advance(minutes=61)
    sweep.sweep(ctx)
    run_jobs()
    order = order_payload(second, [offer.code])
    order.update(created_at=clock.now.isoformat(), updated_at=clock.now.isoformat())
    post_shopify("orders/create", order)
    run_jobs()
    statuses = {c.checkout_token: c.status for c in rows(ctx, Cart)}
    assert statuses == {"chk-1": "abandoned", "chk-2": "recovered"}
    assert rows(ctx, Offer, Offer.id == offer.id)[0].status == "redeemed"
