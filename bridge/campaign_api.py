"""JSON API for offers and metrics."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from bridge import metrics
from bridge.api import authenticated, status_page
from bridge.models import Offer
from bridge.web import context

bp = Blueprint("campaign_api", __name__, url_prefix="/api/v1")


def offer_json(offer: Offer) -> dict[str, Any]:
    """An offer as the API shows it."""
    return {
        "id": offer.id,
        "lead_id": offer.lead_id,
        "cart_id": offer.cart_id,
        "reason": offer.reason,
        "code": offer.code,
        "kind": offer.kind,
        "value": str(offer.value),
        "status": offer.status,
        "holdout": offer.holdout,
        "decision": offer.decision,
        "error": offer.error,
        "created_at": offer.created_at.isoformat(),
        "expires_at": offer.expires_at.isoformat() if offer.expires_at else None,
        "sent_at": offer.sent_at.isoformat() if offer.sent_at else None,
        "redeemed_at": offer.redeemed_at.isoformat() if offer.redeemed_at else None,
        "order_total": str(offer.order_total) if offer.order_total is not None else None,
    }


@bp.get("/offers")
@authenticated
def offers() -> Response:
    """Offers of the shop, newest first; filter by `status`."""
    return status_page(Offer, Offer.id.desc(), offer_json, "offers")


@bp.get("/metrics")
@authenticated
def shop_metrics() -> Response | tuple[Response, int]:
    """Carts, offers, recovery vs holdout with a 95 % interval, revenue, sources, tiers for a period."""
    try:
        start, end = metrics.period(request.args, context().now())
    except ValueError as exc:
        return jsonify(errors={"from": [str(exc)]}), 422
    return jsonify(metrics.compute(g.session, g.shop.id, start, end))
