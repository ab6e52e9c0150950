"""Decay that shows: leads whose stored score decay has moved to another tier are rescored on a schedule.

Every scoring stores `leads.score_due_at`, the first second at which decay alone puts the lead in another
tier (scoring.decay). A periodic job takes the leads due by the tick's time in (score_due_at, id) order,
a batch per transaction, and rescores them with the reason "decay": the new score, tier and due time are
written together with their ScoreChange rows, so tier counts and charts follow. A decay rescore never
starts a journey or an offer (`scores.tier_entries` ignores its reason), whichever way the tier moved.

A tick reads the due leads a page at a time (keyset on the partial index), then rescores them a batch per
transaction. Two schedulers at once do no harm: a batch first claims its leads again, those still due,
locked on PostgreSQL (`FOR UPDATE SKIP LOCKED`), so a lead the other tick holds or has rescored (its due
time is now later) is left out. The keyset moves past every lead read, so a lead the scoring skips (erased
meanwhile) cannot hold a tick, and its due time is cleared. A tick takes at most `max_leads` leads; the
rest wait for the next tick, oldest due first.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bridge.db import transaction
from bridge.db.models import Lead, Shop
from bridge.infra.context import Context
from bridge.leads import alert_events, scores

log = logging.getLogger(__name__)

BATCH_SIZE = 1000  # leads rescored per transaction
PAGE_SIZE = 10_000  # due leads found per query
MAX_LEADS = 50_000  # per tick (every 300 s): a backlog drains over several ticks, oldest due first
EVERY_SECONDS = 300

Keyset = tuple[datetime, int]  # (due time, id) of the last lead read


def due_leads(
    conn: sa.Connection, now: datetime, after: Keyset | None, limit: int
) -> tuple[list[int], Keyset | None]:
    """The ids of the next leads due by `now` in (due time, id) order after the keyset `after` (an index
    range scan of ix_leads_score_due), and the keyset after them; `conn` may be in autocommit mode, this
    only reads. Only ids come back (the batch's claim reads the shops), the last one's due time apart."""
    query = sa.select(Lead.id).where(Lead.score_due_at.is_not(None), Lead.score_due_at <= now)
    if after is not None:
        query = query.where(sa.tuple_(Lead.score_due_at, Lead.id) > sa.tuple_(*after))
    rows = conn.execute(query.order_by(Lead.score_due_at, Lead.id).limit(limit)).fetchall()
    ids = [row[0] for row in rows]  # half the time of .scalars() on 10,000 rows
    if not ids:
        return ids, after
    due = conn.execute(sa.select(Lead.score_due_at).where(Lead.id == ids[-1])).scalar()
    if due is None:  # rescored or erased by another tick meanwhile: read on from the same place
        return ids, after
    return ids, (due, ids[-1])


def reader(ctx: Context) -> sa.Connection:
    """A connection in autocommit mode: one round trip per query, no BEGIN or ROLLBACK around it."""
    return ctx.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def claim(session: Session, now: datetime, ids: list[int]) -> list[tuple[int, int, bool]]:
    """(id, shop id, erased) of those leads still due by `now`, locked for this transaction where the
    database can; a lead another tick holds or has rescored already is left out."""
    query = (
        sa.select(Lead.id, Lead.shop_id, Lead.redacted_at.is_not(None))
        .where(Lead.id.in_(ids), Lead.score_due_at.is_not(None), Lead.score_due_at <= now)
        .order_by(Lead.id)
        .with_for_update(skip_locked=True, of=Lead)
    )
    return [(lead_id, shop_id, bool(erased)) for lead_id, shop_id, erased in session.execute(query)]


def rescore_due(
    ctx: Context, *, batch_size: int = BATCH_SIZE, page_size: int = PAGE_SIZE, max_leads: int = MAX_LEADS
) -> int:
    """Rescore the leads whose decay is due, at most `max_leads` of them; returns how many were rescored."""
    now = ctx.now()
    after: Keyset | None = None
    done = seen = 0
    while seen < max_leads:
        with reader(ctx) as conn:
            page, after = due_leads(conn, now, after, min(page_size, max_leads - seen))
        seen += len(page)
        for start in range(0, len(page), batch_size):
            done += _rescore_batch(ctx, now, page[start : start + batch_size])
        if len(page) < page_size:
            break
    if done:
        log.info("decay: %d leads rescored", done)
    return done


def _rescore_batch(ctx: Context, now: datetime, ids: list[int]) -> int:
    moved: dict[int, list[scores.TierChange]] = {}
    with transaction(ctx.sessions) as session:
        claimed = claim(session, now, ids)
        by_shop: dict[int, list[int]] = defaultdict(list)
        erased: list[int] = []
        for lead_id, shop_id, gone in claimed:
            (erased if gone else by_shop[shop_id]).append(lead_id)
        for shop_id, lead_ids in by_shop.items():
            shop = session.get(Shop, shop_id)
            if shop is not None:
                moved[shop_id] = scores.score_leads(session, shop, lead_ids, now, reason=scores.DECAY)
        if erased:  # erased leads are not scored: nothing is due for them any more
            session.execute(
                sa.update(Lead)
                .where(Lead.id.in_(erased))
                .values(score_due_at=None)
                .execution_options(synchronize_session=False)
            )
    for (
        shop_id,
        changes,
    ) in moved.items():  # the merchant's tools hear of decay's tier changes (never lead.hot)
        if changes:
            alert_events.tier_changes(ctx, shop_id, changes)
    return len(claimed)
