"""The journeys' sweep (every minute, beside the abandonment sweep): hand the runs whose step is due to
step jobs, and start the runs of sign-ups and browses that just qualified.

Due runs are found through the partial index `ix_journey_runs_due` (active runs by due time), so the sweep
reads the due rows only, however many runs wait for later. A run handed out is marked in Redis for a few
minutes so a backlog does not queue it again every minute; its step job is idempotent all the same.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

import campaigns
from bridge.db import transaction
from bridge.db.models import Activity, JourneyRun, Lead, Shop
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.leads import rules
from bridge.outreach import triggers

log = logging.getLogger(__name__)
DUE_LIMIT = 20_000  # due runs handed out per sweep (the rest wait a minute)
STEP_BATCH = 200  # runs per step job
HANDED_OUT = 300  # seconds a run handed to a job is not handed out again
SIGNUP_KINDS = ("newsletter_signup", "account_created")
CART_KINDS = ("add_to_cart", "checkout_started", "cart_abandoned")
SCAN_BACK = timedelta(days=1)  # sign-ups and browses older than this start nothing
# SET NX EX of every mark in one call (1: set now, 0: already there): a pipeline of 10,000 SETs spent ~0.5 s
# in redis-py packing and parsing them one by one, ten times the SELECT of the due runs.
MARK_EACH = """local set = {}
for i, key in ipairs(KEYS) do set[i] = redis.call('SET', key, 1, 'NX', 'EX', ARGV[1]) and 1 or 0 end
return set"""


def due_runs(session: Session, now: datetime, limit: int = DUE_LIMIT) -> list[tuple[int, int, datetime]]:
    """(run, step, due time) of the active runs whose step is due, oldest first (the partial index's
    range)."""
    # Core rows fetched at once: the ORM's row loading, or a fetch per row, doubled the time of 10,000 rows
    rows = session.connection().execute(
        sa.select(JourneyRun.id, JourneyRun.step, JourneyRun.next_due_at)
        .where(JourneyRun.status == "active", JourneyRun.next_due_at <= now)
        .order_by(JourneyRun.next_due_at)
        .limit(limit)
    )
    return [(run_id, step, due) for run_id, step, due in rows.all() if due is not None]


def _mark(run_id: int, step: int, due: datetime) -> str:
    """A run's step handed out: per step and due time, so the next step or a deferred one is handed out
    afresh."""
    return f"relance:run-queued:{run_id}:{step}:{int(due.timestamp() * 1_000_000)}"


def sweep_due(ctx: Context) -> int:
    """Queue step jobs for the due runs not handed out in the last few minutes; how many were queued."""
    with ctx.sessions() as session:
        found = due_runs(session, ctx.now())
    if not found:
        return 0
    marks = [_mark(run_id, step, due) for run_id, step, due in found]
    try:
        new = ctx.redis.register_script(MARK_EACH)(keys=marks, args=[HANDED_OUT])
    except (RedisError, OSError):
        log.warning("journey sweep: Redis unreachable; the next sweep hands the due runs out")
        return 0
    fresh = [run_id for (run_id, _, _), first in zip(found, new, strict=True) if first]
    handed = [mark for mark, first in zip(marks, new, strict=True) if first]
    starts = range(0, len(fresh), STEP_BATCH)
    queued = queue.enqueue_many(
        ctx.redis,
        jobnames.ADVANCE_RUNS,
        [(fresh[at : at + STEP_BATCH],) for at in starts],
        job_ids=[jobnames.advance_runs_id(handed[at : at + STEP_BATCH]) for at in starts],
        queue_name=queue.CAMPAIGNS,
    )
    if fresh and not queued:
        with contextlib.suppress(RedisError, OSError):
            ctx.redis.delete(*handed)
        return 0
    return len(fresh)


def start_lead_journeys(ctx: Context) -> int:
    """Start the runs of recent sign-ups and abandoned browses, shop by shop (only shops with such a
    journey enabled look); how many started."""
    now = ctx.now()
    with ctx.sessions() as session:
        shop_ids = list(session.scalars(sa.select(Shop.id).where(Shop.uninstalled_at.is_(None))))
    started = 0
    for shop_id in shop_ids:
        with transaction(ctx.sessions) as session:
            journeys = [j for j in rules.journeys_for(session, shop_id) if j.enabled]
            shop = session.get(Shop, shop_id)
            assert shop is not None
            if any(j.trigger == "signup" for j in journeys):
                started += _signups(session, shop, now)
            for journey in (j for j in journeys if j.trigger == "browse_abandoned"):
                started += _browses(session, shop, journey, now)
    return started


def _signups(session: Session, shop: Shop, now: datetime) -> int:
    """Leads who signed up in the last day and have no sign-up run yet."""
    first = sa.func.min(Activity.occurred_at)
    rows = session.execute(
        sa.select(Activity.lead_id, first)
        .where(
            Activity.shop_id == shop.id,
            Activity.kind.in_(SIGNUP_KINDS),
            Activity.occurred_at >= now - SCAN_BACK,
            ~sa.exists().where(JourneyRun.lead_id == Activity.lead_id, JourneyRun.trigger == "signup"),
        )
        .group_by(Activity.lead_id)
    ).all()
    return _start_each(session, shop, "signup", [(lead_id, at, "") for lead_id, at in rows], now)


def _browses(session: Session, shop: Shop, journey: campaigns.Journey, now: datetime) -> int:
    """Leads whose last product view is older than the journey's first step, with at least `min_views`
    views in the day before it and no cart activity since the first of them."""
    quiet = now - timedelta(minutes=journey.steps[0].after_minutes)
    last, views = sa.func.max(Activity.occurred_at), sa.func.count()
    rows = session.execute(
        sa.select(Activity.lead_id, sa.func.min(Activity.occurred_at), last)
        .where(
            Activity.shop_id == shop.id,
            Activity.kind == "product_view",
            Activity.occurred_at >= quiet - SCAN_BACK,
        )
        .group_by(Activity.lead_id)
        .having(last <= quiet, views >= journey.min_views)
    ).all()
    carted = _carted_since(session, [(lead_id, since) for lead_id, since, _ in rows])
    found = [(lead_id, at, at.date().isoformat()) for lead_id, _, at in rows if lead_id not in carted]
    return _start_each(session, shop, "browse_abandoned", found, now)


def _carted_since(session: Session, leads: list[tuple[int, datetime]]) -> set[int]:
    """Of these leads, those with cart activity (an add, a checkout) after the given time."""
    if not leads:
        return set()
    since = dict(leads)
    rows = session.execute(
        sa.select(Activity.lead_id, sa.func.max(Activity.occurred_at))
        .where(Activity.lead_id.in_(since), Activity.kind.in_(CART_KINDS))
        .group_by(Activity.lead_id)
    ).all()
    return {lead_id for lead_id, at in rows if at >= since[lead_id]}


def _start_each(
    session: Session, shop: Shop, trigger: str, found: list[tuple[int, datetime, str]], now: datetime
) -> int:
    started = 0
    for lead_id, at, detail in found:
        lead = session.get(Lead, lead_id)
        if lead is not None and triggers.start_lead_run(session, shop, lead, trigger, at, now, detail):
            started += 1
    return started
