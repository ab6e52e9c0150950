"""The shopper's locale from signed Shopify webhooks to the lead and the cart: normalised, newer wins,
unknown never erases, an older fact only fills a gap."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from bridge.db.models import Cart, Lead
from tests.conftest import fixture


def one(ctx: Any, model: Any) -> Any:
    with ctx.sessions() as s:
        return s.scalars(sa.select(model)).one()


def checkout(at: str, locale: str | None) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(fixture("shopify", "checkouts__create.json"))
    payload.update(created_at="2026-11-25T09:00:00Z", updated_at=at, customer_locale=locale)
    return payload


def test_a_checkout_gives_its_locale_to_the_lead_and_the_cart(ctx, shopify_shop, post_shopify, run_jobs):
    post_shopify(
        "checkouts/create", checkout("2026-11-25T09:30:00Z", "fr-Fr")
    )  # as Shopify's changelog shows
    run_jobs()
    assert one(ctx, Lead).locale == "fr-FR"
    assert one(ctx, Cart).locale == "fr-FR"


def test_a_newer_locale_wins_an_older_one_loses_and_none_erases_nothing(
    ctx, shopify_shop, post_shopify, run_jobs
):
    post_shopify("checkouts/update", checkout("2026-11-25T09:30:00Z", "fr-FR"))
    run_jobs()
    post_shopify("checkouts/update", checkout("2026-11-25T09:40:00Z", "en"))
    run_jobs()
    assert (one(ctx, Lead).locale, one(ctx, Cart).locale) == ("en", "en")
    post_shopify("checkouts/update", checkout("2026-11-25T09:35:00Z", "de-DE"))  # delivered late
    run_jobs()
    assert (one(ctx, Lead).locale, one(ctx, Cart).locale) == ("en", "en")
    post_shopify("checkouts/update", checkout("2026-11-25T09:50:00Z", None))
    post_shopify("checkouts/update", checkout("2026-11-25T09:55:00Z", "not a locale!"))
    run_jobs()
    assert (one(ctx, Lead).locale, one(ctx, Cart).locale) == ("en", "en")


def test_an_older_fact_fills_in_a_locale_nobody_gave(ctx, shopify_shop, post_shopify, run_jobs):
    post_shopify("checkouts/update", checkout("2026-11-25T09:40:00Z", None))
    run_jobs()
    assert (one(ctx, Lead).locale, one(ctx, Cart).locale) == (None, None)
    post_shopify("checkouts/update", checkout("2026-11-25T09:30:00Z", "fr"))
    run_jobs()
    assert (one(ctx, Lead).locale, one(ctx, Cart).locale) == ("fr", "fr")


def test_an_order_gives_its_locale_to_the_buyer_and_the_checkouts_cart(
    ctx, shopify_shop, post_shopify, run_jobs
):
    started = checkout("2026-11-25T09:30:00Z", None)
    post_shopify("checkouts/create", started)
    run_jobs()
    order: dict[str, Any] = json.loads(fixture("shopify", "orders__create.json"))
    order.update(
        checkout_token=started["token"],
        customer_locale="fr_CA",
        created_at="2026-11-25T09:45:00Z",
        updated_at="2026-11-25T09:45:00Z",
    )
    post_shopify("orders/create", order)
    run_jobs()
    assert one(ctx, Cart).locale == "fr-CA" and one(ctx, Cart).status == "converted"
    with ctx.sessions() as s:
        buyer = s.scalars(sa.select(Lead).where(Lead.external_id == str(order["customer"]["id"]))).one()
    assert buyer.locale == "fr-CA"


def test_a_customer_payload_with_a_locale(ctx, shopify_shop, post_shopify, run_jobs):
    customer: dict[str, Any] = json.loads(fixture("shopify", "customers__create.json"))
    customer.update(locale="fr", updated_at="2026-11-25T09:30:00Z")
    post_shopify("customers/create", customer)
    run_jobs()
    assert one(ctx, Lead).locale == "fr"
    customer.update(locale=None, updated_at="2026-11-25T09:40:00Z")  # the sample's shape: no locale
    del customer["locale"]
    post_shopify("customers/update", customer)
    run_jobs()
    assert one(ctx, Lead).locale == "fr"
