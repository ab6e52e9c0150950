"""Rule versions: history with diffs, restore as a new version, audit log, and shop isolation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from bridge.db.models import AuditLog, RescoreRun
from bridge.infra.queue import MAINTENANCE, get_queue
from bridge.leads import rules
from campaigns import default_journeys
from scoring import DEFAULT_SCORING
from tests.integration.leads.conftest import bearer


def journeys_with(value: int) -> list:
    """The default journeys, the first (hot leads' carts, 15 % by default) offering `value` % off."""
    journeys = default_journeys()
    journeys[0]["steps"][0]["offer"]["value"] = value
    return journeys


BIGGER_CARTS = {"scoring": {"activities": {**DEFAULT_SCORING["activities"], "add_to_cart": {"points": 20}}}}
LOWER_HOT = {"scoring": {"tiers": {"warm": 40, "hot": 75}}, "journeys": journeys_with(20)}


def put(client, api_key, document, note=""):
    answer = client.put(f"/api/v1/rules?note={note}", json=document, headers=bearer(api_key))
    assert answer.status_code == 200, answer.json
    return answer.json


def test_versions_list_who_when_and_the_diff_of_each(ctx, client, shopify_shop):
    key = shopify_shop["api_key"]
    put(client, key, BIGGER_CARTS, note="carts")
    put(client, key, LOWER_HOT, note="hot")
    answer = client.get("/api/v1/rules/versions", headers=bearer(key))
    assert answer.status_code == 200
    assert answer.json["live"] == 2
    v2, v1 = answer.json["versions"]
    assert (v2["version"], v2["note"], v2["created_by"]) == (2, "hot", "api")
    assert v2["created_at"] == ctx.now().isoformat()
    # v2 keeps v1's activities (a missing section of the scoring part takes its default: 15 again).
    assert v2["diff"] == [  # sorted by path
        {"path": "journeys.0.steps.0.offer.value", "old": 15, "new": 20},
        {"path": "scoring.activities.add_to_cart.points", "old": 20, "new": 15},
        {"path": "scoring.tiers.hot", "old": 80, "new": 75},
    ]
    assert v1["diff"] == [{"path": "scoring.activities.add_to_cart.points", "old": 15, "new": 20}]
    with ctx.sessions() as s:
        audit = s.scalars(sa.select(AuditLog).order_by(AuditLog.id)).all()
    assert [(a.action, a.actor, a.detail["version"]) for a in audit] == [
        ("rules.saved", "api", 1),
        ("rules.saved", "api", 2),
    ]
    assert audit[1].detail["diff"] == v2["diff"]


def test_one_version_can_be_read_and_version_0_is_the_defaults(client, shopify_shop):
    key = shopify_shop["api_key"]
    put(client, key, BIGGER_CARTS)
    one = client.get("/api/v1/rules/versions/1", headers=bearer(key)).json
    assert one["document"]["scoring"]["activities"]["add_to_cart"] == {"points": 20}
    zero = client.get("/api/v1/rules/versions/0", headers=bearer(key)).json
    assert zero["document"]["scoring"] == DEFAULT_SCORING
    assert client.get("/api/v1/rules/versions/9", headers=bearer(key)).status_code == 404


def test_restore_creates_a_new_version_equal_to_the_old_one(ctx, client, shopify_shop):
    key, shop = shopify_shop["api_key"], shopify_shop["id"]
    first = put(client, key, BIGGER_CARTS)
    put(client, key, LOWER_HOT)
    answer = client.post("/api/v1/rules/versions/1/restore", headers=bearer(key))
    assert answer.status_code == 200
    assert answer.json["version"] == 3 and answer.json["note"] == "restored v1"
    assert answer.json["document"] == first["document"]
    live = client.get("/api/v1/rules", headers=bearer(key)).json
    assert (live["version"], live["document"]) == (3, first["document"])
    assert [
        v["version"] for v in client.get("/api/v1/rules/versions", headers=bearer(key)).json["versions"]
    ] == [3, 2, 1]
    with ctx.sessions() as s:
        runs = dict(s.execute(sa.select(RescoreRun.version, RescoreRun.status)).all())
        assert s.scalars(sa.select(AuditLog.action).order_by(AuditLog.id.desc())).first() == "rules.restored"
    assert runs == {1: "superseded", 2: "superseded", 3: "running"}
    assert f"rescore-{shop}-3" in get_queue(ctx.redis, MAINTENANCE).job_ids


def test_restore_version_0_brings_back_the_defaults(client, shopify_shop):
    key = shopify_shop["api_key"]
    put(client, key, LOWER_HOT)
    answer = client.post("/api/v1/rules/versions/0/restore", headers=bearer(key))
    assert answer.status_code == 200 and answer.json["version"] == 2
    assert answer.json["document"] == rules.defaults()


def test_restore_of_an_unknown_version_is_404(ctx, client, shopify_shop):
    answer = client.post("/api/v1/rules/versions/4/restore", headers=bearer(shopify_shop["api_key"]))
    assert answer.status_code == 404
    with ctx.sessions() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(RescoreRun)) == 0


def test_another_shops_key_neither_reads_nor_changes_these_rules(ctx, client, shopify_shop, woo_shop):
    mine, theirs = shopify_shop["api_key"], woo_shop["api_key"]
    put(client, mine, BIGGER_CARTS)
    put(client, mine, LOWER_HOT)
    assert client.get("/api/v1/rules", headers=bearer(theirs)).json["version"] == 0
    assert client.get("/api/v1/rules/versions", headers=bearer(theirs)).json["versions"] == []
    assert client.get("/api/v1/rules/versions/1", headers=bearer(theirs)).status_code == 404
    assert client.post("/api/v1/rules/versions/1/restore", headers=bearer(theirs)).status_code == 404
    put(client, theirs, {"journeys": journeys_with(30)})  # their own rules, version 1 of their shop
    live = client.get("/api/v1/rules", headers=bearer(mine)).json
    assert live["version"] == 2 and live["document"]["journeys"][0]["steps"][0]["offer"]["value"] == 20


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/rules"),
        ("put", "/api/v1/rules"),
        ("get", "/api/v1/rules/versions"),
        ("get", "/api/v1/rules/versions/1"),
        ("post", "/api/v1/rules/versions/1/restore"),
        ("post", "/api/v1/rules/simulate"),
    ],
)
def test_every_rules_endpoint_needs_a_valid_api_key(ctx, client, shopify_shop, method, path):
    put(client, shopify_shop["api_key"], BIGGER_CARTS)
    for headers in ({}, bearer("rl_not_a_key"), {"Authorization": shopify_shop["api_key"]}):
        answer = getattr(client, method)(path, json=LOWER_HOT, headers=headers)
        assert answer.status_code == 401
    live = client.get("/api/v1/rules", headers=bearer(shopify_shop["api_key"])).json
    assert live["version"] == 1
