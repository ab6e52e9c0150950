"""Deferred (set-based) writes of activities and product occurrences end as one write at a time does."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bridge.db import transaction
from bridge.db.models import Activity, Lead, LeadProduct, LeadProductRef, Product, Shop
from bridge.leads import deferred, people, products
from bridge.shops.registry import create_shop

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

occurrence = st.tuples(
    st.integers(0, 1),  # lead
    st.sampled_from(["p1", "p2", "p3"]),  # product
    st.sampled_from(["viewed", "added", "bought"]),
    st.sampled_from(["r1", "r2", "r3", "r4"]),  # occurrence ref
    st.integers(0, 5),  # hours after T0
    st.one_of(st.none(), st.sampled_from(["v1", "v2", "v3"])),  # variant
    st.one_of(st.none(), st.sampled_from(["Mug", "Cup"])),  # the payload's title
    st.one_of(st.none(), st.sampled_from([Decimal("9.90"), Decimal("12.00")])),
)
activity = st.tuples(
    st.integers(0, 1),
    st.sampled_from(["cart_created", "checkout_started", "product_view"]),
    st.sampled_from(["a", "b"]),
    st.integers(0, 5),
    st.booleans(),  # storefront
)


def _shop_with_leads(ctx, domain: str) -> tuple[object, list[int]]:
    with transaction(ctx.sessions) as session:
        shop = create_shop(session, ctx.vault, platform="shopify", domain=domain, now=ctx.now()).shop
        leads = [
            Lead(shop_id=shop.id, email=f"l{n}@example.com", created_at=T0, source={}, breakdown={})
            for n in range(2)
        ]
        session.add_all(leads)
        session.flush()
        return shop.id, [lead.id for lead in leads]


def _apply(ctx, shop_id: int, lead_ids: list[int], before, during, acts, defer: bool) -> None:
    """`before` stored one at a time in an earlier transaction, then `during` and `acts` in one transaction,
    deferred or not."""
    for batch, deferring in ((before, False), (during, defer)):
        with transaction(ctx.sessions) as session:
            shop = session.get(Shop, shop_id)
            leads = {i: session.get(Lead, lead_ids[i]) for i in range(2)}
            if deferring:
                deferred.begin(session)
            for lead, product, action, ref, hours, variant, title, price in batch:
                seen = [products.Seen(product, variant, title, None, price, "EUR" if price else None)]
                at = T0 + timedelta(hours=hours)
                if deferring:
                    deferred.record(session, shop, leads[lead].id, action, ref, at, seen)
                else:
                    products.record(session, shop_id, leads[lead].id, action, ref, at, seen)
            if batch is during:
                for lead, kind, ref, hours, storefront in acts:
                    at = T0 + timedelta(hours=hours)
                    if deferring:
                        deferred.add_activity(session, leads[lead], kind, at, ref, None, storefront)
                    else:
                        people.add_activity(session, leads[lead], kind, at, ref, None, storefront)
            if deferring:
                deferred.flush(session)
                deferred.end(session)


def _state(ctx, shop_id: int, lead_ids: list[int]) -> dict:
    who = {lead_id: n for n, lead_id in enumerate(lead_ids)}
    with ctx.sessions() as s:
        return {
            "products": sorted(
                (p.product_id, p.title, str(p.price), p.currency)
                for p in s.scalars(sa.select(Product).where(Product.shop_id == shop_id))
            ),
            "counts": sorted(
                (who[r.lead_id], r.product_id, r.action, r.count, r.first_at, r.last_at, r.variant_id)
                for r in s.scalars(sa.select(LeadProduct).where(LeadProduct.shop_id == shop_id))
            ),
            "refs": sorted(
                (who[r.lead_id], r.product_id, r.action, r.ref)
                for r in s.scalars(sa.select(LeadProductRef).where(LeadProductRef.lead_id.in_(lead_ids)))
            ),
            "activities": sorted(
                (who[a.lead_id], a.kind, a.ref, a.occurred_at, a.storefront)
                for a in s.scalars(sa.select(Activity).where(Activity.shop_id == shop_id))
            ),
            "latest": [s.get(Lead, lead_id).last_activity_at for lead_id in lead_ids],
        }


_shops = itertools.count()


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    before=st.lists(occurrence, max_size=4),
    during=st.lists(occurrence, min_size=1, max_size=10),
    acts=st.lists(activity, max_size=6),
)
def test_deferred_writes_end_as_one_write_at_a_time(ctx, before, during, acts):
    states = []
    for defer in (False, True):
        shop_id, lead_ids = _shop_with_leads(ctx, f"shop{next(_shops)}.myshopify.com")
        _apply(ctx, shop_id, lead_ids, before, during, acts, defer)
        states.append(_state(ctx, shop_id, lead_ids))
    assert states[0] == states[1]


def test_deferred_writes_are_a_few_statements_whatever_the_number_of_facts(ctx):
    shop_id, lead_ids = _shop_with_leads(ctx, "few.myshopify.com")
    statements: list[str] = []
    with transaction(ctx.sessions) as session:
        shop = session.get(Shop, shop_id)
        leads = [session.get(Lead, i) for i in lead_ids]
        deferred.begin(session)
        for n in range(60):
            lead = leads[n % 2]
            at = T0 + timedelta(minutes=n)
            deferred.add_activity(session, lead, "product_view", at, f"view:{n}", None)
            deferred.record(
                session, shop, lead.id, "viewed", f"day:{n % 7}", at, [products.Seen(f"p{n % 9}", "v")]
            )
        sa.event.listen(ctx.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
        new = deferred.flush(session)
        deferred.end(session)
    assert sorted(new[shop_id]) == sorted(f"p{n}" for n in range(9))
    # activities, products, claims, the variants (one executemany), the counts; beside them, the ORM's own
    # flush of the leads' latest activity
    written = [s.split("(")[0].split("=")[0].strip() for s in statements if not s.startswith("UPDATE leads")]
    assert written == [
        "INSERT INTO activities",
        "INSERT INTO products",
        "INSERT INTO lead_product_refs",
        "UPDATE lead_products SET variant_id",
        "INSERT INTO lead_products",
    ]
    state = _state(ctx, shop_id, lead_ids)
    assert len(state["activities"]) == 60
    assert sum(row[3] for row in state["counts"]) == len(state["refs"])
