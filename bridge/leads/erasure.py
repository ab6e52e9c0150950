"""Privacy: export or erase a customer's data, erase a shop, forget tokens on uninstall."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bridge.db.models import (
    Activity,
    Cart,
    Event,
    Lead,
    Offer,
    Order,
    PrivacyExport,
    ScoreChange,
    Shop,
    Visitor,
)
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.leads import products
from bridge.leads.emails import normalize_email
from bridge.leads.people import find_lead
from connectors import base as facts

AfterCommit = Callable[[], None]
# A handler takes the fact of its own type (the table's key); one callable type cannot say that per entry.
Handler = Callable[[Session, Context, Shop, Any, datetime], AfterCommit | None]


def apply(session: Session, ctx: Context, shop: Shop, fact: object, now: datetime) -> AfterCommit | None:
    """Carry out one privacy or lifecycle fact; may return a step to run after commit."""
    handler = HANDLERS.get(type(fact))
    if handler is None:
        raise facts.PayloadError(f"no handler for fact {type(fact).__name__}")
    return handler(session, ctx, shop, fact, now)


def _redact_customer(
    session: Session, ctx: Context, shop: Shop, fact: facts.CustomerRedact, now: datetime
) -> None:
    """customers/redact: erase the lead, its unlinked carts and the stored payloads that name it."""
    email = normalize_email(fact.email)
    lead = find_lead(session, shop.id, fact.external_id, email)
    if lead is not None:
        redact_lead(session, lead, now)
    _scrub_unlinked_carts(session, shop.id, email)
    scrub_event_log(session, shop.id, [email, fact.external_id])


def _export_customer(
    session: Session, ctx: Context, shop: Shop, fact: facts.DataRequest, now: datetime
) -> None:
    """customers/data_request: keep the export of everything held about the customer."""
    lead = find_lead(session, shop.id, fact.external_id, normalize_email(fact.email))
    document = export_lead(session, lead) if lead is not None else {"found": False}
    session.add(PrivacyExport(shop_id=shop.id, request_id=fact.request_id, created_at=now, document=document))


def _uninstalled(
    session: Session, ctx: Context, shop: Shop, fact: facts.AppUninstalled, now: datetime
) -> AfterCommit:
    """app/uninstalled: forget the credentials now, the shop's waiting jobs after commit."""
    uninstall(shop, now)
    return _later_cancel_jobs(ctx, shop.id, shop.platform)


def _redact_shop(
    session: Session, ctx: Context, shop: Shop, fact: facts.ShopRedact, now: datetime
) -> AfterCommit:
    """shop/redact: erase the shop, in a job of its own after commit."""
    return _later_erase(ctx, shop.id)


HANDLERS: dict[type[object], Handler] = {
    facts.CustomerRedact: _redact_customer,
    facts.DataRequest: _export_customer,
    facts.AppUninstalled: _uninstalled,
    facts.ShopRedact: _redact_shop,
}
PRIVACY_FACTS = tuple(HANDLERS)


def check_shop(shop: Shop, items: Sequence[object]) -> None:
    """Refuse facts whose payload names another shop than the one the delivery was signed and stored for
    (one app secret signs every Shopify shop's deliveries: a captured body can be replayed to another)."""
    for fact in items:
        named = getattr(fact, "shop_domain", None) if isinstance(fact, PRIVACY_FACTS) else None
        if named is not None and named.strip().lower() != shop.domain.strip().lower():
            raise facts.PayloadError(f"the payload's shop is not the delivery's shop ({type(fact).__name__})")


def _later_cancel_jobs(ctx: Context, shop_id: int, platform: str = "shopify") -> AfterCommit:
    def step() -> None:
        # Waiting Shopify jobs are dropped; a running one sees `uninstalled_at` and stops.
        queue.drop_waiting(
            ctx.redis, [jobnames.setup_shop_id(shop_id), jobnames.reconcile_shopify_id(shop_id)]
        )
        if platform == "woocommerce":  # our webhooks off the store, then its keys forgotten
            job_id = jobnames.unregister_woo_webhooks_id(shop_id)
            queue.enqueue(
                ctx.redis, jobnames.UNREGISTER_WOO_WEBHOOKS, shop_id, job_id=job_id, queue=queue.MAINTENANCE
            )

    return step


def _later_erase(ctx: Context, shop_id: int) -> AfterCommit:
    """Erasing the shop deletes the event being processed, so it runs as its own job."""

    def step() -> None:
        job_id = jobnames.erase_shop_id(shop_id)
        queue.enqueue(ctx.redis, jobnames.ERASE_SHOP, shop_id, job_id=job_id, queue=queue.MAINTENANCE)

    return step


def export_lead(session: Session, lead: Lead) -> dict[str, Any]:
    """Everything Relance holds about one lead, as JSON-ready data."""
    activities = session.scalars(sa.select(Activity).where(Activity.lead_id == lead.id)).all()
    carts = session.scalars(sa.select(Cart).where(Cart.lead_id == lead.id)).all()
    offers = session.scalars(sa.select(Offer).where(Offer.lead_id == lead.id)).all()
    return {
        "found": True,
        "lead": {
            "id": lead.id,
            "external_id": lead.external_id,
            "email": lead.email,
            "first_name": lead.first_name,
            "last_name": lead.last_name,
            "country": lead.country,
            "accepts_marketing": lead.accepts_marketing,
            "score": lead.score,
            "tier": lead.tier,
            "created_at": lead.created_at.isoformat(),
        },
        "activities": [{"kind": a.kind, "at": a.occurred_at.isoformat(), "ref": a.ref} for a in activities],
        "carts": [
            {"email": c.email, "subtotal": str(c.subtotal), "items": c.items, "status": c.status}
            for c in carts
        ],
        "offers": [
            {"code": o.code, "status": o.status, "created_at": o.created_at.isoformat()} for o in offers
        ],
        "products": [products.view_json(v) for v in products.lead_products(session, lead.id, limit=10_000)],
    }


REDACTED_ERROR = "redacted with the customer's data"


def redact_lead(session: Session, lead: Lead, now: datetime) -> None:
    """Erase personal data, keeping anonymous counts and amounts for the merchant's metrics."""
    sources = sa.select(Activity.source_event_id).where(Activity.lead_id == lead.id)
    session.execute(
        sa.update(Event)
        .where(Event.id.in_(sources), Event.error.is_not(None))
        .values(error=REDACTED_ERROR)
        .execution_options(synchronize_session=False)
    )
    lead.email = lead.external_id = lead.first_name = lead.last_name = lead.country = None
    lead.source, lead.breakdown, lead.redacted_at = {}, {}, now
    lead.accepts_marketing = False
    session.execute(
        sa.update(Activity).where(Activity.lead_id == lead.id).values(ref=Activity.id.cast(sa.String))
    )
    session.execute(
        sa.update(Cart)
        .where(Cart.lead_id == lead.id)
        .values(email=None, items={}, recovery_url=None, source={}, cart_token=None, checkout_token=None)
    )
    session.execute(sa.update(Order).where(Order.lead_id == lead.id).values(source={}))
    session.execute(sa.update(Offer).where(Offer.lead_id == lead.id).values(recipient=None))
    session.execute(sa.delete(ScoreChange).where(ScoreChange.lead_id == lead.id))
    products.forget_lead(session, lead.id)  # what they viewed, added and bought goes with them
    # The browsers joined to the person, their tokens and their history's links go too.
    session.execute(sa.delete(Visitor).where(Visitor.lead_id == lead.id))


def _scrub_unlinked_carts(session: Session, shop_id: int, email: str | None) -> None:
    if email:
        session.execute(
            sa.update(Cart)
            .where(Cart.shop_id == shop_id, Cart.email == email)
            .values(email=None, items={}, recovery_url=None, source={})
        )


def scrub_event_log(session: Session, shop_id: int, needles: list[str | None]) -> int:
    """Blank the stored payloads and errors (and exports) that mention this customer; statuses and times
    stay."""
    terms = [n for n in needles if n and len(n) >= 5]  # short ids would match unrelated payloads
    if not terms:
        return 0
    mentions = sa.or_(
        *(
            sa.func.lower(column).contains(t.lower(), autoescape=True)
            for t in terms
            for column in (Event.payload, Event.error)
        )
    )
    blanked = session.execute(
        sa.update(Event)
        .where(Event.shop_id == shop_id, mentions)
        .values(
            payload='{"redacted": true}',
            error=sa.case((Event.error.is_(None), None), else_=sa.literal(REDACTED_ERROR)),
        )
    )
    exported = sa.or_(
        *(
            sa.func.lower(sa.cast(PrivacyExport.document, sa.Text)).contains(t.lower(), autoescape=True)
            for t in terms
        )
    )
    session.execute(sa.delete(PrivacyExport).where(PrivacyExport.shop_id == shop_id, exported))
    return cast(sa.CursorResult[Any], blanked).rowcount


def uninstall(shop: Shop, now: datetime) -> None:
    """Forget the store credentials; data stays until shop/redact (or the merchant reinstalls)."""
    shop.access_token_enc = shop.refresh_token_enc = None
    shop.token_expires_at = shop.refresh_expires_at = None
    shop.uninstalled_at = now


def erase_shop(session: Session, shop: Shop) -> None:
    """Delete the shop and, by cascade, everything that belongs to it."""
    session.execute(sa.delete(Shop).where(Shop.id == shop.id))
