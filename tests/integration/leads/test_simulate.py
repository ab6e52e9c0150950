"""POST /api/v1/rules/simulate: tier counts and movers over stored leads, and nothing written."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bridge.infra.queue import QUEUES, get_queue
from bridge.leads.simulate import simulate
from scoring import DEFAULT_SCORING
from tests.integration.leads.conftest import bearer, snapshot

# add_to_cart 15 -> 25, promo_email_open 15 -> 5, hot 80 -> 70
CANDIDATE = {
    "activities": {
        **DEFAULT_SCORING["activities"],
        "add_to_cart": {"points": 25},
        "promo_email_open": {"points": 5},
    },
    "tiers": {"warm": 40, "hot": 70},
}


@pytest.fixture
def leads(ctx, shopify_shop, woo_shop, add_lead):
    """Leads whose activities all happen now, so decay leaves every point whole."""
    shop, now = shopify_shop["id"], ctx.now()
    return {
        # now: 2 x 15 + 20 = 50 warm; candidate: 2 x 25 + 20 = 70 hot (up)
        "up": add_lead(shop, "up@example.com", [("add_to_cart", now)] * 2 + [("checkout_started", now)]),
        # now: 2 x 15 + 2 x 5 = 40 warm; candidate: 2 x 5 + 2 x 5 = 20 cold (down)
        "down": add_lead(
            shop, "down@example.com", [("promo_email_open", now)] * 2 + [("email_click", now)] * 2
        ),
        # now: 4 x 20 = 80 hot; candidate: still 80, hot
        "hot": add_lead(shop, "hot@example.com", [("checkout_started", now)] * 4),
        "customer": add_lead(shop, "buyer@example.com", [("add_to_cart", now)] * 6, is_customer=True),
        "cold": add_lead(shop, "idle@example.com"),
        "redacted": add_lead(shop, None, [("add_to_cart", now)] * 6, redacted_at=now - timedelta(days=1)),
        "elsewhere": add_lead(woo_shop["id"], "up@example.com", [("add_to_cart", now)] * 6),
    }


def test_simulate_counts_tiers_and_movers_and_changes_nothing(ctx, client, shopify_shop, leads):
    before = snapshot(ctx)
    answer = client.post(
        "/api/v1/rules/simulate", json={"scoring": CANDIDATE}, headers=bearer(shopify_shop["api_key"])
    )
    assert answer.status_code == 200, answer.json
    result = answer.json
    assert result["current"] == {"cold": 1, "warm": 2, "hot": 1, "customer": 1}
    assert result["candidate"] == {"cold": 2, "warm": 0, "hot": 2, "customer": 1}
    assert (result["moved_up"], result["moved_down"], result["leads"]) == (1, 1, 5)
    assert result["transitions"] == {"warm->cold": 1, "warm->hot": 1}
    assert result["complete"] is True
    up, down = result["sample"]
    assert (up["lead_id"], up["email"]) == (leads["up"], "up@example.com")
    assert (up["before"]["total"], up["before"]["tier"], up["after"]["total"], up["after"]["tier"]) == (
        50,
        "warm",
        70,
        "hot",
    )
    cart_line = next(line for line in up["after"]["breakdown"] if line["rule"] == "activity:add_to_cart")
    assert (cart_line["count"], cart_line["points_before"], cart_line["points"]) == (2, 50, 50)
    assert (down["lead_id"], down["before"]["total"], down["after"]["total"]) == (leads["down"], 40, 20)
    assert snapshot(ctx) == before
    assert all(get_queue(ctx.redis, name).count == 0 for name in QUEUES)


def test_a_bare_scoring_document_simulates_like_the_whole_document(client, shopify_shop, leads):
    headers = bearer(shopify_shop["api_key"])
    whole = client.post("/api/v1/rules/simulate", json={"scoring": CANDIDATE}, headers=headers).json
    bare = client.post("/api/v1/rules/simulate", json=CANDIDATE, headers=headers).json
    assert bare == whole


def test_simulate_compares_with_the_live_version_not_the_defaults(client, shopify_shop, leads):
    headers = bearer(shopify_shop["api_key"])
    assert client.put("/api/v1/rules", json={"scoring": CANDIDATE}, headers=headers).status_code == 200
    result = client.post("/api/v1/rules/simulate", json=CANDIDATE, headers=headers).json
    assert result["version"] == 1 and result["current"] == result["candidate"]
    assert (result["moved_up"], result["moved_down"], result["sample"]) == (0, 0, [])


def test_simulate_invalid_candidate_is_422_per_field(ctx, client, shopify_shop, leads):
    before = snapshot(ctx)
    answer = client.post(
        "/api/v1/rules/simulate",
        json={"tiers": {"warm": 90, "hot": 10}, "decay": {"half_life_days": -1}},
        headers=bearer(shopify_shop["api_key"]),
    )
    assert answer.status_code == 422
    assert set(answer.json["errors"]) == {"scoring.tiers.hot", "scoring.decay.half_life_days"}
    assert snapshot(ctx) == before


def test_simulate_works_in_batches_and_caps_the_sample(ctx, shopify_shop, add_lead):
    shop, now = shopify_shop["id"], ctx.now()
    for i in range(25):  # 3 x 15 = 45 warm now; 3 x 25 = 75 hot with the candidate
        add_lead(shop, f"lead{i}@example.com", [("add_to_cart", now)] * 3)
    with ctx.sessions() as session:
        result = simulate(session, shop, CANDIDATE, now, batch_size=7)
    assert result["current"]["warm"] == 25 and result["candidate"]["hot"] == 25
    assert result["moved_up"] == 25 and len(result["sample"]) == 20
    assert [m["email"] for m in result["sample"]] == [f"lead{i}@example.com" for i in range(20)]


def test_simulate_out_of_time_answers_what_it_has_and_says_so(ctx, shopify_shop, leads):
    with ctx.sessions() as session:
        result = simulate(session, shopify_shop["id"], CANDIDATE, ctx.now(), max_seconds=-1)
    assert result["complete"] is False and result["leads"] == 0
