"""The companion plugin's product views and newsletter sign-ups, built and signed by its PHP, through the
signed WordPress endpoint: a guest's views are the session's history until the sign-up names her."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bridge.db.models import Activity, Event, Lead, Visitor
from tests.integration.connectors.woocommerce.conftest import cart_event

ROOT = Path(__file__).resolve().parents[4]


def php_signed(secret: str, ts: int, event: str) -> tuple[bytes, dict[str, str]]:
    """The body and headers the plugin's PHP makes for `event` (tests/php/sign_sample.php)."""
    php = shutil.which("php")
    if php is None:
        pytest.fail("php is required for the plugin's tests: apt-get install php-cli")
    result = subprocess.run(
        [php, str(ROOT / "tests" / "php" / "sign_sample.php"), secret, str(ts), event],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    sample = json.loads(result.stdout)
    return sample["body"].encode("utf-8"), sample["headers"]


def send(client: Any, shop: dict[str, Any], raw: bytes, headers: dict[str, str]) -> Any:
    return client.post(f"/webhooks/wordpress/{shop['shop_key']}", data=raw, headers=headers)


def rows(ctx: Any, model: Any) -> list[Any]:
    with ctx.sessions() as s:
        return list(s.scalars(sa.select(model)))


def test_a_guest_view_then_a_consented_signup_score_for_her(ctx, client, woo_shop, clock, run_jobs):
    ts = int(clock.now.timestamp())
    viewed = send(client, woo_shop, *php_signed(woo_shop["secret"], ts, "product.viewed"))
    assert viewed.status_code == 200, viewed.get_data(as_text=True)
    run_jobs()
    assert rows(ctx, Lead) == []  # a guest's view names nobody
    [visitor] = rows(ctx, Visitor)
    assert visitor.client_id.startswith("wp:") and visitor.lead_id is None
    signed_up = send(client, woo_shop, *php_signed(woo_shop["secret"], ts + 60, "newsletter.signup"))
    assert signed_up.status_code == 200
    run_jobs()
    assert {e.topic: e.status for e in rows(ctx, Event)} == {
        "wordpress/product.viewed": "processed",
        "wordpress/newsletter.signup": "processed",
    }
    [lead] = rows(ctx, Lead)
    assert lead.email == "jane@example.com" and lead.accepts_marketing is True
    day = clock.now.date().isoformat()
    kinds = sorted((a.kind, a.ref, a.storefront) for a in rows(ctx, Activity))
    assert kinds == [("newsletter_signup", "newsletter", False), ("product_view", f"view:31:{day}", False)]
    lines = {line["rule"]: round(line["points"]) for line in lead.breakdown["lines"]}
    assert (lines["activity:newsletter_signup"], lines["activity:product_view"]) == (5, 2)  # default rules
    assert lead.score == sum(lines.values())
    assert rows(ctx, Visitor)[0].lead_id == lead.id


def test_forged_or_unconsented_events_add_nothing(ctx, client, woo_shop, clock, post_plugin, run_jobs):
    ts = int(clock.now.timestamp())
    raw, headers = php_signed("not-the-shop-secret", ts, "newsletter.signup")
    assert send(client, woo_shop, raw, headers).status_code == 401
    raw, headers = php_signed(woo_shop["secret"], ts, "product.viewed")
    tampered = raw.replace(b'"product_id":31', b'"product_id":32')
    assert send(client, woo_shop, tampered, headers).status_code == 401
    assert rows(ctx, Event) == []
    # A sign-up without the visitor's consent is not one (the plugin never sends it; Relance ignores it).
    unconsented = {"event": "newsletter.signup", "session_key": "s1", "email": "bo@example.com", "ts": ts}
    assert post_plugin(woo_shop, unconsented).status_code == 200
    run_jobs()
    assert rows(ctx, Lead) == [] and rows(ctx, Activity) == []


def test_a_logged_in_customer_view_scores_and_a_later_cart_joins_the_session(
    ctx, client, woo_shop, clock, post_plugin, run_jobs
):
    ts = int(clock.now.timestamp())
    view = {
        "event": "product.viewed",
        "session_key": "5f1e" * 8,
        "product_id": 40,
        "ts": ts,
        "customer_id": 7,
    }
    assert post_plugin(woo_shop, view).status_code == 200
    guest = {"event": "product.viewed", "session_key": "a" * 32, "product_id": 41, "ts": ts}
    assert post_plugin(woo_shop, guest).status_code == 200
    run_jobs()
    with ctx.sessions() as s:
        lead = s.scalars(sa.select(Lead).where(Lead.external_id == "7")).one()
        assert s.scalars(sa.select(Activity.ref).where(Activity.lead_id == lead.id)).all() == [
            f"view:40:{clock.now.date().isoformat()}"
        ]
    # The guest types her email at checkout: the signed cart event of the same session names her.
    typed = cart_event("checkout.email", ts=ts + 30, email="lu@example.com", session_key="a" * 32)
    assert post_plugin(woo_shop, typed).status_code == 200
    run_jobs()
    with ctx.sessions() as s:
        lu = s.scalars(sa.select(Lead).where(Lead.email == "lu@example.com")).one()
        refs = sorted(s.scalars(sa.select(Activity.ref).where(Activity.lead_id == lu.id)))
    assert f"view:41:{clock.now.date().isoformat()}" in refs and len(refs) == 2
