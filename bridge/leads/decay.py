"""Decay that shows: leads whose stored score decay has moved to another tier are rescored on a schedule.

Every scoring stores `leads.score_due_at`, the first second at which decay alone puts the lead in another
tier (scoring.decay). A periodic job takes the leads due by the tick's time in (score_due_at, id) order,
a batch per transaction, and rescores them with the reason "decay": the new score, tier and due time are
written together with their ScoreChange rows, so tier counts and charts follow. A decay rescore never
starts a journey or an offer (`scores.tier_entries` ignores its reason), whichever way the tier moved.

Two schedulers at once do no harm: on PostgreSQL a batch locks its leads (`FOR UPDATE SKIP LOCKED`), so
the other tick takes other leads, and a lead rescored already has a due time after the tick's and is not
found again. The keyset moves past every lead taken, so a lead the scoring skips (erased meanwhile) cannot
hold a tick: its due time is cleared. A tick does at most `max_batches` batches; the rest wait for the
next tick, in due order.
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
from bridge.leads import scores

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
MAX_BATCHES = 50  # at most 50,000 leads per tick (every 300 s): a backlog drains over several ticks
EVERY_SECONDS = 300


def due_batch(session: Session, now: datetime, after: tuple[datetime, int] | None, limit: int) -> list[sa.Row]:
    """The next leads due by `now` after the keyset `after`, locked for this transaction where the
    database can (others' locked leads are skipped)."""
    query = sa.select(Lead.id, Lead.shop_id, Lead.score_due_at).where(
        Lead.score_due_at.is_not(None), Lead.score_due_at <= now
    )
    if after is not None:
        query = query.where(sa.tuple_(Lead.score_due_at, Lead.id) > sa.tuple_(*after))
    query = query.order_by(Lead.score_due_at, Lead.id).limit(limit)
    return list(session.execute(query.with_for_update(skip_locked=True, of=Lead)).all())


def rescore_due(ctx: Context, *, batch_size: int = BATCH_SIZE, max_batches: int = MAX_BATCHES) -> int:
    """Rescore the leads whose decay is due, up to `max_batches` batches; returns how many were taken."""
    now = ctx.now()
    after: tuple[datetime, int] | None = None
    taken = 0
    for _ in range(max_batches):
        with transaction(ctx.sessions) as session:
            rows = due_batch(session, now, after, batch_size)
            if not rows:
                break
            after = (rows[-1].score_due_at, rows[-1].id)
            by_shop: dict[int, list[int]] = defaultdict(list)
            for row in rows:
                by_shop[row.shop_id].append(row.id)
            for shop_id, ids in by_shop.items():
                shop = session.get(Shop, shop_id)
                if shop is not None:
                    scores.score_leads(session, shop, ids, now, reason=scores.DECAY)
            # erased leads are not scored: nothing is due for them any more
            session.execute(
                sa.update(Lead)
                .where(Lead.id.in_([row.id for row in rows]), Lead.redacted_at.is_not(None))
                .values(score_due_at=None)
                .execution_options(synchronize_session=False)
            )
        taken += len(rows)
        if len(rows) < batch_size:
            break
    if taken:
        log.info("decay: %d leads rescored", taken)
    return taken
