"""The "Revenue & costs" page's figures (`bridge.outreach.economics`), kept in Redis per shop and period
length: a large shop's period has tens of thousands of leads, which take the computation past what a page may
spend (bench.admin: 0.4 s for 33,000 new leads in 30 days). The page shows the figures kept, and when they are
older than FRESH_SECONDS it queues a job that computes them again (the page never waits for it; the next
view shows the new ones). Only a first view, with nothing kept, computes on the spot.

What the figures depend on besides the data (the shop's spend rows, its margin rate and attribution window)
is part of the key: saving spend or settings shows new figures at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from bridge.db import transaction
from bridge.db.models import SourceSpend
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.leads.rules import campaign_settings_for
from bridge.outreach import earnings, economics, spend

log = logging.getLogger(__name__)
FRESH_SECONDS = 300
KEEP_SECONDS = 24 * 3600


def key(session: Session, shop_id: int, days: int, rows: Sequence[SourceSpend]) -> str:
    """The cache key of a shop's figures over `days`, given its spend rows and settings."""
    settings = campaign_settings_for(session, shop_id)
    inputs = [
        str(settings.margin_rate),
        str(settings.attribution_window_days),
        *(f"{r.source}|{r.month}|{r.amount}|{r.currency}" for r in rows),
    ]
    digest = hashlib.sha256("\n".join(inputs).encode()).hexdigest()[:16]
    return f"relance:economics:{shop_id}:{days}:{digest}"


def period(now: datetime, days: int) -> tuple[datetime, datetime]:
    """The period the figures cover: `days` up to now, to the minute."""
    end = now.replace(second=0, microsecond=0)
    return end - timedelta(days=days), end


def figures(
    ctx: Context, session: Session, shop_id: int, days: int, earned: Mapping[str, Any] | None
) -> tuple[dict[str, Any], datetime]:
    """The figures of the last `days` and when they were computed (kept ones, refreshed in a job when old;
    computed now when none are kept)."""
    cache = key(session, shop_id, days, spend.listed(session, shop_id))
    now = ctx.now()
    try:
        raw = cast(bytes | None, ctx.redis.get(cache))
    except (RedisError, OSError):
        raw = None
    if raw is not None:
        kept = json.loads(raw)
        at = datetime.fromisoformat(kept["at"])
        if now - at > timedelta(seconds=FRESH_SECONDS):
            request_refresh(ctx, shop_id, days)
        return kept["figures"], at
    start, end = period(now, days)
    found = economics.compute(session, shop_id, start, end, earned)
    _store(ctx.redis, cache, found, end)
    return found, end


def request_refresh(ctx: Context, shop_id: int, days: int) -> None:
    """Queue the job that computes the figures again (once at a time per shop and period length)."""
    queue.enqueue_many(
        ctx.redis,
        jobnames.REFRESH_ECONOMICS,
        [(shop_id, days)],
        job_ids=[jobnames.economics_id(shop_id, days)],
        queue_name=queue.CAMPAIGNS,
    )


def refresh(ctx: Context, shop_id: int, days: int) -> dict[str, Any]:
    """Compute a shop's figures over the last `days` (with the period's incremental net revenue when the
    overview's job has it) and keep them."""
    start, end = period(ctx.now(), days)
    with transaction(ctx.sessions) as session:
        cache = key(session, shop_id, days, spend.listed(session, shop_id))
        kept = earnings.cached(ctx.redis, shop_id, start, end)
        net = kept.get("incremental_net_revenue") if kept else None
        found = economics.compute(session, shop_id, start, end, net)
    _store(ctx.redis, cache, found, end)
    return found


def _store(redis: Redis, cache: str, found: Mapping[str, Any], at: datetime) -> None:
    try:
        redis.set(cache, json.dumps({"at": at.isoformat(), "figures": found}, default=str), ex=KEEP_SECONDS)
    except (RedisError, OSError):
        log.warning("economics figures not kept: Redis unreachable")
