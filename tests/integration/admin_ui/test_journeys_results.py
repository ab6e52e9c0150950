"""Journey funnels from real rows (runs, step offers, open and click activities, orders) on SQLite and
PostgreSQL, as bridge.outreach.journey_results loads them and the journeys, lead and carts pages show them."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bridge.db import transaction
from bridge.db.models import Activity, Cart, JourneyRun, Lead, Offer, Order
from bridge.infra.context import Context
from bridge.outreach import journey_results

DAY = timedelta(days=1)


class Seeder:
    """Writes one shop's journey rows, each step's offer created when the step came due."""

    def __init__(self, session: Any, shop_id: int, start: datetime) -> None:
        self.session, self.shop_id, self.start, self.count = session, shop_id, start, 0

    def lead(self) -> Lead:
        self.count += 1
        lead = Lead(
            shop_id=self.shop_id,
            email=f"p{self.count}@example.com",
            created_at=self.start,
            source={},
            score=10,
            tier="cold",
        )
        self.session.add(lead)
        self.session.flush()
        return lead

    def run(self, lead: Lead, created: datetime | None = None, **values: Any) -> JourneyRun:
        created = created or self.start
        run = JourneyRun(
            shop_id=self.shop_id,
            lead_id=lead.id,
            journey_key="cart",
            trigger="cart_abandoned",
            instance=f"cart:{lead.id}:{created.isoformat()}",
            trigger_at=created,
            created_at=created,
            **{"status": "active", "step": 1, **values},
        )
        self.session.add(run)
        self.session.flush()
        return run

    def step(
        self, run: JourneyRun, step: int, *, holdout: bool = False, due: datetime | None = None
    ) -> Offer:
        due = due or run.created_at + timedelta(hours=1)
        offer = Offer(
            shop_id=self.shop_id,
            lead_id=run.lead_id,
            run_id=run.id,
            step=step,
            journey_key="cart",
            reason="journey",
            kind="reminder",
            value=Decimal(0),
            created_at=due,
            holdout=holdout,
            status="suppressed" if holdout else "sent",
            sent_at=None if holdout else due,
        )
        self.session.add(offer)
        self.session.flush()
        return offer

    def engaged(self, offer: Offer, kind: str) -> None:
        self.session.add(
            Activity(
                shop_id=self.shop_id,
                lead_id=offer.lead_id,
                kind=kind,
                occurred_at=offer.created_at,
                ref=f"offer:{offer.id}",
            )
        )

    def order(self, lead: Lead, at: datetime, total: str, cancelled: bool = False) -> None:
        self.count += 1
        self.session.add(
            Order(
                shop_id=self.shop_id,
                order_id=f"o{self.count}",
                lead_id=lead.id,
                total=Decimal(total),
                currency="EUR",
                created_at=at,
                cancelled_at=at + DAY if cancelled else None,
            )
        )


@pytest.fixture
def seeded(ctx: Context, signed_in: dict[str, Any]) -> dict[str, Any]:
    """Five runs of the cart journey 20 days ago (three sent step 1, two held out there), one run too old."""
    start = ctx.now() - 20 * DAY
    with transaction(ctx.sessions) as session:
        s = Seeder(session, signed_in["id"], start)
        a, b, c, d, e, old = (s.lead() for _ in range(6))
        cart = Cart(
            shop_id=signed_in["id"],
            lead_id=a.id,
            cart_token="ct-a",
            email=a.email,
            currency="EUR",
            subtotal=Decimal(80),
            items={"lines": []},
            source={},
            created_at=start,
            last_activity_at=start,
            status="abandoned",
            abandoned_at=start,
        )
        session.add(cart)
        session.flush()
        run_a = s.run(a, cart_id=cart.id, next_due_at=ctx.now() + DAY)
        sent_a = s.step(run_a, 0)
        s.engaged(sent_a, "promo_email_open")
        s.engaged(sent_a, "email_click")
        s.order(a, sent_a.created_at + DAY, "80")
        run_b = s.run(b, step=2)
        sent_b = s.step(run_b, 0)
        s.engaged(sent_b, "promo_email_open")
        s.engaged(sent_b, "email_open")  # not an offer email's open
        s.order(b, sent_b.created_at + DAY, "55", cancelled=True)  # cancelled: not an order
        s.step(run_b, 1, due=sent_b.created_at + DAY)
        held_c = s.step(s.run(c, holdout_stop=0, status="ended", exit_reason="holdout"), 0, holdout=True)
        s.order(c, held_c.created_at + 2 * DAY, "40")
        s.step(s.run(d, holdout_stop=0, status="ended", exit_reason="holdout"), 0, holdout=True)
        sent_e = s.step(s.run(e, status="ended", exit_reason="converted"), 0)
        s.order(e, sent_e.created_at + 10 * DAY, "30")  # after the 7-day window
        s.order(e, sent_e.created_at - timedelta(minutes=5), "20")  # before the step was due
        s.step(s.run(old, created=ctx.now() - 100 * DAY), 0)  # started before the 90-day period
        return {"lead": a.id, "cart": cart.id, "shop": signed_in["id"]}


def test_the_funnel_counts_each_step_and_its_holdout_group(ctx: Context, seeded: dict[str, Any]) -> None:
    now = ctx.now()
    with ctx.sessions() as session:
        funnels = journey_results.funnels(session, seeded["shop"], now - 90 * DAY, now, 7, {"cart": 3})
        started = journey_results.runs_started(session, seeded["shop"], now - 90 * DAY, now)
    first, second, third = funnels["cart"]
    counts = (first.entered, first.sent, first.opened, first.clicked, first.ordered)
    assert counts == (5, 3, 2, 1, 1)
    assert first.revenue == {"EUR": Decimal(80)}
    assert (first.treated, first.treated_ordered, first.held_out, first.held_out_ordered) == (3, 1, 2, 1)
    assert (second.entered, second.sent, second.ordered) == (1, 1, 0)
    assert third.entered == 0
    assert started == {"cart": 5}


def test_the_window_follows_the_attribution_setting(ctx: Context, seeded: dict[str, Any]) -> None:
    now = ctx.now()
    with ctx.sessions() as session:
        first = journey_results.funnels(session, seeded["shop"], now - 90 * DAY, now, 14, {})["cart"][0]
    assert (first.ordered, first.revenue) == (2, {"EUR": Decimal(110)})  # the order on day 10 counts now


def test_the_page_says_what_each_step_adds(client: Any, seeded: dict[str, Any]) -> None:
    html = client.get("/admin/journeys").get_data(as_text=True)
    section = html[html.index('id="journey-cart"') :]
    section = section[: section.index("</section>")]
    # 1/3 ordered against 1/2: minus 16.7 points, with an interval far too wide to conclude.
    assert "Step 1&#39;s email: \u221216.7 points of recovery, 95 % interval \u2212" in section
    assert "not yet conclusive" in section
    assert "Step 2&#39;s email: no run held out at this step yet" in section
    assert "Step 3&#39;s code: no run reached this step yet." in section
    assert "5 run(s) started" in section
    row = section[section.index('data-step="1"') :][:700]
    assert ">5</td>" in row and ">€80.00</td>" in row  # CLDR's English money
    short = client.get("/admin/journeys?days=30").get_data(as_text=True)
    assert 'href="/admin/journeys?days=30" aria-current="true"' in short


def test_the_lead_and_carts_pages_show_their_runs(client: Any, ctx: Context, seeded: dict[str, Any]) -> None:
    lead = client.get(f"/admin/leads/{seeded['lead']}").get_data(as_text=True)
    runs = lead[lead.index('id="journey-runs"') :][:2000]
    assert "Panier abandonné" in runs and "1 of 3" in runs and "Nov 26, 2026 10:00\u202fAM UTC" in runs
    carts = client.get("/admin/carts").get_data(as_text=True)
    assert "Panier abandonné: step 1 of 3, next in 24 hours" in carts


def test_the_french_page_writes_the_effect_with_french_numbers(client: Any, seeded: dict[str, Any]) -> None:
    html = client.get("/admin/journeys?locale=fr").get_data(as_text=True)
    section = html[html.index('id="journey-cart"') :]
    section = section[: section.index("</section>")]
    assert "\u221216,7" in section  # a decimal comma and a true minus sign
    assert "\u221216.7" not in section
