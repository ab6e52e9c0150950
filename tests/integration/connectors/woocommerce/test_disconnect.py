"""A revoked WooCommerce key: the shop is marked disconnected, the admin says how to reconnect, no offers."""

from __future__ import annotations

from urllib.parse import quote

import sqlalchemy as sa

import campaigns
from bridge import jobs
from bridge.db import transaction
from bridge.db.models import JourneyRun, Offer, Ruleset, Shop
from bridge.events import reconcile_woo
from bridge.outreach import sweep
from bridge.shops import users
from tests.integration.admin_ui.conftest import PASSWORD, csrf_from
from tests.integration.connectors.woocommerce.conftest import cart_event
from tests.integration.outreach.journeys_helpers import send_due_steps

EMAIL = "owner@woo.test"


def revoke(woo, store, shop) -> None:
    store.consumer_secret = "cs_revoked"  # the merchant revoked the key in WooCommerce
    reconcile_woo.reconcile(woo, shop["id"])


def sign_in(woo, client, shop_id: int) -> None:
    with transaction(woo.sessions) as session:
        users.create_user(session, EMAIL, PASSWORD, shop_id, woo.now())
    token = csrf_from(client.get("/admin/login").get_data(as_text=True))
    answer = client.post("/admin/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302


def test_the_admin_shows_the_disconnection_and_the_way_back(woo, store, install, client):
    shop = install()
    sign_in(woo, client, shop["id"])
    assert "refuses Relance" not in client.get("/admin/").get_data(as_text=True)
    revoke(woo, store, shop)
    overview = client.get("/admin/").get_data(as_text=True)
    assert "Your store refuses Relance's REST keys" in overview  # the banner, on every page
    health = client.get("/admin/health").get_data(as_text=True)
    assert "refused by the store since" in health and "REST keys</dt><dd>present" not in health
    assert f"/install/woocommerce?store_url={quote(store.url, safe='')}" in health


def test_a_disconnected_shop_makes_no_code(woo, store, install, clock, post_plugin, run_jobs):
    shop = install()
    document = {"campaign": {**campaigns.DEFAULT_CAMPAIGN, "quiet_hours": None, "holdout_share": 0}}
    with transaction(woo.sessions) as session:
        session.add(
            Ruleset(shop_id=shop["id"], version=1, document=document, created_at=woo.now(), created_by="t")
        )
    typed = cart_event(
        "checkout.email", ts=int(clock.now.timestamp()), email="jane@example.com", marketing_consent=True
    )
    assert post_plugin(shop, typed).status_code == 200
    run_jobs()
    revoke(woo, store, shop)
    clock.advance(minutes=61)
    assert sweep.sweep(woo) == 1
    run_jobs()
    send_due_steps(woo, clock, run_jobs)  # the converted journey: one code step a minute after abandonment
    with woo.sessions() as session:
        assert session.scalars(sa.select(Offer)).all() == []  # no code step on a store refusing our keys
        [run] = session.scalars(sa.select(JourneyRun)).all()
        assert (run.status, run.exit_reason) == ("ended", "store_disconnected")
    assert store.coupons == {}


def test_keys_refused_while_making_a_code_disconnect_the_shop(
    woo, store, install, clock, post_plugin, run_jobs
):
    shop = install()
    document = {"campaign": {**campaigns.DEFAULT_CAMPAIGN, "quiet_hours": None, "holdout_share": 0}}
    with transaction(woo.sessions) as session:
        session.add(
            Ruleset(shop_id=shop["id"], version=1, document=document, created_at=woo.now(), created_by="t")
        )
    typed = cart_event(
        "checkout.email", ts=int(clock.now.timestamp()), email="jane@example.com", marketing_consent=True
    )
    assert post_plugin(shop, typed).status_code == 200
    run_jobs()
    store.consumer_secret = "cs_revoked"  # no reconciliation ran since
    clock.advance(minutes=61)
    sweep.sweep(woo)
    run_jobs()
    send_due_steps(woo, clock, run_jobs)
    with woo.sessions() as session:
        assert session.scalars(sa.select(Offer.status)).one() == "failed"
        assert session.get(Shop, shop["id"]).disconnected_at is not None


def test_reinstalling_reconnects(woo, store, install):
    shop = install()
    revoke(woo, store, shop)
    store.consumer_secret = "cs_" + "b" * 40  # new keys, from the install link
    install()
    with woo.sessions() as session:
        assert session.get(Shop, shop["id"]).disconnected_at is None


def test_deactivating_the_plugin_uninstalls_the_store(woo, store, install, clock, post_plugin, run_jobs):
    shop = install()
    assert len(store.webhooks) == 4
    farewell = {
        "event": "plugin.deactivated",
        "ts": int(clock.now.timestamp()),
    }  # Relance_Core::farewell_payload
    assert post_plugin(shop, farewell).status_code == 200
    run_jobs()
    with woo.sessions() as session:
        found = session.get(Shop, shop["id"])
        assert found.uninstalled_at == woo.now()
        assert found.consumer_key_enc is None and found.consumer_secret_enc is None
    assert store.webhooks == {}  # the store delivers nothing more to us
    assert jobs.reconcile_all_woocommerce() == 0
