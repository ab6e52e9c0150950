"""Signed outbound webhooks to the merchant's own email tool."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time

import requests
from sqlalchemy.orm import Session

import campaigns
from bridge.models import Lead, Offer, Shop
from bridge.runtime import Context


def signing_secret(ctx: Context, session: Session, shop: Shop) -> str:
    """The shop's outbound signing secret, created on first use and kept encrypted."""
    stored = (shop.settings or {}).get("outbound_secret_enc")
    if stored:
        return ctx.vault.decrypt(stored) or ""
    secret = secrets.token_hex(32)
    shop.settings = {**(shop.settings or {}), "outbound_secret_enc": ctx.vault.encrypt(secret)}
    session.flush()
    return secret


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """`X-Relance-Signature`: hex HMAC-SHA256 of `"{timestamp}." + body`."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def post_offer(
    ctx: Context, session: Session, offer: Offer, message: campaigns.RenderedMessage, url: str
) -> None:
    """POST the offer and its rendered message; non-2xx raises (RQ retries the delivery job)."""
    shop, lead = session.get(Shop, offer.shop_id), session.get(Lead, offer.lead_id)
    assert shop is not None and lead is not None
    body = json.dumps(
        {
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
    ).encode()
    timestamp = int(time.time())
    response = requests.post(
        url,
        data=body,
        timeout=10,
        headers={
            "Content-Type": "application/json",
            "X-Relance-Timestamp": str(timestamp),
            "X-Relance-Signature": f"sha256={sign(signing_secret(ctx, session, shop), timestamp, body)}",
        },
    )
    response.raise_for_status()
