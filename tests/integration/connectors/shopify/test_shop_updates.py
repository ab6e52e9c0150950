"""shop/update keeps the shop row current; app/scopes_update records the granted scopes; withheld customer
fields are counted per shop and topic."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bridge.db.models import Event, Shop
from bridge.shops import updates
from tests.integration.connectors.shopify.conftest import SHOP


@pytest.fixture
def shop_id(ctx, install, run_jobs) -> int:
    assert install().status_code == 302
    run_jobs()
    with ctx.sessions() as s:
        return s.scalar(sa.select(Shop.id).where(Shop.domain == SHOP))


def shop(ctx, shop_id: int) -> Shop:
    with ctx.sessions() as s:
        return s.get(Shop, shop_id)


def statuses(ctx) -> list[str]:
    with ctx.sessions() as s:
        return sorted(s.scalars(sa.select(Event.status)))


SHOP_UPDATE = {
    "id": 548380009, "name": "Maison Ana", "currency": "CHF", "iana_timezone": "Europe/Zurich",
    "myshopify_domain": SHOP, "updated_at": "2026-11-25T10:00:00Z",
}  # fmt: skip


def test_shop_update_changes_name_currency_and_time_zone(ctx, shop_id, post_shopify, run_jobs):
    assert (shop(ctx, shop_id).currency, shop(ctx, shop_id).timezone) == ("EUR", "Europe/Paris")
    assert post_shopify("shop/update", SHOP_UPDATE, shop=SHOP).status_code == 200
    run_jobs()
    row = shop(ctx, shop_id)
    assert (row.name, row.currency, row.timezone) == ("Maison Ana", "CHF", "Europe/Zurich")
    assert statuses(ctx) == ["processed"]


def test_an_older_shop_update_does_not_undo_a_newer_one(ctx, shop_id, post_shopify, run_jobs):
    post_shopify("shop/update", SHOP_UPDATE, shop=SHOP)
    older = {**SHOP_UPDATE, "name": "Old name", "currency": "EUR", "updated_at": "2026-11-24T10:00:00Z"}
    post_shopify("shop/update", older, shop=SHOP)
    run_jobs()
    assert (shop(ctx, shop_id).name, shop(ctx, shop_id).currency) == ("Maison Ana", "CHF")


def test_an_unknown_time_zone_is_not_taken(ctx, shop_id, post_shopify, run_jobs):
    post_shopify("shop/update", {**SHOP_UPDATE, "iana_timezone": "Mars/Olympus"}, shop=SHOP)
    run_jobs()
    assert (shop(ctx, shop_id).currency, shop(ctx, shop_id).timezone) == ("CHF", "Europe/Paris")


def test_scopes_update_records_the_granted_scopes(ctx, shop_id, post_shopify, run_jobs):
    scopes = {
        "id": 1, "shop_id": 548380009, "previous": ["read_orders"],
        "current": ["read_orders", "write_customers"], "updated_at": "2026-11-25T10:00:00Z",
    }  # fmt: skip
    post_shopify("app/scopes_update", scopes, shop=SHOP)
    run_jobs()
    assert shop(ctx, shop_id).state[updates.SCOPE] == "read_orders,write_customers"


WITHHELD = {"id": 7261, "email": None, "phone": None, "first_name": None, "last_name": None}


def test_withheld_customer_fields_are_counted_per_topic(ctx, shop_id, post_shopify, run_jobs, clock):
    assert updates.redacted_summary(shop(ctx, shop_id)) is None
    post_shopify("customers/update", {**WITHHELD, "updated_at": "2026-11-25T10:00:00Z"}, shop=SHOP)
    order = {"id": 9001, "email": None, "total_price": "10.00", "created_at": "2026-11-25T10:00:00Z",
             "customer": WITHHELD}  # fmt: skip
    post_shopify("orders/create", order, shop=SHOP)
    post_shopify("orders/paid", order, shop=SHOP)
    known = {**WITHHELD, "id": 7262, "email": "ana@example.com", "updated_at": "2026-11-25T10:00:00Z"}
    post_shopify("customers/update", known, shop=SHOP)
    run_jobs()
    assert statuses(ctx) == ["processed"] * 4
    summary = updates.redacted_summary(shop(ctx, shop_id))
    assert summary["total"] == 3
    assert summary["topics"] == [("customers/update", 1), ("orders/create", 1), ("orders/paid", 1)]
    assert summary["last_at"] == clock()
