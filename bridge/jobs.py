"""RQ jobs: small importable functions of ids that load, decide, write and enqueue the next step."""

from __future__ import annotations

import logging

from bridge import wiring as runtime

log = logging.getLogger(__name__)


def event_job_id(event_id: int) -> str:
    """The stable RQ job id of an event (re-enqueueing it never makes two jobs)."""
    return f"event-{event_id}"


def process_event(event_id: int) -> str:
    """Turn one stored webhook into facts and apply them."""
    from bridge.events.pipeline import handle_event

    return handle_event(runtime.current(), event_id)


def process_events(event_ids: list[int]) -> dict[str, int]:
    """Process the events of one ingest batch, each in its own transactions; a batch with an event that must
    wait is retried by RQ as a whole (the events already done are skipped at once)."""
    from bridge.events.pipeline import handle_events

    return handle_events(runtime.current(), event_ids)


def relay_pending() -> int:
    """Re-enqueue acknowledged events whose job was lost."""
    from bridge.events.ingest import relay

    return relay(runtime.current())


def rescore_leads(shop_id: int, lead_ids: list[int], reason: str) -> int:
    """Rescore some leads of a shop."""
    from bridge.leads.scores import rescore_many

    return rescore_many(runtime.current(), shop_id, lead_ids, reason)


def sync_marketing_consent(lead_id: int) -> str:
    """Write a lead's unsubscribe back to its Shopify customer (retried while Shopify is unreachable)."""
    from bridge.outreach.consent import push_unsubscribe

    return push_unsubscribe(runtime.current(), lead_id)


def erase_shop(shop_id: int) -> None:
    """Delete a shop and everything that belongs to it (shop/redact)."""
    from bridge.db import transaction
    from bridge.db.models import Shop
    from bridge.leads.erasure import erase_shop as erase

    ctx = runtime.current()
    with transaction(ctx.sessions) as session:
        shop = session.get(Shop, shop_id)
        if shop is not None:
            erase(session, shop)


def snapshot_tiers() -> int:
    """Store today's leads-per-tier counts of every shop."""
    from bridge.outreach.results import snapshot_tiers as snap

    return snap(runtime.current())
