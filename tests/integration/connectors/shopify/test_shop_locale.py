"""The shop's primary locale: read from shopLocales by the install's setup job and, once a day, by the
reconciliation; taken from shop/update; kept in the shop's state; registry.shop_locale reads it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bridge.db.models import Shop
from bridge.events import reconcile_shopify
from bridge.shops import locales
from bridge.shops.registry import shop_locale
from tests.fakes.shopify_store import FakeShopify
from tests.integration.connectors.shopify.conftest import SHOP


@pytest.fixture
def shop_id(ctx, install, run_jobs) -> int:
    assert install().status_code == 302
    run_jobs()  # the setup job
    with ctx.sessions() as s:
        return s.scalar(sa.select(Shop.id).where(Shop.domain == SHOP))


def shop(ctx, shop_id: int) -> Shop:
    with ctx.sessions() as s:
        return s.get(Shop, shop_id)


def asked(fake: FakeShopify) -> int:
    return sum(call.operation == "RelanceShopLocales" for call in fake.calls)


def test_the_setup_job_reads_the_primary_locale(ctx, fake, shop_id):
    row = shop(ctx, shop_id)
    assert shop_locale(row) == "fr" and row.state[locales.CHECKED_AT]
    assert asked(fake) == 1


def test_the_reconciliation_reads_it_again_once_a_day(ctx, fake, shop_id, clock):
    fake.data.locales = [
        {"locale": "fr", "name": "French", "primary": False, "published": True},
        {"locale": "en-CA", "name": "English", "primary": True, "published": True},
    ]
    reconcile_shopify.reconcile_shop(ctx, shop_id)
    assert shop_locale(shop(ctx, shop_id)) == "fr" and asked(fake) == 1  # asked at install, not again
    clock.advance(hours=25)
    reconcile_shopify.reconcile_shop(ctx, shop_id)
    assert shop_locale(shop(ctx, shop_id)) == "en-CA" and asked(fake) == 2


def test_without_read_locales_the_install_still_finishes(ctx, fake, install, run_jobs):
    fake.scopes = "read_customers,write_customers,read_orders,write_discounts"
    assert install().status_code == 302
    run_jobs()
    with ctx.sessions() as s:
        row = s.scalars(sa.select(Shop).where(Shop.domain == SHOP)).one()
    assert row.currency == "EUR" and row.state.get("webhooks")  # the rest of the setup happened
    assert shop_locale(row) is None and row.state[locales.CHECKED_AT]


def test_shop_update_gives_the_primary_locale(ctx, shop_id, post_shopify, run_jobs):
    update = {
        "id": 548380009, "name": "Maison Ana", "currency": "EUR", "iana_timezone": "Europe/Paris",
        "primary_locale": "de", "myshopify_domain": SHOP, "updated_at": "2026-11-25T10:00:00Z",
    }  # fmt: skip
    post_shopify("shop/update", update, shop=SHOP)
    run_jobs()
    assert shop_locale(shop(ctx, shop_id)) == "de"
    post_shopify(
        "shop/update", {**update, "primary_locale": None, "updated_at": "2026-11-26T10:00:00Z"}, shop=SHOP
    )
    run_jobs()
    assert shop_locale(shop(ctx, shop_id)) == "de"  # a payload without one erases nothing
