"""The shopper's locale from WooCommerce orders and the plugin's cart events to leads and carts, and the
site's language as the shop's primary locale."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from bridge.db.models import Cart, Lead, Shop
from bridge.events import reconcile_woo
from bridge.shops import locales
from bridge.shops.registry import shop_locale
from connectors.base import StoreError
from tests.integration.connectors.woocommerce.conftest import cart_event, order

TOKEN = "0123456789abcdef0123456789abcdef"


def rows(ctx: Any, model: Any) -> list[Any]:
    with ctx.sessions() as session:
        return list(session.scalars(sa.select(model)))


def with_meta(body: dict[str, Any], key: str, value: str) -> dict[str, Any]:
    body["meta_data"] = [*body["meta_data"], {"id": 91, "key": key, "value": value}]
    return body


def test_an_order_with_wpml_language_gives_it_to_the_lead_and_the_cart(woo, install, deliver, run_jobs):
    install()
    deliver("order.updated", with_meta(order(700, "pending", token=TOKEN), "wpml_language", "fr"))
    run_jobs()
    [lead], [cart] = rows(woo, Lead), rows(woo, Cart)
    assert (lead.locale, cart.locale, cart.status) == ("fr", "fr", "active")


def test_the_plugins_order_locale_comes_before_wpml_and_a_placed_order_updates_its_cart(
    woo, install, deliver, run_jobs
):
    install()
    deliver("order.updated", order(700, "pending", token=TOKEN, modified="2026-11-25T09:45:00"))
    run_jobs()
    assert [c.locale for c in rows(woo, Cart)] == [None]
    placed = with_meta(order(700, "processing", token=TOKEN), "wpml_language", "en")
    deliver("order.updated", with_meta(placed, "_relance_locale", "fr_BE"))
    run_jobs()
    [lead], [cart] = rows(woo, Lead), rows(woo, Cart)
    assert (lead.locale, cart.locale, cart.status) == ("fr-BE", "fr-BE", "converted")


def test_the_plugins_cart_events_carry_the_shoppers_locale(woo, install, post_plugin, run_jobs, clock):
    shop = install()
    now = int(clock.now.timestamp())
    post_plugin(shop, cart_event(ts=now - 600, locale="de_DE"))  # nobody yet: the cart only
    run_jobs()
    assert ([c.locale for c in rows(woo, Cart)], rows(woo, Lead)) == (["de-DE"], [])
    post_plugin(shop, cart_event("checkout.email", ts=now - 300, email="jane@example.com", locale="fr_FR"))
    run_jobs()
    [lead], [cart] = rows(woo, Lead), rows(woo, Cart)
    assert (lead.locale, cart.locale) == ("fr-FR", "fr-FR")
    post_plugin(shop, cart_event("cart.updated", ts=now - 900, email="jane@example.com", locale="nl_NL"))
    post_plugin(shop, cart_event("cart.updated", ts=now - 60, email="jane@example.com"))  # an older plugin
    run_jobs()
    assert (
        rows(woo, Cart)[0].locale == "fr-FR"
    )  # the older state lost, the one without a locale erased nothing


def test_the_site_language_is_the_shops_primary_locale(woo, install, store, clock):
    store.language = "fr_CA"
    shop = install()  # the registration job reads it
    with woo.sessions() as session:
        row = session.get(Shop, shop["id"])
        assert shop_locale(row) == "fr-CA"
        assert row.state[locales.CHECKED_AT] == clock.now.isoformat()
    store.language = "en_GB"
    reconcile_woo.reconcile(woo, shop["id"])  # asked less than a day ago: not again
    with woo.sessions() as session:
        assert shop_locale(session.get(Shop, shop["id"])) == "fr-CA"
    clock.advance(hours=25)
    reconcile_woo.reconcile(woo, shop["id"])
    with woo.sessions() as session:
        assert shop_locale(session.get(Shop, shop["id"])) == "en-GB"
    calls = [c for c in store.calls if c.path.endswith("/system_status")]
    assert len(calls) == 2


def test_a_store_that_will_not_tell_keeps_the_locale_it_had(woo, install, clock):
    shop = install()

    def refused() -> str | None:
        raise StoreError("Sorry, you cannot list resources.", code="woocommerce_rest_cannot_view")

    clock.advance(days=2)
    with woo.sessions() as session:
        state = session.get(Shop, shop["id"]).state
    assert locales.refresh(woo, shop["id"], state, refused) is True
    with woo.sessions() as session:
        row = session.get(Shop, shop["id"])
    assert locales.refresh(woo, shop["id"], row.state, lambda: "it_IT") is False  # just asked: not due
    assert shop_locale(row) == "fr-FR"  # the fake's site language, read at install
    assert row.state[locales.CHECKED_AT] == clock.now.isoformat()


def test_revoked_keys_are_not_swallowed(woo, install):
    shop = install()

    def revoked() -> str | None:
        raise StoreError("refused", code="unauthorized")

    with pytest.raises(StoreError):
        locales.refresh(woo, shop["id"], {}, revoked, force=True)
