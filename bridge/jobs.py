"""The job catalogue: every RQ entry point, a small function of ids that resolves the process's context and
calls the feature that does the work. Lower layers enqueue these by name (`bridge.infra.jobnames`)."""

from __future__ import annotations

from datetime import datetime

from bridge import wiring
from bridge.db import transaction
from bridge.db.models import Shop
from bridge.events import ingest, pipeline, reconcile_shopify, reconcile_woo, woo_webhooks
from bridge.leads import alert_events as alert_scan
from bridge.leads import decay, erasure, rescore, retention, scores
from bridge.outreach import (
    advice,
    code_cleanup,
    codes,
    consent,
    delivery,
    earnings,
    economics_cache,
    monthly_report,
    outbound,
    results,
    steps,
    sweep,
    triggers,
)
from bridge.outreach import alerts as alert_sending
from bridge.shops import products, shopify_setup

# events


def process_event(event_id: int) -> str:
    """Turn one stored webhook into facts and apply them."""
    return pipeline.handle_event(wiring.current(), event_id)


def process_events(event_ids: list[int]) -> dict[str, int]:
    """Process the events of one ingest batch, each in its own transactions; a batch with an event that must
    wait is retried by RQ as a whole (the events already done are skipped at once)."""
    return pipeline.handle_events(wiring.current(), event_ids)


def relay_pending() -> int:
    """Periodic: re-enqueue acknowledged events whose job was lost."""
    return ingest.relay(wiring.current())


def reconcile_all_shopify() -> int:
    """Periodic: queue a reconciliation for every installed Shopify shop; how many were queued."""
    return reconcile_shopify.enqueue_all(wiring.current())


def reconcile_shopify_shop(shop_id: int) -> int:
    """Feed a Shopify shop's recent checkouts and orders through the pipeline; how many events were new."""
    return reconcile_shopify.reconcile_shop(wiring.current(), shop_id)


def reconcile_all_woocommerce() -> int:
    """Periodic: queue one reconciliation per installed WooCommerce shop; how many were queued."""
    return reconcile_woo.enqueue_all(wiring.current())


def reconcile_woocommerce(shop_id: int) -> int:
    """Repair a WooCommerce shop's webhooks and feed the orders and customers they missed; events stored."""
    return reconcile_woo.reconcile(wiring.current(), shop_id)


def register_woo_webhooks(shop_id: int) -> int:
    """Register (or repair) a WooCommerce shop's webhooks; how many topics are active."""
    return woo_webhooks.register(wiring.current(), shop_id)


def unregister_woo_webhooks(shop_id: int) -> int:
    """After an uninstall: delete our webhooks from the store, then forget its REST keys."""
    return woo_webhooks.unregister_webhooks(wiring.current(), shop_id)


# shops


def setup_shop(shop_id: int) -> list[str]:
    """Record a Shopify shop's name, currency and time zone, subscribe its webhooks, activate the pixel."""
    return shopify_setup.set_up(wiring.current(), shop_id)


def erase_shop(shop_id: int) -> None:
    """Delete a shop and everything that belongs to it (shop/redact)."""
    ctx = wiring.current()
    with transaction(ctx.sessions) as session:
        shop = session.get(Shop, shop_id)
        if shop is not None:
            erasure.erase_shop(session, shop)


# leads


def score_leads(shop_id: int, lead_ids: list[int], reason: str) -> int:
    """Score some leads of a shop again (after an open, a click or a reply)."""
    return scores.score_and_commit(wiring.current(), shop_id, lead_ids, reason)


def rescore_shop(shop_id: int, version: int) -> int:
    """Rescore every lead of a shop under rules `version`, from its checkpoint on."""
    return rescore.rescore_shop(wiring.current(), shop_id, version)


def requeue_rescores() -> int:
    """Periodic: queue again the unfinished bulk rescores whose job was lost; how many."""
    return rescore.requeue_rescores(wiring.current())


def apply_retention() -> int:
    """Periodic (daily): apply the retention period; the number of leads erased."""
    return retention.run(wiring.current()).leads


def snapshot_tiers() -> int:
    """Periodic: store today's leads-per-tier counts of every shop."""
    return results.snapshot_tiers(wiring.current())


# outreach


def sweep_carts() -> int:
    """Periodic: the abandonment sweep, then carts whose decision job was lost."""
    return sweep.sweep_and_repair(wiring.current())


def abandon_carts(shop_id: int, cart_ids: list[int], cutoff: str) -> int:
    """Mark the carts of a sweep batch abandoned (those still idle), then decide each one's offer."""
    return sweep.abandon_carts(wiring.current(), shop_id, cart_ids, cutoff)


def start_cart_runs(cart_ids: list[int]) -> int:
    """Start the journeys of a batch of carts marked abandoned."""
    return triggers.start_cart_runs(wiring.current(), cart_ids)


def enter_tier(lead_id: int, tier: str = "hot") -> str:
    """Start the journey of a tier for a lead that moved up into it."""
    return triggers.enter_tier(wiring.current(), lead_id, tier)


def advance_runs(run_ids: list[int]) -> int:
    """Send (or defer, or hold out) the due step of each journey run of a sweep batch."""
    return steps.advance_runs(wiring.current(), run_ids)


def create_code(offer_id: int) -> str:
    """Create an offer's code on the store: looked up first, so a retry never makes two."""
    return codes.create_on_store(wiring.current(), offer_id)


def deliver_offer(offer_id: int) -> str:
    """Final check, then send an offer (at most once)."""
    return delivery.deliver(wiring.current(), offer_id)


def redeliver_lost() -> int:
    """Periodic: deliveries whose job was lost (a crash after the code's commit, Redis down)."""
    return delivery.redeliver_lost(wiring.current())


def remove_code(offer_id: int) -> bool:
    """Remove a dead offer's code from the store now (an order made the waiting offer moot)."""
    return code_cleanup.remove_code(wiring.current(), offer_id)


def remove_expired_codes() -> int:
    """Periodic: remove expired, unused codes from the store."""
    return code_cleanup.remove_expired(wiring.current())


def post_offer(offer_id: int) -> str:
    """POST a live offer to the shop's own webhook URL (retried with backoff)."""
    return outbound.post_offer(wiring.current(), offer_id)


def sync_marketing_consent(lead_id: int) -> str:
    """Write a lead's unsubscribe back to its Shopify customer (retried while Shopify is unreachable)."""
    return consent.push_unsubscribe(wiring.current(), lead_id)


# measurement


def refresh_earnings(shop_id: int, start: str, end: str) -> int:
    """Compute and cache a period's incremental net revenue for the overview (bridge.outreach.earnings)."""
    figures = earnings.refresh(
        wiring.current(), shop_id, datetime.fromisoformat(start), datetime.fromisoformat(end)
    )
    return int(figures["incremental_net_revenue"]["treated_runs"])


def refresh_economics(shop_id: int, days: int) -> int:
    """Compute and keep a shop's "Revenue & costs" figures (bridge.outreach.economics_cache)."""
    figures = economics_cache.refresh(wiring.current(), shop_id, days)
    return int(figures["new_leads"]["total"])


def drop_losing_codes() -> int:
    """Periodic (daily): drop the codes that surely lose money, for shops that switched it on."""
    return advice.apply_sure_losses(wiring.current())


def send_monthly_reports() -> int:
    """Periodic (hourly): last month's report to each shop's administrators, once."""
    return monthly_report.send_monthly_reports(wiring.current())


# products


def look_up_product(shop_id: int, product_id: str) -> str:
    """Ask the store once for a product's title, link, picture, collections and tags (retried by RQ while
    the store is unreachable)."""
    return products.look_up(wiring.current(), shop_id, product_id)


def look_up_missing_products() -> int:
    """Periodic: schedule again the lookups of products never described whose job is gone; how many."""
    return products.requeue_missing(wiring.current())


# alerts


def deliver_alert(delivery_id: int) -> str:
    """Send one alert (a signed event, a Slack message, a sales email), retried with backoff."""
    return alert_sending.deliver(wiring.current(), delivery_id)


def send_alert_digests() -> int:
    """Periodic (hourly): each shop's digest of yesterday's new hot leads, once a day."""
    return alert_sending.send_digests(wiring.current())


def emit_journey_exits() -> int:
    """Periodic: `journey.exited` alerts for journey runs that ended lately."""
    return alert_scan.journey_exits(wiring.current())


def requeue_alerts() -> int:
    """Periodic: queue again the alert deliveries whose job was lost, and prune the old delivery log."""
    ctx = wiring.current()
    alert_sending.prune_log(ctx)
    return alert_sending.requeue_lost(ctx)


# decay (issue 17)


def rescore_decayed() -> int:
    """Periodic: rescore the leads whose score decay has moved to another tier since; how many."""
    return decay.rescore_due(wiring.current())
