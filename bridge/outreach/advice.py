"""Discount only where it pays: the code steps whose measured incremental net revenue is at or below zero
(campaigns.earnings.discount_advice), and the change that sends such a step without its code, written as a
new rules version so that restoring the previous one brings the code back. Applied by the merchant's click,
or by the daily job for shops that switched `campaign.drop_unprofitable_codes` on (sure losses only)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bridge.db import transaction
from bridge.db.models import Ruleset, Shop
from bridge.infra.context import Context
from bridge.leads import rescore
from bridge.leads import rules as rulesets
from bridge.outreach import earnings
from campaigns.earnings import Advice, discount_advice

AUTO_ACTOR = "relance:discount-advice"
AUTO_PERIOD = timedelta(days=30)


class NoSuchStep(LookupError):
    """The journey has no such step, or the step carries no code any more."""


def code_steps(session: Session, shop_id: int) -> dict[str, list[int]]:
    """Each journey's steps that carry a code in the live rules."""
    return {
        journey.key: [index for index, step in enumerate(journey.steps) if step.offer is not None]
        for journey in rulesets.journeys_for(session, shop_id)
    }


def advice(session: Session, shop_id: int, measured: dict[str, Any]) -> list[Advice]:
    """The code steps that do not pay, from a period's `incremental_net_revenue` figures."""
    return discount_advice(measured["incremental_net_revenue"], code_steps(session, shop_id))


def drop_code(
    session: Session, shop_id: int, journey_key: str, step: int, actor: str, now: datetime
) -> Ruleset:
    """Write a new rules version where the step goes out without its code (in the caller's transaction)."""
    _, live = rulesets.current(session, shop_id)
    document = copy.deepcopy(live)
    for journey in document["journeys"]:
        if journey["key"] == journey_key and 0 <= step < len(journey["steps"]):
            if journey["steps"][step].get("offer") is None:
                break
            journey["steps"][step]["offer"] = None
            note = f"Step {step + 1} of journey {journey_key} sent without its code: it did not pay."
            return rulesets.save(session, shop_id, document, actor, note, now)
    raise NoSuchStep(f"{journey_key} has no step {step} with a code")


def apply_sure_losses(ctx: Context) -> int:
    """Daily: for shops that switched it on, drop the codes whose 30-day interval is wholly below zero."""
    applied = 0
    with ctx.sessions() as session:
        shops = session.scalars(sa.select(Shop.id).where(Shop.uninstalled_at.is_(None))).all()
    for shop_id in shops:
        with transaction(ctx.sessions) as session:
            if not rulesets.campaign_settings_for(session, shop_id).drop_unprofitable_codes:
                continue
            now = ctx.now()
            found = earnings.measured(session, shop_id, now - AUTO_PERIOD, now)
            losing = [a for a in advice(session, shop_id, found) if a.verdict == "loses" and a.tier is None]
            rows = [drop_code(session, shop_id, a.journey_key, a.step, AUTO_ACTOR, now) for a in losing]
        for row in rows:
            rescore.enqueue_rescore(ctx, shop_id, row.version)
        applied += len(rows)
    return applied
