"""The demo: a shop on the built-in demo store, fed a realistic day of signed webhooks through the real path.

Every delivery is signed with the demo shop's webhook secret and posted to `/webhooks/shopify` (the app's
test client, so the same verify → store → enqueue → process path as production). The real clock is used:
payload times are backdated (carts left 2 h or more ago), so the real sweep abandons them at once.
No SMTP in a demo: offers the delivery job leaves `created` ("no delivery channel") are rendered exactly
as the email would be, kept in a local outbox (a Redis list) and marked sent — see `deliver_to_outbox`.
The story of the day is in `story`, the posting and draining in `player`. Before the day, `history` writes
60 days of past cart-journey runs with a known effect as rows, so the overview has a lift to measure.

May import: the app and every layer below it. Imported by: the cli only.
"""

from __future__ import annotations

import json
import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Cart, Event, JourneyRun, Lead, Offer, Shop
from bridge.demo import history
from bridge.demo.player import Player
from bridge.demo.story import DOMAIN, Story
from bridge.infra.context import Context
from bridge.leads import rescore, rules
from bridge.outreach import journey_sweep, results, sweep
from bridge.outreach import message as messages
from bridge.shops import users
from bridge.shops.registry import create_shop

__all__ = ["DOMAIN", "EMAIL", "OUTBOX_KEY", "DemoResult", "Player", "Story", "deliver_to_outbox", "seed"]
EMAIL = "demo@relance.local"
CUSTOMERS = 80
OUTBOX_KEY = "relance:demo:{shop_id}:outbox"
Counted = TypeVar("Counted", Event, Lead, Cart, Offer)


@dataclass
class DemoResult:
    """What the demo created; `password` is shown once and stored only as a hash."""

    shop_id: int
    email: str
    password: str
    counts: dict[str, int] = field(default_factory=dict)


def seed_if_empty(ctx: Context) -> DemoResult | None:
    """Create the demo when the database holds no shop at all (for `relance serve --demo`); else None.

    Call it before starting the in-process worker: the demo runs its jobs itself, in order. (With a
    worker already running it still works; two workers racing on one cart only cause logged retries.)
    """
    with ctx.sessions() as session:
        if session.scalar(sa.select(Shop.id).limit(1)) is not None:
            return None
    return seed(ctx)


def seed(ctx: Context, customers: int = CUSTOMERS, rng: random.Random | None = None) -> DemoResult:
    """Create the demo shop, its user and rules, then play the day (takes a few seconds)."""
    rng = rng or random.Random(7)  # a story, not a secret
    secret, password = secrets.token_hex(32), secrets.token_urlsafe(12)
    now = ctx.now()
    with transaction(ctx.sessions) as session:
        shop = create_shop(
            session,
            ctx.vault,
            platform="shopify",
            domain=DOMAIN,
            now=now,
            webhook_secret=secret,
            name="Demo Store",
        ).shop
        shop.state, shop.currency, shop.timezone = {"demo": True}, "EUR", "Europe/Paris"
        users.create_user(session, EMAIL, password, shop.id, now, update=True)
        campaign_doc = {**rules.defaults()["campaign"], "quiet_hours": None}
        journeys = rules.defaults()["journeys"]
        for journey in journeys:
            if journey["key"] == "cart":
                journey["holdout_share"] = history.HOLDOUT_SHARE  # enough held-out runs to measure soon
        document = {"campaign": campaign_doc, "journeys": journeys}
        version = rules.save(session, shop.id, document, "demo", "demo settings", now).version
        shop_id = shop.id
        past = history.write_history(session, shop_id, now, rng)
    ctx.signers.forget()
    rescore.enqueue_rescore(ctx, shop_id, version)
    player = Player(ctx, shop_id, secret)
    story = Story(rng, now, customers)
    player.play(story.day())
    player.drain()
    player.collect(story.browsing())
    player.drain()
    sweep.sweep(ctx)
    player.drain()
    for _ in range(3):  # the cart journey's three steps, the last one with its code
        fast_forward(ctx, shop_id)
        player.drain()
    deliver_to_outbox(ctx, shop_id)
    player.play(story.orders_with_codes(_offers(ctx, shop_id), ctx.now()))
    player.drain()
    results.snapshot_tiers(ctx)
    return DemoResult(shop_id, EMAIL, password, {**_counts(ctx, shop_id, now), "past_runs": past})


def fast_forward(ctx: Context, shop_id: int) -> int:
    """Demo only: the journeys' next steps are due now rather than hours or days later, so the day shows
    its emails at once (the sign-ups' and browses' runs start first); how many steps were handed out."""
    journey_sweep.start_lead_journeys(ctx)
    with transaction(ctx.sessions) as session:
        shop = session.get(Shop, shop_id)
        if shop is None or not (shop.state or {}).get("demo"):
            return 0  # never for a real shop
        session.execute(
            sa.update(JourneyRun)
            .where(JourneyRun.shop_id == shop_id, JourneyRun.status == "active")
            .values(next_due_at=ctx.now())
        )
    return journey_sweep.sweep_due(ctx)


def deliver_to_outbox(ctx: Context, shop_id: int) -> int:
    """Demo delivery: render each created offer like the email, keep it in the outbox list, mark it sent."""
    key = OUTBOX_KEY.format(shop_id=shop_id)
    sent = 0
    with transaction(ctx.sessions) as session:
        shop = session.get(Shop, shop_id)
        if shop is None or not (shop.state or {}).get("demo"):
            return 0  # never for a real shop
        settings = rules.campaign_settings_for(session, shop_id)
        for offer in session.scalars(
            sa.select(Offer).where(Offer.shop_id == shop_id, Offer.status == "created")
        ):
            message = messages.render(ctx, session, offer, settings)
            ctx.redis.lpush(
                key, json.dumps({"to": offer.recipient, "subject": message.subject, "text": message.text})
            )
            offer.status, offer.sent_at, offer.error = "sent", ctx.now(), None
            sent += 1
    ctx.redis.ltrim(key, 0, 199)
    return sent


def _offers(ctx: Context, shop_id: int) -> list[tuple[str | None, bool, str | None]]:
    """(checkout token, holdout, code) of the demo's abandoned-cart offers, read from the database."""
    with ctx.sessions() as session:
        rows = session.execute(
            sa.select(Cart.checkout_token, Offer.holdout, Offer.code, Offer.status)
            .join(Offer, Offer.cart_id == Cart.id)
            .where(Offer.shop_id == shop_id, Cart.checkout_token.is_not(None))
            .order_by(Offer.id)
        ).all()
    return [(token, holdout, code if status == "sent" else None) for token, holdout, code, status in rows]


def _counts(ctx: Context, shop_id: int, since: datetime) -> dict[str, int]:
    """The day's figures: offers made since the demo started (the past runs' offers are history's)."""
    with ctx.sessions() as session:

        def count(model: type[Counted], *where: sa.ColumnElement[bool]) -> int:
            query = sa.select(sa.func.count()).select_from(model).where(model.shop_id == shop_id, *where)
            return int(session.scalar(query) or 0)

        return {
            "events": count(Event),
            "leads": count(Lead),
            "carts": count(Cart),
            "abandoned": count(Cart, Cart.abandoned_at.is_not(None)),
            "offers_sent": count(Offer, Offer.sent_at.is_not(None), Offer.created_at >= since),
            "redeemed": count(Offer, Offer.status == "redeemed", Offer.created_at >= since),
        }
