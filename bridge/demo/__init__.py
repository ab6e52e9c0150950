"""The demo: a shop on the built-in demo store, fed a realistic day of signed webhooks through the real path.

Every delivery is signed with the demo shop's webhook secret and posted to `/webhooks/shopify` (the app's
test client, so the same verify → store → enqueue → process path as production). The real clock is used:
payload times are backdated (carts left 2 h or more ago), so the real sweep abandons them at once.
No SMTP in a demo: offers the delivery job leaves `created` ("no delivery channel") are rendered exactly
as the email would be, kept in a local outbox (a Redis list) and marked sent — see `deliver_to_outbox`.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from bridge.db import transaction
from bridge.db.models import Event, Offer, Shop
from bridge.infra import queue
from bridge.infra.context import Context
from bridge.leads import rescore
from bridge.leads import rules as rulesets
from bridge.outreach import message as messages
from bridge.outreach import results as metrics
from bridge.outreach import sweep as campaign
from bridge.shops import users
from bridge.shops.registry import create_shop
from connectors.shopify.webhooks import signature

log = logging.getLogger(__name__)
DOMAIN = "demo-store.myshopify.com"
EMAIL = "demo@relance.local"
CUSTOMERS = 80
OUTBOX_KEY = "relance:demo:{shop_id}:outbox"
FIRST = (
    "Ana",
    "Ben",
    "Chloé",
    "Dev",
    "Emma",
    "Farid",
    "Greta",
    "Hugo",
    "Iris",
    "Jon",
    "Keiko",
    "Liam",
    "Mia",
    "Noah",
)
LAST = (
    "Martin",
    "Silva",
    "Novak",
    "Khan",
    "Rossi",
    "Berg",
    "Dubois",
    "Okafor",
    "Lee",
    "Moreau",
    "Weber",
    "Costa",
)
COUNTRIES = ("FR", "FR", "FR", "BE", "DE", "CH", "ES", "IT", "CA", "US")
SOURCES = (
    ("google", "https://www.google.com/"),
    ("instagram", "https://l.instagram.com/"),
    ("newsletter", None),
    ("facebook", "https://m.facebook.com/"),
    (None, None),
)
CATALOG = (
    ("Linen shirt", "49.00"),
    ("Canvas tote bag", "18.50"),
    ("Merino scarf", "39.00"),
    ("Ceramic mug", "14.00"),
    ("Leather wallet", "65.00"),
    ("Wool beanie", "24.00"),
    ("Rain jacket", "129.00"),
    ("Sneakers", "89.00"),
)


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
        shop.settings, shop.currency, shop.timezone = {"demo": True}, "EUR", "Europe/Paris"
        users.create_user(session, EMAIL, password, shop.id, now, update=True)
        campaign_doc = {**rulesets.defaults()["campaign"], "quiet_hours": None, "holdout_share": 0.1}
        version = rulesets.save(
            session, shop.id, {"campaign": campaign_doc}, "demo", "demo settings", now
        ).version
        shop_id = shop.id
    ctx.signers.forget()
    rescore.enqueue_rescore(ctx, shop_id, version)
    player = Player(ctx, shop_id, secret)
    story = Story(rng, now, customers)
    player.play(story.day())
    player.drain()
    player.collect(story.browsing())
    player.drain()
    campaign.sweep(ctx)
    player.drain()
    deliver_to_outbox(ctx, shop_id)
    player.play(story.orders_with_codes(_offers(ctx, shop_id), ctx.now()))
    player.drain()
    metrics.snapshot_tiers(ctx)
    return DemoResult(shop_id, EMAIL, password, _counts(ctx, shop_id))


class Player:
    """Posts signed deliveries to the app's webhook endpoint and runs the jobs they queue."""

    def __init__(self, ctx: Context, shop_id: int, secret: str) -> None:
        from bridge.app import create_app

        self.ctx, self.shop_id, self.secret = ctx, shop_id, secret
        self.client = create_app(ctx.settings, ctx=ctx, extensions=()).test_client()

    def play(self, deliveries: list[tuple[str, dict[str, Any]]]) -> None:
        """Sign and post each (topic, payload) like Shopify would."""
        for topic, payload in deliveries:
            raw = json.dumps(payload).encode()
            headers = {
                "X-Shopify-Topic": topic,
                "X-Shopify-Shop-Domain": DOMAIN,
                "X-Shopify-Hmac-Sha256": signature(raw, self.secret).decode(),
                "X-Shopify-Event-Id": str(uuid.uuid4()),
                "X-Shopify-Webhook-Id": str(uuid.uuid4()),
                "X-Shopify-Triggered-At": payload.get("updated_at") or payload.get("created_at") or "",
                "Content-Type": "application/json",
            }
            response = self.client.post("/webhooks/shopify", data=raw, headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"demo delivery {topic} refused: {response.status_code}")

    def collect(self, events: list[dict[str, Any]]) -> None:
        """Post storefront events (product views, sign-ups) like the web pixel would."""
        with self.ctx.sessions() as session:
            key = session.scalar(sa.select(Shop.public_key).where(Shop.id == self.shop_id))
        for event in events:
            response = self.client.post(f"/collect/{key}", json=event)
            if response.status_code != 202:
                raise RuntimeError(f"demo storefront event refused: {response.status_code}")

    def drain(self, timeout: float = 120.0) -> None:
        """Run queued jobs until the demo shop has no pending event (another worker may help)."""
        deadline = time.monotonic() + timeout
        worker = queue.ThreadWorker(
            [queue.get_queue(self.ctx.redis, q) for q in queue.QUEUES], connection=self.ctx.redis
        )
        while time.monotonic() < deadline:
            worker.work(burst=True, logging_level="WARNING")
            with self.ctx.sessions() as session:
                pending = session.scalar(
                    sa.select(sa.func.count()).where(Event.shop_id == self.shop_id, Event.status == "pending")
                )
            if not pending and not any(queue.queue_depths(self.ctx.redis).values()):
                return
            time.sleep(0.2)
        log.warning("demo: jobs still pending after %.0f s", timeout)


def deliver_to_outbox(ctx: Context, shop_id: int) -> int:
    """Demo delivery: render each created offer like the email, keep it in the outbox list, mark it sent."""
    key = OUTBOX_KEY.format(shop_id=shop_id)
    sent = 0
    with transaction(ctx.sessions) as session:
        shop = session.get(Shop, shop_id)
        if shop is None or not (shop.settings or {}).get("demo"):
            return 0  # never for a real shop
        settings = rulesets.campaign_settings_for(session, shop_id)
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
    from bridge.db.models import Cart

    with ctx.sessions() as session:
        rows = session.execute(
            sa.select(Cart.checkout_token, Offer.holdout, Offer.code, Offer.status)
            .join(Offer, Offer.cart_id == Cart.id)
            .where(Offer.shop_id == shop_id, Cart.checkout_token.is_not(None))
            .order_by(Offer.id)
        ).all()
    return [(token, holdout, code if status == "sent" else None) for token, holdout, code, status in rows]


def _counts(ctx: Context, shop_id: int) -> dict[str, int]:
    from bridge.db.models import Cart, Lead

    with ctx.sessions() as session:

        def count(model: Any, *where: Any) -> int:
            query = sa.select(sa.func.count()).select_from(model).where(model.shop_id == shop_id, *where)
            return int(session.scalar(query) or 0)

        return {
            "events": count(Event),
            "leads": count(Lead),
            "carts": count(Cart),
            "abandoned": count(Cart, Cart.abandoned_at.is_not(None)),
            "offers_sent": count(Offer, Offer.sent_at.is_not(None)),
            "redeemed": count(Offer, Offer.status == "redeemed"),
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class Story:
    """The day's deliveries: signups, carts, checkouts, some orders, and later orders using our codes."""

    def __init__(self, rng: random.Random, now: datetime, customers: int) -> None:
        self.rng, self.now, self.customers = rng, now, customers
        self.checkouts: dict[str, dict[str, Any]] = {}
        self.people: list[dict[str, Any]] = []
        self.order_no = 1000

    def _token(self) -> str:
        return uuid.UUID(int=self.rng.getrandbits(128)).hex

    def day(self) -> list[tuple[str, dict[str, Any]]]:
        """Every delivery before the sweep, in the order the store would send them."""
        timeline: list[tuple[datetime, str, dict[str, Any]]] = []
        for i in range(self.customers):
            timeline += self._customer(i)
        timeline.sort(key=lambda item: item[0])
        return [(topic, payload) for _, topic, payload in timeline]

    def _customer(self, i: int) -> list[tuple[datetime, str, dict[str, Any]]]:
        rng = self.rng
        first, last = rng.choice(FIRST), rng.choice(LAST)
        keen = rng.random() < 0.12  # comes back again and again: becomes a hot lead
        person = {
            "id": 7_000_000 + i,
            "email": f"{first.lower()}.{last.lower()}{i}@example.com".replace("é", "e"),
            "first_name": first,
            "last_name": last,
            "consent": keen or rng.random() < 0.7,
            "country": rng.choice(COUNTRIES),
            "guest": not keen and rng.random() < 0.15,
            "keen": keen,
        }
        self.people.append(person)
        joined = self.now - timedelta(hours=rng.uniform(6, 30) if keen else rng.uniform(3, 24 * 7))
        out = (
            [] if person["guest"] else [(joined, "customers/create", self._customer_payload(person, joined))]
        )
        carts = rng.choice((3, 4)) if keen else rng.choices((1, 2, 3), weights=(70, 22, 8))[0]
        for _ in range(carts):
            started = joined + timedelta(
                minutes=rng.uniform(1, max((self.now - joined).total_seconds() / 60 - 10, 2))
            )
            out += self._cart(person, started)
        return out

    def browsing(self) -> list[dict[str, Any]]:
        """Storefront events of today: product views (and a few sign-ups) by shoppers we know."""
        events = []
        for person in self.people:
            views = self.rng.randint(4, 6) if person["keen"] else self.rng.choice((0, 0, 0, 1, 2))
            kinds = ["product_viewed"] * views + (["newsletter_signup"] if person["keen"] else [])
            for kind in kinds:
                title, _ = self.rng.choice(CATALOG)
                at = self.now - timedelta(hours=self.rng.uniform(0.5, 20))
                events.append(
                    {
                        "event": kind,
                        "client_id": f"demo-{person['id']}",
                        "id": self._token(),
                        "timestamp": _iso(at),
                        "email": person["email"],
                        "product_id": str(CATALOG.index((title, _))),
                        "url": f"https://{DOMAIN}/products/{title.lower().replace(' ', '-')}",
                    }
                )
        return events[:110]  # the collect endpoint allows 120 events a minute per key and address

    def _customer_payload(self, person: dict[str, Any], at: datetime) -> dict[str, Any]:
        state = "subscribed" if person["consent"] else "not_subscribed"
        return {
            "id": person["id"],
            "email": person["email"],
            "first_name": person["first_name"],
            "last_name": person["last_name"],
            "created_at": _iso(at),
            "updated_at": _iso(at),
            "email_marketing_consent": {"state": state, "consent_updated_at": _iso(at)},
            "default_address": {"country_code": person["country"]},
        }

    def _lines(self) -> list[dict[str, Any]]:
        picked = self.rng.sample(CATALOG, self.rng.choice((1, 1, 2, 3)))
        return [
            {
                "title": t,
                "quantity": self.rng.choice((1, 1, 2)),
                "price": p,
                "product_id": 100 + n,
                "variant_id": 200 + n,
                "price_set": {"shop_money": {"amount": p, "currency_code": "EUR"}},
            }
            for n, (t, p) in enumerate(picked)
        ]

    def _cart(self, person: dict[str, Any], started: datetime) -> list[tuple[datetime, str, dict[str, Any]]]:
        rng, token, lines = self.rng, self._token(), self._lines()
        cart = {
            "id": token,
            "token": token,
            "line_items": lines,
            "created_at": _iso(started),
            "updated_at": _iso(started),
        }
        out = [(started, "carts/create", cart)]
        if rng.random() < 0.2:
            return out  # browsed and left before giving an email: never abandoned (no one to write to)
        at = started + timedelta(minutes=rng.uniform(2, 9))
        source, referrer = rng.choice(SOURCES)
        subtotal = sum(Decimal(line["price"]) * line["quantity"] for line in lines)
        checkout = {
            "token": self._token(),
            "cart_token": token,
            "email": person["email"],
            "currency": "EUR",
            "buyer_accepts_marketing": person["consent"],
            "line_items": lines,
            "subtotal_price": str(subtotal),
            "landing_site": f"/products/x?utm_source={source}" if source else None,
            "referring_site": referrer,
            "abandoned_checkout_url": f"https://{DOMAIN}/checkouts/{token}/recover",
            "created_at": _iso(at),
            "updated_at": _iso(at),
            "customer": None
            if person["guest"]
            else {k: person[k] for k in ("id", "email", "first_name", "last_name")},
        }
        self.checkouts[checkout["token"]] = checkout
        out.append((at, "checkouts/create", checkout))
        if not person["keen"] and rng.random() < 0.3 and at + timedelta(minutes=15) < self.now:
            out.append(
                (
                    at + timedelta(minutes=12),
                    "orders/create",
                    self._order(checkout, at + timedelta(minutes=12)),
                )
            )
        return out

    def _order(self, checkout: dict[str, Any], at: datetime, code: str | None = None) -> dict[str, Any]:
        self.order_no += 1
        total = Decimal(checkout["subtotal_price"]) * (Decimal("0.9") if code else 1)
        return {
            "id": 5_000_000 + self.order_no,
            "email": checkout["email"],
            "customer": checkout["customer"],
            "checkout_token": checkout["token"],
            "cart_token": checkout["cart_token"],
            "currency": "EUR",
            "total_price": str(total.quantize(Decimal("0.01"))),
            "line_items": checkout["line_items"],
            "discount_codes": [{"code": code, "type": "percentage"}] if code else [],
            "landing_site": checkout["landing_site"],
            "referring_site": checkout["referring_site"],
            "buyer_accepts_marketing": checkout["buyer_accepts_marketing"],
            "created_at": _iso(at),
            "updated_at": _iso(at),
        }

    def orders_with_codes(
        self, offers: list[tuple[str | None, bool, str | None]], now: datetime
    ) -> list[tuple[str, dict[str, Any]]]:
        """After the offers: some shoppers come back with their code, a few holdout ones without."""
        out = []
        for token, holdout, code in offers:
            checkout = self.checkouts.get(token or "")
            chance = 0.25 if holdout else 0.45 if code else 0.0
            if checkout is None or self.rng.random() >= chance:
                continue
            out.append(("orders/create", self._order(checkout, now, None if holdout else code)))
        return out
