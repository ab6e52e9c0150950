"""What-if: score a shop's stored leads under the live rules and a candidate, writing nothing.

Leads are read in id-ordered batches (one query for the leads, one for their activities), so
memory stays bounded whatever the shop's size; only tallies and a small sample are kept. Time is
bounded too when `max_seconds` is given: the answer then says `"complete": false` and counts the
leads seen so far (the oldest first), rather than letting a very large shop's request time out.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

import campaigns
import scoring
from bridge.db.models import Lead
from bridge.leads import journey_history, rules, scores
from campaigns import journey_forecast
from scoring.segments import load_segments

BATCH_SIZE = 1000
SAMPLE_SIZE = 20


def candidate_document(body: Any) -> Any:
    """A whole rules document as given, or a bare scoring document wrapped as its "scoring" part."""
    if isinstance(body, Mapping) and any(part in body for part in rules.PARTS):
        return body
    return {"scoring": body}


def simulate(
    session: Session,
    shop_id: int,
    body: Any,
    now: datetime,
    *,
    batch_size: int = BATCH_SIZE,
    sample_size: int = SAMPLE_SIZE,
    max_seconds: float | None = None,
) -> dict[str, Any]:
    """Tier counts now and with the candidate, movers up and down, and a sample of movers."""
    version, live = rules.current(session, shop_id)
    clean, errors = rules.validate(candidate_document(body), base=live)
    if clean is None:
        raise rules.InvalidRules(errors)
    before_rules, after_rules = scoring.load_rules(live["scoring"]), scoring.load_rules(clean["scoring"])
    candidate_segments = {segment.key: segment for segment in load_segments(clean["segments"])}
    tally: Counter[str] = Counter()
    sample: list[dict[str, Any]] = []
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    complete = True
    for leads, activities in _batches(session, shop_id, batch_size):
        if deadline is not None and time.monotonic() > deadline:
            complete = False
            break
        before, after = [], []
        profiles = scores.profiles_of(session, shop_id, leads, before_rules, now)
        candidates = scores.profiles_of(session, shop_id, leads, after_rules, now, defined=candidate_segments)
        for lead in leads:
            done = activities.get(lead.id, [])
            before.append(scoring.score(before_rules, profiles[lead.id], done, now))
            after.append(scoring.score(after_rules, candidates[lead.id], done, now))
        _count(tally, scoring.compare(before, after))
        sample.extend(_movers(leads, before, after, sample_size - len(sample)))
    journeys = campaigns.load_journeys(clean["journeys"])
    forecast = journey_forecast.forecast(journeys, journey_history.history(session, shop_id, now))
    return {**_result(version, tally, sample), "complete": complete, "journeys": forecast}


def _batches(
    session: Session, shop_id: int, batch_size: int
) -> Iterator[tuple[list[Lead], dict[int, list[scoring.ActivityRecord]]]]:
    after = 0
    while True:
        leads = list(
            session.scalars(
                sa.select(Lead)
                .where(Lead.shop_id == shop_id, Lead.id > after, Lead.redacted_at.is_(None))
                .order_by(Lead.id)
                .limit(batch_size)
            )
        )
        if not leads:
            return
        yield leads, scores.load_activities(session, [lead.id for lead in leads])
        after = leads[-1].id


def _count(tally: Counter[str], batch: dict[str, Any]) -> None:
    tally["leads"] += batch["leads"]
    tally["moved_up"] += batch["moved_up"]
    tally["moved_down"] += batch["moved_down"]
    for side in ("before", "after"):
        for tier, count in batch[side].items():
            tally[f"{side}:{tier}"] += count
    for transition, count in batch["transitions"].items():
        tally[f"move:{transition}"] += count


def _movers(
    leads: list[Lead], before: list[scoring.Score], after: list[scoring.Score], room: int
) -> list[dict[str, Any]]:
    if room <= 0:
        return []
    moved = [
        (lead, old, new) for lead, old, new in zip(leads, before, after, strict=True) if old.tier != new.tier
    ]
    return [
        {"lead_id": lead.id, "email": lead.email, "before": _explained(old), "after": _explained(new)}
        for lead, old, new in moved[:room]
    ]


def _explained(result: scoring.Score) -> dict[str, Any]:
    explained = scores.breakdown_json(result)
    return {
        "total": result.total,
        "tier": result.tier,
        "raw": explained["raw"],
        "breakdown": explained["lines"],
    }


def _result(version: int, tally: Counter[str], sample: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "version": version,
        "leads": tally["leads"],
        "current": {tier: tally[f"before:{tier}"] for tier in scoring.TIERS},
        "candidate": {tier: tally[f"after:{tier}"] for tier in scoring.TIERS},
        "moved_up": tally["moved_up"],
        "moved_down": tally["moved_down"],
        "transitions": {key[5:]: count for key, count in sorted(tally.items()) if key.startswith("move:")},
        "sample": sample,
    }
