"""GET /api/v1/leads/<id> explains a score after a rules change: breakdown lines and history."""

from __future__ import annotations

from datetime import timedelta

from scoring import DEFAULT_SCORING
from tests.integration.leads.conftest import bearer


def test_lead_detail_shows_rule_count_points_and_the_rules_version_in_history(
    ctx, client, shopify_shop, add_lead, run_jobs
):
    now, day = ctx.now(), timedelta(days=1)
    views = [("product_view", now - timedelta(hours=h)) for h in range(1, 9)]  # 8 views on one day
    lead = add_lead(shopify_shop["id"], "eve@example.com", [*views, ("add_to_cart", now - 30 * day)])
    document = {"scoring": {"activities": {**DEFAULT_SCORING["activities"], "add_to_cart": {"points": 40}}}}
    headers = bearer(shopify_shop["api_key"])
    assert client.put("/api/v1/rules", json=document, headers=headers).status_code == 200
    run_jobs()

    detail = client.get(f"/api/v1/leads/{lead}", headers=headers).json
    lines = {line["rule"]: line for line in detail["breakdown"]["lines"]}
    cart = lines["activity:add_to_cart"]
    # One add to cart, one half-life (30 days) old: 40 points before decay, 20 after.
    assert (cart["count"], cart["points_before"], cart["points"]) == (1, 40, 20)
    views_line = lines["activity:product_view"]
    # Eight views of 2 points are 16 before the cap; the cap keeps 10, barely decayed (hours old).
    assert (views_line["count"], views_line["points_before"]) == (8, 16)
    assert 9.8 < views_line["points"] < 10
    assert detail["breakdown"]["raw"] == round(cart["points"] + views_line["points"], 4)
    assert detail["score"] == round(detail["breakdown"]["raw"]) == 30
    [change] = detail["score_history"]
    assert (change["from"], change["to"], change["reason"]) == (0, 30, "rules v1")
