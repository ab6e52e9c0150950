"""The `alerts` part of the rules document: every bad field answers 422 under its own path, the part is
versioned with the rest of the rules, and the daily digest sends one email per shop and day."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import AlertDelivery, Lead, ScoreChange, Shop
from bridge.infra.netguard import Guard
from bridge.leads import rules
from bridge.outreach import alerts as sending
from tests.fakes.smtp import SMTPServer
from tests.integration.alerts.helpers import put_alerts, warm_lead

HOOK = "https://hooks.example.com/relance"


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ({"sales_email": "not-an-email"}, "alerts.sales_email"),
        ({"digest": "daily"}, "alerts.digest"),
        ({"colour": "red"}, "alerts.colour"),
        (
            {"subscriptions": [{"key": "crm", "url": HOOK, "events": ["lead.cold"]}]},
            "alerts.subscriptions.0.events.0",
        ),
        ({"subscriptions": [{"key": "crm", "url": HOOK, "events": []}]}, "alerts.subscriptions.0.events"),
        (
            {"subscriptions": [{"key": "crm", "url": "ftp://x.example", "events": ["lead.hot"]}]},
            "alerts.subscriptions.0.url",
        ),
        (
            {"subscriptions": [{"key": "crm", "url": "http://crm.example.com", "events": ["lead.hot"]}]},
            "alerts.subscriptions.0.url",
        ),
        (
            {"subscriptions": [{"key": "Has Space", "url": HOOK, "events": ["lead.hot"]}]},
            "alerts.subscriptions.0.key",
        ),
        (
            {"subscriptions": [{"key": "crm", "url": HOOK, "events": ["lead.hot"], "format": "xml"}]},
            "alerts.subscriptions.0.format",
        ),
        ({"subscriptions": [{"url": HOOK, "events": ["lead.hot"]}]}, "alerts.subscriptions.0.key"),
        (
            {"subscriptions": [{"key": "a", "url": HOOK, "events": ["lead.hot"]}] * 2},
            "alerts.subscriptions",
        ),
        ({"subscriptions": "all"}, "alerts.subscriptions"),
    ],
)
def test_each_bad_field_is_a_422_under_its_path(ctx, client, shopify_shop, document, field):
    ctx.guard = Guard(resolve=lambda host, port: ["93.184.216.34"])
    response = put_alerts(client, shopify_shop["api_key"], document)
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == [field]


def test_alerts_are_a_versioned_part_of_the_rules(ctx, client, shopify_shop):
    ctx.guard = Guard(resolve=lambda host, port: ["93.184.216.34"])
    assert put_alerts(client, shopify_shop["api_key"], {"sales_email": "a@shop.example"}).status_code == 200
    assert put_alerts(client, shopify_shop["api_key"], {"sales_email": "b@shop.example"}).status_code == 200
    with ctx.sessions() as session:
        [latest, _first] = rules.history(session, shopify_shop["id"])
        assert latest["diff"] == [
            {"path": "alerts.sales_email", "old": "a@shop.example", "new": "b@shop.example"}
        ]
        assert rules.alerts_for(session, shopify_shop["id"]).sales_email == "b@shop.example"
        assert rules.defaults()["alerts"]["subscriptions"] == []
    same = put_alerts(client, shopify_shop["api_key"], {"sales_email": "b@shop.example"}).get_json()
    assert same["changed"] is False
    # the whole document's PUT takes the part too, with the same checks
    bad = client.put(
        "/api/v1/rules",
        json={"alerts": {"sales_email": "nope"}},
        headers={"Authorization": f"Bearer {shopify_shop['api_key']}"},
    )
    assert bad.status_code == 422 and list(bad.get_json()["errors"]) == ["alerts.sales_email"]


def test_the_digest_sends_yesterdays_new_hot_leads_once(ctx, client, shopify_shop, run_jobs):
    shop_id = shopify_shop["id"]
    with SMTPServer() as smtp:
        ctx.settings = ctx.settings.with_overrides(smtp_url=smtp.url, mail_from="Relance <a@relance.test>")
        with transaction(ctx.sessions) as session:
            shop = session.get(Shop, shop_id)
            shop.state, shop.timezone, shop.name = {"primary_locale": "en"}, "Europe/Paris", "Demo"
        document = {"sales_email": "sales@shop.example", "hot_email": False, "digest": True}
        assert put_alerts(client, shopify_shop["api_key"], document).status_code == 200
        run_jobs()  # the new version's rescore, before the leads below
        assert sending.send_digests(ctx) == 0  # no new hot lead yesterday: no email, nothing in the log
        yesterday = ctx.now() - timedelta(days=1)
        hot = [warm_lead(ctx, shop_id, email=f"lead{n}@example.com") for n in range(3)]
        with transaction(ctx.sessions) as session:
            for n, lead_id in enumerate(hot):
                lead = session.get(Lead, lead_id)
                lead.tier, lead.score = ("hot", 90 - n) if n < 2 else ("warm", 60)  # the third cooled since
                lead.breakdown = {
                    "lines": [
                        {"rule": "activity:checkout_started", "label": "Started checkout", "points": 60}
                    ]
                }
                session.add(
                    ScoreChange(
                        lead_id=lead_id,
                        at=yesterday,
                        old_score=50,
                        new_score=90,
                        old_tier="warm",
                        new_tier="hot",
                        reason="event",
                    )
                )

        assert sending.send_digests(ctx) == 1
        assert sending.send_digests(ctx) == 0  # the same day again: nothing new
        run_jobs()

        [mail] = smtp.messages
        assert mail["Subject"] == "2 new hot lead(s) on Demo"
        text = mail.get_body(preferencelist=("plain",)).get_content()
        assert "lead0@example.com" in text and "lead1@example.com" in text
        assert "lead2@example.com" not in text
        assert text.index("lead0@example.com") < text.index("lead1@example.com")  # hottest first
        assert "New hot leads on Demo on 2026-11-24:" in text
        assert "  - Started checkout: +60 pts" in text
    with ctx.sessions() as session:
        [row] = session.scalars(sa.select(AlertDelivery)).all()
        assert (row.channel, row.status, row.refs["day"]) == ("digest", "sent", "2026-11-24")
