"""Reconciliation: orders and customers the webhooks missed, no duplicates, disabled webhooks re-activated."""

from __future__ import annotations

import sqlalchemy as sa
from rq import Queue

from bridge import jobs
from bridge.db.models import Activity, Event, Order, Shop
from bridge.events import reconcile_woo, woo_webhooks
from tests.integration.connectors.woocommerce.conftest import customer, order


def events(ctx) -> list[Event]:
    with ctx.sessions() as session:
        return list(session.scalars(sa.select(Event).order_by(Event.id)))


def settings(ctx, shop_id: int) -> dict:
    with ctx.sessions() as session:
        return session.get(Shop, shop_id).state


def test_an_order_the_webhooks_missed_is_fed_through_the_same_path(woo, store, install, run_jobs):
    shop = install()
    store.seed(orders=[order(601, "processing", modified="2026-11-25T09:55:00")])
    assert reconcile_woo.reconcile(woo, shop["id"]) == 1
    run_jobs()
    [event] = events(woo)
    assert (event.topic, event.status) == ("order.updated", "processed")
    with woo.sessions() as session:
        assert session.scalars(sa.select(Order.order_id)).all() == ["601"]
    assert reconcile_woo.reconcile(woo, shop["id"]) == 0  # polled again: already stored
    assert settings(woo, shop["id"])["woo_reconciled_at"] == "2026-11-25T10:00:00+00:00"


def test_an_order_state_already_delivered_is_not_stored_again(woo, store, install, deliver):
    shop = install()
    delivered = [order(701, "processing"), order(702, "checkout-draft")]
    assert deliver("order.updated", delivered[0]).status_code == 200
    assert deliver("order.created", delivered[1]).status_code == 200
    store.seed(orders=[*delivered, order(701, "completed", modified="2026-11-25T09:58:00")])
    assert reconcile_woo.reconcile(woo, shop["id"]) == 1  # only the newer state of 701
    stored = events(woo)
    assert len(stored) == 3 and stored[-1].topic == "order.updated"
    assert stored[-1].delivery_key.endswith(":order.updated:701:2026-11-25T09:58:00")


def test_a_reconciled_copy_and_a_late_webhook_of_the_same_state_are_one_event(woo, store, install, deliver):
    shop = install()
    missed = order(801, "processing")
    store.seed(orders=[missed])
    reconcile_woo.reconcile(woo, shop["id"])
    late = deliver("order.updated", missed)
    assert late.status_code == 200 and late.json["duplicate"] is True
    assert len(events(woo)) == 1


def test_customers_registered_meanwhile_are_fed_as_created(woo, store, install, run_jobs):
    shop = install()
    store.seed(
        customers=[customer(41, created="2026-11-25T09:00:00"), customer(40, created="2026-11-20T09:00:00")]
    )
    assert reconcile_woo.reconcile(woo, shop["id"]) == 1  # the older one is outside the first look-back
    run_jobs()
    with woo.sessions() as session:
        assert session.scalars(sa.select(Activity.kind)).all() == ["account_created"]


def test_a_disabled_webhook_is_reactivated_and_shown(woo, store, install):
    shop = install()
    hook_id = next(i for i, h in store.webhooks.items() if h["topic"] == "order.updated")
    while store.webhooks[hook_id]["status"] == "active":
        store.failed_delivery(hook_id)  # WooCommerce disables it after repeated failed deliveries
    deleted = next(i for i, h in store.webhooks.items() if h["topic"] == "customer.updated")
    del store.webhooks[deleted]
    reconcile_woo.reconcile(woo, shop["id"])
    [hook] = [h for h in store.webhooks.values() if h["topic"] == "order.updated"]
    assert hook["status"] == "active" and hook["secret"] == shop["secret"]
    store.failed_delivery(hook["id"])  # a fresh count: one failure does not disable it again
    assert hook["status"] == "active"
    assert sorted(h["topic"] for h in store.webhooks.values()) == sorted(woo_webhooks.TOPICS)
    state = settings(woo, shop["id"])["woo_webhooks"]
    assert state["reactivated"] == [str(hook_id)] and state["missing"] == [] and state["error"] is None
    assert {w["status"] for w in state["webhooks"]} == {"active"} and state["checked_at"]


def test_refused_keys_are_recorded_not_raised(woo, store, install):
    shop = install()
    store.consumer_secret = "cs_revoked"
    assert reconcile_woo.reconcile(woo, shop["id"]) == 0
    recorded = settings(woo, shop["id"])
    assert "401" in recorded["woo_webhooks"]["error"] and "woo_reconciled_at" not in recorded


def test_a_revoked_key_disconnects_the_shop_once(woo, store, install, caplog):
    shop = install()
    store.consumer_secret = "cs_revoked"  # the merchant revoked the key in WooCommerce
    reconcile_woo.reconcile(woo, shop["id"])
    with woo.sessions() as session:
        marked = session.get(Shop, shop["id"]).disconnected_at
    assert marked == woo.now()
    caplog.clear()
    reconcile_woo.reconcile(woo, shop["id"])  # a manual pass: still refused, not warned about again
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    assert jobs.reconcile_all_woocommerce() == 0  # no pass every 15 minutes for refused keys


def test_orders_already_stored_are_not_stored_again_after_webhooks_are_recreated(
    woo, store, install, deliver
):
    shop = install()
    delivered = order(711, "processing")
    assert deliver("order.updated", delivered).status_code == 200
    store.webhooks.clear()  # deleted in WooCommerce: reconciliation recreates them, with new ids
    store.seed(orders=[delivered])
    assert reconcile_woo.reconcile(woo, shop["id"]) == 0
    assert len(store.webhooks) == 4 and len(events(woo)) == 1


def test_the_store_name_zone_and_currency_are_read(woo, store, install):
    store.name, store.timezone_string, store.currency = "Boutique Lune", "Europe/Paris", "EUR"
    shop = install()
    with woo.sessions() as session:
        found = session.get(Shop, shop["id"])
        assert (found.name, found.timezone, found.currency) == ("Boutique Lune", "Europe/Paris", "EUR")
    store.timezone_string, store.gmt_offset, store.currency = "", -5.0, "USD"  # changed in WordPress
    reconcile_woo.reconcile(woo, shop["id"])
    with woo.sessions() as session:
        found = session.get(Shop, shop["id"])
        assert (found.timezone, found.currency) == ("Etc/GMT+5", "USD")


def test_the_periodic_job_queues_one_reconciliation_per_installed_shop(woo, store, install, run_jobs):
    shop = install()
    store.seed(orders=[order(901, "processing")])
    assert jobs.reconcile_all_woocommerce() == 1
    assert Queue("maintenance", connection=woo.redis).job_ids == [f"woo-reconcile-{shop['id']}"]
    assert jobs.reconcile_all_woocommerce() == 0  # still queued: not twice
    run_jobs()
    assert [e.topic for e in events(woo)] == ["order.updated"]
