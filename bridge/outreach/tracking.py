"""Email engagement: open pixel, tracked clicks (signed, never an open redirect), unsubscribe, replies.

The customer's pages (unsubscribe, an expired code) speak the customer's language (customer_pages)."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import sqlalchemy as sa
from flask import Blueprint, Response, abort, g, jsonify, redirect, request
from itsdangerous import BadSignature, URLSafeSerializer
from werkzeug.wrappers import Response as BaseResponse

from bridge.db import transaction
from bridge.db.models import CODE_DEAD, Lead, Offer, Shop
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.infra.web import context
from bridge.leads.emails import normalize_email
from bridge.leads.people import add_activity
from bridge.outreach import consent, customer_pages
from bridge.shops.bearer import authenticated

bp = Blueprint("tracking", __name__)
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")

# One salt per purpose: a token made for one link (the open pixel, say) is refused by the others.
SALTS = {
    "open": "relance-tracking-open",
    "click": "relance-tracking-click",
    "unsubscribe": "relance-unsubscribe",
}
LEGACY_SALT = "relance-tracking"  # before purposes had salts; emails already sent still carry such links


def _legacy_shape(purpose: str, data: dict[str, Any]) -> bool:
    """A legacy token names its purpose only by its shape; the three shapes never overlap."""
    if purpose == "open":
        return data.keys() == {"o"}
    if data.keys() != {"o", "u"}:
        return False
    if purpose == "click":
        return isinstance(data["u"], str)
    return data["u"] == 0 and type(data["u"]) is int  # unsubscribe: {"o": id, "u": 0}


def _token(ctx: Context, purpose: str, **data: Any) -> str:
    return str(URLSafeSerializer(ctx.settings.secret_key, salt=SALTS[purpose]).dumps(data))


def _read(ctx: Context, token: str, purpose: str) -> dict[str, Any] | None:
    """The token's data when it was made for `purpose` (or is a legacy token of that purpose's shape)."""
    for salt in (SALTS[purpose], LEGACY_SALT):
        try:
            data = URLSafeSerializer(ctx.settings.secret_key, salt=salt).loads(token)
        except BadSignature:
            continue
        if not isinstance(data, dict) or not isinstance(data.get("o"), int):
            return None
        if salt == LEGACY_SALT and not _legacy_shape(purpose, data):
            return None
        return data
    return None


def open_url(ctx: Context, offer: Offer) -> str:
    """The open-pixel address of an offer email."""
    return f"{ctx.settings.public_url}/t/o/{_token(ctx, 'open', o=offer.id)}.gif"


def click_url(ctx: Context, offer: Offer, url: str) -> str:
    """A tracked link to `url` (the target is inside the signed token, so it cannot be changed)."""
    return f"{ctx.settings.public_url}/t/c/{_token(ctx, 'click', o=offer.id, u=url)}"


def unsubscribe_url(ctx: Context, offer: Offer) -> str:
    """The unsubscribe link of an offer email."""
    return f"{ctx.settings.public_url}/u/{_token(ctx, 'unsubscribe', o=offer.id)}"


def _record(ctx: Context, offer_id: int, kind: str) -> Offer | None:
    """Add an engagement activity for the offer's lead and rescore it."""
    with transaction(ctx.sessions) as session:
        offer = session.get(Offer, offer_id)
        lead = session.get(Lead, offer.lead_id) if offer and offer.lead_id else None
        if offer is None or lead is None or lead.redacted_at is not None:
            return offer
        added = add_activity(session, lead, kind, ctx.now(), f"offer:{offer.id}", None)
        shop_id, lead_id = lead.shop_id, lead.id
    if added:
        queue.enqueue(
            ctx.redis,
            jobnames.SCORE_LEADS,
            shop_id,
            [lead_id],
            f"{kind} of offer {offer_id}",
            job_id=jobnames.score_after_id(kind, offer_id),
            queue=queue.CAMPAIGNS,
        )
    return offer


@bp.get("/t/o/<token>.gif")
def opened(token: str) -> Response:
    """The open pixel: always a 1x1 GIF; a valid token records a promo email open."""
    ctx = context()
    data = _read(ctx, token, "open")
    if data:
        _record(ctx, data["o"], "promo_email_open")
    return Response(PIXEL, mimetype="image/gif", headers={"Cache-Control": "no-store"})


def _allowed(ctx: Context, offer: Offer, url: str) -> bool:
    """Only http(s) links to the shop's own store."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    with ctx.sessions() as session:
        shop = session.get(Shop, offer.shop_id)
    if shop is None:
        return False
    store_host = urlsplit(shop.domain if "://" in shop.domain else f"https://{shop.domain}").hostname
    return parts.hostname == store_host or parts.hostname.endswith(f".{store_host}")


@bp.get("/t/c/<token>")
def clicked(token: str) -> BaseResponse:
    """A tracked link: records a click, then redirects to the shop's own store only; when the offer's code is
    over, a short page in the customer's language says so first (the store would only refuse the code)."""
    ctx = context()
    data = _read(ctx, token, "click")
    if not data or not isinstance(data.get("u"), str):
        abort(404)
    offer = _record(ctx, data["o"], "email_click")
    if offer is None or not _allowed(ctx, offer, data["u"]):
        abort(404)
    if offer.code and _code_over(ctx, offer):
        return _expired(ctx, offer, without_code(data["u"]))
    return redirect(data["u"], code=302)


def _code_over(ctx: Context, offer: Offer) -> bool:
    """The offer's code no longer works: expired, cancelled (or never live), or past its expiry time."""
    return offer.status in CODE_DEAD or (offer.expires_at is not None and offer.expires_at <= ctx.now())


def without_code(url: str) -> str:
    """The store link without the dead code: Shopify's /discount/CODE?redirect=/cart/… becomes the cart it
    redirects to, WooCommerce's `coupon=` parameter is dropped. Same scheme and host: still the shop's."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    path = parts.path
    if path.startswith("/discount/"):
        target = dict(query).get("redirect", "/")
        path, _, rest = (target if target.startswith("/") and not target.startswith("//") else "/").partition(
            "?"
        )
        query = parse_qsl(rest, keep_blank_values=True)
    query = [(key, value) for key, value in query if key != "coupon"]
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode(query), ""))


def _expired(ctx: Context, offer: Offer, link: str) -> Response:
    """A short page in the customer's language saying the code expired, with a link on to the store."""
    with ctx.sessions() as session:
        shop = session.get(Shop, offer.shop_id)
        lang = customer_pages.page_locale(session, offer)
        name = (shop.name or shop.domain) if shop is not None else ""
    html = customer_pages.expired_page(lang, name, offer.code or "", link)
    return Response(html, 200, headers={"Content-Language": lang, "Cache-Control": "no-store"})


@bp.route("/u/<token>", methods=["GET", "POST"])
def unsubscribe(token: str) -> Response:
    """Unsubscribe page in the customer's language; POST (also RFC 8058 one-click) records the opt-out for
    the address shop-wide."""
    ctx = context()
    data = _read(ctx, token, "unsubscribe")
    if not data:
        abort(404)
    lead_ids: list[int] = []
    with transaction(ctx.sessions) as session:
        offer = session.get(Offer, data["o"])
        shop = session.get(Shop, offer.shop_id) if offer else None
        if offer is None or shop is None:
            abort(404)
        name, platform = shop.name or shop.domain, shop.platform
        lang = customer_pages.page_locale(session, offer)
        if request.method == "POST":
            lead_ids = opt_out(session, shop.id, offer.recipient, offer.lead_id, ctx.now())
    consent.enqueue_sync(ctx, platform, lead_ids)  # committed: now tell the store
    html = customer_pages.unsubscribe_page(lang, name, done=request.method == "POST")
    return Response(html, 200, headers={"Content-Language": lang})


def opt_out(
    session: sa.orm.Session, shop_id: int, email: str | None, lead_id: int | None, now: Any
) -> list[int]:
    """Record an opt-out for this email (and lead) across the shop; unsent offers are cancelled. The ids
    of the leads that opted out (their consent is written back to the store after commit).

    Their codes stay on the store until the clean-up job (code_cleanup.remove_expired) removes them, after
    this commit, and retries until the store confirms. A sent offer keeps its code: the customer holds it.
    """
    email = normalize_email(email)
    leads = session.scalars(
        sa.select(Lead).where(Lead.shop_id == shop_id, sa.or_(Lead.id == lead_id, Lead.email == email))
    ).all()
    for lead in leads:
        lead.unsubscribed_at = lead.unsubscribed_at or now
        lead.accepts_marketing, lead.consent_updated_at = False, now
    ids = [lead.id for lead in leads]
    if ids:
        session.execute(
            sa.update(Offer)
            .where(Offer.lead_id.in_(ids), Offer.status.in_(("planned", "created")))
            .values(status="cancelled", decision="unsubscribed")
        )
    return ids


@bp.post("/api/v1/email-replies")
@authenticated
def email_reply() -> tuple[Response, int]:
    """Inbound reply hook for the merchant's mail tool: `{"email": ..., "message_id": ...}` → email_reply."""
    body = request.get_json(silent=True) or {}
    email = normalize_email(body.get("email") if isinstance(body.get("email"), str) else None)
    if not email:
        return jsonify(errors={"email": ["A sender email is required."]}), 422
    ctx = context()
    session = g.session
    lead = session.scalar(sa.select(Lead).where(Lead.shop_id == g.shop.id, Lead.email == email))
    if lead is None:
        return jsonify(recorded=False), 202
    ref = str(body.get("message_id") or "")[:200] or f"reply:{ctx.now().isoformat()}"
    add_activity(session, lead, "email_reply", ctx.now(), ref, None)
    session.commit()
    queue.enqueue(
        ctx.redis,
        jobnames.SCORE_LEADS,
        g.shop.id,
        [lead.id],
        "email reply",
        job_id=jobnames.score_reply_id(lead.id, ref),  # one reply queues one rescore
        queue=queue.CAMPAIGNS,
    )
    return jsonify(recorded=True), 202
