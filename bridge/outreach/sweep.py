"""Campaign jobs: sweep abandoned carts, decide offers, create codes on the store, deliver, clean up."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

import campaigns
from bridge.db import money_sum, money_value, transaction
from bridge.db.models import Cart, Lead, Offer, Order, Shop
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.leads import rules
from bridge.leads.people import add_activity
from bridge.leads.rules import lock_shop
from bridge.leads.scores import score_leads

log = logging.getLogger(__name__)
SWEEP_BATCH = 2000
STRAGGLER_GRACE = timedelta(minutes=10)
CLAIMS_KEPT = 86_400  # seconds a shop's claim history outlives its last sweep
LAST_SWEEP_KEY = "relance:last-sweep"


def sweep(ctx: Context) -> int:
    """Hand each due cart to an abandonment job once, even with sweeps running side by side.

    Marking 10,000 carts costs PostgreSQL tens of times more than finding them (every index of `carts` gets
    a new entry), so the sweep itself writes one row per shop: it claims the window of idle time that became
    due since the last sweep (`shops.swept_until`, compare-and-set) and queues the carts of that window in
    batches. The jobs mark each cart with a conditional UPDATE, so a cart is abandoned (and offered) once.
    """
    now = ctx.now()
    with ctx.sessions() as session:
        shop_ids = list(session.scalars(sa.select(Shop.id).where(Shop.uninstalled_at.is_(None))))
    with contextlib.suppress(RedisError, OSError):
        ctx.redis.set(LAST_SWEEP_KEY, now.isoformat())
    total = 0
    for shop_id in shop_ids:
        try:
            total += _sweep_shop(ctx, shop_id, now)
        except _NotQueued:
            log.warning("sweep of shop %s not queued (Redis unreachable); the next sweep repeats it", shop_id)
    return total


class _NotQueued(RuntimeError):
    """Redis refused a batch: roll the window back so the next sweep hands it out again."""


def _sweep_shop(ctx: Context, shop_id: int, now: datetime) -> int:
    with transaction(ctx.sessions) as session:
        cutoff = now - timedelta(
            minutes=rules.campaign_settings_for(session, shop_id).abandonment_delay_minutes
        )
        since = session.scalar(sa.select(Shop.swept_until).where(Shop.id == shop_id))
        if since is not None and cutoff <= since:
            return 0  # nothing newly due (or the merchant lengthened the delay)
        same = Shop.swept_until.is_(None) if since is None else Shop.swept_until == since
        won = session.execute(
            sa.update(Shop).where(Shop.id == shop_id, same).values(swept_until=cutoff)
        ).rowcount
        if not won:
            return 0  # a sweep beside us claimed this window
        due = session.connection().execute(_due_carts(shop_id, since, cutoff)).scalars().all()
        late = _stragglers(ctx, session, shop_id, now) if since is not None else []
        cart_ids = [*due, *late]
        starts = range(0, len(cart_ids), SWEEP_BATCH)
        queued = queue.enqueue_many(  # one round trip for all batches; the jobs decide in parallel
            ctx.redis,
            jobnames.ABANDON_CARTS,
            [(shop_id, cart_ids[at : at + SWEEP_BATCH], cutoff.isoformat()) for at in starts],
            # Unique per claimed window: two windows of one shop never end at the same microsecond.
            job_ids=[
                jobnames.abandon_batch_id(shop_id, int(cutoff.timestamp() * 1_000_000), at) for at in starts
            ],
            queue_name=queue.CAMPAIGNS,
        )
        if not queued:
            raise _NotQueued(shop_id)
        _remember_claim(ctx, shop_id, cutoff, now)
    return len(cart_ids)


def _due_carts(shop_id: int, since: datetime | None, cutoff: datetime) -> sa.Select:  # type: ignore[type-arg]
    """Active carts with an email whose last activity falls in the claimed window (index ix_carts_sweep)."""
    query = sa.select(Cart.id).where(
        Cart.shop_id == shop_id,
        Cart.status == "active",
        Cart.last_activity_at < cutoff,
        Cart.email.is_not(None),
    )
    if since is not None:
        query = query.where(Cart.last_activity_at >= since)
    return query.order_by(Cart.last_activity_at)


def _claims_key(shop_id: int) -> str:
    return f"relance:sweep-claims:{shop_id}"


def _remember_claim(ctx: Context, shop_id: int, cutoff: datetime, now: datetime) -> None:
    """Note when this window was handed out (a sorted set: watermark scored by claim time). A failure here
    only delays the straggler check, so it is not worth undoing the claim for."""
    try:
        pipe = ctx.redis.pipeline(transaction=False)
        pipe.zadd(_claims_key(shop_id), {cutoff.isoformat(): now.timestamp()})
        pipe.expire(_claims_key(shop_id), CLAIMS_KEPT)
        pipe.execute()
    except (RedisError, OSError):
        log.warning("sweep of shop %s: claim time not recorded; stragglers wait for the next one", shop_id)


def _settled_watermark(ctx: Context, shop_id: int, now: datetime) -> datetime | None:
    """The newest watermark handed out at least STRAGGLER_GRACE ago: every cart behind it has had its job
    for that long. Older entries are trimmed; none yet (a first sweep, a jump after downtime) means None."""
    key, settled_at = _claims_key(shop_id), (now - STRAGGLER_GRACE).timestamp()
    found = ctx.redis.zrevrangebyscore(key, settled_at, "-inf", start=0, num=1, withscores=True)
    if not found:
        return None
    watermark, claimed_at = found[0]
    ctx.redis.zremrangebyscore(key, "-inf", f"({claimed_at}")
    return datetime.fromisoformat(watermark.decode() if isinstance(watermark, bytes) else watermark)


def _stragglers(ctx: Context, session: Session, shop_id: int, now: datetime) -> list[int]:
    """Carts still active behind a watermark handed out at least STRAGGLER_GRACE ago: a late delivery (a
    reconciled checkout, a backlog) or a batch whose job was lost. The grace runs from the claim, not from
    the carts' idle time, so a batch queued a moment ago is left to its job even when its window reached far
    back (a first sweep, a sweep after downtime). Each straggler is queued at most once per grace period."""
    try:
        behind = _settled_watermark(ctx, shop_id, now)
        if behind is None:
            return []
        found = (
            session.connection().execute(_due_carts(shop_id, None, behind).limit(SWEEP_BATCH)).scalars().all()
        )
        if not found:
            return []
        pipe = ctx.redis.pipeline(transaction=False)
        for cart_id in found:
            pipe.set(f"relance:straggler:{cart_id}", 1, nx=True, ex=int(STRAGGLER_GRACE.total_seconds()))
        fresh = pipe.execute()
    except (RedisError, OSError) as exc:
        raise _NotQueued(shop_id) from exc
    return [cart_id for cart_id, new in zip(found, fresh, strict=True) if new]


def abandon_carts(ctx: Context, shop_id: int, cart_ids: list[int], cutoff: str) -> int:
    """Mark the carts of a sweep batch abandoned (those still idle), then decide each one's offer."""
    claimed = mark_abandoned(ctx, shop_id, cart_ids, datetime.fromisoformat(cutoff))
    plan_cart_offers(ctx, claimed)
    return len(claimed)


def mark_abandoned(ctx: Context, shop_id: int, cart_ids: list[int], cutoff: datetime) -> list[int]:
    """One conditional UPDATE: only carts still active and idle since `cutoff` change, each exactly once
    (a second job with the same cart waits for the row lock, then finds it no longer active)."""
    with transaction(ctx.sessions) as session:
        return list(
            session.execute(
                sa.update(Cart)
                .where(
                    Cart.id.in_(cart_ids),
                    Cart.shop_id == shop_id,
                    Cart.status == "active",
                    Cart.last_activity_at < cutoff,
                    Cart.email.is_not(None),
                )
                .values(status="abandoned", abandoned_at=ctx.now())
                .returning(Cart.id)
            ).scalars()
        )


def plan_cart_offers(ctx: Context, cart_ids: list[int]) -> int:
    """Decide the offers of a batch of abandoned carts (each idempotent, so a retried batch is harmless).
    A cart that fails does not hold up the rest of its batch: the job fails at the end, and RQ's retry
    finds the others already planned."""
    failed: list[int] = []
    for cart_id in cart_ids:
        try:
            plan_cart_offer(ctx, cart_id)
        except Exception:
            log.exception("offer decision for cart %s failed", cart_id)
            failed.append(cart_id)
    if failed:
        raise RuntimeError(f"offer decision failed for {len(failed)} of {len(cart_ids)} carts: {failed[:10]}")
    return len(cart_ids)


def replan_orphans(ctx: Context, older_than: timedelta = timedelta(minutes=2)) -> int:
    """Queue the offer decision again for abandoned carts that have none (Redis was down at the sweep)."""
    with ctx.sessions() as session:
        orphans = list(
            session.scalars(
                sa.select(Cart.id)
                .where(
                    Cart.status == "abandoned",
                    Cart.lead_id.is_not(None),
                    Cart.abandoned_at < ctx.now() - older_than,
                    ~sa.exists().where(Offer.cart_id == Cart.id),
                )
                .limit(SWEEP_BATCH)
            )
        )
    if orphans:
        queue.enqueue(
            ctx.redis,
            jobnames.PLAN_CART_OFFERS,
            orphans,
            job_id=jobnames.replan_id(orphans),
            queue=queue.CAMPAIGNS,
        )
    return len(orphans)


def sweep_and_repair(ctx: Context) -> int:
    """The abandonment sweep, then carts whose decision job was lost."""
    done = sweep(ctx)
    replan_orphans(ctx)
    retry_stuck_codes(ctx)
    return done


def retry_stuck_codes(ctx: Context, older_than: timedelta = timedelta(minutes=15)) -> int:
    """Queue code creation again for offers left `planned` (their job was lost with Redis)."""
    with ctx.sessions() as session:
        stuck = list(
            session.scalars(
                sa.select(Offer.id)
                .where(Offer.status == "planned", Offer.created_at < ctx.now() - older_than)
                .limit(SWEEP_BATCH)
            )
        )
    requeued = 0
    for offer_id in stuck:  # create_code looks the code up on the store first, so a repeat is harmless
        job_id = jobnames.code_id(offer_id)
        outcome = queue.requeue(
            ctx.redis, jobnames.CREATE_CODE, offer_id, job_id=job_id, queue=queue.CAMPAIGNS
        )
        if outcome == "refused":
            break
        requeued += outcome == "queued"
    return requeued


def plan_cart_offer(ctx: Context, cart_id: int) -> str:
    """Decide the offer for an abandoned cart and, if any, queue its code's creation."""
    with transaction(ctx.sessions) as session:
        cart = session.get(Cart, cart_id)
        if cart is None or cart.lead_id is None or cart.status != "abandoned":
            return "no_cart"
        if session.scalar(sa.select(Offer.id).where(Offer.cart_id == cart_id)) is not None:
            return "already_planned"
        delay = timedelta(
            minutes=rules.campaign_settings_for(session, cart.shop_id).abandonment_delay_minutes
        )
        if cart.last_activity_at + delay > ctx.now():
            # The shopper came back after the sweep marked the cart (or the merchant lengthened the delay):
            # not abandoned after all. Active again, it is swept anew once idle for the delay.
            cart.status, cart.abandoned_at = "active", None
            return "active_again"
        lead = _locked_lead(session, cart.lead_id)
        assert lead is not None and cart.abandoned_at is not None
        if add_activity(session, lead, "cart_abandoned", cart.abandoned_at, f"cart:{cart_id}", None):
            score_leads(session, session.get(Shop, lead.shop_id), [lead.id], ctx.now(), "cart abandoned")
        offer = _plan(ctx, session, lead, cart, "abandoned_cart")
    return _after_plan(ctx, offer)


def plan_hot_offer(ctx: Context, lead_id: int) -> str:
    """Decide a personal offer for a lead that became hot."""
    with transaction(ctx.sessions) as session:
        lead = _locked_lead(session, lead_id)
        if lead is None or lead.redacted_at is not None or lead.tier != "hot":
            return "not_hot"
        offer = _plan(ctx, session, lead, None, "hot_lead")
    return _after_plan(ctx, offer)


def _locked_lead(session: Session, lead_id: int) -> Lead | None:
    """The lead, locked until the decision commits: a cart job and a hot-lead job for one lead decide one
    after the other, so the second sees the first's offer (frequency cap, one live code)."""
    return session.get(Lead, lead_id, with_for_update=True)


def _after_plan(ctx: Context, offer: Offer | None) -> str:
    if offer is None:
        return "skipped"
    if offer.status == "planned":
        queue.enqueue(
            ctx.redis,
            jobnames.CREATE_CODE,
            offer.id,
            job_id=jobnames.code_id(offer.id),
            queue=queue.CAMPAIGNS,
        )
    return offer.decision


def _views(  # type: ignore[type-arg]
    session: Session, lead: Lead, cart: Cart | None, now: datetime, percentage: bool
) -> tuple:
    # Only a percentage offer without a cart needs the lead's expected order value (to price it).
    expected = _expected_order_value(session, lead, now) if percentage and cart is None else Decimal(0)
    lead_view = campaigns.LeadView(
        lead_id=lead.id,
        email=(cart.email if cart and cart.email else lead.email),
        # The lead's consent is the newest one known from any source (carts included, see set_consent).
        accepts_marketing=lead.accepts_marketing,
        unsubscribed=lead.unsubscribed_at is not None,
        is_customer=lead.is_customer,
        holdout_key=campaigns.holdout_key(lead.shop_id, lead.id),
        expected_order_value=expected,
    )
    cart_view = (
        None
        if cart is None
        else campaigns.CartView(
            cart_id=cart.id,
            subtotal=cart.subtotal,
            currency=cart.currency,
            created_at=cart.created_at,
            last_activity_at=cart.last_activity_at,
        )
    )
    recent = session.scalars(
        sa.select(Offer).where(Offer.lead_id == lead.id, Offer.created_at >= now - timedelta(days=365))
    ).all()
    offers = [campaigns.OfferView(o.created_at, o.status, o.expires_at, o.value, o.holdout) for o in recent]
    last_order = session.scalar(
        sa.select(sa.func.max(Order.created_at)).where(Order.lead_id == lead.id, Order.cancelled_at.is_(None))
    )
    return lead_view, cart_view, offers, last_order


def _expected_order_value(session: Session, lead: Lead, now: datetime) -> Decimal:
    """What a lead without a cart of its own would likely spend, to price a percentage offer for the budget:
    their latest cart's value, else the shop's average order over the last 90 days."""
    latest = session.scalar(
        sa.select(Cart.subtotal)
        .where(Cart.lead_id == lead.id)
        .order_by(Cart.last_activity_at.desc())
        .limit(1)
    )
    if latest:
        return Decimal(latest)
    totals = session.scalars(
        sa.select(Order.total)
        .where(
            Order.shop_id == lead.shop_id,
            Order.created_at >= now - timedelta(days=90),
            Order.cancelled_at.is_(None),
        )
        .order_by(Order.created_at.desc())
        .limit(500)
    ).all()
    return (sum(totals, Decimal(0)) / len(totals)).quantize(Decimal("0.01")) if totals else Decimal(0)


# What counts against the monthly budget: live codes at their estimated cost, redeemed codes at the discount
# the order really got (recorded at redemption). Expired, cancelled and failed codes cost nothing.
COMMITTED = (*campaigns.LIVE_STATUSES, "redeemed")


def _spent(session: Session, shop_id: int, settings: campaigns.CampaignSettings, now: datetime) -> Decimal:
    """What the shop's budget month has committed so far (0 without a budget: nothing reads it then)."""
    if settings.monthly_budget is None:
        return Decimal(0)
    start = campaigns.budget_month_start(now, settings.timezone)
    total = session.scalar(
        sa.select(money_sum(session, Offer.cost)).where(
            Offer.shop_id == shop_id,
            Offer.holdout.is_(False),
            Offer.created_at >= start,
            Offer.status.in_(COMMITTED),
        )
    )
    return money_value(session, total) or Decimal(0)


def _plan(ctx: Context, session: Session, lead: Lead, cart: Cart | None, reason: str) -> Offer | None:
    now = ctx.now()
    settings = rules.campaign_settings_for(session, lead.shop_id)
    if settings.monthly_budget is not None:
        # Offers of one shop are decided side by side; with a budget they take turns on the shop row, so
        # two decisions never both spend the last of it.
        lock_shop(session, lead.shop_id)
    percentage = settings.discount_kind == "percentage"
    lead_view, cart_view, offers, last_order = _views(session, lead, cart, now, percentage)
    decision = campaigns.decide(
        lead_view,
        cart_view,
        offers,
        last_order,
        settings,
        _spent(session, lead.shop_id, settings, now),
        now,
        reason=reason,
    )
    if cart is not None and not (cart.items or {}).get("lines"):
        decision = campaigns.Decision(action="skip", reason="empty_cart")  # an emptied cart is no lost sale
    shop = session.get(Shop, lead.shop_id)
    if shop is not None and shop.disconnected_at is not None:
        # The store refuses our keys: no code could be made. A suppressed row, visible to the merchant.
        decision = campaigns.Decision(action="skip", reason="store_disconnected")
    if decision.action == "skip" and reason == "hot_lead":
        return None  # nothing to remember: a hot lead may qualify later
    offer = Offer(
        shop_id=lead.shop_id,
        lead_id=lead.id,
        cart_id=cart.id if cart else None,
        reason=reason,
        kind=settings.discount_kind,
        value=settings.discount_value,
        currency=cart.currency if cart else None,
        holdout=decision.holdout,
        decision=decision.reason,
        created_at=now,
        recipient=lead_view.email,
        status="planned" if decision.action == "offer" else "suppressed",
    )
    if decision.action == "offer":
        # The code is valid for its full time from when the customer receives it (quiet hours may delay that).
        offer.send_at = decision.send_at or now
        _, offer.expires_at = campaigns.offer_window(offer.send_at, settings.code_expiry_hours)
        offer.starts_at = now
        offer.cost = campaigns.estimate_cost(settings, cart_view, lead_view)
        offer.code = _unique_code(session, lead.shop_id, settings.code_prefix)
    session.add(offer)
    session.flush()
    return offer


def _unique_code(session: Session, shop_id: int, prefix: str) -> str:
    """A fresh code not used by this shop (the unique constraint is the final word)."""
    while True:
        code = campaigns.generate_code(prefix)
        if session.scalar(sa.select(Offer.id).where(Offer.shop_id == shop_id, Offer.code == code)) is None:
            return code
