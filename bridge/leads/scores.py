"""Scoring leads: load rows, call the pure engine, write scores and tier changes (after an event, an open,
a click or a reply; `bridge.leads.rescore` runs it over a whole shop after a rules change)."""

from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

import scoring
from bridge.db import transaction
from bridge.db.models import Activity, Lead, ScoreChange, Shop
from bridge.infra import jobnames, queue
from bridge.infra.context import Context
from bridge.leads import segments
from bridge.leads.alert_events import tier_changes
from bridge.leads.rules import scoring_rules_for
from scoring import segments as scoring_segments


@dataclass(frozen=True)
class TierChange:
    """A lead whose tier moved, for the campaign module to react to."""

    lead_id: int
    old_tier: str
    new_tier: str
    reason: str = ""


def profile_of(lead: Lead) -> scoring.Profile:
    """The scoring profile of a lead row."""
    return scoring.Profile(
        email=lead.email,
        country=lead.country,
        accepts_marketing=lead.accepts_marketing,
        is_customer=lead.is_customer,
        orders_count=lead.orders_count,
        total_spent=float(lead.total_spent or 0),
        first_name=lead.first_name,
        last_name=lead.last_name,
        source=(lead.source or {}).get("utm_source") or (lead.source or {}).get("referrer"),
    )


def profiles_of(
    session: Session,
    shop_id: int,
    leads: Iterable[Lead],
    rules: scoring.Rules,
    now: datetime,
    defined: Mapping[str, scoring_segments.Segment] | None = None,
) -> dict[int, scoring.Profile]:
    """The scoring profiles of some leads; when the rules score segments ("affinity: shirts, +10"), with
    their products and the segments they belong to (`defined`: the shop's live segments unless given)."""
    rows = list(leads)
    keys = segments.referenced(rules)
    if not keys:
        return {lead.id: profile_of(lead) for lead in rows}
    defined = segments.shop_segments(session, shop_id) if defined is None else defined
    used = [defined[key] for key in sorted(keys) if key in defined]
    products = segments.load_products(session, [lead.id for lead in rows])
    out = {}
    for lead in rows:
        profile = dataclasses.replace(profile_of(lead), products=products.get(lead.id, ()))
        member_of = scoring_segments.memberships(used, segments.facts_of(lead, profile), now)
        out[lead.id] = dataclasses.replace(profile, segments=member_of)
    return out


def load_activities(session: Session, lead_ids: Iterable[int]) -> dict[int, list[scoring.ActivityRecord]]:
    """Activities of several leads in one query."""
    found: dict[int, list[scoring.ActivityRecord]] = defaultdict(list)
    ids = list(lead_ids)
    if not ids:
        return found
    rows = session.execute(
        sa.select(
            Activity.lead_id, Activity.kind, Activity.occurred_at, Activity.ref, Activity.storefront
        ).where(Activity.lead_id.in_(ids))
    )
    for lead_id, kind, occurred_at, ref, storefront in rows:
        found[lead_id].append(scoring.ActivityRecord(kind, occurred_at, ref, bool(storefront)))
    return found


def breakdown_json(result: scoring.Score) -> dict[str, Any]:
    """The explanation stored on the lead row."""
    return {
        "raw": round(result.raw, 4),
        "lines": [
            {
                "rule": line.rule,
                "label": line.label,
                "count": line.count,
                "points_before": round(line.points_before, 4),
                "points": round(line.points, 4),
            }
            for line in result.breakdown
        ],
    }


def score_leads(
    session: Session,
    shop: Shop,
    lead_ids: Iterable[int],
    now: datetime,
    reason: str | Mapping[int, str],
    rules: scoring.Rules | None = None,
) -> list[TierChange]:
    """Recompute and store the score of some leads in the caller's transaction; returns their tier changes.
    `reason`: one for all, or each lead's own."""
    ids = sorted(set(lead_ids))
    if not ids:
        return []
    rules = rules or scoring_rules_for(session, shop.id)
    leads = session.scalars(sa.select(Lead).where(Lead.id.in_(ids), Lead.redacted_at.is_(None))).all()
    activities = load_activities(session, ids)
    profiles = profiles_of(session, shop.id, leads, rules, now)
    changes, history = [], []
    for lead in leads:
        why = reason if isinstance(reason, str) else reason.get(lead.id, "")
        profile, done = profiles[lead.id], activities.get(lead.id, [])
        result = scoring.score(rules, profile, done, now)
        # when decay alone will move it to another tier: the decay job (bridge.leads.decay) rescores it then
        lead.score_due_at = scoring.next_tier_change(rules, profile, done, now, tier=result.tier)
        if (result.total, result.tier) != (lead.score, lead.tier):
            history.append(
                {
                    "lead_id": lead.id,
                    "at": now,
                    "old_score": lead.score,
                    "new_score": result.total,
                    "old_tier": lead.tier,
                    "new_tier": result.tier,
                    "reason": why[:255],
                }
            )
            if result.tier != lead.tier:
                changes.append(TierChange(lead.id, lead.tier, result.tier, why))
        lead.score, lead.tier, lead.score_computed_at = result.total, result.tier, now
        lead.breakdown = breakdown_json(result)
        for name in _SCORE_COLUMNS:  # the same SET for every lead: the flush sends one executemany
            flag_modified(lead, name)
    if history:  # one multi-row INSERT, no ids read back (nothing here needs them)
        session.execute(sa.insert(ScoreChange), history)
    return changes


# Written for every lead scored, changed or not: leads whose UPDATEs named different columns (a score
# unchanged here, a due time unchanged there) would go one statement each instead of in one executemany.
_SCORE_COLUMNS = ("score", "tier", "score_computed_at", "breakdown", "score_due_at")

TIER_ORDER = {"cold": 0, "warm": 1, "hot": 2}
DECAY = "decay"  # the reason of a rescore by the decay job: time alone moved the score, never a trigger


def tier_entries(changes: Iterable[TierChange]) -> list[tuple[int, str]]:
    """(lead, tier) for leads whose own activity moved them up into a tier: a journey may start (a rules
    change alone mails nobody, and a lead that decays to another tier, even a higher one when negative
    points fade, gets nothing)."""
    return [
        (c.lead_id, c.new_tier)
        for c in changes
        if c.old_tier in TIER_ORDER
        and c.new_tier in TIER_ORDER
        and TIER_ORDER[c.new_tier] > TIER_ORDER[c.old_tier]
        and not c.reason.startswith("rules v")
        and c.reason != DECAY
    ]


def became_hot(changes: Iterable[TierChange]) -> list[int]:
    """Leads whose own activity made them hot."""
    return [lead_id for lead_id, tier in tier_entries(changes) if tier == "hot"]


def follow_ups(ctx: Context, shop: Shop, changes: list[TierChange]) -> list[Callable[[], None]]:
    """Steps to run after commit: a lead that moved up a tier enters that tier's journey (once a day); the
    merchant's alerts hear of every tier change."""
    alert: list[Callable[[], None]] = [functools.partial(tier_changes, ctx, shop.id, changes)]
    alert = alert if changes else []
    entries = tier_entries(changes)
    if not entries:
        return alert
    day = int(ctx.now().timestamp()) // 86400

    def enter_tiers() -> None:
        queue.enqueue_many(
            ctx.redis,
            jobnames.ENTER_TIER,
            [(lead_id, tier) for lead_id, tier in entries],
            job_ids=[jobnames.enter_tier_id(lead_id, tier, day) for lead_id, tier in entries],
            queue_name=queue.CAMPAIGNS,
        )

    return [enter_tiers, *alert]


def score_and_commit(ctx: Context, shop_id: int, lead_ids: list[int], reason: str) -> int:
    """Score some leads of one shop in a transaction of their own, then run the follow-ups; how many."""
    with transaction(ctx.sessions) as session:
        shop = session.get(Shop, shop_id)
        if shop is None:
            return 0
        changes = score_leads(session, shop, lead_ids, ctx.now(), reason)
    for step in follow_ups(ctx, shop, changes):
        step()
    return len(lead_ids)
