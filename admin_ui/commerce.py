"""Carts and offers: lists with filters, and the two offer actions (cancel, resend)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import redirect, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext

from admin_ui import journeys_runs
from admin_ui.access import admin_url, shop_id
from admin_ui.blueprint import bp
from admin_ui.paging import before_id, newest_first, page_of
from admin_ui.support import audit, db, owned
from bridge.db.models import CART_STATUSES, OFFER_STATUSES, Cart, Lead, Offer
from bridge.infra.web import context
from bridge.outreach import code_cleanup, delivery

CANCELLABLE = ("planned", "created", "sent")
NOTICES = {
    "cancelled": lazy_gettext("Offer cancelled; its code was removed from the store."),
    "resent": lazy_gettext("The offer is being sent again."),
    "not_cancellable": lazy_gettext("Only planned, created or sent offers can be cancelled."),
    "not_resendable": lazy_gettext(
        "Only sent offers that have not expired, on carts without an order, can be resent."
    ),
}


def cart_page(status: str, before: int | None) -> sa.Select[Cart]:
    """One page of carts, newest first (keyset on id)."""
    query = sa.select(Cart).where(Cart.shop_id == shop_id())
    if status in CART_STATUSES:
        query = query.where(Cart.status == status)
    return newest_first(query, Cart.id, before)


def offer_page(status: str, before: int | None) -> sa.Select[Offer, str | None]:
    """One page of offers with their lead's email, newest first (keyset on id)."""
    query = (
        sa.select(Offer, Lead.email)
        .outerjoin(Lead, Lead.id == Offer.lead_id)
        .where(Offer.shop_id == shop_id())
    )
    if status == "holdout":
        query = query.where(Offer.holdout.is_(True))
    elif status in OFFER_STATUSES:
        query = query.where(Offer.status == status)
    return newest_first(query, Offer.id, before)


@bp.get("/carts")
def carts() -> str:
    """Carts with status, value and their offer."""
    status = request.args.get("status", "")
    page = page_of(db().scalars(cart_page(status, before_id())).all(), lambda cart: str(cart.id))
    ids = [c.id for c in page.rows]
    offers = (
        {o.cart_id: o for o in db().scalars(sa.select(Offer).where(Offer.cart_id.in_(ids)))} if ids else {}
    )
    return render_template(
        "admin_ui/carts.html",
        carts=page.rows,
        page=page,
        offers=offers,
        runs=journeys_runs.cart_runs(db(), shop_id(), ids),
        status=status,
        statuses=CART_STATUSES,
        active="carts",
    )


@bp.get("/offers")
def offers() -> str:
    """Offers with code, value, expiry and redemption; cancel or resend."""
    status = request.args.get("status", "")
    page = page_of(db().execute(offer_page(status, before_id())).all(), lambda row: str(row[0].id))
    return render_template(
        "admin_ui/offers.html",
        rows=page.rows,
        page=page,
        status=status,
        statuses=(*OFFER_STATUSES, "holdout"),
        notice=str(NOTICES.get(request.args.get("done", ""), "")),
        cancellable=CANCELLABLE,
        now=context().now(),
        active="offers",
    )


@bp.post("/offers/<int:offer_id>/cancel")
def offer_cancel(offer_id: int) -> ResponseReturnValue:
    """Cancel a live offer and remove its code from the store (after commit)."""
    offer: Offer = owned(Offer, offer_id)
    session = db()
    # A conditional update: a delivery job changing the offer meanwhile cannot be overwritten blindly.
    if not _move(offer.id, CANCELLABLE, status="cancelled", decision="cancelled_by_merchant"):
        return redirect(admin_url("admin.offers", done="not_cancellable"))
    audit("offer.cancelled", offer_id=offer.id)
    session.commit()
    code_cleanup.remove_code(context(), offer.id)
    return redirect(admin_url("admin.offers", done="cancelled"))


@bp.post("/offers/<int:offer_id>/resend")
def offer_resend(offer_id: int) -> ResponseReturnValue:
    """Send a sent offer again: back to `created`, then the normal delivery job (with its final checks)."""
    offer: Offer = owned(Offer, offer_id)
    session, now = db(), context().now()
    cart = session.get(Cart, offer.cart_id) if offer.cart_id else None
    expired = offer.expires_at is not None and offer.expires_at <= now
    closed = cart is not None and cart.status in ("converted", "recovered")
    if expired or closed or not _move(offer.id, ("sent",), status="created"):
        return redirect(admin_url("admin.offers", done="not_resendable"))
    audit("offer.resent", offer_id=offer.id)
    session.commit()
    delivery.schedule_delivery(context(), offer.id, None)
    return redirect(admin_url("admin.offers", done="resent"))


def _move(offer_id: int, allowed: tuple[str, ...], **values: Any) -> bool:
    """Change an offer only while its status is one of `allowed`; False when it was not."""
    result = db().execute(
        sa.update(Offer)
        .where(Offer.id == offer_id, Offer.shop_id == shop_id(), Offer.status.in_(allowed))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
