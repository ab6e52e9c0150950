"""The health page says when Shopify withholds customers' personal fields, and how webhooks are subscribed."""

from __future__ import annotations

from typing import Any

from bridge.db import transaction
from bridge.db.models import Shop
from bridge.infra.context import Context
from bridge.shops import updates


def test_health_page_says_when_customer_fields_arrive_withheld(
    client: Any, ctx: Context, signed_in: dict[str, Any], shop_b: dict[str, Any]
) -> None:
    html = client.get("/admin/health").get_data(as_text=True)
    assert "protected-data" not in html  # nothing withheld yet: nothing said
    with transaction(ctx.sessions) as session:
        for shop_id, topic, count in [
            (signed_in["id"], "orders/create", 2),
            (signed_in["id"], "customers/update", 1),
            (shop_b["id"], "orders/paid", 5),
        ]:
            updates.count_redacted(session, session.get(Shop, shop_id), topic, count, ctx.now())
    html = client.get("/admin/health").get_data(as_text=True)
    assert 'id="protected-data"' in html and "3 payloads arrived" in html
    assert "protected customer data, level 2" in html
    assert '<th scope="row">orders/create</th><td class="num">2</td>' in html
    assert "orders/paid" not in html  # another shop's count is not shown here


def test_health_page_names_the_app_config_subscriptions_and_granted_scopes(
    client: Any, ctx: Context, signed_in: dict[str, Any]
) -> None:
    with transaction(ctx.sessions) as session:
        row = session.get(Shop, signed_in["id"])
        hooks = {"source": "app_config", "address": "x", "registered_at": "2026-11-25T10:00:00+00:00"}
        row.state = {**row.state, "webhooks": hooks, updates.SCOPE: "read_orders,write_customers"}
    html = client.get("/admin/health").get_data(as_text=True)
    assert "declared in the app configuration (shopify.app.toml)" in html
    assert "read_orders,write_customers" in html
