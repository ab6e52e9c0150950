"""The abandonment sweep: hand each cart idle for the shop's delay to a job that marks it abandoned and
starts its journey, once, even with sweeps running side by side; then repair what Redis lost."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from bridge.db import transaction
from bridge.db.models import Cart, Shop
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.leads import rules
from bridge.leads.alert_events import carts_abandoned
from bridge.outreach import codes, journey_sweep, triggers

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
    """Claim the shop's newly due window of idle time and queue its carts (and settled stragglers)."""
    with transaction(ctx.sessions) as session:
        delay = rules.campaign_settings_for(session, shop_id).abandonment_delay_minutes
        cutoff = now - timedelta(minutes=delay)
        since = session.scalar(sa.select(Shop.swept_until).where(Shop.id == shop_id))
        if since is not None and cutoff <= since:
            return 0  # nothing newly due (or the merchant lengthened the delay)
        if not _claim_window(session, shop_id, since, cutoff):
            return 0  # a sweep beside us claimed this window
        due = session.connection().execute(_due_carts(shop_id, since, cutoff)).scalars().all()
        late = _stragglers(ctx, session, shop_id, now) if since is not None else []
        cart_ids = [*due, *late]
        _queue_batches(ctx, shop_id, cart_ids, cutoff)
        _remember_claim(ctx, shop_id, cutoff, now)
    return len(cart_ids)


def _claim_window(session: Session, shop_id: int, since: datetime | None, cutoff: datetime) -> bool:
    """Move the shop's watermark from `since` to `cutoff` (compare-and-set); False when another sweep did."""
    same = Shop.swept_until.is_(None) if since is None else Shop.swept_until == since
    # Session.execute answers a DML statement with a CursorResult (SQLAlchemy's documented cast).
    won = cast(
        "sa.CursorResult[Any]",
        session.execute(sa.update(Shop).where(Shop.id == shop_id, same).values(swept_until=cutoff)),
    ).rowcount
    return bool(won)


def _queue_batches(ctx: Context, shop_id: int, cart_ids: list[int], cutoff: datetime) -> None:
    """Queue the window's carts in batches, in one round trip (the jobs decide in parallel); _NotQueued
    when Redis refused them, so the claim rolls back."""
    starts = range(0, len(cart_ids), SWEEP_BATCH)
    queued = queue.enqueue_many(
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


def _due_carts(shop_id: int, since: datetime | None, cutoff: datetime) -> sa.Select[int]:
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
    """Mark the carts of a sweep batch abandoned (those still idle), then start each one's journey."""
    claimed = mark_abandoned(ctx, shop_id, cart_ids, datetime.fromisoformat(cutoff))
    triggers.start_cart_runs(ctx, claimed)
    carts_abandoned(ctx, shop_id, claimed)
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


def sweep_and_repair(ctx: Context) -> int:
    """The abandonment sweep, the journeys' sweep (due steps, new sign-ups and browses), then carts whose
    journey start was lost and offers whose code job was."""
    done = sweep(ctx)
    journey_sweep.start_lead_journeys(ctx)
    journey_sweep.sweep_due(ctx)
    triggers.restart_orphans(ctx)
    codes.retry_stuck_codes(ctx)
    return done
