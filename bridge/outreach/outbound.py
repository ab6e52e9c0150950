"""Signed outbound webhooks to the merchant's own email tool: the shop's secret and the retried POST job."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from typing import Any

import requests
from rq import get_current_job

import campaigns
from bridge.db import locked, transaction
from bridge.db.models import AuditLog, Lead, Offer, Shop
from bridge.infra.context import Context
from bridge.infra.netguard import UnsafeTarget, guard_for, refused
from bridge.leads import rules
from bridge.outreach.message import render

log = logging.getLogger(__name__)
SETTINGS_KEY = "outbound_secret_enc"  # in shop.state, encrypted with ctx.vault (bridge/keys.py rotates it)
SIGNATURE_HEADER = "X-Relance-Signature"
TIMESTAMP_HEADER = "X-Relance-Timestamp"
REFUSED = "refused: not a public internet address"


class WebhookFailed(RuntimeError):
    """The merchant's endpoint did not answer 2xx: RQ retries the job with backoff."""


def webhook_url_errors(ctx: Context, document: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    """Errors in rulesets' shape when the document sets a new webhook URL (the campaign's, an alert
    subscription's) outside the public internet.

    The address is resolved (I/O, so here rather than in the pure schema); an unchanged URL is not
    looked up again, and every delivery checks the address it connects to anyway.
    """
    url = (document.get("campaign") or {}).get("webhook_url")
    errors: dict[str, Any] = {}
    if url and url != (live.get("campaign") or {}).get("webhook_url"):
        try:
            guard_for(ctx).check_url(url)
        except UnsafeTarget as exc:
            errors["campaign"] = {"webhook_url": [f"Use a public internet address: {exc}."]}
    known = {s.get("url") for s in (live.get("alerts") or {}).get("subscriptions") or []}
    for index, subscription in enumerate((document.get("alerts") or {}).get("subscriptions") or []):
        if subscription.get("url") in known:
            continue
        try:
            guard_for(ctx).check_url(subscription.get("url") or "")
        except UnsafeTarget as exc:
            subscriptions = errors.setdefault("alerts", {}).setdefault("subscriptions", {})
            subscriptions[index] = {"url": [f"Use a public internet address: {exc}."]}
    return errors


def ensure_secret(ctx: Context, shop_id: int) -> str:
    """The shop's signing secret, created and committed in a transaction of its own on first use.

    Never inside a delivery's transaction: a rollback there would make every retry sign with a new secret.
    """
    with ctx.sessions() as session:
        shop = session.get(Shop, shop_id)
        stored = (shop.state or {}).get(SETTINGS_KEY) if shop is not None else None
    if stored:
        return ctx.vault.decrypt(stored) or ""
    return _store_secret(ctx, shop_id, rotate=False)


def rotate_secret(ctx: Context, shop_id: int, actor: str) -> str:
    """Replace the shop's signing secret (effective at once) and note who did it in the audit log."""
    return _store_secret(ctx, shop_id, rotate=True, actor=actor)


def _store_secret(ctx: Context, shop_id: int, *, rotate: bool, actor: str = "") -> str:
    with transaction(ctx.sessions) as session:
        shop = locked(session, Shop, shop_id, Shop.name)
        if shop is None:
            raise LookupError(f"no shop {shop_id}")
        stored = (shop.state or {}).get(SETTINGS_KEY)
        if stored and not rotate:  # another process created it while we waited for the lock
            return ctx.vault.decrypt(stored) or ""
        secret = secrets.token_hex(32)
        shop.state = {**(shop.state or {}), SETTINGS_KEY: ctx.vault.encrypt(secret)}
        if rotate:
            session.add(
                AuditLog(
                    shop_id=shop_id,
                    actor=actor[:320],
                    action="outbound_secret.rotated",
                    detail={},
                    at=ctx.now(),
                )
            )
    return secret


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`X-Relance-Signature`: hex HMAC-SHA256 of `"{timestamp}." + body`."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def offer_body(offer: Offer, lead: Lead, message: campaigns.RenderedMessage) -> bytes:
    """The JSON the merchant's tool receives (`offer_id` is the key to de-duplicate on)."""
    document: dict[str, Any] = {
        "type": "offer.ready",
        "offer_id": offer.id,
        "reason": offer.reason,
        "email": offer.recipient,
        "first_name": lead.first_name,
        "code": offer.code,
        "expires_at": offer.expires_at.isoformat() if offer.expires_at else None,
        "subject": message.subject,
        "text": message.text,
        "html": message.html,
    }
    return json.dumps(document).encode()


def post_offer(ctx: Context, offer_id: int) -> str:
    """Job (queue `campaigns`, RQ's retry with backoff): POST a live offer to the shop's webhook URL.

    Runs apart from the email, so a failing endpoint never rolls a delivery back. Each outcome is written to
    the audit log (`offer.webhook_sent` / `offer.webhook_failed`, `final` once RQ's retries are used up).
    Delivery is at least once (a retried job whose answer was lost posts again): receivers de-duplicate on
    `offer_id`.
    """
    with ctx.sessions() as session:
        offer = session.get(Offer, offer_id)
        if offer is None or offer.status not in ("created", "sent"):
            return "not_live"
        if offer.expires_at is not None and offer.expires_at <= ctx.now():
            return "expired"
        lead = session.get(Lead, offer.lead_id) if offer.lead_id else None
        settings = rules.campaign_settings_for(session, offer.shop_id)  # this job's one read: URL and message
        url = settings.webhook_url
        if lead is None or lead.redacted_at is not None or not url:
            return "skipped"
        body, shop_id = offer_body(offer, lead, render(ctx, session, offer, settings)), offer.shop_id
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: f"sha256={sign(ensure_secret(ctx, shop_id), timestamp, body)}",
    }
    failure = post(ctx, url, body, headers).failure
    _record(ctx, shop_id, offer_id, failure)
    if failure is not None:
        raise WebhookFailed(f"webhook of offer {offer_id}: {failure}")
    return "sent"


@dataclass(frozen=True)
class Posted:
    """How a POST to a merchant's endpoint went: its status code, how long, and why it failed (no URL)."""

    status_code: int | None
    duration_ms: int
    failure: str | None


def post(ctx: Context, url: str, body: bytes, headers: dict[str, str], timeout: float = 10) -> Posted:
    """POST `body` to a merchant-supplied URL through the SSRF guard (public addresses only, checked as it
    connects; no redirects followed); never raises for the endpoint's failures."""
    started = time.monotonic()
    code = None
    try:
        with guard_for(ctx).session() as http:
            response = http.post(url, data=body, timeout=timeout, headers=headers, allow_redirects=False)
        code = response.status_code
        failure = None if 200 <= code < 300 else f"HTTP {code}"
    except requests.RequestException as exc:
        failure = REFUSED if refused(exc) else type(exc).__name__
    return Posted(code, int((time.monotonic() - started) * 1000), failure)


def _record(ctx: Context, shop_id: int, offer_id: int, failure: str | None) -> None:
    """One audit-log row per attempt (the endpoint's URL is left out: it may carry a token)."""
    job = get_current_job()
    detail: dict[str, Any] = {"offer_id": offer_id}
    if failure is not None:
        detail.update(error=failure, final=not (job and job.retries_left))
        log.warning("outbound webhook of offer %s failed: %s", offer_id, failure)
    action = "offer.webhook_failed" if failure else "offer.webhook_sent"
    with transaction(ctx.sessions) as session:
        session.add(AuditLog(shop_id=shop_id, actor="relance", action=action, detail=detail, at=ctx.now()))
