"""Every webhook delivered three times, in any order, processed at any points: the same final state as one
in-order delivery (property-based over random sequences, on PostgreSQL and Redis)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bridge import wiring
from bridge.app import create_app
from bridge.db import transaction
from bridge.db.models import Activity, Base, Cart, Event, Lead, Order
from bridge.infra.queue import QUEUES, ThreadWorker, get_queue
from bridge.shops.registry import create_shop
from tests.conftest import Clock
from tests.faults.conftest import settings_for
from tests.faults.support import checkout, customer, order, signed

DOMAIN = "shuffle.myshopify.com"
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def story(with_order: bool = True) -> list:
    """Two shoppers' deliveries in the order the store produced them."""
    out = []
    for i in (1, 2):
        out += [
            signed("customers/create", customer(i, T0), f"cc-{i}", DOMAIN),
            signed(
                "customers/update",
                customer(i, T0 + timedelta(minutes=5), first_name="Zoe"),
                f"cu-{i}",
                DOMAIN,
            ),
            signed("checkouts/create", checkout(i, T0 + timedelta(minutes=10)), f"kc-{i}", DOMAIN),
            signed(
                "checkouts/update",
                checkout(i, T0 + timedelta(minutes=20), T0 + timedelta(minutes=10), subtotal="180.00"),
                f"ku-{i}",
                DOMAIN,
            ),
        ]
    if with_order:
        out.append(signed("orders/create", order(1, T0 + timedelta(minutes=30)), "oc-1", DOMAIN))
    return sorted(out, key=_at)


def _at(delivery) -> str:
    import json

    body = json.loads(delivery[1])
    return body.get("updated_at") or body.get("created_at")


class Shop:
    """A fresh database, Redis and app per run; deliveries posted for real, jobs drained by a real worker."""

    def __init__(self, pg_url: str, redis_url: str, redis_conn: Any, tmp_path) -> None:
        self.pg_url, self.redis = pg_url, redis_conn
        self.ctx = wiring.build(
            settings_for(pg_url, redis_url, tmp_path), redis=redis_conn, clock=Clock(T0 + timedelta(hours=1))
        )
        self.client = create_app(self.ctx.settings, ctx=self.ctx).test_client()

    def reset(self) -> None:
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with self.ctx.engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL lock_timeout = '10s'"))
            conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        self.redis.flushall()
        self.ctx.signers.forget()
        with transaction(self.ctx.sessions) as s:
            create_shop(
                s, self.ctx.vault, platform="shopify", domain=DOMAIN, now=self.ctx.now(), access_token="t"
            )

    def post(self, delivery) -> None:
        path, raw, headers = delivery
        assert self.client.post(path, data=raw, headers=headers).status_code == 200

    def drain(self) -> None:
        ThreadWorker([get_queue(self.redis, q) for q in QUEUES], connection=self.redis).work(
            burst=True, logging_level="WARNING"
        )

    def snapshot(self) -> dict[str, Any]:
        """The final state by natural keys (row ids and score history depend on the order)."""
        with self.ctx.sessions() as s:
            email = dict(s.execute(sa.select(Lead.id, Lead.email)).all())
            leads = [
                (
                    lead.email,
                    lead.external_id,
                    lead.first_name,
                    lead.score,
                    lead.tier,
                    lead.accepts_marketing,
                    lead.is_customer,
                    lead.orders_count,
                    lead.last_activity_at,
                )
                for lead in s.scalars(sa.select(Lead))
            ]
            activities = [
                (email[a.lead_id], a.kind, a.occurred_at, a.ref) for a in s.scalars(sa.select(Activity))
            ]
            carts = [
                (
                    c.checkout_token,
                    c.cart_token,
                    c.status,
                    c.subtotal,
                    c.email,
                    email.get(c.lead_id),
                    c.order_id,
                    c.converted_at,
                    c.last_activity_at,
                )
                for c in s.scalars(sa.select(Cart))
            ]
            orders = [(o.order_id, o.total, email.get(o.lead_id)) for o in s.scalars(sa.select(Order))]
            events = [(e.delivery_key, e.status) for e in s.scalars(sa.select(Event))]
        return {
            k: sorted(v, key=repr)
            for k, v in {
                "leads": leads,
                "activities": activities,
                "carts": carts,
                "orders": orders,
                "events": events,
            }.items()
        }


@pytest.fixture
def shop(tmp_path, clean_pg, redis_url, redis_conn):
    run = Shop(clean_pg, redis_url, redis_conn, tmp_path)
    yield run
    run.ctx.engine.dispose()


@pytest.mark.timeout(150)
@pytest.mark.parametrize("with_order", [False, True], ids=["carts", "orders"])
def test_triple_shuffled_delivery_reaches_the_in_order_state(shop, with_order):
    deliveries = story(with_order)
    n = len(deliveries)
    shop.reset()
    for d in deliveries:
        shop.post(d)
        shop.drain()
    expected = shop.snapshot()
    assert len(expected["events"]) == n and bool(expected["orders"]) == with_order

    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(order=st.permutations(list(range(3 * n))), drains=st.sets(st.integers(0, 3 * n - 1), max_size=2))
    @example(order=[n - 1, *range(n - 1), *range(n, 3 * n)], drains=set())  # the newest delivery first
    def replay(order: list[int], drains: set[int]) -> None:
        shop.reset()
        for step, index in enumerate(order):
            shop.post(deliveries[index % n])
            if step in drains:
                shop.drain()
        shop.drain()
        assert shop.snapshot() == expected

    replay()
