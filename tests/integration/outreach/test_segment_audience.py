"""A journey restricted to a segment (`audience: {"segment": key}`) only starts runs for the segment's
members: carts abandoned through real webhooks, the sweep, the journeys' jobs and a real SMTP server."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import JourneyRun, Lead, LeadProduct, Product, Ruleset
from bridge.outreach import sweep
from tests.integration.outreach import test_journeys as journeys
from tests.integration.outreach.test_journeys import cart_journey, checkout_payload, tick, use_rules

shop, smtp = journeys.shop, journeys.smtp  # the journeys tests' fixtures: a demo Shopify shop, real SMTP

SHIRT_FANS = {
    "key": "shirt-fans",
    "conditions": [
        {"field": "viewed", "operator": "in", "of": "collection", "value": ["shirts"], "within_days": 30}
    ],
}


def write_segments(ctx, shop_id: int, journeys: list[dict], segments: list[dict]) -> None:
    use_rules(ctx, shop_id, journeys)
    with transaction(ctx.sessions) as session:
        row = session.scalars(
            sa.select(Ruleset).where(Ruleset.shop_id == shop_id).order_by(Ruleset.version.desc())
        ).first()
        row.document = {**row.document, "segments": segments}


def viewed_a_shirt(ctx, shop_id: int, email: str) -> None:
    now = ctx.now()
    with transaction(ctx.sessions) as session:
        lead_id = session.scalar(sa.select(Lead.id).where(Lead.shop_id == shop_id, Lead.email == email))
        if session.scalar(sa.select(Product.id).where(Product.product_id == "p1")) is None:
            session.add(
                Product(
                    shop_id=shop_id,
                    product_id="p1",
                    collections=["shirts"],
                    first_seen_at=now,
                    updated_at=now,
                )
            )
        at = now - timedelta(days=3)
        session.add(
            LeadProduct(
                shop_id=shop_id, lead_id=lead_id, product_id="p1", action="viewed", first_at=at, last_at=at
            )
        )


def test_a_journey_restricted_to_a_segment_only_runs_for_its_members(
    ctx, clock, shop, smtp, post_shopify, run_jobs
):
    fans = cart_journey(
        "fans", steps=[{"after_minutes": 60, "messages": {"en": {"subject": "Shirts", "body": "Hi"}}}]
    )
    fans["audience"] = {"tiers": None, "segment": "shirt-fans"}
    write_segments(ctx, shop["id"], [fans], [SHIRT_FANS])
    for number, email in enumerate(("fan@example.com", "other@example.com", "lapsed@example.com")):
        assert post_shopify("checkouts/create", checkout_payload(email, f"t{number}")).status_code == 200
    run_jobs()
    viewed_a_shirt(ctx, shop["id"], "fan@example.com")
    with transaction(ctx.sessions) as session:  # a view long ago: not in the segment any more
        lapsed = session.scalar(sa.select(Lead.id).where(Lead.email == "lapsed@example.com"))
        at = ctx.now() - timedelta(days=40)
        session.add(
            LeadProduct(
                shop_id=shop["id"], lead_id=lapsed, product_id="p1", action="viewed", first_at=at, last_at=at
            )
        )

    clock.advance(minutes=61)
    assert sweep.sweep(ctx) == 3
    run_jobs()
    with ctx.sessions() as session:
        started = {
            email: (status, key, reason)
            for email, status, key, reason in session.execute(
                sa.select(Lead.email, JourneyRun.status, JourneyRun.journey_key, JourneyRun.exit_reason).join(
                    Lead, Lead.id == JourneyRun.lead_id
                )
            )
        }
    assert started == {
        "fan@example.com": ("active", "fans", None),
        "other@example.com": ("ended", "", "no_journey"),
        "lapsed@example.com": ("ended", "", "no_journey"),
    }
    clock.advance(minutes=61)
    tick(ctx, run_jobs)
    assert [message["To"] for message in smtp.messages] == ["fan@example.com"]
