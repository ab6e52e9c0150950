"""GET/PUT /api/v1/rules: validation per field, new versions, queued rescore and its effect."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from bridge.db.models import AuditLog, JourneyRun, RescoreRun, Ruleset, ScoreChange
from bridge.infra.queue import MAINTENANCE, get_queue
from campaigns import default_journeys
from scoring import DEFAULT_SCORING
from tests.integration.leads.conftest import bearer, scores


def activities(**points: int) -> dict[str, Any]:
    """The default activity rules with some points changed."""
    return {**DEFAULT_SCORING["activities"], **{kind: {"points": value} for kind, value in points.items()}}


def test_get_rules_of_a_new_shop_is_version_0_with_the_defaults(client, shopify_shop):
    answer = client.get("/api/v1/rules", headers=bearer(shopify_shop["api_key"]))
    assert answer.status_code == 200
    body = answer.json
    assert body["version"] == 0 and body["created_at"] is None
    assert body["document"]["scoring"] == DEFAULT_SCORING
    assert body["document"]["campaign"]["abandonment_delay_minutes"] == 60
    assert [j["key"] for j in body["document"]["journeys"]] == [j["key"] for j in default_journeys()]


def test_put_valid_rules_saves_a_version_queues_a_rescore_and_rescores_leads(
    ctx, client, shopify_shop, woo_shop, add_lead, run_jobs
):
    shop, now = shopify_shop["id"], ctx.now()
    day = timedelta(days=1)
    add_lead(
        shop,
        "ann@example.com",
        [("add_to_cart", now - 2 * day), ("add_to_cart", now - day), ("checkout_started", now - 40 * day)],
    )
    views = [("product_view", now - timedelta(hours=h)) for h in range(1, 9)]  # 8 views, all on Nov 25
    opens = [("promo_email_open", now - (60 + i) * day) for i in range(3)]
    clicks = [("email_click", now - 60 * day - timedelta(minutes=m)) for m in range(5)]
    add_lead(shop, "bob@example.com", views + opens + clicks, accepts_marketing=True)
    add_lead(shop, "cat@example.com", [("add_to_cart", now)], is_customer=True)
    add_lead(shop, "dan@mailinator.com", [("newsletter_signup", now)])
    add_lead(woo_shop["id"], "other@example.com", [("add_to_cart", now)])

    document = {"scoring": {"activities": activities(add_to_cart=20), "decay": {"half_life_days": 0}}}
    answer = client.put(
        "/api/v1/rules?note=bigger+carts", json=document, headers=bearer(shopify_shop["api_key"])
    )

    assert answer.status_code == 200, answer.json
    assert (
        answer.json["version"] == 1
        and answer.json["changed"] is True
        and answer.json["note"] == "bigger carts"
    )
    assert {"path": "scoring.activities.add_to_cart.points", "old": 15, "new": 20} in answer.json["diff"]
    assert answer.json["rescore"] == {"job_id": f"rescore-{shop}-1", "queued": True}
    assert get_queue(ctx.redis, MAINTENANCE).job_ids == [f"rescore-{shop}-1"]
    run_jobs()
    # Decay is off, so every point counts in full:
    assert scores(ctx, shop) == {
        "ann@example.com": (2 * 20 + 20, "warm"),
        "bob@example.com": (10 + 3 * 15 + 5 * 5 + 5, "hot"),  # views capped at 10 a day, consent +5
        "cat@example.com": (20, "customer"),
        "dan@mailinator.com": (0, "cold"),  # 5 - 20 for a disposable address, clamped at 0
    }
    assert scores(ctx, woo_shop["id"]) == {"other@example.com": (0, "cold")}  # another shop: untouched
    with ctx.sessions() as s:
        reasons = s.scalars(sa.select(ScoreChange.reason)).all()
        run = s.scalars(sa.select(RescoreRun)).one()
    assert reasons and set(reasons) == {"rules v1"}
    assert (run.status, run.processed, run.tier_changes) == ("done", 4, 3)
    with ctx.sessions() as s:
        moves = s.execute(sa.select(ScoreChange.old_tier, ScoreChange.new_tier)).all()
    assert {tuple(m) for m in moves if m[0] != m[1]} == {
        ("cold", "warm"),
        ("cold", "hot"),
        ("cold", "customer"),
    }
    # bob became hot by a rules change alone: nobody is mailed for that (no tier's journey is entered)
    with ctx.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(JourneyRun)) == 0


def journeys_with(value: int) -> list[dict[str, Any]]:
    """The default journeys, the first (hot leads' carts) offering `value` % off."""
    journeys = default_journeys()
    journeys[0]["steps"][0]["offer"]["value"] = value
    return journeys


def test_put_the_same_rules_again_makes_no_new_version(ctx, client, shopify_shop):
    headers = bearer(shopify_shop["api_key"])
    document = {"campaign": {"abandonment_delay_minutes": 90}, "journeys": journeys_with(20)}
    assert client.put("/api/v1/rules", json=document, headers=headers).json["version"] == 1
    again = client.put("/api/v1/rules", json=document, headers=headers)
    assert again.status_code == 200 and again.json["changed"] is False and again.json["version"] == 1


def test_a_missing_part_keeps_the_current_one(client, shopify_shop):
    headers = bearer(shopify_shop["api_key"])
    document = {"campaign": {"abandonment_delay_minutes": 90}, "journeys": journeys_with(20)}
    assert client.put("/api/v1/rules", json=document, headers=headers).status_code == 200
    client.put("/api/v1/rules", json={"scoring": {"tiers": {"warm": 30, "hot": 70}}}, headers=headers)
    document = client.get("/api/v1/rules", headers=headers).json["document"]
    assert document["campaign"]["abandonment_delay_minutes"] == 90
    assert document["journeys"][0]["steps"][0]["offer"]["value"] == 20
    assert document["scoring"]["tiers"] == {"warm": 30, "hot": 70}


PROBLEMS = {
    "unknown activity kind": (
        {"scoring": {"activities": {"teleport": {"points": 5}}}},
        {"scoring.activities.teleport": ["Unknown activity kind."]},
    ),
    "negative half-life": (
        {"scoring": {"decay": {"half_life_days": -3}}},
        {
            "scoring.decay.half_life_days": [
                "Must be greater than or equal to 0 and less than or equal to 3650."
            ]
        },
    ),
    "warm not below hot": (
        {"scoring": {"tiers": {"warm": 80, "hot": 80}}},
        {"scoring.tiers.hot": ["Must be greater than warm."]},
    ),
    "cap below zero": (
        {"scoring": {"activities": {"product_view": {"points": 2, "cap": {"points": -1}}}}},
        {
            "scoring.activities.product_view.cap.points": [
                "Must be greater than or equal to 0 and less than or equal to 100000."
            ]
        },
    ),
    "unknown profile field": (
        {"scoring": {"criteria": [{"field": "shoe_size", "operator": "eq", "value": "42", "points": 1}]}},
        {"scoring.criteria.0.field": ["Unknown profile field."]},
    ),
    "unknown operator": (
        {"scoring": {"criteria": [{"field": "country", "operator": "like", "value": "FR", "points": 1}]}},
        {"scoring.criteria.0.operator": ["Unknown operator."]},
    ),
    "campaign field": (
        {"campaign": {"abandonment_delay_minutes": 3}},
        {
            "campaign.abandonment_delay_minutes": [
                "Must be greater than or equal to 5 and less than or equal to 10080."
            ]
        },
    ),
    "journey field": (
        {"journeys": [{**default_journeys()[0], "holdout_share": 0.9}]},
        {"journeys.0.holdout_share": ["Must be greater than or equal to 0 and less than or equal to 0.5."]},
    ),
    "journeys not a list": ({"journeys": {"cart": {}}}, {"journeys": ["Must be a list of journeys."]}),
    "unknown top-level key": ({"scorring": {}}, {"scorring": ["Unknown field."]}),
    "not an object": (
        [1, 2],
        {"_schema": ["Must be a JSON object with 'scoring', 'campaign' and/or 'journeys'."]},
    ),
    "part not an object": ({"scoring": "high"}, {"scoring": ["Invalid input type."]}),
}


@pytest.mark.parametrize("problem", PROBLEMS)
def test_put_invalid_rules_is_422_with_the_field_path(ctx, client, shopify_shop, problem):
    document, expected = PROBLEMS[problem]
    answer = client.put("/api/v1/rules", json=document, headers=bearer(shopify_shop["api_key"]))
    assert answer.status_code == 422
    assert answer.json == {"errors": expected}
    assert_nothing_saved(ctx)


@pytest.mark.parametrize("field", ["discount_value", "holdout_share", "frequency_cap_days", "email"])
def test_a_campaign_field_of_the_single_offer_is_refused(ctx, client, shopify_shop, field):
    """The offer's fields moved into the journeys: a PUT naming one is refused under that field."""
    document = {"campaign": {field: {"subject": "Hi", "body": "Hi"} if field == "email" else 1}}
    answer = client.put("/api/v1/rules", json=document, headers=bearer(shopify_shop["api_key"]))
    assert answer.status_code == 422
    assert list(answer.json["errors"]) == [f"campaign.{field}"]
    assert_nothing_saved(ctx)


def test_put_with_many_problems_lists_every_one(ctx, client, shopify_shop):
    document = {
        "scoring": {
            "activities": {"teleport": {"points": 5}, "product_view": {"points": 2, "cap": {"points": -1}}},
            "criteria": [
                {"field": "shoe_size", "operator": "eq", "value": "42", "points": 1},
                {"field": "country", "operator": "like", "value": "FR", "points": 1},
            ],
            "decay": {"half_life_days": -1},
            "tiers": {"warm": 90, "hot": 80},
        },
        "campaign": {"timezone": "Mars/Olympus", "discount_value": 500, "bogus": 1},
        "extra": True,
    }
    answer = client.put("/api/v1/rules", json=document, headers=bearer(shopify_shop["api_key"]))
    assert answer.status_code == 422
    assert set(answer.json["errors"]) == {
        "scoring.activities.teleport",
        "scoring.activities.product_view.cap.points",
        "scoring.criteria.0.field",
        "scoring.criteria.1.operator",
        "scoring.decay.half_life_days",
        "scoring.tiers.hot",
        "campaign.timezone",
        "campaign.discount_value",
        "campaign.bogus",
        "extra",
    }
    assert all(
        messages and all(isinstance(m, str) for m in messages) for messages in answer.json["errors"].values()
    )
    assert_nothing_saved(ctx)


def test_put_a_body_that_is_not_json_is_400(ctx, client, shopify_shop):
    answer = client.put("/api/v1/rules", data=b"{not json", headers=bearer(shopify_shop["api_key"]))
    assert answer.status_code == 400
    assert_nothing_saved(ctx)


def assert_nothing_saved(ctx) -> None:
    with ctx.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Ruleset)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditLog)) == 0
    assert get_queue(ctx.redis, MAINTENANCE).count == 0


def test_a_shopify_shop_cannot_turn_off_the_consent_requirement(client, shopify_shop, woo_shop):
    document = {"campaign": {"require_consent": False}}
    refused = client.put("/api/v1/rules", json=document, headers=bearer(shopify_shop["api_key"]))
    assert refused.status_code == 422
    [why] = refused.json["errors"]["campaign.require_consent"]
    assert "Shopify" in why and "marketing" in why  # says why, not only "invalid"
    live = client.get("/api/v1/rules", headers=bearer(shopify_shop["api_key"])).json
    assert live["version"] == 0 and live["document"]["campaign"]["require_consent"] is True
    # WooCommerce has no such term: the merchant decides.
    assert client.put("/api/v1/rules", json=document, headers=bearer(woo_shop["api_key"])).status_code == 200


def test_restoring_a_version_without_consent_is_refused_on_shopify(ctx, client, shopify_shop):
    from bridge.db import transaction
    from campaigns import DEFAULT_CAMPAIGN

    with transaction(ctx.sessions) as session:  # saved before the rule existed
        legacy = {"scoring": DEFAULT_SCORING, "campaign": {**DEFAULT_CAMPAIGN, "require_consent": False}}
        session.add(
            Ruleset(
                shop_id=shopify_shop["id"], version=1, document=legacy, created_at=ctx.now(), created_by="t"
            )
        )
        session.add(
            Ruleset(
                shop_id=shopify_shop["id"],
                version=2,
                document={"scoring": DEFAULT_SCORING, "campaign": DEFAULT_CAMPAIGN},
                created_at=ctx.now(),
                created_by="t",
            )
        )
    answer = client.post("/api/v1/rules/versions/1/restore", headers=bearer(shopify_shop["api_key"]))
    assert answer.status_code == 422 and "campaign.require_consent" in answer.json["errors"]
