"""Bulk rescore after a rules change: leads in id order, one transaction and checkpoint per batch.

A batch loads its lead ids after the run's checkpoint (`rescore_runs.last_lead_id`), moves the
checkpoint with a compare-and-set in the same transaction as the new scores, and commits. A
worker killed half-way therefore loses at most its uncommitted batch, which the next attempt
redoes: no lead is skipped and none is rescored twice for one version. A newer version marks
the older run superseded (bridge.leads.rules), and the older job stops at its next batch.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

import scoring
from bridge.db import transaction
from bridge.db.models import Lead, RescoreRun, Shop
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.leads import rules as rulesets
from bridge.leads import scores

log = logging.getLogger(__name__)

BATCH_SIZE = 1000
JOB_TIMEOUT = 3600  # a killed job is retried by RQ (and re-queued by requeue_rescores) from its checkpoint


def enqueue_rescore(ctx: Context, shop_id: int, version: int) -> bool:
    """Queue the rescore of a version unless already queued or running; False if not queued."""
    name = jobnames.rescore_shop_id(shop_id, version)  # one job per shop and version
    outcome = queue.requeue(  # when refused, requeue_rescores queues it once Redis is back
        ctx.redis,
        jobnames.RESCORE_SHOP,
        shop_id,
        version,
        job_id=name,
        queue=queue.MAINTENANCE,
        timeout=JOB_TIMEOUT,
    )
    return outcome == "queued"


def requeue_rescores(ctx: Context) -> int:
    """Queue again the unfinished runs whose job was lost; returns how many."""
    with ctx.sessions() as session:
        pending = session.execute(
            sa.select(RescoreRun.shop_id, RescoreRun.version).where(RescoreRun.status == "running")
        ).all()
    return sum(enqueue_rescore(ctx, shop_id, version) for shop_id, version in pending)


def rescore_shop(
    ctx: Context, shop_id: int, version: int, *, batch_size: int = BATCH_SIZE, max_batches: int | None = None
) -> int:
    """Process batches until the run is done, superseded or `max_batches` ran; returns leads rescored."""
    with ctx.sessions() as session:
        document = rulesets.version_document(session, shop_id, version)
    if document is None:
        return 0
    rules = scoring.load_rules(document["scoring"])
    done = batches = 0
    while max_batches is None or batches < max_batches:
        count = rescore_batch(ctx, shop_id, version, rules, batch_size)
        if count is None:
            break
        done, batches = done + count, batches + 1
    return done


def rescore_batch(
    ctx: Context, shop_id: int, version: int, rules: scoring.Rules, batch_size: int
) -> int | None:
    """Rescore the next batch in one transaction; None when there is nothing (more) to do."""
    with transaction(ctx.sessions) as session:
        checkpoint = _checkpoint(session, shop_id, version)
        if checkpoint is None:
            return None
        ids = _next_ids(session, shop_id, checkpoint, batch_size)
        now = ctx.now()
        if not _advance(session, shop_id, version, checkpoint, ids, now):
            return None  # superseded meanwhile, or another worker took this batch
        if not ids:
            return None
        shop = session.get(Shop, shop_id)
        assert shop is not None  # the run row cascades with its shop
        changes = scores.score_leads(session, shop, ids, now, reason=f"rules v{version}", rules=rules)
        if changes:
            session.execute(
                _run_row(shop_id, version).values(tier_changes=RescoreRun.tier_changes + len(changes))
            )
    for step in scores.follow_ups(ctx, shop, changes):
        step()
    return len(ids)


def progress(session: Session, shop_id: int, version: int) -> dict[str, Any] | None:
    """The state of one version's rescore, for the API."""
    run_row = session.scalar(
        sa.select(RescoreRun).where(RescoreRun.shop_id == shop_id, RescoreRun.version == version)
    )
    if run_row is None:
        return None
    return {
        "status": run_row.status,
        "processed": run_row.processed,
        "tier_changes": run_row.tier_changes,
        "finished_at": run_row.finished_at.isoformat() if run_row.finished_at else None,
    }


def _run_row(shop_id: int, version: int) -> sa.Update:
    return sa.update(RescoreRun).where(RescoreRun.shop_id == shop_id, RescoreRun.version == version)


def _checkpoint(session: Session, shop_id: int, version: int) -> int | None:
    """The last lead id done by a running run, or None when the run is over or unknown."""
    row = session.execute(
        sa.select(RescoreRun.status, RescoreRun.last_lead_id).where(
            RescoreRun.shop_id == shop_id, RescoreRun.version == version
        )
    ).first()
    return row.last_lead_id if row is not None and row.status == "running" else None


def _next_ids(session: Session, shop_id: int, after: int, limit: int) -> list[int]:
    return list(
        session.scalars(
            sa.select(Lead.id)
            .where(Lead.shop_id == shop_id, Lead.id > after, Lead.redacted_at.is_(None))
            .order_by(Lead.id)
            .limit(limit)
        )
    )


def _advance(
    session: Session, shop_id: int, version: int, checkpoint: int, ids: list[int], now: datetime
) -> bool:
    """Move the checkpoint (or finish the run) only if nobody moved it since we read it."""
    values: dict[str, Any] = {"updated_at": now}
    if ids:
        values.update(last_lead_id=ids[-1], processed=RescoreRun.processed + len(ids))
    else:
        values.update(status="done", finished_at=now)
    claimed = session.execute(
        _run_row(shop_id, version)
        .where(RescoreRun.status == "running", RescoreRun.last_lead_id == checkpoint)
        .values(**values)
    )
    return bool(cast(sa.CursorResult[Any], claimed).rowcount)
