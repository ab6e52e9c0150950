"""Does a score of 80 mean ready to buy? The share of leads who bought within 14 days, by the score they had,
and the signals that best told buyers apart: read-only, for the overview and GET /api/v1/metrics.

The cohort is looked at one moment, T = the period's end minus 14 days (so every lead's 14 days are over):
leads that existed at T, were not redacted and not yet customers then. Each one's score at T is the last
score change before T (0 before any); it "bought" when it placed an order, not cancelled since, in
[T, T + 14 days). Its signals are the kinds of activity it had in the 30 days before T. The arithmetic
(bands, Wilson intervals, the buyers-vs-others comparison) is campaigns.revenue's.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bridge.db.models import Activity, Lead, Order, ScoreChange
from campaigns.revenue import calibration, separating_signals

WINDOW = timedelta(days=14)
LOOKBACK = timedelta(days=30)


def _cohort(shop_id: int, at: datetime) -> sa.Subquery:
    """(lead, score at `at`, tier at `at`) for the leads of the cohort."""
    ranked = (
        sa.select(
            ScoreChange.lead_id,
            ScoreChange.new_score,
            ScoreChange.new_tier,
            sa.func.row_number()
            .over(partition_by=ScoreChange.lead_id, order_by=(ScoreChange.at.desc(), ScoreChange.id.desc()))
            .label("rank"),
        )
        .join(Lead, Lead.id == ScoreChange.lead_id)
        .where(Lead.shop_id == shop_id, ScoreChange.at < at)
        .subquery()
    )
    latest = (
        sa.select(ranked.c.lead_id, ranked.c.new_score, ranked.c.new_tier)
        .where(ranked.c.rank == 1)
        .subquery()
    )
    return (
        sa.select(
            Lead.id.label("lead_id"),
            sa.func.coalesce(latest.c.new_score, 0).label("score"),
            sa.func.coalesce(latest.c.new_tier, "cold").label("tier"),
        )
        .outerjoin(latest, latest.c.lead_id == Lead.id)
        .where(Lead.shop_id == shop_id, Lead.created_at < at, Lead.redacted_at.is_(None))
        .subquery()
    )


def compute(session: Session, shop_id: int, end: datetime) -> dict[str, Any]:
    """The calibration bands and the separating signals, looked at `end` minus 14 days."""
    at = end - WINDOW
    cohort = _cohort(shop_id, at)
    bought = (
        sa.exists()
        .where(
            Order.shop_id == shop_id,
            Order.lead_id == cohort.c.lead_id,
            Order.cancelled_at.is_(None),
            Order.created_at >= at,
            Order.created_at < end,
        )
        .label("bought")
    )
    rows = session.execute(
        sa.select(cohort.c.lead_id, cohort.c.score, bought).where(cohort.c.tier != "customer")
    ).all()
    buyers = {lead_id for lead_id, _, won in rows if won}
    kinds: dict[int, set[str]] = {}
    recent = session.execute(
        sa.select(Activity.lead_id, Activity.kind)
        .distinct()
        .join(cohort, cohort.c.lead_id == Activity.lead_id)
        .where(
            Activity.shop_id == shop_id,
            Activity.occurred_at >= at - LOOKBACK,
            Activity.occurred_at < at,
            cohort.c.tier != "customer",
        )
    )
    for lead_id, kind in recent:
        kinds.setdefault(lead_id, set()).add(f"activity:{kind}")
    bands = calibration((int(score), bool(won)) for _, score, won in rows)
    signals = separating_signals(
        (frozenset(kinds.get(lead_id, ())), lead_id in buyers) for lead_id, _, _ in rows
    )
    return {
        "observed_at": at.isoformat(),
        "window_days": WINDOW.days,
        "leads": len(rows),
        "buyers": len(buyers),
        "bands": [asdict(band) for band in bands],
        "signals": [
            {
                "signal": signal.name,
                "buyers_with": signal.buyers_with,
                "buyers": signal.buyers,
                "others_with": signal.others_with,
                "others": signal.others,
                "difference": signal.difference.value,
                "low": signal.difference.low,
                "high": signal.difference.high,
            }
            for signal in signals
        ],
    }
