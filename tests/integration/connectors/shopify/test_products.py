"""The product store against the fake Shopify: an order's products described once through product(id:), only
for a shop that granted read_products."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from bridge.db.models import Product, Shop
from bridge.shops import products as lookup
from tests.conftest import APP_SECRET, fixture
from tests.fakes.shopify_store import FakeShopify
from tests.integration.connectors.shopify.conftest import SHOP
from tests.integration.leads.test_products import lookups_due, queued_lookups

GRANTED = "read_customers,write_customers,read_orders,write_discounts,read_locales,read_products"
BOWL = "8846120518011"


@pytest.fixture
def fake() -> Iterator[FakeShopify]:
    with FakeShopify(
        shop=SHOP, api_key="test-api-key", api_secret=APP_SECRET, restore_rate=100_000, scopes=GRANTED
    ) as store:
        store.data.products[f"gid://shopify/Product/{BOWL}"] = {
            "id": f"gid://shopify/Product/{BOWL}", "title": "Ash-glaze serving bowl", "handle": "ash-bowl",
            "onlineStoreUrl": f"https://{SHOP}/products/ash-bowl", "tags": ["Handmade"],
            "featuredMedia": {"__typename": "MediaImage",
                              "preview": {"image": {"url": "https://cdn.shopify.com/s/files/bowl.jpg"}}},
            "priceRangeV2": {"minVariantPrice": {"amount": "164.0", "currencyCode": "EUR"}},
            "collections": {"nodes": [{"handle": "bowls", "title": "Bowls"}]},
        }  # fmt: skip
        yield store


@pytest.fixture
def shop_id(ctx, install, run_jobs) -> int:
    assert install().status_code == 302
    run_jobs()  # the setup job
    with ctx.sessions() as s:
        return s.scalar(sa.select(Shop.id).where(Shop.domain == SHOP))


def asked(fake: FakeShopify) -> int:
    return sum(call.operation == "RelanceProduct" for call in fake.calls)


def test_an_orders_products_are_described_once_by_the_store(ctx, fake, shop_id, post_shopify, run_jobs):
    order = fixture("shopify", "orders__create.json")
    assert post_shopify("orders/create", order, shop=SHOP).status_code == 200
    run_jobs()
    assert len(queued_lookups(ctx)) == 3  # three products (the tea towel is a custom line)
    lookups_due(ctx)
    run_jobs()
    assert asked(fake) == 3
    with ctx.sessions() as s:
        bowl = s.scalar(sa.select(Product).where(Product.product_id == BOWL))
        others = s.scalars(sa.select(Product).where(Product.product_id != BOWL)).all()
    assert (bowl.title, bowl.collections, bowl.tags, bowl.url) == (
        "Ash-glaze serving bowl", ["bowls"], ["handmade"], f"https://{SHOP}/products/ash-bowl"
    )  # fmt: skip
    assert bowl.image_url == "https://cdn.shopify.com/s/files/bowl.jpg" and bowl.looked_up_at == ctx.now()
    # the fake has no such products (deleted on the store): looked up, left as the payload said
    assert all(p.looked_up_at is not None and p.collections == [] and p.title for p in others)
    assert post_shopify("orders/paid", fixture("shopify", "orders__paid.json"), shop=SHOP).status_code == 200
    run_jobs()
    assert queued_lookups(ctx) == set() and lookup.requeue_missing(ctx) == 0
    assert asked(fake) == 3  # never asked twice
