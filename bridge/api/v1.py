"""The JSON API (`/api/v1`), authenticated with the shop's API key as a Bearer token."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Blueprint, Response, abort, g, jsonify, request
from sqlalchemy.orm import Session

import scoring
from bridge.db.models import Activity, Cart, Event, JourneyRun, Lead, Offer, ScoreChange, Shop
from bridge.events import pipeline
from bridge.infra.web import MAX_ID, context, parse_int
from bridge.leads import products, segments
from bridge.leads.emails import normalize_email
from bridge.outreach import outbound
from bridge.shops.bearer import authenticated

bp = Blueprint("api", __name__, url_prefix="/api/v1")
MAX_PAGE = 200
Listed = TypeVar("Listed", Cart, Event, Offer)  # the rows listed by status
Owned = TypeVar("Owned", Lead, Event)  # the rows read one by id


def page_args() -> tuple[int, int]:
    """`limit` (1..200, default 50) and `offset` from the query string."""
    try:
        limit = min(max(parse_int(request.args.get("limit", "50"), -(10**30), 10**30), 1), MAX_PAGE)
        offset = max(parse_int(request.args.get("offset", "0"), high=MAX_ID), 0)
    except ValueError:
        abort(400, f"limit must be an integer and offset an integer up to {MAX_ID}")
    return limit, offset


def status_page(
    model: type[Listed],
    order: sa.ColumnElement[Any],
    serialize: Callable[[Listed], dict[str, Any]],
    name: str,
) -> Response:
    """One page of the shop's rows of `model`, filtered by `?status=`, as `{name: [...], limit, offset}`."""
    limit, offset = page_args()
    query = sa.select(model).where(model.shop_id == g.shop.id)
    if status := request.args.get("status"):
        query = query.where(model.status == status)
    rows = g.session.scalars(query.order_by(order).limit(limit).offset(offset)).all()
    return jsonify({name: [serialize(r) for r in rows], "limit": limit, "offset": offset})


def lead_json(lead: Lead, full: bool = False) -> dict[str, Any]:
    """A lead as the API shows it."""
    out: dict[str, Any] = {
        "id": lead.id,
        "external_id": lead.external_id,
        "email": lead.email,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "country": lead.country,
        "accepts_marketing": lead.accepts_marketing,
        "is_customer": lead.is_customer,
        "score": lead.score,
        "tier": lead.tier,
        "tier_label": scoring.tier_label(lead.tier),
        "score_computed_at": lead.score_computed_at.isoformat() if lead.score_computed_at else None,
        "last_activity_at": lead.last_activity_at.isoformat() if lead.last_activity_at else None,
        "locale": lead.locale,
    }
    if full:
        out["breakdown"] = lead.breakdown
    return out


@bp.get("/leads")
@authenticated
def leads() -> Response | tuple[Response, int]:
    """Leads of the shop, highest score first; filter by `tier`, `email` or `segment` (unknown key: 422)."""
    shop, session = g.shop, g.session
    limit, offset = page_args()
    query = sa.select(Lead).where(Lead.shop_id == shop.id, Lead.redacted_at.is_(None))
    if key := request.args.get("segment"):
        segment = segments.shop_segments(session, shop.id).get(key)
        if segment is None:
            return jsonify(errors={"segment": ["No segment with this key."]}), 422
        query = query.where(segments.where(segment, context().now(), segments.dialect_of(session)))
    if tier := request.args.get("tier"):
        query = query.where(Lead.tier == tier)
    if email := normalize_email(request.args.get("email")):
        query = query.where(Lead.email == email)
    rows = session.scalars(query.order_by(Lead.score.desc(), Lead.id).limit(limit).offset(offset)).all()
    return jsonify(leads=[lead_json(r) for r in rows], limit=limit, offset=offset)


@bp.get("/leads/<int:lead_id>")
@authenticated
def lead(lead_id: int) -> Response:
    """One lead: score, breakdown, score history, activities, carts, offers."""
    session: Session = g.session
    row = _owned(session, Lead, lead_id, g.shop)
    activities = session.scalars(
        sa.select(Activity).where(Activity.lead_id == row.id).order_by(Activity.occurred_at.desc()).limit(500)
    ).all()
    history = session.scalars(
        sa.select(ScoreChange).where(ScoreChange.lead_id == row.id).order_by(ScoreChange.at.desc()).limit(100)
    ).all()
    carts = session.scalars(sa.select(Cart).where(Cart.lead_id == row.id)).all()
    offers = session.scalars(sa.select(Offer).where(Offer.lead_id == row.id)).all()
    out = lead_json(row, full=True)
    out["products"] = [products.view_json(v) for v in products.lead_products(session, row.id)]
    out["activities"] = [
        {"kind": a.kind, "occurred_at": a.occurred_at.isoformat(), "ref": a.ref} for a in activities
    ]
    out["score_history"] = [
        {
            "at": h.at.isoformat(),
            "from": h.old_score,
            "to": h.new_score,
            "from_tier": h.old_tier,
            "to_tier": h.new_tier,
            "reason": h.reason,
        }
        for h in history
    ]
    runs = session.scalars(
        sa.select(JourneyRun).where(JourneyRun.lead_id == row.id).order_by(JourneyRun.id.desc()).limit(100)
    ).all()
    by_cart = {run.cart_id: run for run in runs if run.cart_id is not None}
    out["carts"] = [cart_json(c, by_cart.get(c.id)) for c in carts]
    out["offers"] = [
        {
            "id": o.id,
            "code": o.code,
            "status": o.status,
            "reason": o.reason,
            "journey": o.journey_key,
            "step": o.step,
            "holdout": o.holdout,
            "decision": o.decision,
            "locale": o.locale,
        }
        for o in offers
    ]
    out["journeys"] = [run_json(run) for run in runs]
    out["segments"] = segments.member_keys(session, row.shop_id, row.id, context().now())
    return jsonify(out)


def run_json(run: JourneyRun) -> dict[str, Any]:
    """A journey run as the API shows it: where it is, when its next step goes, why it ended."""
    return {
        "id": run.id,
        "journey": run.journey_key or None,
        "trigger": run.trigger,
        "cart_id": run.cart_id,
        "status": run.status,
        "step_reached": run.step,
        "holdout_before_step": run.holdout_stop,
        "triggered_at": run.trigger_at.isoformat(),
        "next_send_at": run.next_due_at.isoformat() if run.next_due_at else None,
        "deferred_because": run.deferred_reason,
        "exit_reason": run.exit_reason,
        "ended_at": run.ended_at.isoformat() if run.ended_at else None,
    }


def cart_json(cart: Cart, run: JourneyRun | None = None) -> dict[str, Any]:
    """A cart as the API shows it, with its journey run when the caller has it."""
    out = {
        "id": cart.id,
        "status": cart.status,
        "email": cart.email,
        "currency": cart.currency,
        "subtotal": str(cart.subtotal),
        "items": (cart.items or {}).get("lines", []),
        "last_activity_at": cart.last_activity_at.isoformat(),
        "abandoned_at": cart.abandoned_at.isoformat() if cart.abandoned_at else None,
        "order_id": cart.order_id,
        "locale": cart.locale,
    }
    out["journey"] = run_json(run) if run is not None else None
    return out


@bp.get("/carts")
@authenticated
def carts() -> Response:
    """Carts of the shop, newest activity first; filter by `status`. Each with its journey run."""
    limit, offset = page_args()
    query = sa.select(Cart).where(Cart.shop_id == g.shop.id)
    if status := request.args.get("status"):
        query = query.where(Cart.status == status)
    rows = g.session.scalars(query.order_by(Cart.last_activity_at.desc()).limit(limit).offset(offset)).all()
    ids = [cart.id for cart in rows]
    runs = g.session.scalars(sa.select(JourneyRun).where(JourneyRun.cart_id.in_(ids))).all() if ids else []
    by_cart = {run.cart_id: run for run in runs}
    return jsonify(carts=[cart_json(c, by_cart.get(c.id)) for c in rows], limit=limit, offset=offset)


def event_json(event: Event) -> dict[str, Any]:
    """A stored webhook as the API shows it."""
    return {
        "id": event.id,
        "topic": event.topic,
        "status": event.status,
        "attempts": event.attempts,
        "error": event.error,
        "received_at": event.received_at.isoformat(),
        "processed_at": event.processed_at.isoformat() if event.processed_at else None,
    }


@bp.get("/events")
@authenticated
def events() -> Response:
    """Stored webhooks of the shop, newest first; filter by `status`."""
    return status_page(Event, Event.id.desc(), event_json, "events")


@bp.post("/events/<int:event_id>/replay")
@authenticated
def replay_event(event_id: int) -> tuple[Response, int]:
    """Process a stored event again."""
    _owned(g.session, Event, event_id, g.shop)
    g.session.rollback()
    pipeline.replay(context(), [event_id])
    return jsonify(replayed=event_id), 202


def _owned(session: Session, model: type[Owned], row_id: int, shop: Shop) -> Owned:
    row = session.get(model, row_id)
    if row is None or row.shop_id != shop.id:
        abort(404)
    return row


def _secret_answer(secret: str) -> Response:
    response = jsonify(
        secret=secret,
        signature_header=outbound.SIGNATURE_HEADER,
        timestamp_header=outbound.TIMESTAMP_HEADER,
        scheme='sha256=<hex HMAC-SHA256 of "<timestamp>." + raw body>',
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/outbound-webhook/secret")
@authenticated
def outbound_secret() -> Response:
    """The secret that signs the shop's outbound webhooks (created now if it has none yet)."""
    shop_id = g.shop.id
    g.session.rollback()  # the secret is written in a transaction of its own
    return _secret_answer(outbound.ensure_secret(context(), shop_id))


@bp.post("/outbound-webhook/secret/rotate")
@authenticated
def rotate_outbound_secret() -> Response:
    """Replace the signing secret; webhooks are signed with the new one from now on."""
    shop_id = g.shop.id
    g.session.rollback()
    return _secret_answer(outbound.rotate_secret(context(), shop_id, actor="api"))
