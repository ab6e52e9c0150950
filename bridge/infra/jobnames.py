"""The job catalogue's names and ids: every layer enqueues `bridge.jobs` entry points by these dotted names.

RQ imports a job's function from its dotted name when a worker runs it, so nothing below the entry points
imports the catalogue itself. Every RQ job id is made here too: an id is how a re-enqueue finds the job
already queued, so each kind of job has one format.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

_CATALOGUE = "bridge.jobs"

# events: from a stored delivery to applied rows
PROCESS_EVENT = f"{_CATALOGUE}.process_event"
PROCESS_EVENTS = f"{_CATALOGUE}.process_events"
RELAY_PENDING = f"{_CATALOGUE}.relay_pending"
RECONCILE_ALL_SHOPIFY = f"{_CATALOGUE}.reconcile_all_shopify"
RECONCILE_SHOPIFY = f"{_CATALOGUE}.reconcile_shopify_shop"
RECONCILE_ALL_WOOCOMMERCE = f"{_CATALOGUE}.reconcile_all_woocommerce"
RECONCILE_WOOCOMMERCE = f"{_CATALOGUE}.reconcile_woocommerce"
REGISTER_WOO_WEBHOOKS = f"{_CATALOGUE}.register_woo_webhooks"
UNREGISTER_WOO_WEBHOOKS = f"{_CATALOGUE}.unregister_woo_webhooks"
# shops
SETUP_SHOP = f"{_CATALOGUE}.setup_shop"
ERASE_SHOP = f"{_CATALOGUE}.erase_shop"
# leads
SCORE_LEADS = f"{_CATALOGUE}.score_leads"
RESCORE_SHOP = f"{_CATALOGUE}.rescore_shop"
REQUEUE_RESCORES = f"{_CATALOGUE}.requeue_rescores"
APPLY_RETENTION = f"{_CATALOGUE}.apply_retention"
SNAPSHOT_TIERS = f"{_CATALOGUE}.snapshot_tiers"
# outreach: from an abandoned cart to an inbox
SWEEP_CARTS = f"{_CATALOGUE}.sweep_carts"
ABANDON_CARTS = f"{_CATALOGUE}.abandon_carts"
START_CART_RUNS = f"{_CATALOGUE}.start_cart_runs"
ENTER_TIER = f"{_CATALOGUE}.enter_tier"
ADVANCE_RUNS = f"{_CATALOGUE}.advance_runs"
CREATE_CODE = f"{_CATALOGUE}.create_code"
DELIVER_OFFER = f"{_CATALOGUE}.deliver_offer"
REDELIVER_LOST = f"{_CATALOGUE}.redeliver_lost"
REMOVE_CODE = f"{_CATALOGUE}.remove_code"
REMOVE_EXPIRED_CODES = f"{_CATALOGUE}.remove_expired_codes"
POST_OFFER = f"{_CATALOGUE}.post_offer"
SYNC_MARKETING_CONSENT = f"{_CATALOGUE}.sync_marketing_consent"
# measurement
REFRESH_EARNINGS = f"{_CATALOGUE}.refresh_earnings"
REFRESH_ECONOMICS = f"{_CATALOGUE}.refresh_economics"
DROP_LOSING_CODES = f"{_CATALOGUE}.drop_losing_codes"
SEND_MONTHLY_REPORTS = f"{_CATALOGUE}.send_monthly_reports"
# products: a product's details asked of the store once
LOOK_UP_PRODUCT = f"{_CATALOGUE}.look_up_product"
LOOK_UP_MISSING_PRODUCTS = f"{_CATALOGUE}.look_up_missing_products"
# alerts: signed events, Slack messages and emails to the merchant
DELIVER_ALERT = f"{_CATALOGUE}.deliver_alert"
SEND_ALERT_DIGESTS = f"{_CATALOGUE}.send_alert_digests"
REQUEUE_ALERTS = f"{_CATALOGUE}.requeue_alerts"
EMIT_JOURNEY_EXITS = f"{_CATALOGUE}.emit_journey_exits"
# decay (issue 17)
RESCORE_DECAYED = f"{_CATALOGUE}.rescore_decayed"

# Jobs queued before the catalogue (release 0.1) name their functions where they lived then; a worker of this
# release still runs them (bridge.infra.queue.CatalogueJob). Remove one release later.
LEGACY: dict[str, str] = {
    "bridge.reconcile.reconcile_all": RECONCILE_ALL_SHOPIFY,
    "bridge.reconcile.reconcile_shopify": RECONCILE_SHOPIFY,
    "bridge.woo_reconcile.reconcile_all_woocommerce": RECONCILE_ALL_WOOCOMMERCE,
    "bridge.woo_reconcile.reconcile_woocommerce": RECONCILE_WOOCOMMERCE,
    "bridge.woo_reconcile.register_woo_webhooks": REGISTER_WOO_WEBHOOKS,
    "bridge.woo_reconcile.unregister_woo_webhooks": UNREGISTER_WOO_WEBHOOKS,
    "bridge.shopify_app.setup_shop": SETUP_SHOP,
    "bridge.rescore.rescore_shop": RESCORE_SHOP,
    "bridge.rescore.resume_rescores": REQUEUE_RESCORES,
    "bridge.retention.retention_job": APPLY_RETENTION,
    "bridge.campaign.sweep_job": SWEEP_CARTS,
    "bridge.campaign.abandon_carts": ABANDON_CARTS,
    "bridge.campaign.plan_cart_offers": START_CART_RUNS,
    "bridge.campaign.plan_hot_offer": ENTER_TIER,
    "bridge.campaign.create_code": CREATE_CODE,
    "bridge.campaign.cleanup_expired": REMOVE_EXPIRED_CODES,
    "bridge.delivery.deliver": DELIVER_OFFER,
    "bridge.delivery.redeliver_job": REDELIVER_LOST,
    "bridge.delivery.remove_code_job": REMOVE_CODE,
    "bridge.outbound.post_offer": POST_OFFER,
    # Renamed in the catalogue itself (issue 14: one name per meaning of "rescore").
    "bridge.jobs.rescore_leads": SCORE_LEADS,
    "bridge.jobs.resume_rescores": REQUEUE_RESCORES,
    # Journeys (issue 15): a cart's single offer became its journey's run, a hot lead's offer its tier's
    # journey (enter_tier's tier defaults to "hot", so the old jobs' arguments still fit).
    "bridge.jobs.plan_cart_offers": START_CART_RUNS,
    "bridge.jobs.plan_hot_offer": ENTER_TIER,
}


def current_name(func_name: str) -> str:
    """The catalogue's name for a queued job's function name (itself, unless it is a legacy path)."""
    return LEGACY.get(func_name, func_name)


# Job ids, one format per kind of job.
def event_id(event_id: int) -> str:
    """The one job of an event (re-enqueueing it never makes two)."""
    return f"event-{event_id}"


def relay_batch_id(token: str) -> str:
    """A relay's batch of lost events (random: a batch is new each time)."""
    return f"events-relay-{token}"


def reconcile_shopify_id(shop_id: int) -> str:
    """A Shopify shop's reconciliation (one at a time)."""
    return f"reconcile-shopify-{shop_id}"


def reconcile_woocommerce_id(shop_id: int) -> str:
    """A WooCommerce shop's reconciliation (one at a time)."""
    return f"woo-reconcile-{shop_id}"


def register_woo_webhooks_id(shop_id: int, token: str) -> str:
    """An install's webhook registration (random part: each install registers anew)."""
    return f"woo-register-{shop_id}-{token}"


def unregister_woo_webhooks_id(shop_id: int) -> str:
    """An uninstalled WooCommerce shop's webhook removal."""
    return f"woo-unregister-{shop_id}"


def setup_shop_id(shop_id: int) -> str:
    """A Shopify shop's setup after install."""
    return f"shopify-setup-{shop_id}"


def erase_shop_id(shop_id: int) -> str:
    """A shop's erasure (shop/redact)."""
    return f"erase-shop-{shop_id}"


def rescore_shop_id(shop_id: int, version: int) -> str:
    """A shop's bulk rescore under one rules version."""
    return f"rescore-{shop_id}-{version}"


def score_after_id(kind: str, offer_id: int) -> str:
    """A lead's scoring after an open or a click of one offer."""
    return f"rescore-{kind}-{offer_id}"


def score_reply_id(lead_id: int, message_id: str) -> str:
    """A lead's scoring after one reply; a Message-ID (`<…@…>`) is no RQ job id, its digest is."""
    return f"rescore-reply-{lead_id}-{hashlib.sha256(message_id.encode()).hexdigest()[:24]}"


def consent_sync_id(lead_id: int) -> str:
    """A lead's unsubscribe written back to the store."""
    return f"consent-sync-{lead_id}"


def abandon_batch_id(shop_id: int, cutoff_micros: int, start: int) -> str:
    """One batch of a sweep's claimed window (two windows of a shop never end at the same microsecond)."""
    return f"abandon-{shop_id}-{cutoff_micros}-{start}"


def replan_id(cart_ids: list[int]) -> str:
    """A journey start again for carts whose start job was lost."""
    return f"replan-{min(cart_ids)}-{len(cart_ids)}"


def enter_tier_id(lead_id: int, tier: str, day: int) -> str:
    """A lead's entry into a tier's journey (at most one job per lead, tier and day)."""
    return f"enter-{tier}-{lead_id}-{day}"


def advance_runs_id(marks: list[str]) -> str:
    """A batch of due journey steps, named by what was handed out (each run's step and due time): the same
    runs due again (their next step, a deferral) are a new job, never one RQ still remembers as done."""
    digest = hashlib.sha256(",".join(marks).encode()).hexdigest()[:24]
    return f"steps-{len(marks)}-{digest}"


def code_id(offer_id: int) -> str:
    """An offer's code creation on the store."""
    return f"code-{offer_id}"


def deliver_id(offer_id: int) -> str:
    """An offer's delivery."""
    return f"deliver-{offer_id}"


def deliver_later_id(offer_id: int, at_timestamp: int) -> str:
    """An offer's delivery moved past quiet hours (the first delivery's id is still in use)."""
    return f"deliver-{offer_id}-at-{at_timestamp}"


def webhook_id(offer_id: int) -> str:
    """An offer's POST to the merchant's webhook."""
    return f"webhook-{offer_id}"


def remove_code_id(offer_id: int) -> str:
    """A dead offer's code removal from the store."""
    return f"remove-code-{offer_id}"


def alert_id(delivery_id: int) -> str:
    """One alert delivery (an event to one subscription, or one alert email)."""
    return f"alert-{delivery_id}"


def cron_id(name: str) -> str:
    """A periodic job's run queued by the in-process ticker."""
    return f"cron-{name.rsplit('.', 1)[-1]}"


def earnings_id(shop_id: int, start: datetime, end: datetime) -> str:
    """A period's earnings computation for the overview (one at a time per shop and period)."""
    return f"earnings-{shop_id}-{int(start.timestamp())}-{int(end.timestamp())}"


def economics_id(shop_id: int, days: int) -> str:
    """The "Revenue & costs" figures' computation (one at a time per shop and period length)."""
    return f"economics-{shop_id}-{days}"


def product_lookup_id(shop_id: int, product_id: str) -> str:
    """A product's one lookup on its store (a store id that is not a plain number goes by its digest)."""
    safe = (
        product_id
        if product_id.isascii() and product_id.isalnum()
        else hashlib.sha256(product_id.encode()).hexdigest()[:24]
    )
    return f"product-{shop_id}-{safe}"
