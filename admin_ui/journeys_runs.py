"""A lead's or a cart's journey runs, as the lead and carts pages list them (journey, step reached, next
send, exit reason)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bridge.db.models import JourneyRun
from bridge.leads import rules as rulesets


def _described(session: Session, shop_id: int, runs: Iterable[JourneyRun]) -> list[dict[str, Any]]:
    journeys = {j.key: j for j in rulesets.journeys_for(session, shop_id)}
    out = []
    for run in runs:
        journey = journeys.get(run.journey_key)
        out.append(
            {
                "run": run,
                "name": (journey.name or journey.key) if journey is not None else run.journey_key,
                "steps": len(journey.steps) if journey is not None else None,
                "next_at": run.next_due_at if run.status == "active" else None,
            }
        )
    return out


def lead_runs(session: Session, shop_id: int, lead_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The lead's runs, newest first."""
    runs = session.scalars(
        sa.select(JourneyRun)
        .where(JourneyRun.shop_id == shop_id, JourneyRun.lead_id == lead_id)
        .order_by(JourneyRun.created_at.desc(), JourneyRun.id.desc())
        .limit(limit)
    ).all()
    return _described(session, shop_id, runs)


def cart_runs(session: Session, shop_id: int, cart_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The runs each of these carts started, oldest first."""
    if not cart_ids:
        return {}
    runs = session.scalars(
        sa.select(JourneyRun)
        .where(JourneyRun.shop_id == shop_id, JourneyRun.cart_id.in_(cart_ids))
        .order_by(JourneyRun.id)
    ).all()
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for item in _described(session, shop_id, runs):
        out[item["run"].cart_id].append(item)
    return dict(out)
