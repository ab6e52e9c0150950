"""Discount only where it pays, on SQLite and PostgreSQL: a code step that measurably loses money is named in
GET /api/v1/metrics and on the overview (tested in tests/integration/admin_ui/test_overview_earnings.py),
with what dropping it would save; applying the advice (API or the overview's button) writes a new rules
version where the step has no code, and restoring the version before brings the code back. The daily job
applies it by itself only for shops that switched it on."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from bridge.db import transaction
from bridge.db.models import Shop
from bridge.infra.context import Context
from bridge.leads import rules as rulesets
from bridge.outreach import advice
from tests.integration.outreach.earnings_helpers import Group, seed_runs

DAY = timedelta(days=1)


def seed_losing_code(ctx: Context, shop_id: int, runs: int = 400) -> None:
    """The default cart journey: runs that reached its code step (index 2), half held out there; one in four
    orders 100 in both groups, so the treated group's code (50 off: 50 paid) only gives money away."""
    with transaction(ctx.sessions) as session:
        session.get(Shop, shop_id).currency = "EUR"
        due = ctx.now() - 7 * DAY
        seed_runs(session, shop_id, due, Group(runs, 4, "50", code="50"), Group(runs, 4, "100"), step=2)


def _cart_step_offer(ctx: Context, shop_id: int) -> Any:
    with ctx.sessions() as session:
        return next(j for j in rulesets.journeys_for(session, shop_id) if j.key == "cart").steps[2].offer


def test_the_api_names_the_losing_step_and_dropping_its_code_is_a_version(
    ctx: Context, client: Any, shopify_shop: dict[str, Any]
) -> None:
    seed_losing_code(ctx, shopify_shop["id"])
    auth = {"Authorization": f"Bearer {shopify_shop['api_key']}"}
    body = client.get("/api/v1/metrics", headers=auth).get_json()
    found = [a for a in body["discount_advice"] if a["tier"] is None]
    assert [(a["journey_key"], a["step"], a["verdict"]) for a in found] == [("cart", 2, "loses")]
    assert found[0]["per_run"]["value"] == "-12.50"  # 25 x (100 - 50) / 400 - 25 x 100 / 400
    assert Decimal(found[0]["per_run"]["high"]) < 0
    assert found[0]["discount_saved"] == "5000.00"  # 100 codes of 50
    assert client.post("/api/v1/journeys/cart/steps/0/drop-code", headers=auth).status_code == 404
    answer = client.post("/api/v1/journeys/cart/steps/2/drop-code", headers=auth)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    version = answer.get_json()["version"]
    assert _cart_step_offer(ctx, shopify_shop["id"]) is None
    assert client.post("/api/v1/journeys/cart/steps/2/drop-code", headers=auth).status_code == 404
    restored = client.post(f"/api/v1/rules/versions/{version - 1}/restore", headers=auth)
    assert restored.status_code == 200, restored.get_data(as_text=True)
    assert _cart_step_offer(ctx, shopify_shop["id"]) is not None


def test_the_daily_job_applies_sure_losses_only_when_switched_on(
    ctx: Context, shopify_shop: dict[str, Any]
) -> None:
    seed_losing_code(ctx, shopify_shop["id"])
    assert advice.apply_sure_losses(ctx) == 0  # off by default: the overview only suggests it
    assert _cart_step_offer(ctx, shopify_shop["id"]) is not None
    with transaction(ctx.sessions) as session:
        _, live = rulesets.current(session, shopify_shop["id"])
        live["campaign"]["drop_unprofitable_codes"] = True
        rulesets.save(session, shopify_shop["id"], live, "test", "", ctx.now())
    assert advice.apply_sure_losses(ctx) == 1
    assert _cart_step_offer(ctx, shopify_shop["id"]) is None
    assert advice.apply_sure_losses(ctx) == 0  # nothing left to drop
