"""Segments through the API: preview before saving, saving in the versioned rules document (with its
cross-part checks), the leads filter, the CSV export and a scoring criterion on a segment."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from bridge.db import transaction
from bridge.db.models import LeadProduct, Product
from bridge.infra.context import Context
from campaigns import default_journeys
from tests.integration.leads.conftest import bearer, scores

SHIRT_FANS = {
    "key": "shirt-fans",
    "name": "Shirt fans",
    "match": "all",
    "conditions": [
        {"field": "viewed", "operator": "in", "of": "collection", "value": ["Shirts"], "within_days": 30},
        {"field": "accepts_marketing", "operator": "eq", "value": True},
    ],
}


def touch(ctx: Context, shop_id: int, lead_id: int, product: str, action: str, days_ago: float) -> None:
    """A lead's product touch, with the product described as the product store keeps it."""
    at = ctx.now() - timedelta(days=days_ago)
    with transaction(ctx.sessions) as session:
        if session.get(Product, 1) is None:
            session.add(
                Product(
                    id=1,
                    shop_id=shop_id,
                    product_id="p1",
                    title="Oxford shirt",
                    collections=["shirts", "summer"],
                    tags=["cotton"],
                    first_seen_at=at,
                    updated_at=at,
                )
            )
        session.add(
            LeadProduct(
                shop_id=shop_id, lead_id=lead_id, product_id=product, action=action, first_at=at, last_at=at
            )
        )


def shop_with_fans(ctx: Context, shop: dict[str, Any], add_lead: Any) -> dict[str, int]:
    """ann and bob viewed a shirt lately and accept marketing; cat viewed one long ago; dan never did."""
    ids = {
        "ann": add_lead(shop["id"], "ann@example.com", accepts_marketing=True, score=50, tier="warm"),
        "bob": add_lead(shop["id"], "bob@example.com", accepts_marketing=True, score=90, tier="hot"),
        "cat": add_lead(shop["id"], "cat@example.com", accepts_marketing=True, score=10),
        "dan": add_lead(shop["id"], "dan@example.com", accepts_marketing=True, score=20),
    }
    touch(ctx, shop["id"], ids["ann"], "p1", "viewed", 2)
    touch(ctx, shop["id"], ids["bob"], "p1", "viewed", 29)
    touch(ctx, shop["id"], ids["cat"], "p1", "viewed", 45)
    touch(ctx, shop["id"], ids["dan"], "p1", "added", 1)
    return ids


def test_preview_counts_and_samples_before_saving_with_masked_emails(ctx, client, shopify_shop, add_lead):
    ids = shop_with_fans(ctx, shopify_shop, add_lead)
    answer = client.post(
        "/api/v1/segments/preview", json={"segment": SHIRT_FANS}, headers=bearer(shopify_shop["api_key"])
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["count"] == 2
    assert answer.json["sample"] == [
        {"id": ids["bob"], "email": "b***@example.com", "score": 90, "tier": "hot"},
        {"id": ids["ann"], "email": "a***@example.com", "score": 50, "tier": "warm"},
    ]
    assert answer.json["segment"]["conditions"][0]["value"] == ["shirts"]  # folded as it is compared
    listed = client.get("/api/v1/segments", headers=bearer(shopify_shop["api_key"]))
    assert listed.json == {"segments": []}  # a preview saves nothing


def test_a_bad_segment_is_a_422_per_field(client, shopify_shop):
    segment = {
        "key": "Bad Key",
        "match": "some",
        "conditions": [
            {"field": "shoe_size", "operator": "eq", "value": 42},
            {"field": "country", "operator": "gt", "value": "FR"},
            {"field": "orders_count", "operator": "gte", "value": "three"},
            {"field": "viewed", "operator": "in", "of": "brand", "value": ["x"]},
            {"field": "country", "operator": "eq", "value": "FR", "within_days": 3},
        ],
    }
    answer = client.post(
        "/api/v1/segments/preview", json={"segment": segment}, headers=bearer(shopify_shop["api_key"])
    )
    assert answer.status_code == 422
    errors = answer.json["errors"]
    assert set(errors) == {
        "segment.key",
        "segment.match",
        "segment.conditions.0.field",
        "segment.conditions.1.operator",
        "segment.conditions.2.value",
        "segment.conditions.3.of",
        "segment.conditions.4.within_days",
    }
    assert errors["segment.conditions.2.value"] == ["Must be a number."]
    missing = client.post("/api/v1/segments/preview", json={}, headers=bearer(shopify_shop["api_key"]))
    assert missing.status_code == 422 and missing.json["errors"] == {"segment": ["Must be a JSON object."]}


def test_segments_are_saved_in_the_versioned_rules_and_references_are_checked(
    ctx, client, shopify_shop, add_lead
):
    shop_with_fans(ctx, shopify_shop, add_lead)
    auth = bearer(shopify_shop["api_key"])
    journeys = default_journeys()
    journeys[0]["audience"] = {"tiers": None, "segment": "nobody"}
    criterion = {"field": "segment", "operator": "eq", "value": "ghosts", "points": 10}
    refused = client.put(
        "/api/v1/rules",
        json={"segments": [SHIRT_FANS], "journeys": journeys, "scoring": {"criteria": [criterion]}},
        headers=auth,
    )
    assert refused.status_code == 422
    assert refused.json["errors"] == {
        "journeys.0.audience.segment": ["No segment 'nobody' in this document."],
        "scoring.criteria.0.value": ["No segment 'ghosts' in this document."],
    }
    twice = client.put("/api/v1/rules", json={"segments": [SHIRT_FANS, SHIRT_FANS]}, headers=auth)
    assert twice.json["errors"] == {"segments.1.key": ["'shirt-fans' is used twice."]}
    by_score = {"key": "rich", "conditions": [{"field": "score", "operator": "gte", "value": 50}]}
    circular = {"field": "segment", "operator": "eq", "value": "rich", "points": 5}
    loop = client.put(
        "/api/v1/rules", json={"segments": [by_score], "scoring": {"criteria": [circular]}}, headers=auth
    )
    assert loop.status_code == 422 and "tests the score" in loop.json["errors"]["scoring.criteria.0.value"][0]

    saved = client.put("/api/v1/rules", json={"segments": [SHIRT_FANS]}, headers=auth)
    assert saved.status_code == 200 and saved.json["version"] == 1
    assert saved.json["document"]["segments"][0]["key"] == "shirt-fans"
    assert any(change["path"].startswith("segments") for change in saved.json["diff"])
    listed = client.get("/api/v1/segments", headers=auth).json["segments"]
    assert [(s["key"], s["count"]) for s in listed] == [("shirt-fans", 2)]

    journeys[0]["audience"] = {"tiers": None, "segment": "shirt-fans"}
    assert client.put("/api/v1/rules", json={"journeys": journeys}, headers=auth).status_code == 200
    gone = client.put("/api/v1/rules", json={"segments": []}, headers=auth)  # the journey still needs it
    assert gone.status_code == 422
    assert gone.json["errors"] == {
        "journeys.0.audience.segment": ["No segment 'shirt-fans' in this document."]
    }
    restored = client.post("/api/v1/rules/versions/0/restore", headers=auth)
    assert restored.status_code == 200 and restored.json["document"]["segments"] == []


def test_the_leads_api_filters_by_segment(ctx, client, shopify_shop, add_lead):
    ids = shop_with_fans(ctx, shopify_shop, add_lead)
    auth = bearer(shopify_shop["api_key"])
    assert client.put("/api/v1/rules", json={"segments": [SHIRT_FANS]}, headers=auth).status_code == 200
    answer = client.get("/api/v1/leads?segment=shirt-fans", headers=auth)
    assert answer.status_code == 200
    assert [lead["id"] for lead in answer.json["leads"]] == [ids["bob"], ids["ann"]]
    tiered = client.get("/api/v1/leads?segment=shirt-fans&tier=warm", headers=auth)
    assert [lead["id"] for lead in tiered.json["leads"]] == [ids["ann"]]
    assert client.get(f"/api/v1/leads/{ids['ann']}", headers=auth).json["segments"] == ["shirt-fans"]
    assert client.get(f"/api/v1/leads/{ids['cat']}", headers=auth).json["segments"] == []
    unknown = client.get("/api/v1/leads?segment=nope", headers=auth)
    assert unknown.status_code == 422 and unknown.json == {
        "errors": {"segment": ["No segment with this key."]}
    }


def test_the_csv_export_lists_members_and_defuses_formulas(ctx, client, shopify_shop, add_lead):
    shop = shopify_shop["id"]
    evil = add_lead(
        shop, "eve@example.com", accepts_marketing=True, first_name='=HYPERLINK("x")', last_name="-2+3"
    )
    add_lead(shop, "plain@example.com", accepts_marketing=True, first_name="@Plain", country="FR")
    add_lead(shop, "no@example.com", accepts_marketing=False)
    touch(ctx, shop, evil, "p1", "viewed", 1)
    consenting = {
        "key": "consenting",
        "conditions": [{"field": "accepts_marketing", "operator": "eq", "value": True}],
    }
    auth = bearer(shopify_shop["api_key"])
    assert client.put("/api/v1/rules", json={"segments": [consenting]}, headers=auth).status_code == 200

    answer = client.get("/api/v1/segments/consenting/export.csv", headers=auth)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    assert 'filename="relance-segment-consenting-' in answer.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
    assert [row["email"] for row in table] == ["eve@example.com", "plain@example.com"]
    assert table[0]["first_name"] == '\'=HYPERLINK("x")' and table[0]["last_name"] == "'-2+3"
    assert table[1]["first_name"] == "'@Plain" and table[1]["country"] == "FR"
    assert table[0]["accepts_marketing"] == "true" and table[0]["unsubscribed"] == "false"
    assert client.get("/api/v1/segments/nope/export.csv", headers=auth).status_code == 404
    assert client.get("/api/v1/segments/consenting/export.csv").status_code == 401


def test_a_criterion_on_a_segment_scores_its_members(ctx, client, shopify_shop, add_lead, run_jobs):
    ids = shop_with_fans(ctx, shopify_shop, add_lead)
    auth = bearer(shopify_shop["api_key"])
    affinity = {
        "field": "segment",
        "operator": "eq",
        "value": "shirt-fans",
        "points": 10,
        "label": "Affinity: shirts",
    }
    document = {
        "segments": [SHIRT_FANS],
        "scoring": {"activities": {}, "criteria": [affinity], "decay": {"half_life_days": 0}},
    }
    simulated = client.post("/api/v1/rules/simulate", json=document, headers=auth)
    assert simulated.status_code == 200, simulated.json
    saved = client.put("/api/v1/rules", json=document, headers=auth)
    assert saved.status_code == 200, saved.json
    run_jobs()  # the rescore of the new version
    assert scores(ctx, shopify_shop["id"]) == {
        "ann@example.com": (10, "cold"),
        "bob@example.com": (10, "cold"),
        "cat@example.com": (0, "cold"),
        "dan@example.com": (0, "cold"),
    }
    lead = client.get(f"/api/v1/leads/{ids['ann']}", headers=auth).json
    assert [(line["label"], line["points"]) for line in lead["breakdown"]["lines"]] == [
        ("Affinity: shirts", 10)
    ]
