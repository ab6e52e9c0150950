"""Incremental net revenue from real rows (journey runs, step offers, orders, codes, score changes) on SQLite
and PostgreSQL: what bridge.outreach.earnings loads, what GET /api/v1/metrics answers, and the overview's
cache filled by the real job on Redis. Each figure is worked out by hand from the rows written."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from bridge.db import transaction
from bridge.db.models import JourneyRun, Lead, Offer, Order, ScoreChange, Shop
from bridge.infra.context import Context
from bridge.outreach import earnings

DAY = timedelta(days=1)
_numbers = itertools.count(1)


class Seeder:
    """Runs of one journey, each with its step-0 offer row (held out or sent) and the lead's orders."""

    def __init__(self, session: Any, shop_id: int, start: Any) -> None:
        self.session, self.shop_id, self.start = session, shop_id, start

    def run(
        self,
        journey: str = "cart",
        *,
        holdout: bool = False,
        order: str | None = None,
        code_cost: str | None = None,
        currency: str = "EUR",
        order_after: timedelta = DAY,
        tier: str | None = None,
        steps: int = 1,
    ) -> JourneyRun:
        n = next(_numbers)
        lead = Lead(shop_id=self.shop_id, email=f"e{n}@example.com", created_at=self.start, source={})
        self.session.add(lead)
        self.session.flush()
        if tier is not None:
            self.session.add(
                ScoreChange(
                    lead_id=lead.id,
                    at=self.start - DAY,
                    old_score=0,
                    new_score=60,
                    old_tier="cold",
                    new_tier=tier,
                    reason="test",
                )
            )
        run = JourneyRun(
            shop_id=self.shop_id,
            lead_id=lead.id,
            journey_key=journey,
            trigger="cart_abandoned" if journey.startswith("cart") else "signup",
            instance=f"{journey}:{n}",
            trigger_at=self.start,
            created_at=self.start,
            status="ended",
            step=1,
            holdout_stop=0 if holdout else None,
        )
        self.session.add(run)
        self.session.flush()
        due = self.start + timedelta(hours=1)
        for step in range(steps):
            offer = Offer(
                shop_id=self.shop_id,
                lead_id=lead.id,
                run_id=run.id,
                step=step,
                journey_key=journey,
                reason="journey",
                kind="percentage",
                value=Decimal(10),
                created_at=due + step * DAY,
                holdout=holdout,
                status="suppressed" if holdout else "sent",
                sent_at=None if holdout else due + step * DAY,
                code=None if holdout else f"C{n}-{step}",
            )
            self.session.add(offer)
            if order is not None and step == 0:
                placed = due + order_after
                self.session.add(
                    Order(
                        shop_id=self.shop_id,
                        order_id=f"o{n}",
                        lead_id=lead.id,
                        total=Decimal(order),
                        currency=currency,
                        created_at=placed,
                    )
                )
                if code_cost is not None:
                    offer.redeemed_at, offer.cost, offer.order_id = placed, Decimal(code_cost), f"o{n}"
        self.session.flush()
        return run


@pytest.fixture
def period(ctx: Context) -> tuple[Any, Any]:
    return ctx.now() - 30 * DAY, ctx.now()


@pytest.fixture
def seed(ctx: Context, shopify_shop: dict[str, Any], period: tuple[Any, Any]) -> Callable[..., None]:
    def write(build: Callable[[Seeder], None]) -> None:
        with transaction(ctx.sessions) as session:
            session.get(Shop, shopify_shop["id"]).currency = "EUR"
            build(Seeder(session, shopify_shop["id"], period[0] + DAY))

    return write


def _compute(ctx: Context, shop_id: int, period: tuple[Any, Any]) -> dict[str, Any]:
    with ctx.sessions() as session:
        return earnings.compute(session, shop_id, *period)


def test_net_revenue_subtracts_codes_and_leaves_out_what_does_not_count(
    ctx: Context, shopify_shop: dict[str, Any], seed: Callable[..., None], period: tuple[Any, Any]
) -> None:
    def build(s: Seeder) -> None:
        s.run(order="90", code_cost="10")  # 100 with a 10 code: 90 paid
        s.run(order="50", currency="USD")  # another currency: left out
        s.run(order="70", order_after=30 * DAY)  # after the 7-day attribution window
        s.run()  # nothing
        s.run(holdout=True, order="40")
        s.run(holdout=True)

    seed(build)
    found = _compute(ctx, shopify_shop["id"], period)
    cart = found["journeys"]["cart"]
    assert (cart["treated_runs"], cart["holdout_runs"], cart["treated_orders"], cart["holdout_orders"]) == (
        4,
        2,
        1,
        1,
    )
    # (90 / 4 - 40 / 2) x 4 treated runs = 10
    assert cart["value"] == "10.00" and cart["currency"] == "EUR"
    assert cart["low"] is None and cart["high"] is None  # far too few orders to say how sure
    assert found["value"] == "10.00" and found["low"] is None
    assert found["per_1000_abandoned_carts"]["value"] == "2500.00"  # 10 / 4 runs x 1,000


def test_enough_data_gives_an_interval_per_journey_step_tier_and_in_total(
    ctx: Context, shopify_shop: dict[str, Any], seed: Callable[..., None], period: tuple[Any, Any]
) -> None:
    def build(s: Seeder) -> None:
        for i in range(400):  # treated: 1 in 4 orders 100 with a 10 code (90 paid)
            s.run(order="90" if i % 4 == 0 else None, code_cost="10", tier="hot" if i % 2 else "warm")
        for i in range(200):  # held out: 1 in 8 orders 100
            s.run(holdout=True, order="100" if i % 8 == 0 else None, tier="hot" if i % 2 else "warm")
        for _ in range(10):
            s.run("welcome")  # a journey with no holdout run yet: nothing to compare with

    seed(build)
    found = _compute(ctx, shopify_shop["id"], period)
    cart = found["journeys"]["cart"]
    # per run: 100 x 90 / 400 - 25 x 100 / 200 = 22.5 - 12.5 = 10; x 400 treated runs
    assert cart["value"] == "4000.00"
    assert cart["per_run"]["value"] == "10.00"
    low, high = Decimal(cart["low"]), Decimal(cart["high"])
    assert Decimal(0) < low < Decimal(4000) < high
    assert [step["step"] for step in cart["steps"]] == [0]
    assert cart["steps"][0]["value"] == "4000.00"
    assert found["value"] == "4000.00" and found["low"] == cart["low"] and found["high"] == cart["high"]
    assert found["unmeasured_runs"] == 10
    assert found["journeys"]["welcome"]["value"] is None
    assert set(found["tiers"]) == {"cold", "hot", "warm"}  # the welcome runs' leads have no score change
    assert found["tiers"]["cold"]["value"] is None
    assert Decimal(found["tiers"]["hot"]["value"]) + Decimal(found["tiers"]["warm"]["value"]) == Decimal(4000)
    assert found["per_1000_abandoned_carts"]["value"] == "10000.00"


def test_the_api_answers_with_the_headline_and_the_overview_reads_the_job_s_cache(
    ctx: Context,
    client: Any,
    shopify_shop: dict[str, Any],
    seed: Callable[..., None],
    period: tuple[Any, Any],
    run_jobs: Callable[[], None],
) -> None:
    seed(lambda s: [s.run(order="90", code_cost="10"), s.run(holdout=True)])
    auth = {"Authorization": f"Bearer {shopify_shop['api_key']}"}
    body = client.get("/api/v1/metrics", headers=auth).get_json()
    headline = body["incremental_net_revenue"]
    assert {"value", "low", "high", "currency", "journeys", "tiers"} <= set(headline)
    assert headline["value"] == "90.00" and headline["low"] is None
    start, end = period
    assert earnings.cached(ctx.redis, shopify_shop["id"], start, end) is None
    earnings.request_refresh(ctx, shopify_shop["id"], start, end)
    run_jobs()
    cached = earnings.cached(ctx.redis, shopify_shop["id"], start, end)
    assert cached is not None and cached["incremental_net_revenue"]["value"] == "90.00"
    assert cached["calibration"]["window_days"] == 14
