"""The product store: what leads view, add and buy, recorded from every source once, looked up once on the
store, read by the messages, shown and exported with the lead, and erased with it."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import responses
import sqlalchemy as sa
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from bridge.db import transaction
from bridge.db.models import Cart, Lead, LeadProduct, LeadProductRef, Product, Shop
from bridge.events import apply
from bridge.infra import jobnames
from bridge.infra.queue import MAINTENANCE, get_queue
from bridge.leads import erasure
from bridge.leads import products as store
from bridge.outreach import message
from bridge.shops import products as lookup
from connectors.base import StoreError
from connectors.woocommerce.client import WooClient
from connectors.woocommerce.normalize import order_facts
from tests.conftest import fixture

GRAPHQL = "https://demo.myshopify.com/admin/api/2026-10/graphql.json"
WOO = "https://shop.example.com"
CART_TOKEN = "a3d9e6f1c2b84f07b5e1d2c3f4a5b6c7"  # the checkouts__create fixture's cart
BOWL, PLATES, MUG = "8846120518011", "8846120518244", "8846120517733009152"


def body(name: str, **changes: Any) -> bytes:
    return json.dumps(json.loads(fixture("shopify", name)) | changes).encode()


def rows(ctx, lead_id: int | None = None) -> dict[tuple[str, str], tuple[int, str | None]]:
    """(product, action) -> (count, variant) of the lead's products (every lead's when None)."""
    with ctx.sessions() as s:
        query = sa.select(LeadProduct)
        if lead_id is not None:
            query = query.where(LeadProduct.lead_id == lead_id)
        return {(r.product_id, r.action): (r.count, r.variant_id) for r in s.scalars(query)}


def product(ctx, shop_id: int, product_id: str) -> Product:
    with ctx.sessions() as s:
        found = s.scalar(
            sa.select(Product).where(Product.shop_id == shop_id, Product.product_id == product_id)
        )
        assert found is not None
        return found


def lead_id(ctx, email: str) -> int:
    with ctx.sessions() as s:
        return s.scalars(sa.select(Lead.id).where(Lead.email == email)).one()


def customer(ctx, external_id: str) -> int:
    with ctx.sessions() as s:
        return s.scalars(sa.select(Lead.id).where(Lead.external_id == external_id)).one()


def queued_lookups(ctx) -> set[str]:
    """The product lookups RQ holds, scheduled LOOKUP_DELAY later."""
    registry = ScheduledJobRegistry(queue=get_queue(ctx.redis, MAINTENANCE))
    return {j for j in registry.get_job_ids() if j.startswith("product-")}


def lookups_due(ctx) -> None:
    """Move the scheduled lookups into their queue now (as RQ's scheduler does LOOKUP_DELAY later)."""
    lookups = get_queue(ctx.redis, MAINTENANCE)
    registry = ScheduledJobRegistry(queue=lookups)
    for job_id in registry.get_job_ids():
        job = Job.fetch(job_id, connection=ctx.redis)
        registry.remove(job)
        lookups.enqueue_job(job)


@pytest.fixture
def fresh_token(ctx, shopify_shop) -> None:
    """The shop holds an expiring access token good for a month (no token call before the GraphQL one)."""
    with transaction(ctx.sessions) as s:
        shop = s.get(Shop, shopify_shop["id"])
        shop.token_expires_at = ctx.now() + timedelta(days=30)
        shop.refresh_token_enc = ctx.vault.encrypt("shprt_test")


def grant(ctx, shop_id: int, scope: str) -> None:
    with transaction(ctx.sessions) as s:
        shop = s.get(Shop, shop_id)
        shop.state = {**(shop.state or {}), "shopify_scope": scope}


# Recording: Shopify carts, checkouts and orders


def test_a_checkout_records_what_its_buyer_added_and_the_cart_after_it_too(
    ctx, shopify_shop, post_shopify, run_jobs
):
    # the cart comes first and names nobody: nothing to record yet
    cart = body("carts__update.json", token=CART_TOKEN, id=CART_TOKEN)
    assert post_shopify("carts/update", cart).status_code == 200
    run_jobs()
    assert rows(ctx) == {}
    assert post_shopify("checkouts/create", fixture("shopify", "checkouts__create.json")).status_code == 200
    run_jobs()
    ana = lead_id(ctx, "kwame.asante@example.net")  # the account's own address
    assert rows(ctx, ana) == {
        (BOWL, "added"): (1, "47310293911402"),
        (PLATES, "added"): (1, "47310293955770"),
    }
    bowl = product(ctx, shopify_shop["id"], BOWL)
    assert (bowl.title, bowl.price, bowl.currency, bowl.looked_up_at) == (
        "Ash-glaze serving bowl",
        Decimal("164.00"),
        "EUR",
        None,
    )
    # a later cart update of the same cart: its lead is known now (through the checkout)
    later = body("carts__update.json", token=CART_TOKEN, id=CART_TOKEN, updated_at="2022-03-01T09:30:00Z")
    assert post_shopify("carts/update", later).status_code == 200
    # the same checkout delivered again (another webhook id): counted once
    assert post_shopify("checkouts/update", fixture("shopify", "checkouts__create.json")).status_code == 200
    run_jobs()
    assert rows(ctx, ana) == {
        (BOWL, "added"): (1, "47310293911402"),
        (PLATES, "added"): (1, "47310293955770"),
        (MUG, "added"): (1, "4731029384722155613"),
    }


def test_an_order_records_what_was_bought_once_whatever_the_replays(
    ctx, shopify_shop, post_shopify, run_jobs
):
    assert post_shopify("orders/create", fixture("shopify", "orders__create.json")).status_code == 200
    assert post_shopify("orders/paid", fixture("shopify", "orders__paid.json")).status_code == 200
    assert post_shopify("orders/create", fixture("shopify", "orders__create.json")).status_code == 200
    run_jobs()
    kwame = customer(ctx, "5281746093317720461")
    # the tea towel is a custom line (no product id): not a product
    assert {key: count for key, (count, _) in rows(ctx, kwame).items()} == {
        (BOWL, "bought"): 1,
        (MUG, "bought"): 1,
        (PLATES, "bought"): 1,
    }
    with ctx.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Product)) == 3


def test_a_second_order_counts_again_and_moves_the_last_time(ctx, shopify_shop, post_shopify, run_jobs):
    post_shopify("orders/create", fixture("shopify", "orders__create.json"))
    second = body("orders__create.json", id=9105526143380049999, created_at="2022-04-01T09:00:00+02:00")
    post_shopify("orders/create", second)
    older = body("orders__create.json", id=9105526143380040001, created_at="2022-01-01T09:00:00+01:00")
    post_shopify("orders/create", older)  # delivered last, placed first
    run_jobs()
    kwame = customer(ctx, "5281746093317720461")
    with ctx.sessions() as s:
        bowl = s.scalars(
            sa.select(LeadProduct).where(LeadProduct.lead_id == kwame, LeadProduct.product_id == BOWL)
        ).one()
    assert bowl.count == 3
    assert bowl.first_at.isoformat() == "2022-01-01T08:00:00+00:00"
    assert bowl.last_at.isoformat() == "2022-04-01T07:00:00+00:00"


# Recording: storefront views (identified leads only)


@pytest.fixture
def key(ctx, shopify_shop) -> str:
    with ctx.sessions() as s:
        return s.get(Shop, shopify_shop["id"]).public_key


def view(client, key: str, clock, **fields: Any) -> Any:
    event = {
        "event": "product_viewed", "id": "v-1", "client_id": "c-1", "timestamp": clock().isoformat(),
        "email": "ana@example.com", "product_id": "gid://shopify/Product/7001", **fields,
    }  # fmt: skip
    event = {k: v for k, v in event.items() if v is not None}
    return client.post(f"/collect/{key}", data=json.dumps(event), headers={"Content-Type": "text/plain"})


def test_a_storefront_view_records_a_known_lead_once_a_day(
    ctx, client, key, clock, shopify_shop, run_jobs, fresh_token
):
    assert view(client, key, clock).status_code == 202  # Ana is not known yet: nothing
    run_jobs()
    assert rows(ctx) == {} and queued_lookups(ctx) == set()
    with transaction(ctx.sessions) as s:
        s.add(
            Lead(
                shop_id=shopify_shop["id"],
                email="ana@example.com",
                created_at=ctx.now(),
                source={},
                breakdown={},
            )
        )
    assert view(client, key, clock, id="v-2", variant_id="90001").status_code == 202
    assert view(client, key, clock, id="v-2", variant_id="90001").status_code == 202  # the same event again
    assert view(client, key, clock, id="v-3").status_code == 202  # another view the same day
    run_jobs()
    ana = lead_id(ctx, "ana@example.com")
    assert rows(ctx, ana) == {("7001", "viewed"): (1, "90001")}
    # no lookup: the shop has not granted read_products (the product keeps the ids it came with)
    assert queued_lookups(ctx) == set()
    grant(ctx, shopify_shop["id"], "read_orders,read_products")
    clock.advance(days=1)
    assert view(client, key, clock, id="v-4", product_id="7002").status_code == 202
    assert view(client, key, clock, id="v-5").status_code == 202  # the next day: a second day of views
    run_jobs()
    assert rows(ctx, ana) == {("7001", "viewed"): (2, "90001"), ("7002", "viewed"): (1, None)}
    assert queued_lookups(ctx) == {jobnames.product_lookup_id(shopify_shop["id"], "7002")}
    lookups_due(ctx)
    found = _shopify_product("7002", title="Speckled mug", collections=["mugs", "Kitchen"], tags=["Sale"])
    with _shopify_answers({"product": found}):
        run_jobs()
    mug = product(ctx, shopify_shop["id"], "7002")
    assert (mug.title, mug.collections, mug.tags) == ("Speckled mug", ["mugs", "kitchen"], ["sale"])
    assert mug.looked_up_at == clock()
    assert product(ctx, shopify_shop["id"], "7001").looked_up_at is None


def test_a_storefront_view_of_something_that_is_no_product_id_records_nothing(
    ctx, client, key, clock, shopify_shop, run_jobs
):
    with transaction(ctx.sessions) as s:
        s.add(
            Lead(
                shop_id=shopify_shop["id"],
                email="ana@example.com",
                created_at=ctx.now(),
                source={},
                breakdown={},
            )
        )
    assert view(client, key, clock, product_id="<img src=x>").status_code == 202
    run_jobs()
    assert rows(ctx) == {}


# Recording: WooCommerce orders


def woo_order() -> dict[str, Any]:
    return json.loads(fixture("woocommerce", "order.updated.completed-checkout.json"))


def apply_woo(ctx, shop_id: int, payload: dict[str, Any]) -> apply.Applied:
    with transaction(ctx.sessions) as session:
        shop = session.get(Shop, shop_id)
        return apply.apply_facts(session, ctx, shop, None, order_facts(payload))


def test_a_woocommerce_order_records_what_was_bought_with_its_picture(ctx, woo_shop):
    applied = apply_woo(ctx, woo_shop["id"], woo_order())
    apply_woo(ctx, woo_shop["id"], woo_order())  # the order updated again (another status): counted once
    for step in applied.follow_ups:
        step()
    buyer = lead_id(ctx, "sven.halvorsen@example.com")
    assert rows(ctx, buyer) == {("52", "bought"): (1, None)}
    knife = product(ctx, woo_shop["id"], "52")
    assert (knife.title, knife.price) == ("Birch-handle bread knife", Decimal("32.00"))
    assert knife.image_url == "https://shop.example.org/wp-content/uploads/2024/09/bread-knife.jpg"
    assert queued_lookups(ctx) == {jobnames.product_lookup_id(woo_shop["id"], "52")}


# Lookup: once per product, at the HTTP boundary


def _shopify_product(number: str, *, title: str, collections: list[str], tags: list[str]) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/Product/{number}",
        "title": title,
        "handle": title.lower().replace(" ", "-"),
        "onlineStoreUrl": f"https://demo.myshopify.com/products/{title.lower().replace(' ', '-')}",
        "tags": tags,
        "featuredMedia": {"preview": {"image": {"url": "https://cdn.shopify.com/s/files/mug.jpg"}}},
        "priceRangeV2": {"minVariantPrice": {"amount": "18.5", "currencyCode": "EUR"}},
        "collections": {"nodes": [{"handle": c, "title": c.title()} for c in collections]},
    }


def _shopify_answers(*datas: dict[str, Any] | None, status: int = 200) -> responses.RequestsMock:
    mock = responses.RequestsMock(assert_all_requests_are_fired=True)
    throttle = {"maximumAvailable": 1000.0, "currentlyAvailable": 990, "restoreRate": 50.0}
    for data in datas:
        answer = {"data": data, "extensions": {"cost": {"requestedQueryCost": 5, "throttleStatus": throttle}}}
        mock.add(responses.POST, GRAPHQL, json=answer, status=status)
    return mock


def _new_product(ctx, shop_id: int, product_id: str, **columns: Any) -> None:
    with transaction(ctx.sessions) as s:
        s.add(Product(shop_id=shop_id, product_id=product_id, collections=[], tags=[],
                      first_seen_at=ctx.now(), updated_at=ctx.now(), **columns))  # fmt: skip


def test_shopify_describes_a_product_once(ctx, shopify_shop, fresh_token):
    _new_product(ctx, shopify_shop["id"], BOWL, title="Bowl (from a cart)")
    found = _shopify_product(
        BOWL, title="Ash-glaze serving bowl", collections=["bowls", "bowls", "gifts"], tags=["Handmade", " "]
    )
    with _shopify_answers({"product": found}) as mock:
        assert lookup.look_up(ctx, shopify_shop["id"], BOWL) == "looked_up"
        sent = json.loads(mock.calls[0].request.body)
    assert sent["variables"] == {"id": f"gid://shopify/Product/{BOWL}"}
    assert "product(id: $id)" in sent["query"]
    bowl = product(ctx, shopify_shop["id"], BOWL)
    assert (bowl.title, bowl.handle, bowl.collections, bowl.tags) == (
        "Ash-glaze serving bowl", "ash-glaze-serving-bowl", ["bowls", "gifts"], ["handmade"],
    )  # fmt: skip
    assert (bowl.url, bowl.image_url) == (
        "https://demo.myshopify.com/products/ash-glaze-serving-bowl",
        "https://cdn.shopify.com/s/files/mug.jpg",
    )
    assert (bowl.price, bowl.currency) == (Decimal("18.5"), "EUR")
    with _shopify_answers():  # no second request: a request would fail the mock
        assert lookup.look_up(ctx, shopify_shop["id"], BOWL) == "skipped"


def test_a_product_the_shop_deleted_is_marked_looked_up_and_nothing_else(ctx, shopify_shop, fresh_token):
    _new_product(ctx, shopify_shop["id"], BOWL, title="Bowl", image_url="https://cdn.example.com/b.jpg")
    with _shopify_answers({"product": None}):
        assert lookup.look_up(ctx, shopify_shop["id"], BOWL) == "gone"
    bowl = product(ctx, shopify_shop["id"], BOWL)
    assert (bowl.title, bowl.image_url, bowl.collections, bowl.looked_up_at) == (
        "Bowl", "https://cdn.example.com/b.jpg", [], ctx.now()
    )  # fmt: skip


def test_an_unreachable_store_raises_for_rq_to_retry_and_a_refusal_does_not(ctx, shopify_shop, fresh_token):
    _new_product(ctx, shopify_shop["id"], BOWL)
    mock = responses.RequestsMock()
    mock.add(responses.POST, GRAPHQL, status=503)
    with mock, pytest.raises(StoreError) as raised:
        lookup.look_up(ctx, shopify_shop["id"], BOWL, client=_fast_shopify(ctx, shopify_shop["id"]))
    assert raised.value.transient
    denied = {
        "errors": [{"message": "Access denied for product field.", "extensions": {"code": "ACCESS_DENIED"}}]
    }
    with responses.RequestsMock() as mock:
        mock.add(responses.POST, GRAPHQL, json=denied)
        assert lookup.look_up(ctx, shopify_shop["id"], BOWL) == "refused"  # read_products not granted
    assert product(ctx, shopify_shop["id"], BOWL).looked_up_at is None  # asked again by a later job


def _fast_shopify(ctx, shop_id: int) -> Any:
    from bridge.shops import tokens

    with ctx.sessions() as s:
        client = tokens.shopify_client_for(ctx, s.get(Shop, shop_id))
    client._sleep = lambda _seconds: None
    return client


def test_the_lookup_job_is_queued_with_retries_and_an_id_that_dedupes(ctx, shopify_shop):
    assert store.queue_lookups(ctx.redis, shopify_shop["id"], ["7001", "7001"]) == 1
    job = Job.fetch(jobnames.product_lookup_id(shopify_shop["id"], "7001"), connection=ctx.redis)
    assert job.func_name == jobnames.LOOK_UP_PRODUCT and job.args == (shopify_shop["id"], "7001")
    assert job.retries_left == 4 and job.retry_intervals == [5, 30, 120, 600]
    assert jobnames.product_lookup_id(1, "gid://x/1") != jobnames.product_lookup_id(1, "gid://x/2")


def woo_client() -> WooClient:
    return WooClient(WOO, "ck_1", "cs_1", sleep=lambda _: None)


def test_woocommerce_describes_a_product_once(ctx, woo_shop):
    _new_product(ctx, woo_shop["id"], "52")
    answer = {
        "id": 52, "name": "Birch-handle bread knife &amp; sheath", "slug": "bread-knife", "status": "publish",
        "permalink": "https://shop.example.com/product/bread-knife/", "price": "32.00",
        "images": [{"id": 88, "src": "https://shop.example.com/wp-content/uploads/knife.jpg"},
                   {"id": 89, "src": "x"}],
        "categories": [{"id": 9, "name": "Kitchen", "slug": "kitchen"},
                       {"id": 10, "name": "Knives", "slug": "Knives"}],
        "tags": [{"id": 3, "name": "Gift", "slug": "gift"}],
    }  # fmt: skip
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, f"{WOO}/wp-json/wc/v3/products/52", json=answer)
        assert lookup.look_up(ctx, woo_shop["id"], "52", client=woo_client()) == "looked_up"
    knife = product(ctx, woo_shop["id"], "52")
    assert (knife.title, knife.handle, knife.url) == (
        "Birch-handle bread knife & sheath", "bread-knife", "https://shop.example.com/product/bread-knife/"
    )  # fmt: skip
    assert knife.image_url == "https://shop.example.com/wp-content/uploads/knife.jpg"
    assert (knife.collections, knife.tags, knife.price, knife.currency) == (
        ["kitchen", "knives"],
        ["gift"],
        Decimal("32.00"),
        None,
    )


def test_a_deleted_or_trashed_woocommerce_product_is_gone(ctx, woo_shop):
    _new_product(ctx, woo_shop["id"], "52")
    _new_product(ctx, woo_shop["id"], "53")
    missing = {
        "code": "woocommerce_rest_product_invalid_id",
        "message": "Invalid ID.",
        "data": {"status": 404},
    }
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, f"{WOO}/wp-json/wc/v3/products/52", json=missing, status=404)
        mock.add(
            responses.GET,
            f"{WOO}/wp-json/wc/v3/products/53",
            json={"id": 53, "status": "trash", "name": "Old"},
        )
        assert lookup.look_up(ctx, woo_shop["id"], "52", client=woo_client()) == "gone"
        assert lookup.look_up(ctx, woo_shop["id"], "53", client=woo_client()) == "gone"
    assert product(ctx, woo_shop["id"], "53").title is None
    assert product(ctx, woo_shop["id"], "52").looked_up_at == ctx.now()


def test_a_woocommerce_store_down_raises_a_transient_error(ctx, woo_shop):
    _new_product(ctx, woo_shop["id"], "52")
    with responses.RequestsMock() as mock:
        mock.add(responses.GET, f"{WOO}/wp-json/wc/v3/products/52", status=502)
        with pytest.raises(StoreError) as raised:
            lookup.look_up(ctx, woo_shop["id"], "52", client=woo_client())
    assert raised.value.transient and product(ctx, woo_shop["id"], "52").looked_up_at is None


# Reading: the lead's products, the messages, the export; and erasure


def _lead_with_products(ctx, shop_id: int) -> int:
    with transaction(ctx.sessions) as s:
        lead = Lead(shop_id=shop_id, email="ana@example.com", created_at=ctx.now(), source={}, breakdown={})
        s.add(lead)
        s.flush()
        at = ctx.now()
        store.record(s, shop_id, lead.id, "viewed", "view:1:a", at - timedelta(days=3), [store.Seen("1")])
        store.record(s, shop_id, lead.id, "viewed", "view:2:a", at - timedelta(days=1), [store.Seen("2")])
        store.record(s, shop_id, lead.id, "viewed", "view:3:a", at, [store.Seen("3")])
        seen = [store.Seen("2", "22", "Mug", "https://cdn.example.com/mug.jpg", Decimal("18.50"), "EUR")]
        store.record(s, shop_id, lead.id, "added", "cart:t", at, seen)
        s.execute(
            sa.update(Product)
            .where(Product.product_id == "1")
            .values(title="Bowl", price=Decimal(40), currency="EUR", collections=["bowls"])
        )
        s.execute(
            sa.update(Product)
            .where(Product.product_id == "3")
            .values(title="Plate", price=Decimal(9), currency="USD")
        )
        return lead.id


def test_reading_a_leads_products_newest_first_with_their_details(ctx, shopify_shop):
    lead = _lead_with_products(ctx, shopify_shop["id"])
    with ctx.sessions() as s:
        viewed = store.lead_products(s, lead, actions=("viewed",))
        recent = store.lead_products(s, lead, since=ctx.now() - timedelta(days=2))
        known = store.products_by_id(s, shopify_shop["id"], ["1", "2", "404"])
    assert [v.product_id for v in viewed] == ["3", "2", "1"]
    # the latest first; the add and the view at the same moment: the one recorded last first
    assert [(v.product_id, v.action) for v in recent] == [("2", "added"), ("3", "viewed"), ("2", "viewed")]
    assert viewed[2].collections == ("bowls",) and viewed[1].title == "Mug"
    assert sorted(known) == ["1", "2"]


def test_the_browse_block_gets_viewed_products_priced_in_the_messages_currency(ctx, shopify_shop):
    lead_key = _lead_with_products(ctx, shopify_shop["id"])
    with ctx.sessions() as s:
        lead = s.get(Lead, lead_key)
        items = message.viewed_items(s, lead, "EUR", "EUR")
    # the plate is priced in USD, the rest in EUR: the mug (viewed yesterday), then the bowl
    assert [(i.title, i.price, i.image_url) for i in items] == [
        ("Mug", Decimal("18.50"), "https://cdn.example.com/mug.jpg"),
        ("Bowl", Decimal(40), None),
    ]


def test_a_cart_line_without_a_picture_takes_the_stored_one(ctx, shopify_shop):
    _lead_with_products(ctx, shopify_shop["id"])
    with transaction(ctx.sessions) as s:
        lines = [
            {"title": "Mug", "quantity": 1, "price": "18.50", "product_id": "2"},
            {"title": "Gift card", "quantity": 1, "price": "5"},
        ]
        cart = Cart(
            shop_id=shopify_shop["id"],
            created_at=ctx.now(),
            last_activity_at=ctx.now(),
            status="abandoned",
            subtotal=Decimal("18.50"),
            items={"lines": lines},
        )
        s.add(cart)
        s.flush()
        items = message._items(s, cart)
    assert [(i.title, i.image_url) for i in items] == [
        ("Mug", "https://cdn.example.com/mug.jpg"),
        ("Gift card", None),
    ]


def test_the_export_has_the_products_and_erasure_removes_them(ctx, shopify_shop):
    lead_key = _lead_with_products(ctx, shopify_shop["id"])
    with transaction(ctx.sessions) as s:
        lead = s.get(Lead, lead_key)
        document = erasure.export_lead(s, lead)
        erasure.redact_lead(s, lead, ctx.now())
    exported = {(p["product_id"], p["action"]): p for p in document["products"]}
    assert set(exported) == {("1", "viewed"), ("2", "viewed"), ("3", "viewed"), ("2", "added")}
    assert exported[("2", "added")]["title"] == "Mug" and exported[("1", "viewed")]["collections"] == [
        "bowls"
    ]
    with ctx.sessions() as s:
        left = [
            s.scalar(sa.select(sa.func.count()).select_from(m).where(m.lead_id == lead_key))
            for m in (LeadProduct, LeadProductRef)
        ]
        products_left = s.scalar(sa.select(sa.func.count()).select_from(Product))
    assert left == [0, 0]
    assert products_left == 3  # the shop's products are nobody's personal data: they stay


def test_deleting_a_lead_takes_its_products_along(ctx, shopify_shop):
    lead_key = _lead_with_products(ctx, shopify_shop["id"])
    with transaction(ctx.sessions) as s:
        if s.get_bind().dialect.name == "sqlite":
            s.execute(sa.text("PRAGMA foreign_keys=ON"))
        s.execute(sa.delete(Lead).where(Lead.id == lead_key))
    with ctx.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(LeadProduct)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(LeadProductRef)) == 0


def test_the_lead_page_and_the_api_show_the_products(ctx, shopify_shop, client):
    lead_key = _lead_with_products(ctx, shopify_shop["id"])
    from tests.integration.leads.conftest import bearer

    answer = client.get(f"/api/v1/leads/{lead_key}", headers=bearer(shopify_shop["api_key"]))
    assert answer.status_code == 200, answer.get_data(as_text=True)
    listed = {(p["product_id"], p["action"]): p for p in answer.get_json()["products"]}
    bowl = listed[("1", "viewed")]
    viewed_at = (ctx.now() - timedelta(days=3)).isoformat()
    assert Decimal(bowl.pop("price")) == 40
    assert bowl == {
        "product_id": "1", "variant_id": None, "action": "viewed", "count": 1,
        "first_at": viewed_at, "last_at": viewed_at, "title": "Bowl", "url": None, "image_url": None,
        "collections": ["bowls"], "tags": [], "currency": "EUR",
    }  # fmt: skip
    assert listed[("2", "added")]["variant_id"] == "22"


def test_the_hourly_sweep_schedules_products_never_described_for_stores_that_can_answer(
    ctx, clock, shopify_shop, woo_shop
):
    grant(ctx, shopify_shop["id"], "read_orders,write_products")
    _new_product(ctx, shopify_shop["id"], "1")
    _new_product(ctx, woo_shop["id"], "2")
    _new_product(ctx, woo_shop["id"], "3", looked_up_at=ctx.now())  # described already
    clock.advance(minutes=1)
    assert lookup.requeue_missing(ctx) == 0  # just seen: their own job is still due
    clock.advance(minutes=10)
    assert lookup.requeue_missing(ctx) == 2
    assert queued_lookups(ctx) == {jobnames.product_lookup_id(shopify_shop["id"], "1"),
                                   jobnames.product_lookup_id(woo_shop["id"], "2")}  # fmt: skip
    assert lookup.requeue_missing(ctx) == 0  # scheduled already: never doubled
    grant(ctx, shopify_shop["id"], "read_orders")  # the scope withdrawn: Shopify would deny it
    with transaction(ctx.sessions) as s:
        s.get(Shop, woo_shop["id"]).disconnected_at = ctx.now()  # keys refused
        shopify = s.get(Shop, shopify_shop["id"])
        assert not store.can_look_up(shopify) and not store.can_look_up(s.get(Shop, woo_shop["id"]))


@pytest.mark.parametrize(
    ("sent", "kept"),
    [("gid://shopify/Product/7001", "7001"), (7001, "7001"), ("7001", "7001"), ("abc", None), ("0", None),
     ("12345678901234567890123", None), ("٣", None), (True, None), (None, None)],
)  # fmt: skip
def test_a_storefront_names_a_product_by_its_number_only(sent, kept):
    from bridge.events.collect import store_id

    assert store_id(sent) == kept


def test_a_customers_redact_webhook_takes_the_leads_products_away(ctx, shopify_shop, post_shopify, run_jobs):
    post_shopify("orders/create", fixture("shopify", "orders__create.json"))
    run_jobs()
    kwame = customer(ctx, "5281746093317720461")
    assert len(rows(ctx, kwame)) == 3
    redact = body(
        "customers__redact.json",
        shop_domain="demo.myshopify.com",
        customer={"id": 5281746093317720461, "email": "kwame.asante@example.net"},
    )
    assert post_shopify("customers/redact", redact).status_code == 200
    run_jobs()
    assert rows(ctx, kwame) == {}
    with ctx.sessions() as s:
        assert s.get(Lead, kwame).redacted_at is not None
        assert s.scalar(sa.select(sa.func.count()).select_from(LeadProductRef)) == 0


def test_products_of_a_collection_or_with_a_tag(ctx, shopify_shop, woo_shop):
    _new_product(ctx, shopify_shop["id"], "1")
    _new_product(ctx, shopify_shop["id"], "2")
    _new_product(ctx, shopify_shop["id"], "3")
    _new_product(ctx, woo_shop["id"], "4")
    with transaction(ctx.sessions) as s:
        s.execute(
            sa.update(Product).where(Product.product_id == "1").values(collections=["shirts"], tags=["sale"])
        )
        s.execute(
            sa.update(Product).where(Product.product_id == "2").values(collections=["bowls"], tags=["new"])
        )
        s.execute(sa.update(Product).where(Product.product_id == "4").values(collections=["shirts"]))
    with ctx.sessions() as s:
        assert store.products_matching(s, shopify_shop["id"], collections=["Shirts "]) == ["1"]
        assert store.products_matching(s, shopify_shop["id"], collections=["shirts"], tags=["NEW"]) == [
            "1",
            "2",
        ]
        assert store.products_matching(s, shopify_shop["id"]) == []
