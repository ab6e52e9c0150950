"""The demo's day, told as the payloads a Shopify store sends: customers, carts, checkouts, some orders, the
storefront's product views, and later the orders that use our codes (a seeded random story, the same each
time)."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

DOMAIN = "demo-store.myshopify.com"
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
        checkout = self._checkout(person, token, lines, at)
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

    def _checkout(
        self, person: dict[str, Any], cart_token: str, lines: list[dict[str, Any]], at: datetime
    ) -> dict[str, Any]:
        source, referrer = self.rng.choice(SOURCES)
        subtotal = sum(Decimal(line["price"]) * line["quantity"] for line in lines)
        return {
            "token": self._token(),
            "cart_token": cart_token,
            "email": person["email"],
            "currency": "EUR",
            "buyer_accepts_marketing": person["consent"],
            "line_items": lines,
            "subtotal_price": str(subtotal),
            "landing_site": f"/products/x?utm_source={source}" if source else None,
            "referring_site": referrer,
            "abandoned_checkout_url": f"https://{DOMAIN}/checkouts/{cart_token}/recover",
            "created_at": _iso(at),
            "updated_at": _iso(at),
            "customer": None
            if person["guest"]
            else {k: person[k] for k in ("id", "email", "first_name", "last_name")},
        }

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
