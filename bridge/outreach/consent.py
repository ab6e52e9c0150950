"""Marketing consent follows the store: an unsubscribe collected by Relance is written back to Shopify.

Shopify's terms ask apps to sync the consent changes they collect. The unsubscribe commits first; a job
then records UNSUBSCRIBED on each matching Shopify customer (customerEmailMarketingConsentUpdate, scope
write_customers), retried by RQ while Shopify is unreachable. Every outcome is in the audit log: synced,
not possible (a guest checkout has no customer record to update), or refused by Shopify.
"""

from __future__ import annotations

import logging
from typing import Any

import requests

from bridge.db import transaction
from bridge.db.models import AuditLog, Lead, Shop
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.shops import tokens
from connectors.base import StoreError

log = logging.getLogger(__name__)
ACTOR = "relance:consent-sync"


def enqueue_sync(ctx: Context, platform: str, lead_ids: list[int]) -> None:
    """After the unsubscribe committed: queue one sync per lead (Shopify shops only)."""
    if platform != "shopify":
        return
    for lead_id in lead_ids:  # a second unsubscribe finds the first one's job waiting
        job_id = jobnames.consent_sync_id(lead_id)
        queue.enqueue(
            ctx.redis, jobnames.SYNC_MARKETING_CONSENT, lead_id, job_id=job_id, queue=queue.MAINTENANCE
        )


def push_unsubscribe(ctx: Context, lead_id: int, http: requests.Session | None = None) -> str:
    """Write one lead's opt-out to its Shopify customer; the outcome (also in the audit log).

    A transient store error raises (RQ retries); a refusal is recorded and not retried.
    """
    with ctx.sessions() as session:
        lead = session.get(Lead, lead_id)
        shop = session.get(Shop, lead.shop_id) if lead is not None else None
        if lead is None or shop is None or shop.platform != "shopify" or shop.uninstalled_at is not None:
            return "skipped"
        if lead.unsubscribed_at is None or lead.accepts_marketing:
            return "skipped"  # re-subscribed on Shopify since (a newer consent came from the store)
        customer_id, at = lead.external_id, lead.unsubscribed_at
        client = tokens.shopify_client_for(ctx, shop, http)
    detail: dict[str, Any] = {"lead_id": lead_id, "state": "UNSUBSCRIBED", "at": at.isoformat()}
    if not customer_id:
        detail["reason"] = "guest: no Shopify customer record to update"
        _audit(ctx, shop.id, "consent.not_synced", detail)
        return "not_synced"
    detail["customer_id"] = customer_id
    try:
        detail["shopify_state"] = client.set_email_marketing_consent(customer_id, False, at)
    except StoreError as exc:
        if exc.transient:
            raise
        log.warning("Shopify refused the consent update of lead %d: %s", lead_id, exc.code)
        _audit(ctx, shop.id, "consent.sync_refused", {**detail, "code": exc.code or "refused"})
        return "refused"
    _audit(ctx, shop.id, "consent.synced", detail)
    return "synced"


def _audit(ctx: Context, shop_id: int, action: str, detail: dict[str, Any]) -> None:
    with transaction(ctx.sessions) as session:
        session.add(AuditLog(shop_id=shop_id, actor=ACTOR, action=action, detail=detail, at=ctx.now()))
